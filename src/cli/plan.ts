import type { Command } from 'commander';
import { openCatalog } from '../catalog/catalog';
import { ExitCode, usageError } from '../errors';
import { loadKnowledgeBase, normaliseKb, planHosts, readHostInventories, type HostPlan, type PlanGoal, type SimulatedState } from '../planner';
import { action, printJson } from './run';

/**
 * `cabferry plan --host FILE… [--catalog DIR] [--target KB…] [--security-only] [--simulate] [--json]`:
 * the install sequence for each host, from the catalog's verified payloads and the knowledge
 * base. Exit 0 when every plan is complete, 1 when a prerequisite must still be fetched (or a
 * host could not be planned), 2 usage, 3 an unreadable inventory.
 */
export function register(program: Command): void {
  program
    .command('plan')
    .description('plan the install sequence for disconnected hosts from their inventories')
    .requiredOption('--host <files...>', 'host inventories: systeminfo, wmic qfe, Get-HotFix CSV/JSON, a JSON profile or collect-script output')
    .option('--catalog <dir>', 'the catalog whose payloads to plan with')
    .option('--target <kbs...>', 'install these KBs (and what they need) instead of bringing the host fully current')
    .option('--security-only', 'security-only updates instead of monthly rollups')
    .option('--simulate', "show the host's state after each step (build, servicing stack, SHA-2 support, pending restart)")
    .option('--knowledge-base <dir>', 'use this knowledge base folder instead of the one shipped with cabferry')
    .option('--json', 'print one JSON document: {"hosts":[…]}')
    .action(
      action((opts: PlanCliOptions) => {
        const goal = goalFrom(opts);
        const hosts = readHostInventories(opts.host);
        const kb = loadKnowledgeBase(opts.knowledgeBase);
        const catalog = openCatalog({ dir: opts.catalog, readonly: true });
        let plans: HostPlan[];
        try {
          plans = planHosts(hosts, catalog.payloads(), kb, goal);
        } finally {
          catalog.close();
        }
        if (opts.json) printJson(planDocument(plans, Boolean(opts.simulate)));
        else process.stdout.write(plans.map((p) => planText(p, Boolean(opts.simulate))).join('\n'));
        return plans.every((p) => p.complete) ? ExitCode.ok : ExitCode.negative;
      }),
    );
}

interface PlanCliOptions {
  host: string[];
  catalog?: string;
  target?: string[];
  securityOnly?: boolean;
  simulate?: boolean;
  knowledgeBase?: string;
  json?: boolean;
}

function goalFrom(opts: PlanCliOptions): PlanGoal {
  if (opts.target && opts.securityOnly) throw usageError('PLAN_GOAL_CONFLICT', '--target and --security-only cannot be combined');
  if (opts.target) {
    const kbs = opts.target.flatMap((t) => t.split(',')).filter((t) => t.trim() !== '').map((t) => {
      const kb = normaliseKb(t);
      if (!kb) throw usageError('PLAN_BAD_TARGET', `--target ${JSON.stringify(t)} is not a KB number`);
      return kb;
    });
    return { kind: 'target', kbs: [...new Set(kbs)] };
  }
  return opts.securityOnly ? { kind: 'security-only' } : { kind: 'current' };
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
