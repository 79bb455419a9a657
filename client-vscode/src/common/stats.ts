/**
 * `aurora/stats` for people: the status line, and the stats view's SVG pictures of resident
 * memory against the budget and of the top chunks' activation. No `vscode` import.
 */
import type { ContextItem, ContextResult, Stats } from './protocol';

export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB'];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  return `${value.toFixed(digits).replace(/\.0$/, '')} ${units[unit]}`;
}

export function formatCount(count: number): string {
  return count.toLocaleString('en-US');
}

/** Short text and longer detail of the language status item. */
export function statusText(stats: Stats): { text: string; detail: string; busy: boolean } {
  const busy = stats.indexing.state === 'indexing';
  const memory = `${formatBytes(stats.residentBytes)} / ${formatBytes(stats.memoryBudgetBytes)}`;
  const text = busy
    ? `Aurora: indexing ${formatCount(stats.indexing.done)}/${formatCount(stats.indexing.total)} files`
    : `Aurora: ${formatCount(stats.chunks)} chunks`;
  const detail = `${formatCount(stats.files)} files · ${formatCount(stats.residentChunks)} resident · ${memory}`;
  return { text, detail, busy };
}

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

const WIDTH = 440;

/** A horizontal gauge: resident memory (and chunks) against the budget. */
export function memorySvg(stats: Stats): string {
  const rows = [
    {
      label: 'resident memory',
      used: stats.residentBytes,
      limit: stats.memoryBudgetBytes,
      text: `${formatBytes(stats.residentBytes)} of ${formatBytes(stats.memoryBudgetBytes)}`,
    },
    {
      label: 'resident chunks',
      used: stats.residentChunks,
      limit: stats.maxChunks,
      text: `${formatCount(stats.residentChunks)} of ${formatCount(stats.maxChunks)}`,
    },
  ];
  const barX = 118;
  const barWidth = WIDTH - barX - 10;
  const rowHeight = 34;
  const parts: string[] = [];
  rows.forEach((row, index) => {
    const y = 8 + index * rowHeight;
    const share = row.limit > 0 ? Math.min(1, row.used / row.limit) : 0;
    // A sliver stays visible when the share is tiny but not zero.
    const filled = row.used > 0 ? Math.max(2, share * barWidth) : 0;
    const percent = row.limit > 0 ? (100 * row.used) / row.limit : 0;
    const shown = percent < 0.1 && percent > 0 ? '<0.1' : percent.toFixed(1);
    parts.push(
      `<text class="label" x="0" y="${y + 15}">${escapeXml(row.label)}</text>`,
      `<rect class="track" x="${barX}" y="${y}" width="${barWidth}" height="20" rx="3"/>`,
      `<rect class="${share >= 0.9 ? 'fill warn' : 'fill'}" x="${barX}" y="${y}" width="${filled.toFixed(1)}" height="20" rx="3"/>`,
      `<text class="value" x="${barX + 6}" y="${y + 15}">${escapeXml(`${row.text} (${shown}%)`)}</text>`,
    );
  });
  const height = 8 + rows.length * rowHeight;
  return svg(height, 'Resident memory against the budget', parts);
}

/**
 * Diverging bars of the top chunks' activation: the base level (usually negative) to the
 * left of zero, spreading and context added to the right, a tick at the total.
 */
