/**
 * End to end in real VS Code: code-server (VS Code's workbench, from npm) with the packaged
 * .vsix installed, driven by Playwright in Debian's Chromium, on a copy of the `shop` fixture.
 *
 * Checks what a person would: the server starts, the Outline, "Go to Symbol in Workspace",
 * "Aurora: Show Context", the status item, the stats view, "Aurora: Search Memory",
 * "Aurora: Copy Context for AI", "Aurora: Restart Server", and Aurora's MCP server in "MCP: List
 * Servers", started from there. Screenshots of each step go to
 * the artifacts folder. Exit status 0 when every step passed.
 *
 * Environment: AURORA_PYTHON (a Python with aurora_lsp), and optionally AURORA_WORKSPACE,
 * AURORA_E2E_ARTIFACTS, AURORA_VSIX, CODE_SERVER, CHROMIUM, AURORA_CI_CACHE, AURORA_E2E_KEEP,
 * AURORA_E2E_ONLY (step names, comma-separated: run only those, when debugging a step).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import * as path from 'node:path';
import { type Frame, type Page, chromium } from 'playwright-core';

const CLIENT = path.resolve(__dirname, '../../..');
const REPO = path.resolve(CLIENT, '..');
const manifest = JSON.parse(readFileSync(path.join(CLIENT, 'package.json'), 'utf8')) as {
  name: string;
  publisher: string;
  version: string;
};
const EXTENSION_ID = `${manifest.publisher}.${manifest.name}`;
const CACHE = process.env.AURORA_CI_CACHE ?? path.join(homedir(), '.cache', 'aurora-ci');
const CODE_SERVER = process.env.CODE_SERVER ?? path.join(CACHE, 'code-server-4.139.1', 'bin', 'code-server');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const VSIX = process.env.AURORA_VSIX ?? path.join(CLIENT, `${manifest.name}-${manifest.version}.vsix`);
const ARTIFACTS = path.resolve(process.env.AURORA_E2E_ARTIFACTS ?? path.join(CLIENT, 'test-artifacts', 'vscode-e2e'));
const PYTHON = process.env.AURORA_PYTHON ?? path.join(REPO, '.venv', 'bin', 'python');

interface StepResult {
  name: string;
  ok: boolean;
  skipped?: boolean;
  seconds: number;
  detail: string;
  screenshot?: string;
}

class Failure extends Error {}

interface Row {
  level: number;
  name: string;
  description: string;
  label: string;
}

function check(condition: boolean, message: string): asserts condition {
  if (!condition) {
    throw new Failure(message);
  }
}

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 30000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) {
        return value;
      }
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Failure(`timed out after ${timeoutMs / 1000} s waiting for ${what}${last instanceof Error ? ` (${last.message})` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** The workbench, as a person drives it: F1 and command titles, quick open, the views. */
class Workbench {
  constructor(
    readonly page: Page,
    readonly userData: string,
  ) {}

  async quickInput(prefix: string): Promise<void> {
    await this.page.keyboard.press('F1');
    await this.page.waitForFunction(() => document.activeElement?.closest('.quick-input-widget') !== null);
    await this.page.keyboard.press('Control+A');
    await this.page.keyboard.type(prefix);
  }

  async command(title: string): Promise<void> {
    await this.quickInput(`>${title}`);
    const row = this.page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
    await row.waitFor({ timeout: 15000 });
    await row.click();
  }

  async openFile(name: string): Promise<void> {
    await this.quickInput(name);
    await this.page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first().waitFor({ timeout: 15000 });
    await this.page.keyboard.press('Enter');
    await until(`${name} in front`, async () => ((await this.page.title()).startsWith(name) ? true : undefined));
  }

  async goToLine(line: number, column: number): Promise<void> {
    await this.quickInput(`:${line}:${column}`);
    await this.page.keyboard.press('Enter');
    await until(`the cursor at line ${line}`, async () =>
      (await this.statusText('status.editor.selection'))?.includes(`Ln ${line},`) ? true : undefined,
    );
  }

