#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { ExitCode } from '../errors';
import { version } from '../version';

/**
 * The commander program. Each command lives in its own module under src/cli/ and exports
 * `register(program)`; the module parses options, calls the library and formats the result.
 */
type Register = (program: Command) => void;

function commandModules(): Register[] {
  /* eslint-disable @typescript-eslint/no-require-imports */
  return [
    // one line per command module, in the order `--help` lists them
    (require('./list') as typeof import('./list')).register,
    (require('./extract') as typeof import('./extract')).register,
    (require('./test') as typeof import('./test')).register,
    (require('./verify') as typeof import('./verify')).register,
    (require('./inspect') as typeof import('./inspect')).register,
    (require('./plan') as typeof import('./plan')).register,
    (require('./collect-script') as typeof import('./collect-script')).register,
    (require('./stage') as typeof import('./stage')).register,
    (require('./verify-media') as typeof import('./verify-media')).register,
    (require('./report') as typeof import('./report')).register,
    (require('./import') as typeof import('./import')).register,
    (require('./catalog') as typeof import('./catalog')).register,
    (require('./trust') as typeof import('./trust')).register,
  ];
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('cabferry')
    .description('Carry Microsoft update payloads across an air gap: verify, catalog, plan, stage.')
    .version(version, '-V, --version')
    .showHelpAfterError()
    .exitOverride();
  for (const register of commandModules()) register(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      // help and version "errors" are successes; everything else commander rejects is usage
      const ok = e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help';
      process.exitCode = ok ? ExitCode.ok : ExitCode.usage;
      return;
    }
    throw e;
  }
}

if (require.main === module) {
  main(process.argv).catch((e: unknown) => {
    process.stderr.write(`cabferry: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = ExitCode.internal;
  });
}
