/** The server's custom requests (CONTRACT.md): method names and the shapes of their answers. */

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
}

export interface Stats {
  files: number;
  chunks: number;
  residentChunks: number;
  residentBytes: number;
  memoryBudgetBytes: number;
  maxChunks: number;
  evictions: number;
  hits: number;
  misses: number;
  processRssBytes: number;
  database: { path: string; bytes: number };
  /** `state` is `idle` or `indexing`. */
  indexing: { state: string; done: number; total: number; lastRunSeconds: number | null };
}

export interface ReindexResult {
  files: number;
  chunks: number;
  seconds: number;
}
