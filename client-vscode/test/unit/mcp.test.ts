import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { databaseFor, hasMcpApi, mcpInstallCommand, mcpServerSpecs, sdkProblem } from '../../src/common/mcp';
import { DEFAULT_SETTINGS, toServerSettings } from '../../src/common/settings';

const shop = { name: 'shop', realPath: '/srv/projects/shop', fsPath: '/home/me/shop' };
const tools = { name: 'tools', realPath: '/srv/tools', fsPath: '/srv/tools' };
const python = { command: '/venv/bin/python', args: ['-m', 'aurora_lsp', '--log-file', '/tmp/a.log'], source: 'aurora.interpreter' as const, python: '/venv/bin/python' };

describe("the MCP server's command", () => {
  it('runs `-m aurora_lsp mcp FOLDER` with the index settings, not the language server args', () => {
    const [spec] = mcpServerSpecs(python, [shop], toServerSettings(DEFAULT_SETTINGS));
    assert.deepEqual(spec, {
      label: 'Aurora',
      command: '/venv/bin/python',
      args: ['-m', 'aurora_lsp', 'mcp', '/home/me/shop', '--max-file-size-kb', '1024', '--memory-budget-mb', '100', '--max-chunks', '50000'],
      cwd: '/home/me/shop',
    });
  });

  it('runs an aurora-lsp executable as `aurora-lsp mcp FOLDER`', () => {
    const executable = { command: '/bin/aurora-lsp', args: [], source: 'aurora.serverPath' as const };
    const [spec] = mcpServerSpecs(executable, [shop], toServerSettings(DEFAULT_SETTINGS));
    assert.equal(spec?.command, '/bin/aurora-lsp');
    assert.deepEqual(spec?.args.slice(0, 2), ['mcp', '/home/me/shop']);
  });

  it('passes databasePath, excludes and a read-only memory on', () => {
    const settings = toServerSettings({ ...DEFAULT_SETTINGS, databasePath: '/data/aurora.sqlite3', exclude: ['gen/**', 'vendor'], recordAccesses: false });
    const [spec] = mcpServerSpecs(python, [shop], settings);
    const args = spec?.args ?? [];
    assert.deepEqual(args.slice(4, 6), ['--db', '/data/aurora.sqlite3']);
    assert.deepEqual(args.slice(6, 10), ['--exclude', 'gen/**', '--exclude', 'vendor']);
    assert.equal(args[args.length - 1], '--no-record');
  });

  it('gives each folder its own server and, as the language server does, its own database', () => {
    const settings = toServerSettings({ ...DEFAULT_SETTINGS, databasePath: '/data/aurora.sqlite3' });
    const specs = mcpServerSpecs(python, [shop, tools], settings);
    assert.deepEqual(specs.map((spec) => spec.label), ['Aurora: shop', 'Aurora: tools']);
    assert.equal(specs[0]?.args[specs[0].args.indexOf('--db') + 1], '/data/aurora.sqlite3');
    assert.equal(specs[1]?.args[specs[1].args.indexOf('--db') + 1], databaseFor('/data/aurora.sqlite3', tools, false));
  });

  it("names a further folder's database as config.database_path does", () => {
    // Python: Path('/data/aurora.sqlite3').with_name(f"aurora-{sha256('/srv/projects/shop')[:16]}.sqlite3")
    assert.equal(databaseFor('/data/aurora.sqlite3', shop, false), '/data/aurora-4e4ff75c909e32a1.sqlite3');
    assert.equal(databaseFor('/data/aurora.sqlite3', shop, true), '/data/aurora.sqlite3');
    assert.equal(databaseFor(null, shop, false), undefined);
  });
});

describe('the MCP SDK check', () => {
  it('accepts mcp 2.x only', () => {
    assert.equal(sdkProblem('2.3.0\n'), undefined);
    assert.match(sdkProblem('') ?? '', /not installed/);
    assert.match(sdkProblem('1.26.0') ?? '', /mcp 1\.26\.0 is installed; Aurora needs mcp 2\.x/);
  });

  it('says how to install the extra', () => {
    assert.equal(mcpInstallCommand('/venv/bin/python'), "/venv/bin/python -m pip install 'aurora-lsp[mcp]'");
    assert.equal(mcpInstallCommand('/my venv/python'), "\"/my venv/python\" -m pip install 'aurora-lsp[mcp]'");
  });
});

describe('an older VS Code', () => {
  it('without vscode.lm.registerMcpServerDefinitionProvider gets no MCP server, and no error', () => {
    assert.equal(hasMcpApi({}), false);
    assert.equal(hasMcpApi({ lm: { selectChatModels: () => [] } }), false);
    assert.equal(hasMcpApi({ lm: { registerMcpServerDefinitionProvider: () => undefined } }), false);
    assert.equal(hasMcpApi(undefined), false);
    assert.equal(hasMcpApi({ lm: { registerMcpServerDefinitionProvider: () => undefined }, McpStdioServerDefinition: class {} }), true);
  });
});
