import type { Command } from 'commander';
import { ExitCode } from '../errors';
import { reportMedia, type MediaReport } from '../media';
import { writeFleetPage } from '../media/html';
import { version } from '../version';
import { action, printJson } from './run';

export function register(program: Command): void {
  program
    .command('report')
    .description('read the result logs brought back on the media and compare them with the plans')
    .argument('<dir>', 'the media folder')
    .option('--json', 'print one JSON document')
    .option('--html <file>', 'also write the fleet page (self-contained HTML with a progress chart) to this file')
    .action(
      action((dir: string, opts: { json?: boolean; html?: string }) => {
        const report = reportMedia(dir);
        const page = opts.html === undefined ? null : writeFleetPage(opts.html, report, { generatedAt: new Date().toISOString(), cabferryVersion: version });
        if (opts.json) printJson(report);
        else process.stdout.write(reportText(report) + (page ? `Fleet page: ${page.file} (${page.bytes} bytes)\n` : ''));
        return report.ok ? ExitCode.ok : ExitCode.negative;
      }),
    );
}

function reportText(r: MediaReport): string {
  const lines: string[] = [];
  for (const h of r.hosts) {
    const c = h.counts;
    lines.push(`${h.host}: ${h.status}${h.reason ? ` (${h.reason})` : ''} — ${c.installed} installed, ${c.skipped} skipped, ${c.failed} failed, ${c['restart-pending']} waiting for a restart, ${c['not-reached']} not reached; ${h.runs} run(s)${h.lastRun ? `, last ${h.lastRun}` : ''}`);
    for (const s of h.steps) {
      const what = s.action === 'reboot' ? 'restart' : `${s.kb ?? ''} ${s.file ?? ''}`.trim();
      const code = s.code === null ? '' : ` code ${s.code} (${s.codeHex})`;
      lines.push(`  ${String(s.n).padStart(2)}  ${s.status.padEnd(15)} ${what}${code}${s.status === 'failed' || s.status === 'skipped' ? ` — ${s.explanation}` : ''}`);
    }
  }
  return lines.join('\n') + '\n';
}
