import fs = require('node:fs');
import type { Command } from 'commander';
import { ExitCode, usageError } from '../errors';
import { collectScript } from '../planner/collect-script';
import { action } from './run';

/**
 * `cabferry collect-script [-o FILE]`: the .cmd to run on a disconnected host; it writes one
 * inventory file that `cabferry plan --host` reads. Without -o the script goes to stdout.
 */
export function register(program: Command): void {
  program
    .command('collect-script')
    .description('write the cmd.exe script that collects a host inventory for `cabferry plan`')
    .option('-o, --output <file>', 'write the script to FILE (e.g. E:\\collect.cmd) instead of stdout')
    .option('--force', 'overwrite an existing file')
    .action(
      action((opts: { output?: string; force?: boolean }) => {
        const script = collectScript();
        if (!opts.output) {
          process.stdout.write(script);
          return ExitCode.ok;
        }
        try {
          fs.writeFileSync(opts.output, script, { flag: opts.force ? 'w' : 'wx' });
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          if (code === 'EEXIST') throw usageError('OUTPUT_EXISTS', `${opts.output} exists (use --force to overwrite)`);
          throw usageError('OUTPUT_UNWRITABLE', `cannot write ${opts.output}: ${code ?? (e as Error).message}`);
        }
        process.stderr.write(`cabferry: wrote ${opts.output}; run it on the host, then: cabferry plan --host <COMPUTERNAME>-inventory.txt\n`);
        return ExitCode.ok;
      }),
    );
}
