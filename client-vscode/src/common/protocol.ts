/**
 * The server's custom requests (docs/protocol.md): method names and the shapes of their answers.
 * Mirrors server/aurora_lsp/protocol.py record for record, field for field.
 */

export const CONTEXT_METHOD = 'aurora/context';
export const STATS_METHOD = 'aurora/stats';
export const REINDEX_METHOD = 'aurora/reindex';

export interface Position {
  line: number;
  character: number;
}

export interface Range {
  start: Position;
  end: Position;
}

export interface ContextParams {
  textDocument?: { uri: string };
  position?: Position;
  query?: string;
  tokenBudget?: number;
  limit?: number;
}

export interface Activation {
  base: number;
  spreading: number;
  context: number;
  total: number;
}

/** `class`, `function` or `method` today; other strings may come from newer servers. */
export type ChunkKind = string;

export interface ContextItem {
  id: string;
  uri: string;
  range: Range;
  name: string;
  qualifiedName: string;
  kind: ChunkKind;
  /** `full`, `signature` or `name`: how much of the chunk's text the budget allowed. */
  detail: string;
  text: string;
  tokens: number;
  score: number;
  activation: Activation;
  why: string;
}

export interface ContextResult {
  focus: string | null;
  tokenBudget: number;
  usedTokens: number;
  items: ContextItem[];
  /** How much of usedTokens is items shown by name only (absent from older servers). */
  namesOnlyTokens?: number;
}

export interface RunCounts {
  changed: number;
  unchanged: number;
  removed: number;
}

export interface IndexingState {
  /** `idle` or `indexing`. */
  state: string;
  done: number;
  total: number;
  /** Seconds of the last refresh this server ran; null before one finished. */
  lastRunSeconds: number | null;
  lastRun: RunCounts | null;
}

export interface Stats {
  files: number;
  chunks: number;
  edges: number;
  residentChunks: number;
  residentBytes: number;
  memoryBudgetBytes: number;
  maxChunks: number;
  evictions: number;
  hits: number;
  misses: number;
  processRssBytes: number;
  database: { path: string | null; bytes: number };
  indexing: IndexingState;
  /** Files the last refresh skipped, by reason. */
  skipped: Record<string, number>;
}

export interface ReindexParams {
  full?: boolean;
}

export interface ReindexResult {
  files: number;
  chunks: number;
  seconds: number;
}
