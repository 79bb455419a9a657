/**
 * The server's work-done progress ("Aurora: indexing") as a VS Code progress notification.
 * The language client would show it only in the status bar; this feature, registered after
 * the built-in ones, takes over `window/workDoneProgress/create`.
 */
import * as vscode from 'vscode';
import {
  type BaseLanguageClient,
  type ClientCapabilities,
  type FeatureState,
  type StaticFeature,
  WorkDoneProgress,
  WorkDoneProgressCancelNotification,
  WorkDoneProgressCreateRequest,
  type ProgressToken,
} from 'vscode-languageclient/node';

export class NotificationProgressFeature implements StaticFeature {
  private readonly active = new Map<ProgressToken, () => void>();
  private readonly changed = new vscode.EventEmitter<boolean>();
  private readonly ended = new vscode.EventEmitter<{ title: string; message?: string }>();
  /** Fires when a progress ends, with its title and final message ("6 files, 21 chunks in 0.1 s"). */
  readonly onDidEnd = this.ended.event;
  /** Fires true when some progress begins and false when the last one ends. */
  readonly onDidChangeBusy = this.changed.event;

  constructor(private readonly client: BaseLanguageClient) {}

  getState(): FeatureState {
    return { kind: 'static' };
  }

  fillClientCapabilities(capabilities: ClientCapabilities): void {
    capabilities.window = capabilities.window ?? {};
    capabilities.window.workDoneProgress = true;
  }

  initialize(): void {
    this.client.onRequest(WorkDoneProgressCreateRequest.type, ({ token }) => this.create(token));
  }

  clear(): void {
    for (const finish of [...this.active.values()]) {
      finish();
    }
    this.active.clear();
  }

  dispose(): void {
    this.clear();
    this.changed.dispose();
    this.ended.dispose();
  }

  private create(token: ProgressToken): void {
    let report: ((value: { message?: string; increment?: number }) => void) | undefined;
    let percentage = 0;
    let title = '';
    let finish: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => {
      finish = () => {
        subscription.dispose();
        this.active.delete(token);
        if (this.active.size === 0) {
          this.changed.fire(false);
        }
        resolve();
      };
    });
    const subscription = this.client.onProgress(WorkDoneProgress.type, token, (value) => {
      if (value.kind === 'begin') {
        title = value.title;
        void vscode.window.withProgress(
          { location: vscode.ProgressLocation.Notification, title: value.title, cancellable: value.cancellable === true },
          (progress, cancellation) => {
            report = (update) => progress.report(update);
            cancellation.onCancellationRequested(() => {
              void this.client.sendNotification(WorkDoneProgressCancelNotification.type, { token });
            });
            progress.report({ message: value.message });
            return finished;
          },
        );
        if (this.active.size === 1) {
          this.changed.fire(true);
        }
      } else if (value.kind === 'report') {
        const increment = value.percentage !== undefined ? Math.max(0, value.percentage - percentage) : undefined;
        percentage = value.percentage ?? percentage;
        report?.({ message: value.message, increment });
      } else {
        finish();
        this.ended.fire({ title, message: value.message });
      }
    });
    this.active.set(token, () => finish());
  }
}
