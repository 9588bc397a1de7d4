import type { Command } from 'commander';
import { ExitCode } from '../errors';
import { printable } from '../io/printable';
import { completeQualifier, fleetVerdictText, hostReasonText, reportMedia, type MediaReport } from '../media';
import { writeFleetPage } from '../media/html';
import { version } from '../version';
import { collect, mediaTrustFromOptions } from './options';
import { action, printJson } from './run';
import { isoTime } from '../iso-time';

interface ReportCliOptions {
  trust?: string[];
  catalog?: string;
  allowUnsigned?: boolean;
  allowTestBuild?: boolean;
  json?: boolean;
  html?: string;
}

export function register(program: Command): void {
  program
    .command('report')
    .description('read the result logs brought back on the media and compare them with the signed plans')
    .argument('<dir>', 'the media folder')
    .option('--trust <file|dir>', "trust anchors for manifest.json.p7s (repeatable; default: the catalog's anchors for signatures)", collect)
    .option('--catalog <dir>', 'catalog whose anchors for signatures are used when no --trust is given')
    .option('--allow-unsigned', 'believe the plans of a medium without manifest.json.p7s')
    .option('--allow-test-build', "judge the results of --test-build scripts as if from real hosts (cabferry's own tests; they prove nothing about a real host)")
    .option('--json', 'print one JSON document')
    .option('--html <file>', 'also write the fleet page (self-contained HTML with a progress chart) to this file')
    .action(
      action((dir: string, opts: ReportCliOptions) => {
        const report = reportMedia(dir, { ...mediaTrustFromOptions(opts), allowUnsigned: opts.allowUnsigned === true, allowTestBuild: opts.allowTestBuild === true });
        const page = opts.html === undefined ? null : writeFleetPage(opts.html, report, { generatedAt: isoTime(new Date()), cabferryVersion: version });
        if (opts.json) printJson(report);
        else process.stdout.write(reportText(report) + (page ? `Fleet page: ${page.file} (${page.bytes} bytes)\n` : ''));
        return report.ok ? ExitCode.ok : ExitCode.negative;
      }),
    );
}

function reportText(r: MediaReport): string {
  const p = (t: string | null) => printable(t ?? '');
  const lines: string[] = [];
  const i = r.integrity;
  if (!i.proven) lines.push(`PLANS NOT PROVEN: ${p(i.reason)}${i.code ? ` [${i.code}]` : ''}`);
  else if (i.status === 'absent') lines.push(`plans: ${p(i.reason)}`);
  // the fleet's verdict before any host, as the fleet page puts it: a reader of the first lines is not told more than is true
  if (i.proven) lines.push(`verdict: ${p(fleetVerdictText(r))}`);
  for (const h of r.hosts) {
    const c = h.counts;
    if (h.status === 'plan-altered') {
      lines.push(`${p(h.host)}: PLAN ALTERED — ${p(h.reason)}; its results are not read`);
    } else {
      lines.push(`${p(h.host)}: ${h.status}${completeQualifier(h)}${h.reason ? ` (${p(hostReasonText(h.reason))})` : ''} — ${c.installed} installed, ${c.skipped} skipped, ${c.failed} failed, ${c['restart-pending']} waiting for a restart, ${c.unconfirmed} not found on the host, ${c['not-reached']} not reached; ${h.runs} run(s)${h.lastRun ? `, last ${p(h.lastRun)}` : ''}`);
      lines.push(`  plan ${h.planId}${h.testBuild ? '  (TEST BUILD script: proves nothing about a real host)' : ''}`);
    }
    for (const s of h.steps) {
      const what = s.action === 'reboot' ? 'restart' : `${p(s.kb)} ${p(s.file)}`.trim();
      const code = s.code === null ? '' : ` code ${s.code} (${s.codeHex})`;
      const why = s.status === 'installed' || s.status === 'not-reached' ? '' : ` — ${p(s.explanation)}`;
      lines.push(`  ${String(s.n).padStart(2)}  ${s.status.padEnd(15)} ${what}${code}${why}`);
    }
    if (h.unmatchedLines > 0) lines.push(`  ${h.unmatchedLines} line(s) in this plan's log match no planned step or carry another plan id or another host: not counted`);
    for (const e of h.history) {
      lines.push(`  history: ${e.planId === null ? 'a plan without id (older cabferry)' : `plan ${e.planId}`} in ${p(e.path)}: ${e.runs} run(s)${e.lastRun ? `, last ${p(e.lastRun)}` : ''}; found on the host then: ${e.confirmedInstalled.map(p).join(', ') || 'nothing recorded'} — not counted for the staged plan`);
    }
  }
  return lines.join('\n') + '\n';
}
