/**
 * Starting, stopping and restarting the language client for `aurora-lsp` over stdio.
 * One start or stop runs at a time; every other module talks to the server through here.
 */
import * as vscode from 'vscode';
import {
  LanguageClient,
  type LanguageClientOptions,
  RevealOutputChannelOn,
  type ServerOptions,
  State,
} from 'vscode-languageclient/node';
import * as readline from 'node:readline';
import { NotificationProgressFeature } from './progress';
import { checkLaunch, chooseLaunch, expandPath, installCommand, type ServerLaunch } from './python';
import { activeInterpreter } from './pythonExtension';
import { classifyServerLine, type LogLevel } from './serverLog';
import { readSettings, toServerSettings, type AuroraSettings, type ServerSettings } from './settings';

export const CLIENT_ID = 'aurora';
const CLIENT_NAME = 'Aurora';

export type ServerState = 'stopped' | 'starting' | 'running' | 'failed';

function settingsFor(resource?: vscode.Uri): AuroraSettings {
  return readSettings(vscode.workspace.getConfiguration('aurora', resource));
}

function firstFolder(): vscode.WorkspaceFolder | undefined {
  return vscode.workspace.workspaceFolders?.[0];
}

/** The server's settings for a scope, with `~` and `${workspaceFolder}` expanded. */
export function serverSettingsFor(resource?: vscode.Uri): ServerSettings {
  const folder = (resource && vscode.workspace.getWorkspaceFolder(resource)) ?? firstFolder();
  return toServerSettings(settingsFor(resource), (value) =>
    expandPath(value, { workspaceFolder: folder?.uri.fsPath }),
  );
}

