import type { Command } from 'commander';
import type { CabinetTestReport } from '../cab/cabinet';
import { openCabOrSet } from '../cab/cabinet-set';
import { searchCabinets, type SkippedCandidate } from '../cab/search';
import { ExitCode, formatErrorLine, isCabferryError, type ExitCodeValue } from '../errors';
import { skippedSummary } from './list';
import { action, printJson, warn } from './run';

/**
 * `cabferry test FILE… [--search] [--salvage]`: decompress everything, check checksums and sizes;
 * exit 0 only if all intact. A part of a multi-cabinet set is tested with the whole set when the
 * other parts are next to it (as cabextract does). --search tests every cabinet embedded in FILE;
 * --salvage goes on past damaged blocks, names each damaged member and exits 1 when any is.
 */
export function register(program: Command): void {
  program
    .command('test')
    .description('decompress every member of each cabinet and check block checksums and sizes')
    .argument('<files...>', 'cabinets to test')
    .option('--json', 'print one JSON document')
    .option('--sha256', 'report the SHA-256 of every intact member')
    .option('--search', 'scan each file for embedded cabinets (e.g. a self-extracting .exe) and test each one')
    .option('--salvage', 'go on past damaged data blocks: report the damaged members, check the intact ones (exit 1 if anything is damaged)')
    .action(
      action((files: string[], opts: { json?: boolean; sha256?: boolean; search?: boolean; salvage?: boolean }) => {
        const passOptions = { digests: opts.sha256 === true, salvage: opts.salvage === true };
        const reports: FileTestDocument[] = [];
        let code: number = ExitCode.ok;
        for (const file of files) {
          try {
            const { doc, text } = opts.search ? testSearch(file, passOptions) : testOne(file, passOptions);
            reports.push(doc);
            code = Math.max(code, verdictExitCode(doc.ok, passOptions.salvage));
            if (!opts.json) process.stdout.write(text);
          } catch (e) {
            if (!isCabferryError(e)) throw e;
            if (!opts.json) process.stderr.write(`cabferry: ${formatErrorLine(e)}\n`);
            reports.push({ file, ok: false, error: { code: e.code, message: e.message, ...(e.offset !== undefined ? { offset: e.offset } : {}) } });
            code = Math.max(code, e.exitCode);
          }
        }
        if (opts.json) printJson({ ok: code === ExitCode.ok, files: reports });
        return code;
      }),
    );
}

type PassOptions = { digests: boolean; salvage: boolean };

/** What `test --json` prints per file: one cabinet's report, the cabinets found by --search, or why the file could not be read. */
type FileTestDocument =
  | CabinetTestReport
  | { file: string; ok: boolean; cabinets: (CabinetTestReport & { offset: number; length: number })[]; skipped: SkippedCandidate[] }
  | { file: string; ok: false; error: { code: string; message: string; offset?: number } };

/** One file's document and its human text. */
type FileTestOutcome = { doc: FileTestDocument; text: string };

/**
 * Damage is exit 3 (malformed input) by default; with --salvage the file was read as far as it
 * can be and the damage is the verdict: exit 1, never 0 while anything is damaged.
 */
function verdictExitCode(ok: boolean, salvage: boolean): ExitCodeValue {
  if (ok) return ExitCode.ok;
  return salvage ? ExitCode.negative : ExitCode.input;
}

/**
 * Both modes decode past a damaged block, so `test` and `test --salvage` count the same damaged
 * and intact members of the same file; only the verdict differs (exit 3 as malformed input, or
 * exit 1 as a salvage verdict). A strict pass would stop at the first bad block and call every
 * later member of its folder "failed" although most of them are intact.
 */
function testPass(cab: { testCabinet(o: { digests?: boolean; salvage?: boolean }): CabinetTestReport }, options: PassOptions): CabinetTestReport {
  return { ...cab.testCabinet({ digests: options.digests, salvage: true }), salvage: options.salvage };
}

function testOne(file: string, options: PassOptions): FileTestOutcome {
  const cab = openCabOrSet(file, (w) => warn(`${file}: ${w}`));
  try {
    for (const w of cab.warnings) warn(`${file}: ${w}`);
    const report = { ...testPass(cab, options), file };
    return { doc: report, text: testText(file, report, options.digests) };
  } finally {
    cab.close();
  }
}

function testSearch(file: string, options: PassOptions): FileTestOutcome {
  const search = searchCabinets(file);
  try {
    if (search.skipped.length > 0) warn(`${file}: ${skippedSummary(search.skipped)}`);
    const cabinets = search.cabinets.map(({ offset, length, cabinet }) => {
      for (const w of cabinet.warnings) warn(`${file}: cabinet at offset ${offset}: ${w}`);
      return { offset, length, ...testPass(cabinet, options), file };
    });
    const text = cabinets.map((r) => testText(`${file}: cabinet at offset ${r.offset}`, r, options.digests)).join('');
    return { doc: { file, ok: cabinets.every((r) => r.ok), cabinets, skipped: [...search.skipped] }, text };
  } finally {
    search.close();
  }
}

function testText(label: string, report: CabinetTestReport, sha256: boolean): string {
  const lines: string[] = [];
  const bytes = report.members.reduce((n, m) => n + (m.ok ? m.size : 0), 0);
  const bad = report.members.filter((m) => !m.ok).length;
  if (report.ok) lines.push(`${label}: OK (${report.members.length} member(s), ${bytes} bytes)`);
  else if (report.salvage) lines.push(`${label}: DAMAGED (${bad} of ${report.members.length} member(s) damaged, ${report.members.length - bad} intact, ${bytes} bytes)`);
  else lines.push(`${label}: CORRUPT (${bad} of ${report.members.length} member(s) damaged, ${report.members.length - bad} intact, ${bytes} bytes)`);
  for (const m of report.members) {
    const where = m.damage !== undefined ? ` (folder ${m.damage.folder}, block ${m.damage.block})` : '';
    if (!m.ok) lines.push(`  ${m.name}: ${m.error!.message}${where} [${m.error!.code}]`);
    else if (sha256) lines.push(`  ${m.sha256}  ${m.name}`);
  }
  for (const f of report.folders) {
    if (f.error !== undefined) lines.push(`  folder ${f.index} (${f.compression}): ${f.error.message} [${f.error.code}]`);
    for (const l of f.lost ?? []) {
      const span = l.length === null ? 'the rest of the folder' : `${l.length} bytes`;
      lines.push(`  folder ${f.index} (${f.compression}): block ${l.block} lost (${span} from folder offset ${l.folderOffset}): ${l.message} [${l.code}]`);
    }
  }
  return `${lines.join('\n')}\n`;
}
