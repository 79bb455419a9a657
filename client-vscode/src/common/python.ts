/**
 * Which command starts the server, and whether the chosen Python can import it.
 * No `vscode` import: the choice order is tested with node's test runner.
 */
import { execFile } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import { access } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';

/** Where the command came from, in the order they are tried. */
export type LaunchSource = 'aurora.serverPath' | 'aurora.interpreter' | 'Python extension' | 'python3';

export interface ServerLaunch {
  command: string;
  args: string[];
  source: LaunchSource;
  /** The interpreter that runs `-m aurora_lsp`; undefined for an `aurora-lsp` executable. */
  python?: string;
}

export interface LaunchInputs {
  serverPath: string;
  interpreter: string;
  args: readonly string[];
  /** The Python extension's active interpreter, when that extension is installed. */
  pythonExtensionInterpreter?: string;
}

/** `aurora.serverPath`, then `aurora.interpreter`, then the Python extension's interpreter, then `python3`. */
export function chooseLaunch(inputs: LaunchInputs): ServerLaunch {
  const extra = [...inputs.args];
  const serverPath = inputs.serverPath.trim();
  if (serverPath !== '') {
    return { command: serverPath, args: extra, source: 'aurora.serverPath' };
  }
  const candidates: [string | undefined, LaunchSource][] = [
    [inputs.interpreter, 'aurora.interpreter'],
    [inputs.pythonExtensionInterpreter, 'Python extension'],
  ];
  for (const [python, source] of candidates) {
    const chosen = python?.trim();
    if (chosen) {
      return { command: chosen, args: ['-m', 'aurora_lsp', ...extra], source, python: chosen };
    }
  }
  return { command: 'python3', args: ['-m', 'aurora_lsp', ...extra], source: 'python3', python: 'python3' };
}

export interface ExpandContext {
  home?: string;
  workspaceFolder?: string;
}

/** Expand a leading `~`, `${userHome}` and `${workspaceFolder}` in a path setting. */
export function expandPath(value: string, context: ExpandContext = {}): string {
  const home = context.home ?? os.homedir();
  let result = value.replace(/\$\{userHome\}/g, home);
  if (context.workspaceFolder !== undefined) {
    result = result.replace(/\$\{workspaceFolder\}/g, context.workspaceFolder);
  }
  if (result === '~' || result.startsWith('~/')) {
    result = path.join(home, result.slice(1));
  }
  return result;
}

/** The answer of a pre-start check: ok, or a message a person can act on. */
export type LaunchCheck = { ok: true; version: string } | { ok: false; reason: string; fix: string };

/** The one command that installs the server into an interpreter. */
export function installCommand(python: string): string {
  const quoted = /[\s'"$`\\]/.test(python) ? `"${python.replace(/(["$`\\])/g, '\\$1')}"` : python;
  return `${quoted} -m pip install aurora-lsp`;
}

const CHECK_SCRIPT = 'import aurora_lsp, sys; sys.stdout.write(getattr(aurora_lsp, "__version__", "?"))';

/**
 * Can this launch work? For an interpreter: does it import `aurora_lsp`; for an executable:
 * does the file exist and may it run.
 */
export async function checkLaunch(launch: ServerLaunch, timeoutMs = 20000): Promise<LaunchCheck> {
  if (launch.python === undefined) {
    try {
      await access(launch.command, fsConstants.X_OK);
      return { ok: true, version: '' };
    } catch {
      return {
        ok: false,
        reason: `aurora.serverPath "${launch.command}" is not an executable file`,
        fix: 'Set aurora.serverPath to the aurora-lsp executable, or clear it and set aurora.interpreter.',
      };
    }
  }
  const python = launch.python;
  const fix =
    `Run \`${installCommand(python)}\`, or set aurora.interpreter to a Python that has it ` +
    '(or aurora.serverPath to an aurora-lsp executable).';
  return new Promise((resolve) => {
    execFile(python, ['-c', CHECK_SCRIPT], { timeout: timeoutMs }, (error, stdout, stderr) => {
      if (error === null) {
        resolve({ ok: true, version: stdout.trim() });
        return;
      }
      const code = (error as NodeJS.ErrnoException).code;
      const reason =
        code === 'ENOENT'
          ? `the Python interpreter "${python}" was not found`
          : /No module named .?aurora_lsp/.test(stderr)
            ? `aurora-lsp is not installed for ${python}`
            : `${python} could not import aurora_lsp: ${lastLine(stderr) || error.message}`;
      resolve({ ok: false, reason, fix });
    });
  });
}

function lastLine(text: string): string {
  const lines = text.trim().split(/\r?\n/);
  return lines[lines.length - 1] ?? '';
}
