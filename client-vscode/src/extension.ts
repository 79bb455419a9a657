/** Aurora for VS Code: wires the server, its views and commands together. */
import * as vscode from 'vscode';
import { registerCommands } from './commands';
import { onInterpreterChanged } from './common/pythonExtension';
import { AuroraServer } from './common/server';
import { needsRestart } from './common/settings';
import { registerMcpServers } from './mcpServers';
import { ContextView } from './views/contextView';
import { StatsPanel } from './views/statsPanel';
import { StatusItem } from './views/statusItem';

let server: AuroraServer | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const log = vscode.window.createOutputChannel('Aurora', { log: true });
  server = new AuroraServer(log);
  const status = new StatusItem(server);
  const contextView = new ContextView();
  const statsPanel = new StatsPanel();
  status.alsoPollWhile = () => statsPanel.visible;
  status.onDidUpdate((stats) => statsPanel.update(stats, undefined));
  const running = server;
  const version = (context.extension.packageJSON as { version?: string }).version ?? '';

  context.subscriptions.push(
    log,
    server,
    registerMcpServers(log, version),
    status,
    contextView,
    statsPanel,
    ...registerCommands({ server, log, contextView, statsPanel, status }),
    vscode.workspace.onDidChangeConfiguration((event) => {
      // Other `aurora.*` changes reach the running server through the client's
      // configuration sync; these need a new process.
      if (needsRestart((section) => event.affectsConfiguration(section))) {
        void running.restart('a setting that needs a new server process changed');
      } else if (event.affectsConfiguration('aurora')) {
        log.info('Aurora settings changed: the server reads them again');
      }
    }),
  );
  const pythonWatch = await onInterpreterChanged(() => {
    if (running.launch?.source === 'Python extension') {
      void running.restart("the Python extension's interpreter changed");
    }
  });
  if (pythonWatch !== undefined) {
    context.subscriptions.push(pythonWatch);
  }
  await server.start();
}

export async function deactivate(): Promise<void> {
  await server?.stop();
  server = undefined;
}
