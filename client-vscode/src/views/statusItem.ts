/**
 * The Python language status item: server state, indexing, chunks and resident memory
 * against the budget, from `aurora/stats`. Polls while a Python editor is in front and
 * the window has focus, and right after indexing ends.
 */
import * as vscode from 'vscode';
import { STATS_METHOD, type Stats } from '../common/protocol';
import type { AuroraServer } from '../common/server';
import { statusText } from '../common/stats';

const POLL_MS = 3000;

export class StatusItem implements vscode.Disposable {
  private readonly item: vscode.LanguageStatusItem;
  private readonly subscriptions: vscode.Disposable[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly updated = new vscode.EventEmitter<Stats>();
  /** Fires with every stats answer (the stats view listens). */
  readonly onDidUpdate = this.updated.event;
  latest: Stats | undefined;
  /** Another reason to keep polling, such as the stats view being open. */
  alsoPollWhile: () => boolean = () => false;

  constructor(private readonly server: AuroraServer) {
    this.item = vscode.languages.createLanguageStatusItem('aurora.status', { language: 'python' });
    this.item.name = 'Aurora';
    this.showState();
    this.subscriptions.push(
      server.onDidChangeState(() => {
        this.showState();
        void this.refresh();
      }),
      server.onDidChangeBusy((busy) => {
        this.item.busy = busy;
        void this.refresh();
      }),
      vscode.window.onDidChangeActiveTextEditor(() => this.schedule()),
      vscode.window.onDidChangeWindowState(() => this.schedule()),
      // A new budget or exclude list shows at once, not at the next poll.
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (event.affectsConfiguration('aurora')) {
          this.schedule(500);
        }
      }),
    );
    this.schedule();
  }

  /** Ask the server for its stats now and show them. */
  async refresh(): Promise<Stats | undefined> {
    if (this.server.running === undefined) {
      return undefined;
    }
    try {
      const stats = await this.server.sendRequest<Stats>(STATS_METHOD);
      this.latest = stats;
      const shown = statusText(stats);
      this.item.text = shown.text;
      this.item.detail = shown.detail;
      this.item.busy = shown.busy;
      this.item.severity = vscode.LanguageStatusSeverity.Information;
      this.item.command = { title: 'Memory stats', command: 'aurora.showStats', tooltip: 'Show Aurora memory stats' };
      this.updated.fire(stats);
      if (shown.busy) {
        this.schedule(1000);
      }
      return stats;
    } catch {
      return undefined; // the next poll or state change tries again
    }
  }

  private showState(): void {
    const state = this.server.state;
    if (state === 'failed') {
      this.item.text = '$(error) Aurora: not running';
      this.item.detail = this.server.failure ?? '';
      this.item.severity = vscode.LanguageStatusSeverity.Error;
      this.item.busy = false;
      this.item.command = { title: 'Restart', command: 'aurora.restart' };
    } else if (state === 'starting' || state === 'stopped') {
      this.item.text = `Aurora: ${state === 'starting' ? 'starting' : 'stopped'}`;
      this.item.detail = this.server.launch ? `${this.server.launch.command} (${this.server.launch.source})` : '';
      this.item.severity = vscode.LanguageStatusSeverity.Information;
      this.item.busy = state === 'starting';
    }
  }

  private visible(): boolean {
    const pythonInFront = vscode.window.activeTextEditor?.document.languageId === 'python';
    return vscode.window.state.focused && (pythonInFront || this.alsoPollWhile());
  }

  private schedule(delay = POLL_MS): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.refresh().finally(() => {
        if (this.timer === undefined && this.visible()) {
          this.schedule();
        }
      });
    }, delay);
  }

  dispose(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
    }
    for (const subscription of this.subscriptions) {
      subscription.dispose();
    }
    this.updated.dispose();
    this.item.dispose();
  }
}
