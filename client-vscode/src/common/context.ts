/**
 * Context answers as people and AI tools read them: the clipboard text, one-line labels.
 * No `vscode` import: tested with node's test runner.
 */
import type { ContextItem, ContextResult } from './protocol';

/** The chunk id's path part: `shop/models/cart.py` of `shop/models/cart.py::Cart.add`. */
export function chunkPath(id: string): string {
  const separator = id.indexOf('::');
  return separator < 0 ? id : id.slice(0, separator);
}

/** 1-based line span as people count, e.g. `lines 30–34` or `line 7`. */
export function lineSpan(item: ContextItem): string {
  const first = item.range.start.line + 1;
  const last = item.range.end.line + 1;
  return first === last ? `line ${first}` : `lines ${first}–${last}`;
}

export function formatScore(score: number): string {
  return (score < 0 ? '−' : '') + Math.abs(score).toFixed(2);
}

/** The description beside an item in the Context view and in Search Memory. */
export function describeItem(item: ContextItem): string {
  return `${formatScore(item.score)} · ${item.why}`;
}

/** One line per activation component, for tooltips. */
export function activationLine(item: ContextItem): string {
  const a = item.activation;
  return `activation ${formatScore(a.total)} = base ${formatScore(a.base)} + spreading ${formatScore(
    a.spreading,
  )} + context ${formatScore(a.context)}`;
}

/**
 * The packed context as text for an AI tool: a heading, then each item as a header line
 * with its id and detail level, then its text.
 */
export function formatForAI(result: ContextResult): string {
  const lines: string[] = [];
  const focus = result.focus === null ? '' : ` for ${result.focus}`;
  lines.push(`# Aurora context${focus} (${result.items.length} chunks, ${result.usedTokens}/${result.tokenBudget} tokens)`);
  for (const item of result.items) {
    lines.push('');
    lines.push(`## ${item.id} (${item.detail}, ${lineSpan(item)})`);
    if (item.detail === 'name') {
      lines.push(item.text.trimEnd());
    } else {
      lines.push('```python');
      lines.push(dedent(item.text).trimEnd());
      lines.push('```');
    }
  }
  return lines.join('\n') + '\n';
}

/** Remove the indentation all non-blank lines share (methods keep their body's shape). */
export function dedent(text: string): string {
  const lines = text.split('\n');
  let common: number | undefined;
  for (const line of lines) {
    if (line.trim() === '') {
      continue;
    }
    const indent = line.length - line.trimStart().length;
    common = common === undefined ? indent : Math.min(common, indent);
  }
  if (!common) {
    return text;
  }
  return lines.map((line) => line.slice(Math.min(common, line.length - line.trimStart().length))).join('\n');
}
