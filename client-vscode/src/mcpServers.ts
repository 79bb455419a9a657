/**
 * Aurora's MCP server in VS Code's agent mode, registered through the MCP server definition
 * provider API (VS Code 1.101+): one `aurora-lsp mcp FOLDER` per workspace folder, started
 * with the interpreter the language server uses. `aurora.mcp.enabled` turns it off; an older
 * VS Code without the API activates as before, without it.
 */
import { execFile } from 'node:child_process';
import { realpathSync } from 'node:fs';
import * as vscode from 'vscode';
import {
  MCP_CHECK_SCRIPT,
  MCP_PROVIDER_ID,
  hasMcpApi,
  mcpInstallCommand,
  mcpServerSpecs,
  sdkProblem,
  type McpFolder,
} from './common/mcp';
import { chooseLaunch, expandPath, type ServerLaunch } from './common/python';
import { activeInterpreter, onInterpreterChanged } from './common/pythonExtension';
import { serverSettingsFor } from './common/server';
import { readSettings } from './common/settings';

/** The parts of VS Code's MCP API that Aurora uses (the @types/vscode it builds against predate it). */
interface StdioDefinition {
  readonly label: string;
  command: string;
  args: string[];
  cwd?: vscode.Uri;
}
type StdioDefinitionClass = new (
  label: string,
  command: string,
  args?: string[],
  env?: Record<string, string | number | null>,
  version?: string,
) => StdioDefinition;
interface DefinitionProvider {
  onDidChangeMcpServerDefinitions: vscode.Event<void>;
  provideMcpServerDefinitions(token: vscode.CancellationToken): Promise<StdioDefinition[]>;
  resolveMcpServerDefinition(server: StdioDefinition, token: vscode.CancellationToken): Promise<StdioDefinition | undefined>;
}
interface McpApi {
  lm: { registerMcpServerDefinitionProvider: (id: string, provider: DefinitionProvider) => vscode.Disposable };
  McpStdioServerDefinition: StdioDefinitionClass;
}

function enabled(): boolean {
  return vscode.workspace.getConfiguration('aurora').get<boolean>('mcp.enabled', true) !== false;
}

function mcpFolder(folder: vscode.WorkspaceFolder): McpFolder {
  let realPath = folder.uri.fsPath;
  try {
    realPath = realpathSync.native(realPath);
  } catch {
    // a folder that is gone: the server says so when it starts
  }
  return { name: folder.name, realPath, fsPath: folder.uri.fsPath };
}

/** The launch the language server gets for the first folder (server.ts), without its extra args. */
async function launchFor(folder: vscode.WorkspaceFolder, log: vscode.LogOutputChannel): Promise<ServerLaunch> {
  const settings = readSettings(vscode.workspace.getConfiguration('aurora', folder.uri));
  const expand = (value: string): string => expandPath(value, { workspaceFolder: folder.uri.fsPath });
  return chooseLaunch({
    serverPath: expand(settings.serverPath),
    interpreter: expand(settings.interpreter),
    args: [],
    pythonExtensionInterpreter: settings.serverPath || settings.interpreter ? undefined : await activeInterpreter(folder.uri, log),
  });
}

/** Why this interpreter cannot run the MCP server, or undefined (also when it cannot be asked). */
function missingSdk(python: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(python, ['-c', MCP_CHECK_SCRIPT], { timeout: 20000 }, (error, stdout) => {
      resolve(error === null ? sdkProblem(stdout) : undefined);
    });
  });
}

/** Register the provider; nothing on a VS Code without the MCP API. */
export function registerMcpServers(log: vscode.LogOutputChannel, version: string): vscode.Disposable {
  if (!hasMcpApi(vscode)) {
    log.info("This VS Code has no MCP server definition API (1.101+): agent mode does not get Aurora's tools");
    return new vscode.Disposable(() => undefined);
  }
  const api = vscode as unknown as McpApi;
  const Definition = api.McpStdioServerDefinition;
  const changed = new vscode.EventEmitter<void>();
  const launches = new Map<string, ServerLaunch>(); // by definition label, for resolving
  const provider: DefinitionProvider = {
    onDidChangeMcpServerDefinitions: changed.event,
    provideMcpServerDefinitions: async () => {
      const folders = (vscode.workspace.workspaceFolders ?? []).filter((folder) => folder.uri.scheme === 'file');
      const first = folders[0];
      if (first === undefined || !enabled()) {
        return [];
      }
      const launch = await launchFor(first, log);
      const specs = mcpServerSpecs(launch, folders.map(mcpFolder), serverSettingsFor(first.uri));
      launches.clear();
      return specs.map((spec) => {
        const definition = new Definition(spec.label, spec.command, spec.args, { PYTHONUNBUFFERED: '1' }, version);
        definition.cwd = vscode.Uri.file(spec.cwd);
        launches.set(spec.label, launch);
        return definition;
      });
    },
    resolveMcpServerDefinition: async (server) => {
      const python = launches.get(server.label)?.python;
      const problem = python === undefined ? undefined : await missingSdk(python);
      if (python === undefined || problem === undefined) {
        log.info(`Starting the MCP server ${server.label}: ${[server.command, ...server.args].join(' ')}`);
        return server;
      }
      const install = mcpInstallCommand(python);
      const message = `Aurora: the MCP server cannot start: ${problem} for ${python}. Run \`${install}\`.`;
      log.error(message);
      void vscode.window.showErrorMessage(message, 'Copy Install Command').then(async (choice) => {
        if (choice === 'Copy Install Command') {
          await vscode.env.clipboard.writeText(install);
        }
      });
      return undefined;
    },
  };
  const disposables: vscode.Disposable[] = [
    api.lm.registerMcpServerDefinitionProvider(MCP_PROVIDER_ID, provider),
    changed,
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration('aurora')) {
        changed.fire();
      }
    }),
    vscode.workspace.onDidChangeWorkspaceFolders(() => changed.fire()),
  ];
  void onInterpreterChanged(() => changed.fire()).then((watch) => {
    if (watch !== undefined) {
      disposables.push(watch);
    }
  });
  log.info('Aurora offers its MCP server to agent mode (aurora.mcp.enabled)');
  return new vscode.Disposable(() => {
    for (const disposable of disposables) {
      disposable.dispose();
    }
  });
}
