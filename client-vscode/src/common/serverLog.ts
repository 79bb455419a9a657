/**
 * The server's stderr, line by line, at the right level of the "Aurora" log. aurora-lsp logs
 * with Python's logging (`2026-01-02 10:11:12,345 INFO logger: message`); pygls' per-message
 * lines go to trace, where "Developer: Set Log Level" can show them. No `vscode` import.
 */

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';

export interface LogLine {
  level: LogLevel;
  text: string;
}

const PYTHON_LOG = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d[,.]\d+ (DEBUG|INFO|WARNING|ERROR|CRITICAL) ([\w.]+): ?(.*)$/;

/** Loggers whose lines repeat the LSP traffic: trace level. */
const CHATTY_LOGGERS = ['pygls.protocol', 'pygls.feature_manager', 'pygls.server'];

const LEVELS: Record<string, LogLevel> = {
  DEBUG: 'debug',
  INFO: 'info',
  WARNING: 'warn',
  ERROR: 'error',
  CRITICAL: 'error',
};

/**
 * The level and text of one stderr line. A line that is not a log record (a traceback, a
 * usage message) keeps a warning or error level of the record before it, else is an error.
 */
export function classifyServerLine(line: string, previous: LogLevel | undefined): LogLine {
  const match = PYTHON_LOG.exec(line);
  if (match === null) {
    const level = previous === 'warn' || previous === 'error' ? previous : 'error';
    return { level, text: line };
  }
  const [, levelName, logger, message] = match as unknown as [string, string, string, string];
  const chatty = CHATTY_LOGGERS.some((prefix) => logger === prefix || logger.startsWith(`${prefix}.`));
  const level = chatty && (levelName === 'INFO' || levelName === 'DEBUG') ? 'trace' : (LEVELS[levelName] ?? 'info');
  return { level, text: `[${logger}] ${message}` };
}
