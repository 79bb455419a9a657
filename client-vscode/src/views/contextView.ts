/** The "Context" tree in Aurora's view container: the ranked chunks of the last context answer. */
import * as vscode from 'vscode';
import { activationLine, chunkPath, describeItem, formatScore, lineSpan } from '../common/context';
import type { ContextItem, ContextResult, Range } from '../common/protocol';

type Node = { kind: 'item'; item: ContextItem; rank: number } | { kind: 'fact'; label: string; tooltip?: string };

const KIND_ICONS: Record<string, string> = {
  class: 'symbol-class',
  method: 'symbol-method',
  function: 'symbol-function',
};

export function toVsRange(range: Range): vscode.Range {
  return new vscode.Range(range.start.line, range.start.character, range.end.line, range.end.character);
}

/** The command that opens a chunk's code at its range. */
export function openCommand(item: ContextItem): vscode.Command {
  return {
    title: 'Open',
    command: 'vscode.open',
    arguments: [vscode.Uri.parse(item.uri), { selection: toVsRange(item.range), preview: true }],
  };
}

/** Open a chunk's code with its range selected. */
export async function openChunk(item: ContextItem): Promise<void> {
  await vscode.window.showTextDocument(vscode.Uri.parse(item.uri), { selection: toVsRange(item.range), preview: true });
}

export class ContextView implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private result: ContextResult | undefined;
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  readonly view: vscode.TreeView<Node>;

  constructor() {
    this.view = vscode.window.createTreeView('aurora.context', { treeDataProvider: this, showCollapseAll: true });
  }

  get last(): ContextResult | undefined {
    return this.result;
  }

  show(result: ContextResult, title: string): void {
    this.result = result;
    this.view.description = title;
    this.view.message =
      result.items.length === 0
        ? 'Aurora found nothing to rank here.'
        : `${result.items.length} chunks, ${result.usedTokens}/${result.tokenBudget} tokens, best first`;
    this.changed.fire(undefined);
  }

  getChildren(node?: Node): Node[] {
    if (this.result === undefined) {
      return [];
    }
    if (node === undefined) {
      return this.result.items.map((item, index) => ({ kind: 'item', item, rank: index + 1 }));
    }
    if (node.kind === 'item') {
      const item = node.item;
      return [
        { kind: 'fact', label: `why: ${item.why}` },
        { kind: 'fact', label: activationLine(item) },
        { kind: 'fact', label: `${item.detail} · ${item.tokens} tokens · ${chunkPath(item.id)} ${lineSpan(item)}` },
      ];
    }
    return [];
  }

  getTreeItem(node: Node): vscode.TreeItem {
    if (node.kind === 'fact') {
      const fact = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
      fact.tooltip = node.tooltip ?? node.label;
      return fact;
    }
    const item = node.item;
    const tree = new vscode.TreeItem(`${node.rank}. ${item.qualifiedName}`, vscode.TreeItemCollapsibleState.Collapsed);
    tree.id = `${node.rank}:${item.id}`;
    tree.description = describeItem(item);
    tree.iconPath = new vscode.ThemeIcon(KIND_ICONS[item.kind] ?? 'symbol-misc');
    tree.resourceUri = vscode.Uri.parse(item.uri);
    tree.command = openCommand(item);
    const tooltip = new vscode.MarkdownString();
    tooltip.appendMarkdown(`**${item.qualifiedName}** — score ${formatScore(item.score)}\n\n`);
    tooltip.appendText(`${item.why}\n\n${activationLine(item)}\n${chunkPath(item.id)} ${lineSpan(item)}`);
    tree.tooltip = tooltip;
    tree.contextValue = 'auroraChunk';
    return tree;
  }

  dispose(): void {
    this.view.dispose();
    this.changed.dispose();
  }
}
