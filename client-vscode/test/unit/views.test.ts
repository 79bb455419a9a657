import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dedent, formatForAI, formatScore } from '../../src/common/context';
import type { ContextItem, ContextResult, Stats } from '../../src/common/protocol';
import { activationSvg, formatBytes, memorySvg, statsHtml, statusText } from '../../src/common/stats';

function item(overrides: Partial<ContextItem>): ContextItem {
  return {
    id: 'shop/models/cart.py::Cart.total_cents',
    uri: 'file:///w/shop/models/cart.py',
    range: { start: { line: 29, character: 4 }, end: { line: 33, character: 59 } },
    name: 'total_cents',
    qualifiedName: 'Cart.total_cents',
    kind: 'method',
    detail: 'full',
    text: '    def total_cents(self) -> int:\n        return 1\n',
    tokens: 12,
    score: -0.6754,
    activation: { base: -6.6563, spreading: 2.2046, context: 3.7764, total: -0.6754 },
    why: 'the code at the cursor',
    ...overrides,
  };
}

const result: ContextResult = {
  focus: 'shop/models/cart.py::Cart.total_cents',
  tokenBudget: 2000,
  usedTokens: 28,
  items: [
    item({}),
    item({
      id: 'shop/services/pricing.py::apply_discount',
      qualifiedName: 'apply_discount',
      kind: 'function',
      detail: 'name',
      text: 'function apply_discount — shop/services/pricing.py:8',
      tokens: 16,
      range: { start: { line: 7, character: 0 }, end: { line: 7, character: 10 } },
    }),
  ],
};

const stats: Stats = {
  files: 6,
  chunks: 21,
  edges: 14,
  residentChunks: 21,
  residentBytes: 10876,
  memoryBudgetBytes: 104857600,
  maxChunks: 50000,
  evictions: 0,
  hits: 3,
  misses: 1,
  processRssBytes: 51982336,
  database: { path: '/tmp/x.sqlite3', bytes: 226416 },
  indexing: {
    state: 'idle',
    done: 6,
    total: 6,
    lastRunSeconds: 0.058,
    lastRun: { changed: 6, unchanged: 0, removed: 0 },
  },
  skipped: {},
};

describe('context for AI', () => {
  it('gives each item a header line with id and detail, then its text', () => {
    const text = formatForAI(result);
    const lines = text.split('\n');
    assert.equal(lines[0], '# Aurora context for shop/models/cart.py::Cart.total_cents (2 chunks, 28/2000 tokens)');
    assert.ok(lines.includes('## shop/models/cart.py::Cart.total_cents (full, lines 30–34)'));
    assert.ok(text.includes('```python\ndef total_cents(self) -> int:\n    return 1\n```'));
    assert.ok(lines.includes('## shop/services/pricing.py::apply_discount (name, line 8)'));
    assert.ok(lines.includes('function apply_discount — shop/services/pricing.py:8'));
  });

  it('dedents a method and keeps blank lines', () => {
    assert.equal(dedent('    a\n\n      b\n'), 'a\n\n  b\n');
  });

  it('writes negative scores with a minus sign', () => {
    assert.equal(formatScore(-0.6754), '−0.68');
    assert.equal(formatScore(1.5), '1.50');
  });
});

describe('stats', () => {
  it('shows chunks and memory against the budget in the status item', () => {
    assert.deepEqual(statusText(stats), {
      text: 'Aurora: 21 chunks',
      detail: '6 files · 21 resident · 10.6 KB / 100 MB',
      busy: false,
    });
    const busy = { state: 'indexing', done: 2, total: 6, lastRunSeconds: null, lastRun: null };
    const indexing = statusText({ ...stats, indexing: busy });
    assert.equal(indexing.text, 'Aurora: indexing 2/6 files');
    assert.equal(indexing.busy, true);
  });

  it('formats bytes', () => {
    assert.equal(formatBytes(512), '512 B');
    assert.equal(formatBytes(10876), '10.6 KB');
    assert.equal(formatBytes(104857600), '100 MB');
    assert.equal(formatBytes(30 * 1024 * 1024), '30 MB');
  });

  it('draws the resident share of the budget as a bar of that width', () => {
    const half = memorySvg({ ...stats, residentBytes: stats.memoryBudgetBytes / 2 });
    const widths = [...half.matchAll(/class="fill[^"]*" x="118" y="8" width="([\d.]+)"/g)].map((m) => Number(m[1]));
    assert.deepEqual(widths, [156]); // half of the 312-unit track
    assert.match(half, /50 MB of 100 MB \(50\.0%\)/);
    assert.match(memorySvg(stats), /21 of 50,000 \(&lt;0\.1%\)/);
  });

  it('draws one activation row per top chunk, with a tick at the total', () => {
    const svg = activationSvg(result);
    assert.equal((svg.match(/class="total"/g) ?? []).length, 2);
    assert.equal((svg.match(/class="base"/g) ?? []).length, 2);
    assert.match(svg, /Cart\.total_cents/);
    assert.match(activationSvg(undefined), /No context answer yet/);
  });

  it('builds a page with a strict CSP and no scripts', () => {
    const html = statsHtml(stats, result, 'abc123', '12:00');
    assert.match(html, /content="default-src 'none'; style-src 'nonce-abc123'; img-src data:;"/);
    assert.doesNotMatch(html, /<script/i);
    assert.match(html, /<style nonce="abc123">/);
    assert.match(html, /<svg /);
  });

  it('escapes names it draws', () => {
    const svg = activationSvg({ ...result, items: [item({ qualifiedName: '<b>&' })] });
    assert.match(svg, /&lt;b&gt;&amp;/);
  });
});
