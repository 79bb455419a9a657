/** The stats webview: SVG pictures of memory against the budget and of chunk activation. */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { ContextResult, Stats } from '../common/protocol';
import { statsHtml } from '../common/stats';

export class StatsPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private stats: Stats | undefined;
  private context: ContextResult | undefined;

  get visible(): boolean {
    return this.panel?.visible === true;
  }

  /** Open (or reveal) the view. */
  show(stats: Stats | undefined, context: ContextResult | undefined): void {
    if (this.panel === undefined) {
      this.panel = vscode.window.createWebviewPanel(
        'aurora.stats',
        'Aurora Stats',
        { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
        { enableScripts: false, enableCommandUris: false, localResourceRoots: [] },
      );
      this.panel.onDidDispose(() => (this.panel = undefined));
    } else {
      this.panel.reveal(undefined, true);
    }
    this.update(stats, context);
  }

  /** Redraw with new figures, if the view is open. */
  update(stats: Stats | undefined, context: ContextResult | undefined): void {
    this.stats = stats ?? this.stats;
    this.context = context ?? this.context;
    if (this.panel === undefined) {
      return;
    }
    const nonce = randomBytes(16).toString('base64');
    this.panel.webview.html = statsHtml(this.stats, this.context, nonce, new Date().toLocaleTimeString());
  }

  dispose(): void {
    this.panel?.dispose();
  }
}
