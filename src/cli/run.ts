import type { Command } from 'commander';
import { CabferryError, errorDocument, ExitCode, formatErrorLine, isCabferryError } from '../errors';

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
      // commander passes the command itself last: a usage error points at its --help
      const command = args[args.length - 1];
      const json = isCommand(command) && command.opts().json === true;
      process.exitCode = reportError(e, isCommand(command) ? commandName(command) : undefined, json);
    }
  };
}

/**
 * Print one line to stderr for an error and return the exit code it maps to. A usage error
 * (exit 2) ends with where the command's help is, as commander's own usage errors do. Under
 * --json the failure is also the one document on stdout, `{ "error": … }`, whose `detail` keeps
 * the original system or OpenSSL text our message rewords.
 */
export function reportError(e: unknown, command?: string, json = false): number {
  if (isCabferryError(e)) {
    const help = e.kind === 'usage' && command !== undefined ? `; see \`${command} --help\`` : '';
    process.stderr.write(`cabferry: ${formatErrorLine(e)}${help}\n`);
    if (json) printJson({ error: errorDocument(e) });
    return e.exitCode;
  }
  const msg = e instanceof Error ? e.message : String(e);
  process.stderr.write(`cabferry: internal error: ${msg}\n`);
  if (json) printJson({ error: { code: 'INTERNAL_ERROR', kind: 'internal', exitCode: ExitCode.internal, message: 'internal error', detail: msg } });
  if (process.env.CABFERRY_DEBUG && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
  return ExitCode.internal;
}

function isCommand(x: unknown): x is Command {
  return typeof x === 'object' && x !== null && typeof (x as Command).name === 'function' && Array.isArray((x as Command).commands);
}

/** "cabferry catalog list" for the `list` subcommand of `catalog`. */
function commandName(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c !== null; c = c.parent) names.unshift(c.name());
  return names.join(' ');
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
