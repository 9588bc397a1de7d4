import type { Command } from 'commander';
import type { CabinetTestReport } from '../cab/cabinet';
import { openCabOrSet } from '../cab/cabinet-set';
import { ExitCode, formatErrorLine, isCabferryError } from '../errors';
import { action, printJson, warn } from './run';

/**
 * `cabferry test FILE…`: decompress everything, check checksums and sizes; exit 0 only if all
 * intact. A part of a multi-cabinet set is tested with the whole set when the other parts are
 * next to it (as cabextract does).
 */
export function register(program: Command): void {
  program
    .command('test')
    .description('decompress every member of each cabinet and check block checksums and sizes')
    .argument('<files...>', 'cabinets to test')
    .option('--json', 'print one JSON document')
    .option('--sha256', 'report the SHA-256 of every intact member')
    .action(
      action((files: string[], opts: { json?: boolean; sha256?: boolean }) => {
        const reports: (CabinetTestReport | { file: string; ok: false; error: { code: string; message: string; offset?: number } })[] = [];
        let code: number = ExitCode.ok;
        for (const file of files) {
          let cab;
          try {
            cab = openCabOrSet(file, (w) => warn(`${file}: ${w}`));
          } catch (e) {
            if (!isCabferryError(e)) throw e;
            if (!opts.json) process.stderr.write(`cabferry: ${formatErrorLine(e)}\n`);
            reports.push({ file, ok: false, error: { code: e.code, message: e.message, ...(e.offset !== undefined ? { offset: e.offset } : {}) } });
            code = Math.max(code, e.exitCode);
            continue;
          }
          try {
            for (const w of cab.warnings) warn(`${file}: ${w}`);
            const report = cab.testCabinet({ digests: opts.sha256 === true });
            reports.push({ ...report, file });
            if (!report.ok) code = Math.max(code, ExitCode.input);
            if (!opts.json) process.stdout.write(testText(file, report, opts.sha256 === true));
          } finally {
            cab.close();
          }
        }
        if (opts.json) printJson({ ok: code === ExitCode.ok, files: reports });
        return code;
      }),
    );
}

function testText(file: string, report: CabinetTestReport, sha256: boolean): string {
  const lines: string[] = [];
  const bytes = report.members.reduce((n, m) => n + (m.ok ? m.size : 0), 0);
  const bad = report.members.filter((m) => !m.ok).length;
  lines.push(report.ok ? `${file}: OK (${report.members.length} member(s), ${bytes} bytes)` : `${file}: CORRUPT (${bad} of ${report.members.length} member(s) failed)`);
  for (const m of report.members) {
    if (!m.ok) lines.push(`  ${m.name}: ${m.error!.message} [${m.error!.code}]`);
    else if (sha256) lines.push(`  ${m.sha256}  ${m.name}`);
  }
  for (const f of report.folders) {
    if (!f.ok) lines.push(`  folder ${f.index} (${f.compression}): ${f.error!.message} [${f.error!.code}]`);
  }
  return `${lines.join('\n')}\n`;
}
