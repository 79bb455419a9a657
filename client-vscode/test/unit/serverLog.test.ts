import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyServerLine } from '../../src/common/serverLog';

describe("the server's stderr in the Aurora log", () => {
  it('keeps the level of a Python log record and drops its timestamp', () => {
    assert.deepEqual(classifyServerLine('2026-11-24 22:40:37,749 INFO aurora_lsp.server: refreshed 1 folders', undefined), {
      level: 'info',
      text: '[aurora_lsp.server] refreshed 1 folders',
    });
    assert.equal(classifyServerLine('2026-11-24 22:40:37,749 WARNING aurora_lsp.config: bad', undefined).level, 'warn');
    assert.equal(classifyServerLine('2026-11-24 22:40:37,749 CRITICAL x: y', undefined).level, 'error');
  });

  it("sends pygls' per-message lines to trace", () => {
    const line = '2026-11-24 22:40:37,597 INFO pygls.protocol.json_rpc: Sending data: {"id": 0}';
    assert.equal(classifyServerLine(line, undefined).level, 'trace');
    assert.equal(classifyServerLine('2026-11-24 22:40:37,597 ERROR pygls.protocol.json_rpc: failed', undefined).level, 'error');
  });

  it('treats other lines as errors, and a traceback like the record before it', () => {
    assert.equal(classifyServerLine('aurora-lsp: error: unrecognized arguments: --stdio', 'info').level, 'error');
    assert.equal(classifyServerLine('  File "x.py", line 1', 'warn').level, 'warn');
  });
});