export function activationSvg(result: ContextResult | undefined, top = 10): string {
  const items: ContextItem[] = result ? result.items.slice(0, top) : [];
  if (items.length === 0) {
    return svg(30, 'Activation of the top chunks', [
      '<text class="label" x="0" y="20">No context answer yet: run "Aurora: Show Context".</text>',
    ]);
  }
  const labelWidth = 150;
  const plotWidth = WIDTH - labelWidth - 10;
  let low = 0;
  let high = 0;
  for (const item of items) {
    const a = item.activation;
    low = Math.min(low, a.base, a.total);
    high = Math.max(high, Math.max(a.base, 0) + a.spreading + a.context, a.total);
  }
  const span = high - low || 1;
  const x = (value: number): number => labelWidth + ((value - low) / span) * plotWidth;
  const zero = x(0);
  const rowHeight = 22;
  const top0 = 22;
  const parts: string[] = [
    `<text class="legend" x="${labelWidth}" y="12"><tspan class="base-t">■ base</tspan>  <tspan class="spread-t">■ spreading</tspan>  <tspan class="context-t">■ context</tspan>  | total</text>`,
  ];
  items.forEach((item, index) => {
    const y = top0 + index * rowHeight;
    const a = item.activation;
    const name = item.qualifiedName.length > 22 ? '…' + item.qualifiedName.slice(-21) : item.qualifiedName;
    parts.push(`<g><title>${escapeXml(`${item.id}: ${activationSummary(item)}`)}</title>`);
    parts.push(`<text class="label" x="0" y="${y + 13}">${escapeXml(name)}</text>`);
    const segment = (cls: string, from: number, to: number): void => {
      const left = Math.min(x(from), x(to));
      const width = Math.abs(x(to) - x(from));
      if (width > 0.1) {
        parts.push(`<rect class="${cls}" x="${left.toFixed(1)}" y="${y + 2}" width="${width.toFixed(1)}" height="14"/>`);
      }
    };
    segment('base', 0, a.base);
    const start = Math.max(a.base, 0);
    segment('spread', start, start + a.spreading);
    segment('context', start + a.spreading, start + a.spreading + a.context);
    const tick = x(a.total);
    parts.push(`<line class="total" x1="${tick.toFixed(1)}" y1="${y}" x2="${tick.toFixed(1)}" y2="${y + 18}"/>`);
    parts.push('</g>');
  });
  const bottom = top0 + items.length * rowHeight;
  parts.push(`<line class="axis" x1="${zero.toFixed(1)}" y1="${top0 - 4}" x2="${zero.toFixed(1)}" y2="${bottom}"/>`);
  parts.push(`<text class="tick" x="${zero.toFixed(1)}" y="${bottom + 12}" text-anchor="middle">0</text>`);
  parts.push(`<text class="tick" x="${x(low).toFixed(1)}" y="${bottom + 12}">${low.toFixed(1)}</text>`);
  parts.push(`<text class="tick" x="${x(high).toFixed(1)}" y="${bottom + 12}" text-anchor="end">${high.toFixed(1)}</text>`);
  return svg(bottom + 16, 'Activation of the top chunks', parts);
}

function activationSummary(item: ContextItem): string {
  const a = item.activation;
  return `total ${a.total.toFixed(2)} = base ${a.base.toFixed(2)} + spreading ${a.spreading.toFixed(2)} + context ${a.context.toFixed(2)}`;
}

function svg(height: number, title: string, parts: string[]): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="${escapeXml(title)}" ` +
    `width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}">${parts.join('')}</svg>`
  );
}

/**
 * The whole stats page. No scripts at all: the CSP allows only inline styles with this
 * page's nonce, so the view is re-rendered by the extension rather than by itself.
 */
export function statsHtml(stats: Stats | undefined, last: ContextResult | undefined, nonce: string, updated: string): string {
  const csp = `default-src 'none'; style-src 'nonce-${nonce}'; img-src data:;`;
  const body =
    stats === undefined
      ? '<p>The server has not answered yet.</p>'
      : `<h2>Memory</h2>${memorySvg(stats)}
<p class="facts">${formatCount(stats.files)} files · ${formatCount(stats.chunks)} chunks · indexing ${escapeXml(stats.indexing.state)}` +
        ` · server RSS ${formatBytes(stats.processRssBytes)} · database ${formatBytes(stats.database.bytes)} · ` +
        `${formatCount(stats.hits)} hits, ${formatCount(stats.misses)} misses, ${formatCount(stats.evictions)} evictions</p>
<h2>Activation of the top chunks${last?.focus ? ` around <code>${escapeXml(last.focus)}</code>` : ''}</h2>${activationSvg(last)}`;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Aurora stats</title>
<style nonce="${nonce}">
body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); padding: 0 16px; }
h2 { font-size: 1.05em; margin: 18px 0 8px; font-weight: 600; }
svg { display: block; width: 100%; max-width: 640px; height: auto; }
svg text { fill: var(--vscode-foreground); font-size: 12px; font-family: var(--vscode-font-family); }
svg .value { fill: var(--vscode-foreground); font-weight: 600; }
svg .track { fill: var(--vscode-editorWidget-background, #8883); stroke: var(--vscode-widget-border, #8886); }
svg .fill { fill: var(--vscode-charts-blue, #3794ff); opacity: 0.75; }
svg .fill.warn { fill: var(--vscode-charts-red, #f14c4c); }
svg .base { fill: var(--vscode-charts-purple, #b180d7); opacity: 0.8; }
svg .spread { fill: var(--vscode-charts-blue, #3794ff); opacity: 0.85; }
svg .context { fill: var(--vscode-charts-green, #89d185); opacity: 0.85; }
svg .base-t { fill: var(--vscode-charts-purple, #b180d7); }
svg .spread-t { fill: var(--vscode-charts-blue, #3794ff); }
svg .context-t { fill: var(--vscode-charts-green, #89d185); }
svg .total { stroke: var(--vscode-foreground); stroke-width: 2; }
svg .axis { stroke: var(--vscode-descriptionForeground, #888); stroke-dasharray: 2 2; }
svg .tick, .facts, .updated { fill: var(--vscode-descriptionForeground); color: var(--vscode-descriptionForeground); font-size: 11px; }
</style></head>
<body>${body}
<p class="updated">Updated ${escapeXml(updated)}</p>
</body></html>`;
}
