#!/usr/bin/env node
import type { Command, CommanderError } from 'commander';
import { CabferryError, ExitCode, usageError } from '../errors';
import { version } from '../version';
import { avoidPretenuringDeopts, keepYoungGenerationSmall, useBatchDecodeJitBudget } from '../io/v8-settings';
import { addExamples, configureHelp } from './help';
import { requestedCommand } from './requested-command';
import { reportError } from './run';
import { answerVersionOnly } from './version-only';

/**
 * The commander program. Each command lives in its own module under src/cli/ and exports
 * `register(program)`; the module parses options, calls the library and formats the result.
 */
type Register = (program: Command) => void;

/*
 * Command name → module, in the order `--help` lists them. Modules are required lazily: a run
 * of `cabferry list` should not pay for loading SQLite, the planner and the verifier.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
const commandModules: [name: string, load: () => Register][] = [
  ['list', () => (require('./list') as typeof import('./list')).register],
  ['extract', () => (require('./extract') as typeof import('./extract')).register],
  ['test', () => (require('./test') as typeof import('./test')).register],
  ['verify', () => (require('./verify') as typeof import('./verify')).register],
  ['inspect', () => (require('./inspect') as typeof import('./inspect')).register],
  ['import', () => (require('./import') as typeof import('./import')).register],
  ['export', () => (require('./export') as typeof import('./export')).register],
  ['catalog', () => (require('./catalog') as typeof import('./catalog')).register],
  ['trust', () => (require('./trust') as typeof import('./trust')).register],
  ['plan', () => (require('./plan') as typeof import('./plan')).register],
  ['collect-script', () => (require('./collect-script') as typeof import('./collect-script')).register],
  ['stage', () => (require('./stage') as typeof import('./stage')).register],
  ['verify-media', () => (require('./verify-media') as typeof import('./verify-media')).register],
  ['report', () => (require('./report') as typeof import('./report')).register],
];
/* eslint-enable @typescript-eslint/no-require-imports */

/** Every command's name, in help order (scripts/build-cli leaves some out of the cabinet program). */
export const COMMAND_NAMES: readonly string[] = commandModules.map(([name]) => name);

/**
 * Commands whose allocations while streaming whole payloads grew the young generation (see
 * keepYoungGenerationSmall). verify, test and extract allocate little per block (and verify's
 * digest workers bound themselves): they are left alone, and so is their start-up.
 */
const STREAMING_COMMANDS: ReadonlySet<string> = new Set(['import', 'inspect', 'export', 'stage']);

/** Commands that decode many cabinets in one short run: see useBatchDecodeJitBudget. */
const BATCH_DECODE_COMMANDS: ReadonlySet<string> = new Set(['test']);

/** Commands that plan hosts, many in one process: see avoidPretenuringDeopts. */
const PLANNING_COMMANDS: ReadonlySet<string> = new Set(['plan', 'stage']);

/**
 * Build the program. Given the command line, only the named command's module is loaded; with no
 * recognisable command (help, a typo) all are, so help and "unknown command" stay complete.
 */
export function buildProgram(argv?: string[]): Command {
  const requested = argv === undefined ? undefined : requestedCommand(argv);
  // before commander and the command's modules load (see useBatchDecodeJitBudget)
  if (requested !== undefined && BATCH_DECODE_COMMANDS.has(requested)) useBatchDecodeJitBudget();
  const program = new (loadCommander().Command)();
  program
    .name('cabferry')
    .description('Carry Microsoft update payloads across an air gap: verify, catalog, plan, stage.')
    .version(version, '-V, --version')
    // commander's own error text is replaced by our one line (see usageLine); help still prints
    .configureOutput({ outputError: () => undefined })
    .exitOverride();
  configureHelp(program);
  if (requested !== undefined && STREAMING_COMMANDS.has(requested)) keepYoungGenerationSmall();
  if (requested !== undefined && PLANNING_COMMANDS.has(requested)) avoidPretenuringDeopts();
  const only = commandModules.filter(([name]) => name === requested);
  for (const [, load] of only.length > 0 ? only : commandModules) load()(program);
  addExamples(program);
  return program;
}

/**
 * commander, required when a command line is to be parsed: it loads node:child_process and nine
 * modules of its own, which `cabferry --version` (answered first, see main) never needs.
 */
function loadCommander(): typeof import('commander') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('commander') as typeof import('commander');
}

export async function main(argv: string[]): Promise<void> {
  if (answerVersionOnly(argv)) return;
  const program = buildProgram(argv);
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof loadCommander().CommanderError) {
      // help and version "errors" are successes; everything else commander rejects is usage
      const ok = e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help';
      // the same line, and under --json the same `{"error":…}` document, as every other failure
      process.exitCode = ok ? ExitCode.ok : reportError(commanderUsageError(e), commandPath(program, argv), asksForJson(argv));
      return;
    }
    throw e;
  }
}

/** Our codes for what commander rejects; the README promises a code on every error line. */
const USAGE_CODES: Record<string, string> = {
  'commander.unknownOption': 'USAGE_UNKNOWN_OPTION',
  'commander.unknownCommand': 'USAGE_UNKNOWN_COMMAND',
  'commander.missingArgument': 'USAGE_MISSING_ARGUMENT',
  'commander.optionMissingArgument': 'USAGE_OPTION_NEEDS_VALUE',
  'commander.missingMandatoryOptionValue': 'USAGE_MISSING_OPTION',
  'commander.excessArguments': 'USAGE_TOO_MANY_ARGUMENTS',
  'commander.invalidArgument': 'USAGE_INVALID_ARGUMENT',
  'commander.conflictingOption': 'USAGE_CONFLICTING_OPTIONS',
};

/**
 * A usage error commander found, as our typed error: its message on one line (a "did you mean"
 * suggestion folded onto it) and our code; reportError adds where the help is.
 */
export function commanderUsageError(e: CommanderError): CabferryError {
  const message = e.message.replace(/^error:\s*/, '').split('\n').map((l) => l.trim()).filter((l) => l !== '').join(' ');
  return usageError(USAGE_CODES[e.code] ?? 'USAGE_ERROR', message);
}

/**
 * Whether the command line asks for --json. Commander stopped at the usage error, so its parsed
 * options are not to be relied on: the word itself, before any `--` end of options, decides.
 */
function asksForJson(argv: string[]): boolean {
  const args = argv.slice(2);
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).includes('--json');
}

/** "cabferry catalog list": the deepest command the arguments name (the program itself when none). */
function commandPath(program: Command, argv: string[]): string {
  const names = [program.name()];
  let current = program;
  for (const arg of argv.slice(2)) {
    if (arg.startsWith('-')) continue;
    const sub = current.commands.find((c) => c.name() === arg || c.aliases().includes(arg));
    if (!sub) break;
    names.push(sub.name());
    current = sub;
  }
  return names.join(' ');
}

/** The whole command: main, with a fault of cabferry itself as one line and exit 4 (never a stack trace). */
export function runMain(argv: string[]): void {
  main(argv).catch((e: unknown) => {
    process.stderr.write(`cabferry: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = ExitCode.internal;
  });
}

// run unbundled (node dist/src/cli/main.js); the installed command is the bundle, see ./launch
if (require.main === module) runMain(process.argv);
