import { usageError } from '../errors';
import { normaliseKb } from '../knowledge/knowledge-base';
import type { HostPlan, PlanGoal, SimulatedState } from './types';

/**
 * How a plan is shown: the --json document and the text table. Shared by `cabferry plan`, the
 * plan.json/plan.txt that `cabferry stage` writes onto the media, and the goal options both take.
 */

/** `--target KB…` (repeatable, comma-separated) or `--security-only`, else "fully current". */
export function planGoalFromOptions(opts: { target?: string[]; securityOnly?: boolean }): PlanGoal {
  if (opts.target && opts.securityOnly) throw usageError('PLAN_GOAL_CONFLICT', '--target and --security-only cannot be combined');
  if (!opts.target) return opts.securityOnly ? { kind: 'security-only' } : { kind: 'current' };
  const kbs = opts.target.flatMap((t) => t.split(',')).filter((t) => t.trim() !== '').map((t) => {
    const kb = normaliseKb(t);
    if (!kb) throw usageError('PLAN_BAD_TARGET', `--target ${JSON.stringify(t)} is not a KB number`);
    return kb;
  });
  return { kind: 'target', kbs: [...new Set(kbs)] };
}

/** The --json document; its shape is the contract of issue #6 (plus "detail" on skipped and "state" with --simulate). */
export function planDocument(plans: HostPlan[], simulate: boolean): unknown {
  return {
    hosts: plans.map((p) => ({
      host: p.host,
      complete: p.complete,
      ...(simulate && p.initialState ? { initialState: stateJson(p.initialState) } : {}),
      steps: p.steps.map((s) => ({
        n: s.n,
        action: s.action,
        kb: s.kb,
        file: s.file,
        sha256: s.sha256,
        kind: s.kind,
        reason: s.reason,
        ...(simulate && s.stateAfter ? { state: stateJson(s.stateAfter) } : {}),
      })),
      missing: p.missing.map((m) => ({ kb: m.kb, reason: m.reason })),
      skipped: p.skipped.map((s) => ({ kb: s.kb, reason: s.reason, ...(s.detail ? { detail: s.detail } : {}) })),
      assumptions: p.assumptions,
    })),
  };
}

function stateJson(s: SimulatedState): Record<string, unknown> {
  return {
    build: s.build,
    revision: s.revision,
    servicePack: s.servicePack,
    servicingStackVersion: s.servicingStackVersion,
    servicingStackKb: s.servicingStackKb,
    sha2Active: s.sha2Active,
    rebootPending: s.rebootPending,
  };
}

function stateText(s: SimulatedState): string {
  const ssu = s.servicingStackVersion ?? (s.servicingStackKb ? `from ${s.servicingStackKb}` : 'unknown');
  const build = s.build === null ? 'unknown' : `${s.build}${s.revision !== null ? `.${s.revision}` : ''}`;
  return `build ${build}, SP${s.servicePack ?? '?'}, servicing stack ${ssu}, SHA-2 ${s.sha2Active ? 'active' : 'inactive'}${s.rebootPending ? ', restart pending' : ''}`;
}

export function planText(p: HostPlan, simulate: boolean): string {
  const out: string[] = [];
  out.push(`Host ${p.host}: ${p.complete ? 'complete plan' : 'INCOMPLETE plan'}, ${p.steps.filter((s) => s.action === 'install').length} install(s), ${p.steps.filter((s) => s.action === 'reboot').length} restart(s)`);
  if (simulate && p.initialState) out.push(`  now: ${stateText(p.initialState)}`);
  if (p.steps.length > 0) {
    const rows = p.steps.map((s) => [String(s.n), s.action === 'reboot' ? '—' : s.kb ?? '', s.kind, s.file ?? '(restart)', s.reason]);
    const head = ['#', 'KB', 'kind', 'file', 'why'];
    const widths = head.slice(0, 4).map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const fmt = (r: string[]): string => `  ${r.slice(0, 4).map((c, i) => c.padEnd(widths[i])).join('  ')}  ${r[4]}`;
    out.push(fmt(head));
    p.steps.forEach((s, i) => {
      out.push(fmt(rows[i]));
      if (simulate && s.stateAfter) out.push(`  ${' '.repeat(widths[0])}  → ${stateText(s.stateAfter)}`);
    });
  } else {
    out.push('  nothing to install');
  }
  if (p.missing.length > 0) {
    out.push('  missing (fetch these, import them, plan again):');
    for (const m of p.missing) out.push(`    ${m.kb}: ${m.reason}`);
  }
  if (p.skipped.length > 0) {
    out.push('  skipped:');
    // the other architecture's copy of every KB says nothing new: one line for all of them (--json lists each)
    const otherArch = p.skipped.filter((s) => s.reason === 'not-applicable' && /: built for \S+; the host is /.test(s.detail ?? ''));
    for (const s of p.skipped) if (!otherArch.includes(s)) out.push(`    ${s.kb}: ${s.reason}${s.detail ? ` — ${s.detail}` : ''}`);
    if (otherArch.length > 0) {
      const archs = [...new Set(otherArch.map((s) => /built for (\S+);/.exec(s.detail!)![1]))].join(', ');
      out.push(`    ${otherArch.length} payload(s) built for ${archs}: not-applicable — not this host's architecture`);
    }
  }
  if (p.assumptions.length > 0) {
    out.push('  assumptions:');
    for (const a of p.assumptions) out.push(`    - ${a}`);
  }
  return out.join('\n') + '\n';
}
