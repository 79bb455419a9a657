/** The command palette's "Aurora: …" commands. Each asks the server once and shows the answer. */
import * as vscode from 'vscode';
import { chunkPath, formatForAI, lineSpan } from './common/context';
import {
  CONTEXT_METHOD,
  REINDEX_METHOD,
  type ContextItem,
  type ContextParams,
  type ContextResult,
  type ReindexResult,
} from './common/protocol';
import type { AuroraServer } from './common/server';
import { openChunk } from './views/contextView';
import type { ContextView } from './views/contextView';
import type { StatsPanel } from './views/statsPanel';
import type { StatusItem } from './views/statusItem';

export interface CommandDeps {
  server: AuroraServer;
  log: vscode.LogOutputChannel;
  contextView: ContextView;
  statsPanel: StatsPanel;
  status: StatusItem;
}

const SEARCH_LIMIT = 40;

export function registerCommands(deps: CommandDeps): vscode.Disposable[] {
  const { server, log, contextView, statsPanel, status } = deps;

  const report = (what: string, error: unknown): void => {
    const message = error instanceof Error ? error.message : String(error);
    log.error(`${what} failed: ${message}`);
    void vscode.window.showErrorMessage(`Aurora: ${what} failed: ${message}`);
  };

  /** The context answer for the cursor of the active Python editor, or undefined. */
  const contextAtCursor = async (): Promise<ContextResult | undefined> => {
    const editor = vscode.window.activeTextEditor;
    if (editor === undefined || editor.document.languageId !== 'python') {
      void vscode.window.showInformationMessage('Aurora: put the cursor in a Python file first.');
      return undefined;
    }
    const position = editor.selection.active;
    const params: ContextParams = {
      textDocument: { uri: editor.document.uri.toString() },
      position: { line: position.line, character: position.character },
    };
    return server.sendRequest<ContextResult>(CONTEXT_METHOD, params);
  };

  const showContext = async (): Promise<void> => {
    try {
      const result = await contextAtCursor();
      if (result === undefined) {
        return;
      }
      const editor = vscode.window.activeTextEditor;
      const where = editor ? `${vscode.workspace.asRelativePath(editor.document.uri)}:${editor.selection.active.line + 1}` : '';
      contextView.show(result, result.focus ?? where);
      statsPanel.update(undefined, result);
      log.info(`Context for ${result.focus ?? where}: ${result.items.length} chunks, ${result.usedTokens}/${result.tokenBudget} tokens`);
      await vscode.commands.executeCommand('aurora.context.focus');
    } catch (error) {
      report('Show Context', error);
    }
  };

  const copyContext = async (): Promise<void> => {
    try {
      const result = await contextAtCursor();
      if (result === undefined) {
        return;
      }
      await vscode.env.clipboard.writeText(formatForAI(result));
      statsPanel.update(undefined, result);
      void vscode.window.showInformationMessage(
        `Aurora: copied ${result.items.length} chunks (${result.usedTokens} tokens) of context to the clipboard.`,
      );
    } catch (error) {
      report('Copy Context for AI', error);
    }
  };

  const searchMemory = (): void => {
    const pick = vscode.window.createQuickPick<vscode.QuickPickItem & { item?: ContextItem }>();
    pick.title = 'Aurora: Search Memory';
    pick.placeholder = 'Words, names or a question; results are ranked by activation';
    pick.matchOnDescription = true;
    pick.matchOnDetail = true;
    let generation = 0;
    let timer: NodeJS.Timeout | undefined;
    const search = async (query: string): Promise<void> => {
      const mine = ++generation;
      if (query.trim() === '') {
        pick.items = [];
        pick.busy = false;
        return;
      }
      pick.busy = true;
      try {
        const result = await server.sendRequest<ContextResult>(CONTEXT_METHOD, { query, limit: SEARCH_LIMIT });
        if (mine !== generation) {
          return;
        }
        pick.items = result.items.map((item) => ({
          label: `$(${item.kind === 'class' ? 'symbol-class' : item.kind === 'method' ? 'symbol-method' : 'symbol-function'}) ${item.qualifiedName}`,
          description: `${chunkPath(item.id)} ${lineSpan(item)}`,
          detail: `${item.score.toFixed(2)} · ${item.why}`,
          alwaysShow: true,
          item,
        }));
      } catch (error) {
        if (mine === generation) {
          pick.items = [{ label: `$(error) ${error instanceof Error ? error.message : String(error)}` }];
        }
      } finally {
        if (mine === generation) {
          pick.busy = false;
        }
      }
    };
    pick.onDidChangeValue((value) => {
      if (timer !== undefined) {
        clearTimeout(timer);
      }
      timer = setTimeout(() => void search(value), 150);
    });
    pick.onDidAccept(() => {
      const chosen = pick.selectedItems[0]?.item;
      pick.hide();
      if (chosen !== undefined) {
        void openChunk(chosen);
      }
    });
    pick.onDidHide(() => pick.dispose());
    pick.show();
  };

  const reindex = async (): Promise<void> => {
    try {
      const result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'Aurora: reindexing the workspace' },
        () => server.sendRequest<ReindexResult>(REINDEX_METHOD, { full: true }),
      );
      log.info(`Reindexed: ${result.files} files, ${result.chunks} chunks in ${result.seconds.toFixed(2)} s`);
      void vscode.window.showInformationMessage(
        `Aurora: reindexed ${result.files} files, ${result.chunks} chunks in ${result.seconds.toFixed(2)} s.`,
      );
      await status.refresh();
    } catch (error) {
      report('Reindex Workspace', error);
    }
  };

  const showStats = async (): Promise<void> => {
    const stats = (await status.refresh()) ?? status.latest;
    statsPanel.show(stats, contextView.last);
  };

  return [
    vscode.commands.registerCommand('aurora.restart', () => server.restart('"Aurora: Restart Server"')),
    vscode.commands.registerCommand('aurora.reindex', reindex),
    vscode.commands.registerCommand('aurora.showContext', showContext),
    vscode.commands.registerCommand('aurora.copyContext', copyContext),
    vscode.commands.registerCommand('aurora.searchMemory', searchMemory),
    vscode.commands.registerCommand('aurora.showStats', showStats),
  ];
}
