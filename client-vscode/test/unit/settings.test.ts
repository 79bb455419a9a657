import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_SETTINGS, needsRestart, readSettings, toServerSettings, type ConfigSource } from '../../src/common/settings';

function source(values: Record<string, unknown>): ConfigSource {
  return { get: (key: string) => values[key] };
}

describe('settings', () => {
  it('fills every default when nothing is set', () => {
    assert.deepEqual(readSettings(source({})), DEFAULT_SETTINGS);
  });

  it('maps aurora.* to exactly the server camelCase keys of the contract', () => {
    const settings = readSettings(
      source({
        interpreter: '/venv/bin/python',
        args: ['--log-file', '/tmp/a.log'],
        memoryBudgetMb: 64,
        maxChunks: 1000,
        databasePath: '~/aurora.sqlite3',
        exclude: ['generated/**'],
        maxFileSizeKb: 256,
        indexOnStartup: false,
        contextTokenBudget: 3000,
        recordAccesses: false,
        'trace.server': 'verbose',
      }),
    );
    const wire = toServerSettings(settings, (value) => value.replace('~', '/home/me'));
    assert.deepEqual(wire, {
      memoryBudgetMb: 64,
      maxChunks: 1000,
      databasePath: '/home/me/aurora.sqlite3',
      exclude: ['generated/**'],
      maxFileSizeKb: 256,
      indexOnStartup: false,
      contextTokenBudget: 3000,
      recordAccesses: false,
    });
    assert.equal(settings.traceServer, 'verbose');
  });

  it('sends databasePath as null when empty, so the server uses its default file', () => {
    assert.equal(toServerSettings(readSettings(source({ databasePath: '  ' }))).databasePath, null);
  });

  it('replaces values of the wrong type with the default', () => {
    const settings = readSettings(
      source({ memoryBudgetMb: 'lots', exclude: ['ok', 3], indexOnStartup: 'yes', 'trace.server': 'loud', args: 'x' }),
    );
    assert.equal(settings.memoryBudgetMb, 100);
    assert.deepEqual(settings.exclude, []);
    assert.equal(settings.indexOnStartup, true);
    assert.equal(settings.traceServer, 'off');
    assert.deepEqual(settings.args, []);
  });

  it('restarts only for the interpreter, server path, args and database path', () => {
    for (const section of ['aurora.interpreter', 'aurora.serverPath', 'aurora.args', 'aurora.databasePath']) {
      assert.equal(needsRestart((s) => s === section), true, section);
    }
    for (const section of ['aurora.memoryBudgetMb', 'aurora.exclude', 'aurora.trace.server', 'aurora.contextTokenBudget']) {
      assert.equal(needsRestart((s) => s === section), false, section);
    }
  });
});
