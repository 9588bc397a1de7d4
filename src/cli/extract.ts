import type { Command } from 'commander';
import { openCabOrSet } from '../cab/cabinet-set';
import { extractCabinets, extractMembers, type ExtractReport } from '../cab/extract';
import type { MemberReader } from '../cab/member-reader';
import { searchCabinets } from '../cab/search';
import type { CabMember } from '../cab/types';
import { ExitCode, formatErrorLine, CabferryError, usageError } from '../errors';
import { skippedSummary } from './list';
import { action, printJson, warn } from './run';

/**
 * `cabferry extract FILE -o DIR [MEMBER…] [--search] [--salvage]`: write members under DIR,
 * refusing unsafe names. A part of a multi-cabinet set extracts the whole set when the other
 * parts are next to it. --search writes the members of every cabinet embedded in FILE (a path
 * is written once: see extractCabinets); --salvage goes on past damaged blocks, writes every
 * intact member and none of the damaged ones, and exits 1 when anything was damaged.
 */
export function register(program: Command): void {
  program
    .command('extract')
    .description('extract members of a cabinet into a directory')
    .argument('<file>', 'cabinet to read')
    .argument('[members...]', 'members to extract (default: all); `\\` and `/` are interchangeable')
    .requiredOption('-o, --output <dir>', 'directory to write into (created if missing)')
    .option('--force', 'overwrite files that already exist in the output directory')
    .option('--json', 'print one JSON document')
    .option('--search', 'scan FILE for embedded cabinets (e.g. a self-extracting .exe) and extract from each one')
    .option('--salvage', 'go on past damaged data blocks: write every intact member, none of the damaged ones (exit 1 if anything is damaged)')
    .action(
      action((file: string, names: string[], opts: { output: string; json?: boolean; search?: boolean; salvage?: boolean; force?: boolean }) => {
        const salvage = opts.salvage === true;
        const overwrite = opts.force === true;
        if (opts.search) return extractSearch(file, names, opts.output, { salvage, overwrite }, opts.json === true);
        const cab = openCabOrSet(file, (w) => warn(`${file}: ${w}`));
        try {
          const selected = names.length > 0 ? selectMembers([cab], names, file)[0] : undefined;
          const report = extractMembers(cab, opts.output, { members: selected, salvage, overwrite });
          if (opts.json) printJson({ ...report, file });
          else process.stdout.write(`${file}: extracted ${written(report)} of ${report.members.length} member(s) to ${opts.output}\n`);
          return exitCodeFor([report], salvage, opts.json === true);
        } finally {
          cab.close();
        }
      }),
    );
}

function extractSearch(file: string, names: string[], output: string, { salvage, overwrite }: { salvage: boolean; overwrite: boolean }, json: boolean): number {
  const search = searchCabinets(file);
  try {
    if (search.skipped.length > 0) warn(`${file}: ${skippedSummary(search.skipped)}`);
    const cabs = search.cabinets.map((c) => c.cabinet);
    const selected = names.length > 0 ? selectMembers(cabs, names, file) : cabs.map(() => undefined);
    const reports = extractCabinets(
      cabs.map((cab, i) => ({ cab, members: selected[i] })),
      output,
      { salvage, overwrite },
    );
    if (json) {
      const cabinets = reports.map((r, i) => ({ offset: search.cabinets[i]!.offset, length: search.cabinets[i]!.length, ok: r.ok, members: r.members, damaged: r.damaged }));
      printJson({ file, dir: output, ok: reports.every((r) => r.ok), cabinets, skipped: search.skipped });
    } else {
      const total = reports.reduce((n, r) => n + r.members.length, 0);
      const done = reports.reduce((n, r) => n + written(r), 0);
      const duplicates = reports.reduce((n, r) => n + r.members.filter((m) => m.duplicateOf !== undefined).length, 0);
      const note = duplicates > 0 ? ` (${duplicates} identical to a member an earlier cabinet wrote, not written again)` : '';
      process.stdout.write(`${file}: extracted ${done} of ${total} member(s) from ${reports.length} embedded cabinet(s) to ${output}${note}\n`);
    }
    return exitCodeFor(reports, salvage, json);
  } finally {
    search.close();
  }
}

/** Per reader, the members MEMBER… names (`\` and `/` alike); NO_SUCH_MEMBER when a name is in none of them. */
function selectMembers(readers: readonly MemberReader[], names: readonly string[], file: string): CabMember[][] {
  const selected = readers.map((): CabMember[] => []);
  for (const name of names) {
    let found = 0;
    readers.forEach((r, i) => {
      const matches = r.findMembers(name);
      selected[i]!.push(...matches);
      found += matches.length;
    });
    if (found === 0) throw usageError('NO_SUCH_MEMBER', `no member named ${JSON.stringify(name)}`, { file });
  }
  return selected;
}

function written(report: ExtractReport): number {
  return report.members.filter((m) => m.ok).length;
}

/**
 * One stderr line per member that was not written (unless --json), and the exit code: the worst
 * failure's (3 damaged input, 4 storage), except that with --salvage damaged data is the verdict
 * (exit 1) rather than an unreadable file.
 */
function exitCodeFor(reports: readonly ExtractReport[], salvage: boolean, json: boolean): number {
  let code: number = ExitCode.ok;
  for (const report of reports) {
    const damaged = new Set(report.damaged.map((d) => d.index));
    for (const m of report.members) {
      if (m.ok || m.error === undefined) continue;
      const e = new CabferryError(m.error.kind, m.error.code, m.error.message, { file: report.file, member: m.name });
      if (!json) {
        const where = m.damage !== undefined ? ` (folder ${m.damage.folder}, block ${m.damage.block})` : '';
        process.stderr.write(`cabferry: ${formatErrorLine(e)}${where}\n`);
      }
      code = Math.max(code, salvage && damaged.has(m.index) ? ExitCode.negative : e.exitCode);
    }
  }
  return code;
}
