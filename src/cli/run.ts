import { CabferryError, ExitCode, formatErrorLine, isCabferryError } from '../errors';

/**
 * Every command action goes through here: the library decides and returns an exit code, this
 * layer turns errors into the one-line messages and exit codes DESIGN.md promises.
 */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<number> | number): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      const code = await fn(...args);
      process.exitCode = code;
    } catch (e) {
      process.exitCode = reportError(e);
    }
  };
}

/** Print one line to stderr for an error and return the exit code it maps to. */
export function reportError(e: unknown): number {
  if (isCabferryError(e)) {
    process.stderr.write(`cabferry: ${formatErrorLine(e)}\n`);
    return e.exitCode;
  }
  const msg = e instanceof Error ? e.message : String(e);
  process.stderr.write(`cabferry: internal error: ${msg}\n`);
  if (process.env.CABFERRY_DEBUG && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
  return ExitCode.internal;
}

/** `--json` output: one document on stdout and nothing else there. */
export function printJson(doc: unknown): void {
  process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
}

/** Progress and warnings go to stderr; progress only when stderr is a terminal. */
export function warn(message: string): void {
  process.stderr.write(`cabferry: warning: ${message}\n`);
}

export function isInteractive(): boolean {
  return Boolean(process.stderr.isTTY);
}

export type { CabferryError };
