import type { Command } from 'commander';
import { ExitCode } from '../errors';
import { printable } from '../io/printable';
import { consoleStepsText, verifyMedia, type HostPlanOnMedium, type VerifyMediaReport } from '../media';
import { goalQualifier, incompleteReasons } from '../planner/present';
import { collect, mediaTrustFromOptions } from './options';
import { createProgress, mediaWorkOn } from './progress';
import { action, printJson } from './run';

interface VerifyMediaCliOptions {
  trust?: string[];
  catalog?: string;
  allowUnsigned?: boolean;
  json?: boolean;
}

/**
 * `cabferry verify-media DIR [--trust FILE|DIR]… [--catalog DIR] [--allow-unsigned] [--json]`.
 * Exit 0 only when every file matches the manifest, the manifest's signature verified against an
 * anchor (or the medium is unsigned and --allow-unsigned was given) and every host's plan.json is
 * believed (report could not judge that host's results otherwise); otherwise 1.
 */
export function register(program: Command): void {
  program
    .command('verify-media')
    .description('re-hash staged media against its manifest and check the manifest signature against a trust anchor')
    .argument('<dir>', 'the media folder')
    .option('--trust <file|dir>', "trust anchors for manifest.json.p7s (repeatable; default: the catalog's anchors for signatures)", collect)
    .option('--catalog <dir>', 'catalog whose anchors for signatures are used when no --trust is given')
    .option('--allow-unsigned', 'accept a medium without manifest.json.p7s (its integrity is then not proven)')
    .option('--json', 'print one JSON document')
    .action(
      action((dir: string, opts: VerifyMediaCliOptions) => {
        const bar = createProgress({ unit: 'bytes', suppressed: opts.json === true });
        let report: VerifyMediaReport;
        try {
          report = verifyMedia(dir, { ...mediaTrustFromOptions(opts), allowUnsigned: opts.allowUnsigned === true, onWork: mediaWorkOn(bar) });
        } finally {
          bar.stop();
        }
        if (opts.json) printJson(report);
        else process.stdout.write(verifyText(report));
        return report.ok ? ExitCode.ok : ExitCode.negative;
      }),
    );
}

function verifyText(r: VerifyMediaReport): string {
  const p = (t: string) => printable(t);
  const lines = [`${p(r.dir)}: ${r.ok ? 'OK' : 'FAILED'} — ${r.checked} file(s) in the manifest (staged ${p(r.manifest.createdAt)} by cabferry ${p(r.manifest.cabferryVersion)})`];
  for (const m of r.missing) lines.push(`  missing:    ${p(m)}`);
  for (const a of r.altered) lines.push(`  altered:    ${p(a.path)} (${a.reason})`);
  for (const u of r.unexpected) lines.push(`  unexpected: ${p(u)}`);
  const s = r.signature;
  if (s.status === 'valid') lines.push(`  signature:  valid, signed by "${p(s.signer ?? '')}" (chain: ${s.chain.map(p).join(' → ')})`);
  else if (s.status === 'invalid') lines.push(`  signature:  INVALID [${s.code}] ${p(s.reason ?? '')}`);
  else lines.push(`  signature:  ${s.status}${s.proven ? '' : ' — INTEGRITY NOT PROVEN'} (${p(s.reason ?? '')})`);
  for (const h of r.hosts) lines.push(`  ${stagedHostLine(h)}`);
  for (const h of r.results) {
    lines.push(`  results of ${p(h.host)} (staged plan ${h.planId ?? 'not believed: plan.json is not the staged one'}):`);
    for (const x of h.results) {
      const which = x.current ? 'this plan' : x.planId === null ? 'a plan without id (older cabferry)' : x.planId === h.planId ? "this plan's id, but not where its install.cmd writes: not read by report" : `earlier plan ${x.planId}`;
      lines.push(`    ${p(x.path)}: ${which}, ${x.runs} run(s), ${x.results} result line(s)`);
    }
  }
  if (r.results.length > 0) lines.push('  (run cabferry report for what they say)');
  return lines.join('\n') + '\n';
}

/** One host's staged plan: complete, or INCOMPLETE with why, or not believed with why. */
function stagedHostLine(h: HostPlanOnMedium): string {
  const p = (t: string) => printable(t);
  if (h.plan === null) return `host ${p(h.host)}: plan.json NOT BELIEVED — ${p(h.problem ?? 'no reason given')}`;
  const what = `${h.plan.steps} step(s), plan ${h.planId ?? ''}${h.plan.consoleSteps.length > 0 ? `; ${consoleStepsText(h.plan.consoleSteps)}` : ''}`;
  if (h.plan.complete) return `host ${p(h.host)}: complete plan${p(goalQualifier(h.plan.goal))}, ${what}`;
  const why = incompleteReasons({ incomplete: h.plan.incomplete }).map(p).join('; ');
  return `host ${p(h.host)}: INCOMPLETE plan, ${what} — the host will not be current after it runs${why ? `: ${why}` : ''}`;
}
