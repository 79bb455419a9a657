import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { checkLaunch, chooseLaunch, expandPath, installCommand } from '../../src/common/python';

describe('choosing the server command', () => {
  const python = '/opt/py/bin/python';

  it('prefers aurora.serverPath over everything', () => {
    const launch = chooseLaunch({ serverPath: '/bin/aurora-lsp', interpreter: python, args: ['-v'], pythonExtensionInterpreter: '/x' });
    assert.deepEqual(launch, { command: '/bin/aurora-lsp', args: ['-v'], source: 'aurora.serverPath' });
  });

  it('then aurora.interpreter, run as -m aurora_lsp', () => {
    const launch = chooseLaunch({ serverPath: ' ', interpreter: python, args: [], pythonExtensionInterpreter: '/x' });
    assert.deepEqual(launch, { command: python, args: ['-m', 'aurora_lsp'], source: 'aurora.interpreter', python });
  });

  it("then the Python extension's interpreter", () => {
    const launch = chooseLaunch({ serverPath: '', interpreter: '', args: ['--log-file', 'f'], pythonExtensionInterpreter: '/x/python' });
    assert.deepEqual(launch, {
      command: '/x/python',
      args: ['-m', 'aurora_lsp', '--log-file', 'f'],
      source: 'Python extension',
      python: '/x/python',
    });
  });

  it('then python3', () => {
    const launch = chooseLaunch({ serverPath: '', interpreter: '', args: [] });
    assert.deepEqual(launch, { command: 'python3', args: ['-m', 'aurora_lsp'], source: 'python3', python: 'python3' });
  });

  it('expands ~, ${userHome} and ${workspaceFolder}', () => {
    const context = { home: '/home/me', workspaceFolder: '/work/shop' };
    assert.equal(expandPath('~/venv/bin/python', context), '/home/me/venv/bin/python');
    assert.equal(expandPath('${workspaceFolder}/.venv/bin/python', context), '/work/shop/.venv/bin/python');
    assert.equal(expandPath('${userHome}/db.sqlite3', context), '/home/me/db.sqlite3');
    assert.equal(expandPath('/abs/~/x', context), '/abs/~/x');
  });

  it('quotes an interpreter path with spaces in the install command', () => {
    assert.equal(installCommand('/usr/bin/python3'), '/usr/bin/python3 -m pip install aurora-lsp');
    assert.equal(installCommand('/My Envs/python'), '"/My Envs/python" -m pip install aurora-lsp');
  });
});

describe('checking the chosen interpreter before starting', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aurora-python-'));
  const fake = (name: string, script: string): string => {
    const file = join(dir, name);
    writeFileSync(file, `#!/bin/sh\n${script}\n`);
    chmodSync(file, 0o755);
    return file;
  };

  it('passes when the interpreter imports aurora_lsp', async () => {
    const python = fake('good-python', 'printf 0.1.0');
    assert.deepEqual(await checkLaunch(chooseLaunch({ serverPath: '', interpreter: python, args: [] })), { ok: true, version: '0.1.0' });
  });

  it('names the fix when aurora_lsp is missing', async () => {
    const python = fake('bare-python', `echo "ModuleNotFoundError: No module named 'aurora_lsp'" >&2; exit 1`);
    const check = await checkLaunch(chooseLaunch({ serverPath: '', interpreter: python, args: [] }));
    assert.equal(check.ok, false);
    if (!check.ok) {
      assert.equal(check.reason, `aurora-lsp is not installed for ${python}`);
      assert.match(check.fix, new RegExp(`${python} -m pip install aurora-lsp`));
      assert.match(check.fix, /aurora\.interpreter/);
      assert.match(check.fix, /aurora\.serverPath/);
    }
  });

  it('says so when the interpreter does not exist', async () => {
    const check = await checkLaunch(chooseLaunch({ serverPath: '', interpreter: join(dir, 'nope'), args: [] }));
    assert.equal(check.ok, false);
    if (!check.ok) {
      assert.match(check.reason, /was not found/);
    }
  });

  it('checks that aurora.serverPath is an executable file', async () => {
    const notExecutable = join(dir, 'plain');
    writeFileSync(notExecutable, '');
    const bad = await checkLaunch(chooseLaunch({ serverPath: notExecutable, interpreter: '', args: [] }));
    assert.equal(bad.ok, false);
    const good = await checkLaunch(chooseLaunch({ serverPath: fake('aurora-lsp', 'exit 0'), interpreter: '', args: [] }));
    assert.equal(good.ok, true);
  });
});
