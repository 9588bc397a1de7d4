import type { Command } from 'commander';
import { openCabOrSet } from '../cab/cabinet-set';
import { extractMembers } from '../cab/extract';
import type { CabMember } from '../cab/types';
import { ExitCode, formatErrorLine, CabferryError, usageError } from '../errors';
import { action, printJson, warn } from './run';

/**
 * `cabferry extract FILE -o DIR [MEMBER…]`: write members under DIR, refusing unsafe names. A part
 * of a multi-cabinet set extracts the whole set when the other parts are next to it.
 */
export function register(program: Command): void {
  program
    .command('extract')
    .description('extract members of a cabinet into a directory')
    .argument('<file>', 'cabinet to read')
    .argument('[members...]', 'members to extract (default: all); `\\` and `/` are interchangeable')
    .requiredOption('-o, --output <dir>', 'directory to write into (created if missing)')
    .option('--json', 'print one JSON document')
    .action(
      action((file: string, names: string[], opts: { output: string; json?: boolean }) => {
        const cab = openCabOrSet(file, (w) => warn(`${file}: ${w}`));
        try {
          let selected: CabMember[] | undefined;
          if (names.length > 0) {
            selected = [];
            for (const name of names) {
              const found = cab.findMembers(name);
              if (found.length === 0) throw usageError('NO_SUCH_MEMBER', `no member named ${JSON.stringify(name)}`, { file });
              selected.push(...found);
            }
          }
          const report = extractMembers(cab, opts.output, { members: selected });
          if (opts.json) printJson({ ...report, file });
          else {
            const done = report.members.filter((m) => m.ok).length;
            process.stdout.write(`${file}: extracted ${done} of ${report.members.length} member(s) to ${opts.output}\n`);
          }
          let code: number = ExitCode.ok;
          for (const m of report.members) {
            if (m.ok || m.error === undefined) continue;
            const e = new CabferryError(m.error.kind, m.error.code, m.error.message, { file, member: m.name });
            if (!opts.json) process.stderr.write(`cabferry: ${formatErrorLine(e)}\n`);
            code = Math.max(code, e.exitCode);
          }
          return code;
        } finally {
          cab.close();
        }
      }),
    );
}