  async statusText(id: string): Promise<string | undefined> {
    const item = this.page.locator(`[id="${id}"]`);
    return (await item.count()) > 0 ? ((await item.getAttribute('aria-label')) ?? undefined) : undefined;
  }

  /**
   * Change user settings as a person does: open settings.json in the editor, replace its
   * text and save (code-server does not notice the file changing behind its back).
   */
  async editUserSettings(file: string, changes: Record<string, unknown>): Promise<void> {
    const current = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    const text = JSON.stringify({ ...current, ...changes }, null, 2);
    await this.command('Preferences: Open User Settings (JSON)');
    const editor = this.page.locator('.monaco-editor', { hasText: '"aurora.interpreter"' }).last();
    await editor.waitFor({ timeout: 15000 });
    await this.page.evaluate((value) => navigator.clipboard.writeText(value), text);
    await editor.locator('.view-lines').click();
    await this.page.keyboard.press('Control+A');
    await this.page.keyboard.press('Control+V');
    await this.page.keyboard.press('Control+S');
    await until('settings.json to be saved', () => {
      const saved = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
      return Object.entries(changes).every(([key, value]) => JSON.stringify(saved[key]) === JSON.stringify(value)) ? true : undefined;
    });
    // VS Code 1.139 opens settings.json in a modal editor; Escape closes it.
    // (A first Escape may only close the paste widget.)
    await until('the settings editor to close', async () => {
      await this.page.keyboard.press('Escape');
      await this.page.waitForTimeout(300);
      return (await editor.isVisible()) ? undefined : true;
    });
  }

  /** Drag the sash between the side bar and the editors until the side bar is `width` wide. */
  async widenSideBar(width: number): Promise<void> {
    const bar = await this.page.locator('.part.sidebar').boundingBox();
    if (bar === null) {
      return;
    }
    const edge = bar.x + bar.width;
    const y = bar.y + bar.height / 2;
    await this.page.mouse.move(edge, y);
    await this.page.mouse.down();
    await this.page.mouse.move(bar.x + width, y, { steps: 8 });
    await this.page.mouse.up();
  }

  /** Rows of the tree in the view pane whose header says `pane`: level, name, description, aria label. */
  async paneRows(pane: string): Promise<Row[]> {
    return this.page.$$eval(
      '.pane-body .monaco-list-row',
      (rows, header) =>
        rows
          .filter((row) => (row.closest('.pane')?.querySelector('.pane-header')?.getAttribute('aria-label') ?? '').includes(header))
          .map((row) => ({
            level: Number(row.getAttribute('aria-level')),
            name: row.querySelector<HTMLElement>('.label-name')?.innerText.trim() ?? '',
            description: row.querySelector<HTMLElement>('.label-description')?.innerText.trim() ?? '',
            label: row.getAttribute('aria-label') ?? '',
          })),
      pane,
    );
  }

  /** Every line of the extension's LogOutputChannel, from all extension hosts of this run. */
  auroraLog(): string {
    const logs = path.join(this.userData, 'logs');
    if (!existsSync(logs)) {
      return '';
    }
    const parts: string[] = [];
    for (const session of readdirSync(logs).sort()) {
      const sessionDir = path.join(logs, session);
      const hosts = existsSync(sessionDir) ? readdirSync(sessionDir).filter((name) => name.startsWith('exthost')).sort() : [];
      for (const host of hosts) {
        const file = path.join(sessionDir, host, EXTENSION_ID, 'Aurora.log');
        if (existsSync(file)) {
          parts.push(readFileSync(file, 'utf8'));
        }
      }
    }
    return parts.join('');
  }

  count(pattern: RegExp): number {
    return (this.auroraLog().match(new RegExp(pattern.source, 'g')) ?? []).length;
  }

  async webviewFrame(selector: string): Promise<Frame | undefined> {
    for (const frame of this.page.frames()) {
      try {
        if ((await frame.locator(selector).count()) > 0) {
          return frame;
        }
      } catch {
        // frames come and go while webviews load
      }
    }
    return undefined;
  }
}

