/**
 * How VS Code starts Aurora's MCP server (`aurora-lsp mcp FOLDER`) for agent mode: one server
 * per workspace folder, with the interpreter and the index settings the language server uses,
 * so both share one database. No `vscode` import: the mapping is tested with node's test runner.
 */
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { installCommand, type ServerLaunch } from './python';
import type { ServerSettings } from './settings';

/** The id in package.json's `contributes.mcpServerDefinitionProviders`. */
export const MCP_PROVIDER_ID = 'aurora.mcpServers';

/** The one command that installs the MCP server's extra (the MCP SDK) into an interpreter. */
export function mcpInstallCommand(python: string): string {
  return installCommand(python).replace(/aurora-lsp$/, "'aurora-lsp[mcp]'");
}

/** Whether a `vscode` namespace has the MCP server definition API (VS Code 1.101 and later). */
export function hasMcpApi(api: unknown): boolean {
  const namespace = api as { lm?: { registerMcpServerDefinitionProvider?: unknown }; McpStdioServerDefinition?: unknown } | undefined;
  return (
    typeof namespace?.lm?.registerMcpServerDefinitionProvider === 'function' && typeof namespace.McpStdioServerDefinition === 'function'
  );
}

/** What Python runs to tell which MCP SDK it has (its version, or nothing), without importing it. */
export const MCP_CHECK_SCRIPT = [
  'import importlib.metadata as metadata',
  'try:',
  "    print(metadata.version('mcp'))",
  'except metadata.PackageNotFoundError:',
  "    print('')",
].join('\n');

/** Why an installed MCP SDK version cannot serve Aurora, or undefined when it can (2.x). */
export function sdkProblem(version: string): string | undefined {
  const found = version.trim();
  if (found === '') {
    return 'the MCP SDK (the mcp package) is not installed';
  }
  return /^2\./.test(found) ? undefined : `mcp ${found} is installed; Aurora needs mcp 2.x`;
}

export interface McpFolder {
  name: string;
  /** The folder's path with symlinks resolved (the server keys further databases by it). */
  realPath: string;
  /** The folder's path as VS Code has it. */
  fsPath: string;
}

export interface McpServerSpec {
  label: string;
  command: string;
  args: string[];
  cwd: string;
}

/**
 * The database of a folder, as the server's `config.database_path` names it: with
 * `databasePath` set the first folder uses it, each further folder a sibling file named
 * after the first 16 hex digits of the sha256 of its resolved path; unset, the server's default.
 */
export function databaseFor(databasePath: string | null, folder: McpFolder, primary: boolean): string | undefined {
  if (databasePath === null) {
    return undefined;
  }
  if (primary) {
    return databasePath;
  }
  const digest = createHash('sha256').update(folder.realPath, 'utf8').digest('hex').slice(0, 16);
  const parsed = path.parse(databasePath);
  return path.join(parsed.dir, `${parsed.name}-${digest}${parsed.ext}`);
}

/** One MCP server per folder: `<launch> mcp <folder>` and the index settings as flags. */
export function mcpServerSpecs(launch: ServerLaunch, folders: readonly McpFolder[], settings: ServerSettings): McpServerSpec[] {
  // The launch's own extra arguments (aurora.args) are the language server's; they are left out.
  const base = launch.python === undefined ? [] : ['-m', 'aurora_lsp'];
  return folders.map((folder, index) => {
    const args = [...base, 'mcp', folder.fsPath];
    const database = databaseFor(settings.databasePath, folder, index === 0);
    if (database !== undefined) {
      args.push('--db', database);
    }
    for (const glob of settings.exclude) {
      args.push('--exclude', glob);
    }
    args.push('--max-file-size-kb', String(settings.maxFileSizeKb));
    args.push('--memory-budget-mb', String(settings.memoryBudgetMb), '--max-chunks', String(settings.maxChunks));
    if (!settings.recordAccesses) {
      args.push('--no-record');
    }
    return {
      label: folders.length > 1 ? `Aurora: ${folder.name}` : 'Aurora',
      command: launch.command,
      args,
      cwd: folder.fsPath,
    };
  });
}
