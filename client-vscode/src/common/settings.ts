/**
 * The extension's settings (`aurora.*`) and how they map to the server's camelCase settings.
 * No `vscode` import: the mapping is tested with node's test runner.
 */

export type TraceLevel = 'off' | 'messages' | 'verbose';

/** Everything under `aurora.*`, with defaults filled in and wrong types replaced by them. */
export interface AuroraSettings {
  interpreter: string;
  serverPath: string;
  args: string[];
  memoryBudgetMb: number;
  maxChunks: number;
  databasePath: string;
  exclude: string[];
  maxFileSizeKb: number;
  indexOnStartup: boolean;
  contextTokenBudget: number;
  recordAccesses: boolean;
  traceServer: TraceLevel;
}

/** What the server reads from `initializationOptions` and `workspace/configuration` section `aurora`. */
export interface ServerSettings {
  memoryBudgetMb: number;
  maxChunks: number;
  databasePath: string | null;
  exclude: string[];
  maxFileSizeKb: number;
  indexOnStartup: boolean;
  contextTokenBudget: number;
  recordAccesses: boolean;
}

export const DEFAULT_SETTINGS: Readonly<AuroraSettings> = Object.freeze({
  interpreter: '',
  serverPath: '',
  args: [],
  memoryBudgetMb: 100,
  maxChunks: 50000,
  databasePath: '',
  exclude: [],
  maxFileSizeKb: 1024,
  indexOnStartup: true,
  contextTokenBudget: 2000,
  recordAccesses: true,
  traceServer: 'off',
});

/** The part of `vscode.WorkspaceConfiguration` that reading settings needs. */
export interface ConfigSource {
  get(key: string): unknown;
}

/** Settings that the running server cannot take on the fly: changing one restarts it. */
export const RESTART_SETTINGS: readonly string[] = [
  'aurora.interpreter',
  'aurora.serverPath',
  'aurora.args',
  'aurora.databasePath',
];

/** Read `aurora.*` from a configuration section (`workspace.getConfiguration('aurora')`). */
export function readSettings(config: ConfigSource): AuroraSettings {
  const d = DEFAULT_SETTINGS;
  return {
    interpreter: text(config.get('interpreter'), d.interpreter),
    serverPath: text(config.get('serverPath'), d.serverPath),
    args: strings(config.get('args'), d.args),
    memoryBudgetMb: number(config.get('memoryBudgetMb'), d.memoryBudgetMb),
    maxChunks: number(config.get('maxChunks'), d.maxChunks),
    databasePath: text(config.get('databasePath'), d.databasePath),
    exclude: strings(config.get('exclude'), d.exclude),
    maxFileSizeKb: number(config.get('maxFileSizeKb'), d.maxFileSizeKb),
    indexOnStartup: flag(config.get('indexOnStartup'), d.indexOnStartup),
    contextTokenBudget: number(config.get('contextTokenBudget'), d.contextTokenBudget),
    recordAccesses: flag(config.get('recordAccesses'), d.recordAccesses),
    traceServer: trace(config.get('trace.server')),
  };
}

/**
 * The server's view of the settings: only the keys it knows, camelCase, `databasePath`
 * null when empty and with `~` and `${workspaceFolder}` expanded.
 */
export function toServerSettings(settings: AuroraSettings, expand: (value: string) => string = (v) => v): ServerSettings {
  const databasePath = settings.databasePath.trim();
  return {
    memoryBudgetMb: settings.memoryBudgetMb,
    maxChunks: settings.maxChunks,
    databasePath: databasePath === '' ? null : expand(databasePath),
    exclude: [...settings.exclude],
    maxFileSizeKb: settings.maxFileSizeKb,
    indexOnStartup: settings.indexOnStartup,
    contextTokenBudget: settings.contextTokenBudget,
    recordAccesses: settings.recordAccesses,
  };
}

/** True when a configuration change touches a setting that only a restart applies. */
export function needsRestart(affects: (section: string) => boolean): boolean {
  return RESTART_SETTINGS.some((section) => affects(section));
}

function text(value: unknown, fallback: string): string {
  return typeof value === 'string' ? value : fallback;
}

function number(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

function flag(value: unknown, fallback: boolean): boolean {
  return typeof value === 'boolean' ? value : fallback;
}

function strings(value: unknown, fallback: readonly string[]): string[] {
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) {
    return [...value];
  }
  return [...fallback];
}

function trace(value: unknown): TraceLevel {
  return value === 'messages' || value === 'verbose' ? value : 'off';
}