async function main(): Promise<number> {
  const started = Date.now();
  for (const [what, file] of [
    ['code-server', CODE_SERVER],
    ['Chromium', CHROMIUM],
    ['the packaged extension', VSIX],
    ['the Python with aurora_lsp', PYTHON],
  ]) {
    if (!existsSync(file)) {
      console.error(`vscode-e2e: ${what} is missing at ${file} (run scripts/setup-vscode-test.sh and npm run package)`);
      return 2;
    }
  }
  rmSync(ARTIFACTS, { recursive: true, force: true });
  mkdirSync(ARTIFACTS, { recursive: true });
  const temp = mkdtempSync(path.join(tmpdir(), 'aurora-vscode-e2e-'));
  const userData = path.join(temp, 'user-data');
  const extensions = path.join(temp, 'extensions');
  const xdg = path.join(temp, 'xdg');
  for (const dir of [path.join(userData, 'User'), extensions, path.join(xdg, 'config'), path.join(xdg, 'data')]) {
    mkdirSync(dir, { recursive: true });
  }
  let workspace = process.env.AURORA_WORKSPACE;
  if (!workspace) {
    workspace = path.join(temp, 'shop');
    cpSync(path.join(REPO, 'tests', 'fixtures', 'workspaces', 'shop'), workspace, { recursive: true });
  }
  const emptyConfig = path.join(temp, 'code-server.yaml');
  writeFileSync(emptyConfig, '');
  writeFileSync(
    path.join(userData, 'User', 'settings.json'),
    JSON.stringify(
      {
        'aurora.interpreter': PYTHON,
        'aurora.databasePath': path.join(temp, 'aurora.sqlite3'),
        'workbench.startupEditor': 'none',
        'workbench.secondarySideBar.defaultVisibility': 'hidden',
        'workbench.tips.enabled': false,
        'workbench.enableExperiments': false,
        'security.workspace.trust.enabled': false,
        'telemetry.telemetryLevel': 'off',
        'extensions.ignoreRecommendations': true,
        'extensions.autoUpdate': false,
        'update.mode': 'none',
        'chat.disableAIFeatures': true,
        'outline.collapseItems': 'alwaysExpand',
        'git.enabled': false,
        'window.commandCenter': false,
      },
      null,
      2,
    ),
  );
  const settingsFile = path.join(userData, 'User', 'settings.json');
  const env = {
    ...process.env,
    XDG_CONFIG_HOME: path.join(xdg, 'config'),
    XDG_DATA_HOME: path.join(xdg, 'data'),
  };
  const isolation = ['--config', emptyConfig, '--user-data-dir', userData, '--extensions-dir', extensions];

  const results: StepResult[] = [];
  let codeServer: ChildProcess | undefined;
  let page: Page | undefined;
  let shots = 0;
  const screenshot = async (name: string): Promise<string | undefined> => {
    if (page === undefined) {
      return undefined;
    }
    shots += 1;
    const file = path.join(ARTIFACTS, `${String(shots).padStart(2, '0')}-${name}.png`);
    await page.screenshot({ path: file }).catch(() => undefined);
    return file;
  };
  const step = async (name: string, body: () => Promise<string>): Promise<boolean> => {
    const begin = Date.now();
    try {
      const detail = await body();
      const shot = await screenshot(name);
      results.push({ name, ok: true, seconds: (Date.now() - begin) / 1000, detail, screenshot: shot });
      console.log(`vscode-e2e: ok   ${name} (${((Date.now() - begin) / 1000).toFixed(1)} s): ${detail}`);
      return true;
    } catch (error) {
      const shot = await screenshot(`${name}-FAILED`);
      const detail = error instanceof Error ? error.message : String(error);
      results.push({ name, ok: false, seconds: (Date.now() - begin) / 1000, detail, screenshot: shot });
      console.log(`vscode-e2e: FAIL ${name}: ${detail}`);
      return false;
    }
  };

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-dev-shm-usage',
    ],
  });
  try {
    const steps: [string, (wb: Workbench) => Promise<string>][] = [];
    let wb: Workbench | undefined;
    const ok = await step('install-vsix', () => {
      const output = execFileSync(CODE_SERVER, [...isolation, '--install-extension', VSIX, '--force'], {
        env,
        encoding: 'utf8',
        timeout: 120000,
      });
      check(/successfully installed/.test(output), `code-server did not install ${VSIX}: ${output}`);
      return Promise.resolve(`${path.basename(VSIX)} installed into ${extensions}`);
    });
    if (ok) {
      await step('open-workspace', async () => {
        const port = await freePort();
        const log = openSync(path.join(ARTIFACTS, 'code-server.log'), 'w');
        codeServer = spawn(
          CODE_SERVER,
          [
            ...isolation,
            '--bind-addr',
            `127.0.0.1:${port}`,
            '--auth',
            'none',
            '--disable-telemetry',
            '--disable-update-check',
            '--disable-workspace-trust',
          ],
          { env, stdio: ['ignore', log, log], detached: true },
        );
        await until('code-server to answer /healthz', async () => {
          const answer = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
          return answer?.ok ? true : undefined;
        });
        const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
        await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: `http://127.0.0.1:${port}` });
        // Remember every notification shown, however briefly (indexing the fixture takes 0.1 s).
        await context.addInitScript(() => {
          const seen: string[] = [];
          (window as unknown as { auroraNotifications: string[] }).auroraNotifications = seen;
          const observer = new MutationObserver(() => {
            for (const message of document.querySelectorAll('.notification-list-item-message')) {
              const text = message.textContent ?? '';
              if (!seen.includes(text)) {
                seen.push(text);
              }
            }
          });
          document.addEventListener('DOMContentLoaded', () => observer.observe(document.body, { childList: true, subtree: true }));
        });
        page = await context.newPage();
        await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`);
        await page.waitForSelector('.monaco-workbench', { timeout: 60000 });
        wb = new Workbench(page, userData);
        await until('the Explorer', async () => ((await wb?.paneRows('Explorer Section'))?.length ? true : undefined), 60000);
        if (await page.locator('.part.auxiliarybar').isVisible()) {
          await wb.command('View: Hide Secondary Side Bar');
        }
        return `code-server on port ${port}, ${workspace} open`;
      });
    }
    steps.push(
      [
        'server-starts',
        async (wb) => {
          await until('"Aurora server started" in the Aurora log', () => (wb.count(/Aurora server started/) >= 1 ? true : undefined), 90000);
          const indexed = await until('indexing to end', () => /Aurora: indexing: (.*)/.exec(wb.auroraLog())?.[1], 60000);
          const launch = /Starting the server: (.*)/.exec(wb.auroraLog())?.[1] ?? '?';
          const notification = await until('the "Aurora: indexing" progress notification', async () => {
            const seen = await wb.page.evaluate(() => (window as unknown as { auroraNotifications: string[] }).auroraNotifications);
            return seen.find((text) => text.startsWith('Aurora: indexing'));
          }, 15000);
          return `log shows "Starting the server: ${launch}", "Aurora server started", indexing: ${indexed}; notification "${notification}"`;
        },
      ],
      [
        'outline',
        async (wb) => {
          await wb.openFile('cart.py');
          await wb.command('Explorer: Focus on Outline View');
          // Fold the folder tree so the whole outline fits (its list only renders visible rows).
          const folders = wb.page.locator('.pane-header[aria-label^="Explorer Section"]').first();
          if ((await folders.getAttribute('aria-expanded')) === 'true') {
            await folders.click();
          }
          const expected = [
            '1 CartLine',
            '2 __init__',
            '2 subtotal_cents',
            '1 Cart',
            '2 __init__',
            '2 add',
            '2 total_cents',
            '3 line_total',
          ];
          const rows = await until(
            'the Outline to show Cart, CartLine and their methods',
            async () => {
              const names = (await wb.paneRows('Outline')).map((row) => `${row.level} ${row.name}`);
              return JSON.stringify(names) === JSON.stringify(expected) ? names : undefined;
            },
            30000,
          ).catch(async (error: unknown) => {
            throw new Failure(`${String(error)}; rows: ${JSON.stringify(await wb.paneRows('Outline'))}`);
          });
          return `Outline of cart.py (level name): ${rows.join(', ')}`;
        },
      ],
      [
        'workspace-symbol',
        async (wb) => {
          const found: string[] = [];
          for (const [query, file] of [
            ['validate', 'base.py'],
            ['total_price', 'pricing.py'],
          ] as const) {
            await wb.quickInput(`#${query}`);
            const row = wb.page.locator('.quick-input-list .monaco-list-row', { hasText: file }).filter({ hasText: query }).first();
            await row.waitFor({ timeout: 15000 }).catch(async () => {
              const rows = await wb.page.locator('.quick-input-list .monaco-list-row').allInnerTexts();
              throw new Failure(`"Go to Symbol in Workspace" #${query} found no ${query} in ${file}: ${JSON.stringify(rows)}`);
            });
            const name = await row.locator('.label-name').first().innerText();
            const where = await row.locator('.label-description').first().innerText();
            found.push(`${name.trim()} ${where.trim()}`);
            await screenshot(`workspace-symbol-${query}`);
            await wb.page.keyboard.press('Enter');
            await until(`${file} to open`, async () => ((await wb.page.title()).startsWith(file) ? true : undefined));
          }
          return `found ${found.map((f) => `"${f}"`).join(' and ')}; each opened its file`;
        },
      ],
      [
        'show-context',
        async (wb) => {
          await wb.openFile('cart.py');
          await wb.goToLine(34, 20);
          const crumbs = await until('breadcrumbs to show Cart › total_cents', async () => {
            const text = (await wb.page.locator('.breadcrumbs-control').first().innerText()).replace(/\s+/g, ' ');
            return text.includes('Cart') && text.includes('total_cents') ? text : undefined;
          });
          // A wider side bar, so the reasons show in the screenshot.
          await wb.widenSideBar(560);
          await wb.command('Aurora: Show Context');
          const rows = await until('the Context view to list ranked chunks', async () => {
            const found = (await wb.paneRows('Context')).filter((row) => row.level === 1);
            const ranked = found.every((row, index) => row.name.startsWith(`${index + 1}. `) && /^−?\d+\.\d\d · \S/.test(row.description));
            return found.length >= 5 && ranked ? found : undefined;
          });
          check(rows[0]?.name === '1. Cart.total_cents', `the first chunk is not Cart.total_cents: ${JSON.stringify(rows[0])}`);
          await screenshot('show-context');
          // The README's picture: the Context view beside the code it ranks.
          await wb.page.screenshot({ path: path.join(ARTIFACTS, 'readme-context.png'), clip: { x: 0, y: 0, width: 1180, height: 500 } });
          // Each row opens its code at its range.
          await wb.page
            .locator('.pane-body .monaco-list-row')
            .filter({ has: wb.page.locator('.label-name', { hasText: /^\d+\. total_price$/ }) })
            .first()
            .click();
          const selection = await until('total_price to open at its range', async () => {
            const title = await wb.page.title();
            const where = await wb.statusText('status.editor.selection');
            // total_price spans lines 17–20: the selection ends on line 20.
            return title.startsWith('pricing.py') && /Ln 20, .*selected/.test(where ?? '') ? where : undefined;
          });
          return `breadcrumbs "${crumbs}"; ${rows.length} ranked chunks, first: ${rows.slice(0, 3).map((r) => `"${r.name} ${r.description}"`).join(', ')}; clicking total_price opened pricing.py at ${selection}`;
        },
      ],
      [
        'status-item',
        async (wb) => {
          const label = await until('the language status to show chunks', async () => {
            const text = await wb.statusText('status.languageStatus');
            return text?.includes('Aurora: 21 chunks') ? text : undefined;
          });
          await wb.page.locator('[id="status.languageStatus"]').hover();
          const hover = await until('the language status hover', async () => {
            const text = await wb.page.locator('.monaco-hover').first().innerText();
            return text.includes('21 chunks') && text.includes('/ 100 MB') ? text.replace(/\s+/g, ' ') : undefined;
          });
          return `status: "${label}"; hover: "${hover}"`;
        },
      ],
      [
        'stats-view',
        async (wb) => {
          await wb.page.locator('.monaco-hover a', { hasText: 'Memory stats' }).first().click();
          const frame = await until('the stats webview to draw its SVGs', async () => {
            const found = await wb.webviewFrame('svg[aria-label="Activation of the top chunks"]');
            return found && (await found.locator('svg[aria-label="Resident memory against the budget"]').count()) > 0 ? found : undefined;
          });
          const bars = await frame.locator('svg[aria-label="Activation of the top chunks"] line.total').count();
          const memory = (await frame.locator('svg[aria-label="Resident memory against the budget"] text.value').first().textContent()) ?? '';
          check(bars >= 5, `the activation chart has ${bars} rows`);
          await wb.page.waitForTimeout(500);
          return `stats view: memory "${memory}", activation of ${bars} top chunks`;
        },
      ],
      [
        'search-memory',
        async (wb) => {
          await wb.command('View: Close All Editors');
          await wb.command('Aurora: Search Memory');
          await wb.page.locator('.quick-input-widget .quick-input-title', { hasText: 'Aurora: Search Memory' }).waitFor({ timeout: 15000 });
          await wb.page.waitForFunction(() => document.activeElement?.closest('.quick-input-widget') !== null);
          await wb.page.keyboard.type('discount');
          const first = wb.page.locator('.quick-input-list .monaco-list-row', { hasText: 'apply_discount' }).first();
          await first.waitFor({ timeout: 15000 });
          const rows = (await wb.page.locator('.quick-input-list .monaco-list-row').allInnerTexts()).map((r) => r.replace(/\s+/g, ' '));
          await screenshot('search-memory');
          await wb.page.keyboard.press('Enter');
          await until('pricing.py to open', async () => ((await wb.page.title()).startsWith('pricing.py') ? true : undefined));
          return `"discount" → ${rows.length} chunks, first "${rows[0]}"; Enter opened pricing.py`;
        },
      ],
      [
        'copy-context',
        async (wb) => {
          await wb.openFile('cart.py');
          await wb.goToLine(34, 20);
          await wb.command('Aurora: Copy Context for AI');
          const text = await until('the context on the clipboard', async () => {
            const clip = await wb.page.evaluate(() => navigator.clipboard.readText());
            return clip.startsWith('# Aurora context') ? clip : undefined;
          });
          check(/^# Aurora context for shop\/models\/cart\.py::Cart\.total_cents \(/.test(text), `unexpected heading: ${text.split('\n')[0]}`);
          check(text.includes('\n## shop/models/cart.py::Cart.total_cents (full, lines 30–34)\n```python\ndef total_cents'), 'no full text of Cart.total_cents');
          writeFileSync(path.join(ARTIFACTS, 'copied-context.md'), text);
          return `clipboard: "${text.split('\n')[0]}", ${text.split('\n## ').length - 1} items (copied-context.md)`;
        },
      ],
      [
        'settings',
        async (wb) => {
          const starts = wb.count(/Aurora server started/);
          await wb.editUserSettings(settingsFile, { 'aurora.memoryBudgetMb': 50 });
          await wb.openFile('cart.py');
          const label = await until('the status item to show the new budget', async () => {
            const text = await wb.statusText('status.languageStatus');
            return text?.includes('/ 50 MB') ? text : undefined;
          });
          check(wb.count(/Aurora server started/) === starts, 'a new memory budget restarted the server');
          await wb.editUserSettings(settingsFile, { 'aurora.databasePath': path.join(temp, 'moved.sqlite3') });
          await until('a restart for the new databasePath', () => (wb.count(/Aurora server started/) > starts ? true : undefined), 60000);
          check(/Restarting the server: a setting that needs a new server process changed/.test(wb.auroraLog()), 'no restart line');
          await until('the new database file', () => (existsSync(path.join(temp, 'moved.sqlite3')) ? true : undefined));
          return `memoryBudgetMb 50 reached the server without a restart ("${label}"); databasePath restarted it`;
        },
      ],
      [
        'reindex',
        async (wb) => {
          await wb.command('Aurora: Reindex Workspace');
          const message = await until('the reindex notification', async () => {
            const seen = await wb.page.evaluate(() => (window as unknown as { auroraNotifications: string[] }).auroraNotifications);
            return seen.find((text) => text.startsWith('Aurora: reindexed'));
          });
          check(/reindexed 6 files, 21 chunks in/.test(message), `unexpected: ${message}`);
          return `"${message}"`;
        },
      ],
      [
        'missing-server',
        async (wb) => {
          // A real Python that cannot import aurora_lsp: the same interpreter without site-packages.
          const bare = path.join(temp, 'python-without-aurora');
          writeFileSync(bare, `#!/bin/sh\nexec '${PYTHON}' -S "$@"\n`, { mode: 0o755 });
          await wb.editUserSettings(settingsFile, { 'aurora.interpreter': bare });
          const message = await until('the error notification with the fix', async () => {
            const seen = await wb.page.evaluate(() => (window as unknown as { auroraNotifications: string[] }).auroraNotifications);
            return seen.find((text) => text.includes('aurora-lsp is not installed for'));
          });
          check(message.includes(`${bare} -m pip install aurora-lsp`), `no install command in: ${message}`);
          check(message.includes('aurora.interpreter') && message.includes('aurora.serverPath'), `no settings named in: ${message}`);
          await wb.openFile('cart.py');
          const status = await until('the status item to say the server is not running', async () => {
            const text = await wb.statusText('status.languageStatus');
            return text?.includes('Aurora: not running') ? text : undefined;
          });
          await screenshot('missing-server');
          const starts = wb.count(/Aurora server started/);
          await wb.editUserSettings(settingsFile, { 'aurora.interpreter': PYTHON });
          await until('the server to start again', () => (wb.count(/Aurora server started/) > starts ? true : undefined), 60000);
          return `"${message}"; status "${status}"; back to ${PYTHON}`;
        },
      ],
      [
        'restart',
        async (wb) => {
          const before = wb.count(/Aurora server started/);
          await wb.command('Aurora: Restart Server');
          await until('a second "Aurora server started"', () => (wb.count(/Aurora server started/) > before ? true : undefined), 60000);
          check(wb.count(/Aurora server stopped/) >= 1, 'the log does not show the old server stopping');
          const label = await until('the status item to show chunks again', async () => {
            const text = await wb.statusText('status.languageStatus');
            return text?.includes('Aurora: 21 chunks') ? text : undefined;
          });
          return `log: "Aurora server stopped", then start ${wb.count(/Aurora server started/)}; status "${label}"`;
        },
      ],
      [
        'mcp-server',
        async (wb) => {
          // The MCP server list belongs to VS Code's AI features, off for the steps above.
          await wb.editUserSettings(settingsFile, { 'chat.disableAIFeatures': false });
          const rows = async (): Promise<string[]> =>
            (await wb.page.locator('.quick-input-list .monaco-list-row').allInnerTexts()).map((row) => row.replace(/\s+/g, ' ').trim());
          const auroraRow = wb.page.locator('.quick-input-list .monaco-list-row', { hasText: /^(?!.*Add Server).*Aurora/ }).first();
          await wb.command('MCP: List Servers');
          const listed = await until('Aurora in "MCP: List Servers"', async () => (await rows()).find((row) => row.includes('Aurora') && !row.includes('Add Server')), 30000);
          await screenshot('mcp-list-servers');
          await auroraRow.click();
          const start = wb.page.locator('.quick-input-list .monaco-list-row', { hasText: 'Start Server' }).first();
          await start.waitFor({ timeout: 15000 }).catch(async () => {
            throw new Failure(`no "Start Server" among the server's options: ${JSON.stringify(await rows())}`);
          });
          const options = await rows();
          await start.click();
          const running = await until(
            'Aurora to be running in "MCP: List Servers"',
            async () => {
              await wb.command('MCP: List Servers');
              const found = await until('the list', async () => (await rows()).find((row) => row.includes('Aurora') && !row.includes('Add Server')), 10000);
              if (/Running/.test(found)) {
                return found;
              }
              await wb.page.keyboard.press('Escape');
              await wb.page.waitForTimeout(1000);
              return undefined;
            },
            90000,
          );
          await wb.page.keyboard.press('Escape');
          // VS Code's own log of the server ("MCP: Aurora" in the Output panel) says it listed the tools.
          const mcpLog = async (): Promise<string> =>
            (await wb.page.locator('.part.panel .view-lines').allInnerTexts()).join('\n').replace(/\s+/g, ' ');
          const tools = await until('the MCP log to show the tools', async () => /Discovered \d+ tools/.exec(await mcpLog())?.[0], 60000).catch(
            async (error: unknown) => {
              throw new Failure(`${String(error)}; the Output panel: ${(await mcpLog()).slice(-800)}`);
            },
          );
          check(tools === 'Discovered 4 tools', `expected Aurora's 4 tools: ${tools}`);
          await wb.command('MCP: List Servers');
          await until('the list', async () => (await rows()).find((row) => row.includes('Running')), 10000);
          await screenshot('mcp-server-running');
          await wb.page.keyboard.press('Escape');
          const command = /Starting the MCP server Aurora: (.*)/.exec(wb.auroraLog())?.[1] ?? '?';
          check(command.includes(' -m aurora_lsp mcp ') && command.includes(workspace), `unexpected MCP server command: ${command}`);
          return `listed "${listed}"; options ${JSON.stringify(options)}; "${running}", ${tools}; command: ${command}`;
        },
      ],
    );
    const only = process.env.AURORA_E2E_ONLY?.split(',');
    for (const [name, body] of steps) {
      if (only !== undefined && !only.includes(name)) {
        continue;
      }
      const bench = wb;
      if (bench === undefined || results.some((result) => !result.ok)) {
        results.push({ name, ok: false, skipped: true, seconds: 0, detail: 'not run: an earlier step failed' });
        console.log(`vscode-e2e: skip ${name}: an earlier step failed`);
        continue;
      }
      await step(name, () => body(bench));
    }
    if (wb) {
      writeFileSync(path.join(ARTIFACTS, 'Aurora.log'), wb.auroraLog());
    }
  } finally {
    await browser.close().catch(() => undefined);
    if (codeServer?.pid !== undefined) {
      try {
        process.kill(-codeServer.pid, 'SIGTERM'); // its extension host and the language server with it
      } catch {
        // already gone
      }
    }
    if (!process.env.AURORA_E2E_KEEP) {
      rmSync(temp, { recursive: true, force: true, maxRetries: 3 });
    }
  }
  const failed = results.filter((result) => !result.ok && !result.skipped);
  const skipped = results.filter((result) => result.skipped);
  const seconds = (Date.now() - started) / 1000;
  writeFileSync(path.join(ARTIFACTS, 'result.json'), JSON.stringify({ seconds, steps: results }, null, 2));
  const passed = results.length - failed.length - skipped.length;
  console.log(`vscode-e2e: ${passed} passed, ${failed.length} failed${skipped.length ? `, ${skipped.length} skipped` : ''}`);
  console.log(`vscode-e2e: ${seconds.toFixed(1)} s; screenshots and the Aurora log in ${ARTIFACTS}`);
  return failed.length === 0 && skipped.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('vscode-e2e: crashed:', error);
    process.exit(1);
  },
);