export class AuroraServer implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private progress: NotificationProgressFeature | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private stateValue: ServerState = 'stopped';
  private readonly stateChanged = new vscode.EventEmitter<ServerState>();
  private readonly busyChanged = new vscode.EventEmitter<boolean>();
  private starts = 0;
  private restarting = false;

  /** Fires on every change of state; `running` once the server answered `initialize`. */
  readonly onDidChangeState = this.stateChanged.event;
  /** Fires true when the server starts a work-done progress and false when all have ended. */
  readonly onDidChangeBusy = this.busyChanged.event;
  launch: ServerLaunch | undefined;
  failure: string | undefined;

  constructor(private readonly log: vscode.LogOutputChannel) {}

  get state(): ServerState {
    return this.stateValue;
  }

  /** The running client, or undefined (callers tell the user the server is not running). */
  get running(): LanguageClient | undefined {
    return this.client !== undefined && this.client.state === State.Running ? this.client : undefined;
  }

  start(): Promise<void> {
    return this.enqueue(() => this.doStart());
  }

  stop(): Promise<void> {
    return this.enqueue(() => this.doStop());
  }

  restart(reason: string): Promise<void> {
    this.restarting = true; // at once: the configuration sync must not talk to the old process
    return this.enqueue(async () => {
      this.restarting = false;
      this.log.info(`Restarting the server: ${reason}`);
      await this.doStop();
      await this.doStart();
    });
  }

  async sendRequest<R>(method: string, params?: object): Promise<R> {
    const client = this.running;
    if (client === undefined) {
      throw new Error(this.failure ?? 'the Aurora server is not running');
    }
    return params === undefined ? client.sendRequest<R>(method) : client.sendRequest<R>(method, params);
  }

  dispose(): void {
    void this.stop();
    this.stateChanged.dispose();
    this.busyChanged.dispose();
  }

  private enqueue(work: () => Promise<void>): Promise<void> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private setState(state: ServerState): void {
    this.stateValue = state;
    this.stateChanged.fire(state);
  }

  private async doStart(): Promise<void> {
    if (this.client !== undefined) {
      return;
    }
    this.setState('starting');
    this.failure = undefined;
    const folder = firstFolder();
    const settings = settingsFor(folder?.uri);
    const expand = (value: string): string => expandPath(value, { workspaceFolder: folder?.uri.fsPath });
    const launch = chooseLaunch({
      serverPath: expand(settings.serverPath),
      interpreter: expand(settings.interpreter),
      args: settings.args,
      pythonExtensionInterpreter:
        settings.serverPath || settings.interpreter ? undefined : await activeInterpreter(folder?.uri, this.log),
    });
    this.launch = launch;
    this.log.info(`Starting the server: ${[launch.command, ...launch.args].join(' ')} (from ${launch.source})`);
    const check = await checkLaunch(launch);
    if (!check.ok) {
      this.fail(`${check.reason}. ${check.fix}`, launch);
      return;
    }
    const client = this.createClient(launch);
    this.client = client;
    try {
      await client.start();
    } catch (error) {
      this.client = undefined;
      this.progress = undefined;
      this.fail(`the server did not start: ${error instanceof Error ? error.message : String(error)}`, launch);
      return;
    }
    this.starts += 1;
    const info = client.initializeResult?.serverInfo;
    const version = info ? `${info.name} ${info.version ?? ''}`.trim() : 'aurora-lsp';
    this.log.info(`Aurora server started: ${version} (start ${this.starts} in this window)`);
    this.setState('running');
  }

  private async doStop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client === undefined) {
      return;
    }
    try {
      if (client.needsStop()) {
        await client.stop(5000);
      }
    } catch (error) {
      this.log.warn(`The server did not stop cleanly: ${String(error)}`);
    }
    await client.dispose().catch(() => undefined);
    this.progress?.dispose();
    this.progress = undefined;
    this.busyChanged.fire(false);
    this.log.info('Aurora server stopped');
    this.setState('stopped');
  }

  private fail(message: string, launch: ServerLaunch): void {
    this.failure = `Aurora: ${message}`;
    this.log.error(this.failure);
    this.setState('failed');
    const actions = launch.python ? ['Copy Install Command', 'Open Settings', 'Show Log'] : ['Open Settings', 'Show Log'];
    void vscode.window.showErrorMessage(this.failure, ...actions).then(async (choice) => {
      if (choice === 'Copy Install Command' && launch.python) {
        await vscode.env.clipboard.writeText(installCommand(launch.python));
      } else if (choice === 'Open Settings') {
        await vscode.commands.executeCommand('workbench.action.openSettings', 'aurora.');
      } else if (choice === 'Show Log') {
        this.log.show();
      }
    });
  }

  private createClient(launch: ServerLaunch): LanguageClient {
    const serverOptions: ServerOptions = {
      command: launch.command,
      args: launch.args,
      // No `transport`: TransportKind.stdio would append `--stdio`, which aurora-lsp does not take.
      options: { env: { ...process.env, PYTHONUNBUFFERED: '1' } },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [{ scheme: 'file', language: 'python' }],
      outputChannel: this.log,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      stdioOptions: {
        stdout: (input, channel) => lines(input, (line) => channel.info(line)),
        stderr: (input, channel) => {
          let previous: LogLevel | undefined;
          lines(input, (line) => {
            const classified = classifyServerLine(line, previous);
            previous = classified.level;
            channel[classified.level](classified.text);
          });
        },
      },
      initializationOptions: () => serverSettingsFor(firstFolder()?.uri),
      // A change under `aurora` sends didChangeConfiguration with null settings; the server
      // then pulls section `aurora`, which the middleware answers in the server's shape.
      synchronize: { configurationSection: CLIENT_ID },
      middleware: {
        workspace: {
          didChangeConfiguration: (_sections, next) =>
            this.client === client && !this.restarting && client.state === State.Running ? next(undefined) : Promise.resolve(),
          configuration: async (params, token, next) => {
            const answers = await next(params, token);
            if (!Array.isArray(answers)) {
              return answers;
            }
            return params.items.map((item, index) =>
              item.section === CLIENT_ID
                ? serverSettingsFor(item.scopeUri ? vscode.Uri.parse(item.scopeUri) : undefined)
                : (answers[index] as unknown),
            );
          },
        },
      },
    };
    const client = new LanguageClient(CLIENT_ID, CLIENT_NAME, serverOptions, clientOptions);
    const progress = new NotificationProgressFeature(client);
    progress.onDidChangeBusy((busy) => this.busyChanged.fire(busy));
    progress.onDidEnd(({ title, message }) => this.log.info(`${title}: ${message ?? 'done'}`));
    client.registerFeature(progress);
    this.progress = progress;
    client.onDidChangeState((event) => {
      if (event.newState === State.Stopped && this.client === client && this.stateValue === 'running') {
        // Crashed beyond the client's own restarts: say so in the status item.
        this.failure = 'Aurora: the server stopped; see the Aurora log, then run "Aurora: Restart Server"';
        this.setState('failed');
      } else if (event.newState === State.Running && this.client === client && this.stateValue === 'failed') {
        this.setState('running');
      }
    });
    return client;
  }
}

function lines(input: NodeJS.ReadableStream, each: (line: string) => void): void {
  readline.createInterface({ input, crlfDelay: Infinity, terminal: false }).on('line', each);
}
