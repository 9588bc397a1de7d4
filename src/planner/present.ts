import { describeDistrust, distrustHeadline, distrustRemedy } from '../catalog/distrust';
import { usageError } from '../errors';
import { normaliseKb } from '../knowledge/knowledge-base';
import type { PayloadKind } from '../package/types';
import { describeSha2Parts } from '../package/sha2-parts';
import { visibleName, visibleText } from '../io/visible-text';
import type { CatalogCurrency, IncompleteCause, MissingCause, Need, SkipCause } from './causes';
import type { FactClaim, HostFact, HostPlan, InferredFrom, InventoryConflict, OverruledInstalledClaim, PlanGoal, SimulatedState } from './types';
import { CBS_STATE } from './inventory/collect';

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

const ROLE_LABEL: Record<PayloadKind, string> = {
  'service-pack': 'service pack',
  'servicing-stack': 'servicing stack update',
  'sha2-support': 'SHA-2 code signing support',
  'monthly-rollup': 'monthly rollup',
  'rollup-preview': 'preview of monthly rollup',
  'security-only': 'security-only update',
  'esu-preparation': 'ESU licensing preparation package',
  hotfix: 'hotfix',
  update: 'update',
  'security-update': 'security update',
  other: 'update',
};

export function roleLabel(role: PayloadKind): string {
  return ROLE_LABEL[role] ?? role;
}

// ---- causes in words -------------------------------------------------------------------

export function describeSkip(kb: string, cause: SkipCause): string {
  switch (cause.kind) {
    case 'installed': return 'the host reports it installed';
    case 'replaced-by-installed': return `replaced by ${cause.by}, which the host has installed`;
    case 'replaced-by-planned': return `replaced by ${cause.by} (${roleLabel(cause.byRole)}, ${cause.byReleased ?? 'date unknown'}), which this plan installs`;
    case 'replaced-by-waiting': return `replaced by ${cause.by}, which waits for a missing prerequisite (see missing)`;
    case 'other-file': return `${cause.file}: another file of ${kb} (${cause.planned}) is planned instead`;
    case 'unsigned': return `${cause.file}: it has no valid signature (${cause.signatures}); cabferry never plans an unverified payload`;
    case 'untrusted': return `${kb} ${cause.arch} in the catalog (${cause.file}) is not trusted now: ${describeDistrust(cause.distrust)}; ${distrustRemedy(cause.distrust)}`;
    case 'arch-mismatch': return cause.file + archMismatchTail(cause.built, cause.host);
    case 'arch-unknown': return `${cause.file}: built for ${cause.built} and the host's architecture is not reported`;
    case 'product-mismatch': return `${cause.file}: for ${cause.products.join(', ')}, not ${cause.host}`;
    case 'kb-products': return `${cause.file}: ${kb} applies to ${cause.products.join(', ')} only (${cause.source})`;
    case 'azure-only': return `${cause.file}: offered to hosts in Azure only${cause.esuYear === null ? '' : ` (ESU year ${cause.esuYear})`}, for which no ESU key outside Azure exists (${cause.source}); cabferry plans for hosts outside Azure`;
    case 'parent-other-nt': return `${cause.file}: its parent package ${cause.parent} ${cause.version} is not NT ${cause.ntVersion}`;
    case 'preview-optional': return 'a preview rollup is optional; name it with --target to install it';
    case 'security-only-goal': return '--security-only: rollups are not installed';
    case 'not-needed': return 'not needed for the goal';
    case 'esu-not-activated': return 'needs an activated ESU key (Extended Security Updates); the host reports its ESU licence not activated';
  }
}

const ARCH_MISMATCH_TAILS = new Map<string, Map<string, string>>();

/** ": built for x86; the host is amd64": one string per pair, joined to the file name of every payload of the other architecture (half a catalog, on every run) */
function archMismatchTail(built: string, host: string): string {
  let byHost = ARCH_MISMATCH_TAILS.get(built);
  if (byHost === undefined) ARCH_MISMATCH_TAILS.set(built, (byHost = new Map()));
  let tail = byHost.get(host);
  if (tail === undefined) byHost.set(host, (tail = `: built for ${built}; the host is ${host}`));
  return tail;
}

/** how a knowledge-base source is quoted: in full, or by a reference to a list of sources (planText) */
type Cite = (source: string) => string;
const inFull: Cite = (source) => source;

function describeNeed(need: Need, cite: Cite): string {
  switch (need.kind) {
    case 'service-pack': return `updates for NT ${need.ntVersion} apply from service pack ${need.servicePack} on`;
    case 'prerequisite': return cite(need.source);
    case 'mum-parent': return `update.mum names ${need.parent} as its parent`;
    case 'sha2-only':
      if (need.parts === null) return `${need.kb}'s record does not say how its catalogs and inner cabinets are signed (imported by an older cabferry; \`catalog check --deep --repair\` records it), so SHA-2 code signing support is installed and the host restarted first`;
      return `${need.kb} has parts signed with SHA-2 only (${describeSha2Parts(need.parts)}), so SHA-2 code signing support must be installed and the host restarted`;
    case 'esu-preparation': return `updates that need ESU install only after the ESU licensing preparation package (${cite(need.source)})`;
    case 'target': return 'named with --target';
    case 'baseline':
      if (need.role === 'sha2-support') return 'a current host has SHA-2 code signing support (knowledge base)';
      if (need.role === 'security-only') {
        return `a security-only update the knowledge base knows${need.released ? ` (${need.released})` : ''}: they are not cumulative, so a host current with --security-only has each one`;
      }
      return `the newest ${roleLabel(need.role)} the knowledge base knows${need.released ? ` (${need.released})` : ''}: a host without it is not current`;
  }
}

/**
 * Why the plan needs an update the catalog cannot supply. `cite` quotes the knowledge base's
 * sources (in full by default, as plan --json's reason does; plan text lists each once).
 */
export function describeMissing(m: MissingCause, cite: Cite = inFull): string {
  const why = m.copy === null
    ? 'not in the catalog'
    : m.copy.kind === 'untrusted'
      ? `${m.kb} ${m.copy.arch} in the catalog is not trusted now: ${distrustHeadline(m.copy.distrust)} (see skipped)`
      : `the catalog's copy does not apply (${describeSkip(m.kb, m.copy)})`;
  const needs = m.needs.map((n) => (n.neededBy.length > 0 ? `needed by ${n.neededBy.join(', ')}: ${describeNeed(n.need, cite)}` : describeNeed(n.need, cite)));
  return `${m.title ?? m.kb}: ${why}; ${needs.join('; ')}; fetch ${m.fileHint}`;
}

function claimText(c: FactClaim): string {
  const who = c.files.length > 0 ? c.files.map((f) => visibleName(f)).join(', ') : 'the inventory';
  const what = c.claim.kind === 'fact'
    ? `${factLabel(c.claim.fact)} ${String(c.claim.value)}`
    : `${c.claim.kb} installed (which means ${factLabel(c.claim.implies.fact)} ${String(c.claim.implies.value)}${c.claim.implies.fact === 'servicePack' ? ' or later' : ''})`;
  return `${who} says ${what}`;
}

function factLabel(fact: HostFact): string {
  const labels: Record<HostFact, string> = {
    product: 'product', ntVersion: 'NT version', build: 'build', revision: 'revision', architecture: 'architecture', servicePack: 'service pack',
    servicingStackVersion: 'servicing stack version', sha2CodeSigning: 'SHA-2 code signing active', pendingReboot: 'restart pending', esuLicence: 'ESU licence',
  };
  return labels[fact];
}

export function describeConflict(c: InventoryConflict): string {
  // a product against the NT version (product-family.ts): the planner cannot tell which is wrong
  if (c.fact === 'product' && c.claims.some((cl) => (cl.claim.kind === 'fact' ? cl.claim.fact : cl.claim.implies.fact) === 'ntVersion')) {
    return `product and NT version contradict each other: ${c.claims.map(claimText).join('; ')} — the knowledge base lists no such product for that NT version, so what this host needs cannot be known; collect its inventory again (collect.cmd) and plan again`;
  }
  return `conflicting ${factLabel(c.fact)}: ${c.claims.map(claimText).join('; ')} — neither claim is believed`;
}

export function describeIncomplete(c: IncompleteCause): string {
  switch (c.kind) {
    case 'missing': return `${c.kbs.length} update(s) the catalog cannot supply: ${c.kbs.join(', ')} (see missing)`;
    case 'conflict': return describeConflict(c.conflict);
    case 'section-missing': return `no complete installed-update list (hotfix section) in ${c.files.length > 0 ? c.files.map((f) => visibleName(f)).join(', ') : 'the inventory'}: what the host has is unknown; add systeminfo (complete) or wmic qfe output for this host`;
    case 'unknown-family': return `the knowledge base has no facts for NT ${c.ntVersion}; nothing can be planned for this host`;
    case 'family-not-inferable': return 'NT version not reported and not inferable from the installed updates; add systeminfo output for this host';
    case 'architecture-unknown': return `architecture not reported: ${c.payloads} architecture-specific payload(s) could not be planned`;
    case 'esu-not-activated':
      if (c.years !== undefined && c.activatedYears !== undefined) {
        const years = (ys: number[]): string => (ys.length === 0 ? 'no year' : `year ${ys.join(', ')}`);
        const has = c.activatedYears.length === 0 ? 'no ESU licence activated' : `only the ESU licence of ${years(c.activatedYears)} activated`;
        return `${c.kbs.join(', ')} need(s) the ESU licence of ${years(c.years)} activated and the host reports ${has} (each ESU year is a MAK add-on key of its own): install and activate that year's key (slmgr /ipk KEY, then slmgr /ato ACTIVATION-ID of that year), collect a new inventory and plan again`;
      }
      return `${c.kbs.join(', ')} need(s) an activated ESU key and the host reports its ESU licence not activated: install and activate the ESU MAK add-on key (slmgr /ipk KEY, then slmgr /ato ACTIVATION-ID), collect a new inventory and plan again`;
    case 'esu-activation-ids-unknown':
      return `${c.kbs.join(', ')} need(s) an activated ESU licence of ${c.years.length > 0 ? `year ${c.years.join(', ')}` : 'an ESU year the knowledge base does not know'}, and the knowledge base holds no ESU activation ID of that year for ${c.product === null ? 'this host\'s product' : visibleName(c.product)}: install.cmd cannot check the licence on the host and stops before these steps (esu-not-activated); add the activation IDs, with their source, to the knowledge base (${visibleName(c.family)})`;
    case 'host-name-lookalike': return `host name "${visibleName(c.name)}" is not ASCII and looks like "${c.resembles}": its files are not merged with that host's, and the plan is not trusted until the name is checked`;
    case 'no-baseline': return noBaselineText(c);
    case 'security-only-unlisted': return securityOnlyUnlistedText(c);
  }
}

function noBaselineText(c: Extract<IncompleteCause, { kind: 'no-baseline' }>): string {
  const what = c.product === null ? `${c.family} hosts` : `${c.product} (${c.family})`;
  const goal = c.goal === 'security-only' ? ' with --security-only' : '';
  return `the knowledge base cannot say what current means for ${what}${goal}: it lists no ${c.lacking.map(roleLabel).join(' and no ')} for it, so no plan can show this host current; plan the updates you mean to install with --target KB…, or add the product's updates to the knowledge base`;
}

function securityOnlyUnlistedText(c: Extract<IncompleteCause, { kind: 'security-only-unlisted' }>): string {
  const n = c.unlisted.length;
  const months = n > 6 ? `${c.unlisted.slice(0, 3).join(', ')} … ${c.unlisted.slice(-2).join(', ')}` : c.unlisted.join(', ');
  const none = n === 0 ? '' : `; it lists none for ${n} month(s) ${c.from === null ? 'between them' : `from ${c.from} to ${c.to}`} (${months})`;
  const since = c.from === null ? `; it does not say since when ${c.family} has had security-only updates` : '';
  const covered = c.coveredThrough === null ? 'no monthly rollup the host has covers them' : `the monthly rollup the host has covers the months up to ${c.coveredThrough} only`;
  return `--security-only: security-only updates are not cumulative, each month's is needed. The knowledge base lists those of ${c.listed.join(', ')}${none}${since}; ${covered}, so whether the host has those months' updates cannot be known here: plan without --security-only (the newest monthly rollup holds every month's security fixes), or add those months' security-only updates to the knowledge base`;
}

/**
 * Why a plan is not complete, one sentence per cause, empty for a complete plan: what the plan,
 * stage, the medium's README, plan.txt, install.cmd and index.html, and report say of it. A plan can
 * be incomplete with nothing missing from the catalog (an ESU key not activated, conflicting
 * inventory facts, no hotfix list, an unknown architecture): "missing" alone would say nothing.
 */
export function incompleteReasons(plan: Pick<HostPlan, 'incomplete'>): string[] {
  return plan.incomplete.map(describeIncomplete);
}

/**
 * What "complete" is measured against, when it is less than a current host: a --target plan is
 * complete when the targets and what they need are installed, whatever newer updates are known.
 * Empty for the other goals (their completeness is judged against the knowledge base's baseline).
 */
export function goalQualifier(goal: PlanGoal | null | undefined): string {
  if (goal?.kind !== 'target') return '';
  return ` for --target ${goal.kbs.join(', ')} only (not checked against the newest updates known: the host may not be current)`;
}

function currencyText(c: CatalogCurrency): string {
  const month = (d: string | null): string => (d === null ? 'none' : d.slice(0, 7));
  return `newest rollup in the catalog: ${month(c.newestRollupInCatalog)}; known: ${month(c.newestKnownRollup)}`;
}

/** The installed updates a plan rests on (HostPlan.assumedInstalled), as plan.txt and the evidence pack say them. */
export function assumedInstalledText(kbs: readonly string[]): string {
  return `taken as installed, as the inventory reports (install.cmd checks that the host has each before its first step): ${kbs.join(', ')}`;
}

const CBS_STATE_WORDS: Record<keyof typeof CBS_STATE, string> = {
  absent: 'absent', uninstallPending: 'uninstall pending', resolving: 'resolving', resolved: 'resolved', staging: 'staging', staged: 'staged',
  superseded: 'superseded', installPending: 'install pending', partiallyInstalled: 'partially installed', installed: 'installed', permanent: 'permanent',
};

/** A CBS CurrentState as an admin reads it, with the number reg.exe prints: "install pending (0x60)". */
function cbsStateText(state: number): string {
  const name = (Object.keys(CBS_STATE) as (keyof typeof CBS_STATE)[]).find((k) => CBS_STATE[k] === state);
  const hex = `0x${state.toString(16)}`;
  if (name === undefined) return `in state ${hex}`;
  const after = state === CBS_STATE.installPending ? ': the next restart commits it or rolls it back' : state === CBS_STATE.uninstallPending ? ': the next restart removes it' : '';
  return `${CBS_STATE_WORDS[name]} (${hex})${after}`;
}

/** Why an update an installed-update list names is not taken as installed (HostPlan.overruled). */
export function describeOverruled(o: OverruledInstalledClaim): string {
  if (o.by === 'lists') {
    return `${o.kb}: listed as installed by ${o.listedBy.map((f) => visibleName(f)).join(', ')}, but the whole hotfix list of ${o.notListedBy.map((f) => visibleName(f)).join(', ')} does not name it, and no CBS section says it is on the host. (Lists of one host taken at one time name the same updates: these are of another host, or of another time. Installed again; install.cmd finds it 'already installed' if it is there.)`;
  }
  const cbs = o.package === 'kb'
    ? `its servicing package is ${cbsStateText(o.state)}`
    : `no servicing package names it, and a monthly rollup's package named RollupFix (which names no KB) is ${cbsStateText(o.state)}; this update may be that rollup`;
  const claims: string[] = [];
  if (o.listedBy.length > 0 || o.inferredFrom === undefined) claims.push(`listed as installed by ${o.listedBy.length > 0 ? o.listedBy.map((f) => visibleName(f)).join(', ') : 'the inventory'}`);
  if (o.inferredFrom !== undefined) claims.push(`would be counted as installed because ${inferenceText(o.inferredFrom)}`);
  const why = [
    ...(o.listedBy.length > 0 || o.inferredFrom === undefined ? ['A hotfix list names an update from its install on, before the restart that commits it, and until its removal is committed.'] : []),
    ...(o.inferredFrom !== undefined ? [`${o.inferredFrom.fact === 'servicePack' ? 'The service pack level' : o.inferredFrom.fact === 'servicingStackVersion' ? 'The servicing stack version' : 'The SHA-2 registry values'} can be left by an install that was rolled back or did not complete.`] : []),
  ];
  return `${o.kb}: ${claims.join(', and ')}, but CBS in ${visibleName(o.cbsFile)} says ${cbs}. (${why.join(' ')})`;
}

/** The host's fact from which the planner counts an update as installed, in words. */
function inferenceText(from: InferredFrom): string {
  switch (from.fact) {
    case 'servicePack': return `the host reports service pack ${from.value}`;
    case 'servicingStackVersion': return `the servicing stack reports version ${from.value}, and the update brings ${from.brings}`;
    case 'sha2CodeSigning': return 'the host reports SHA-2 code signing support active (the two SHA-2 registry values set)';
  }
}

// ---- the documents ---------------------------------------------------------------------

/** The --json document; its shape is the contract of issue #6 (plus "detail" on skipped and "state" with --simulate, files, causes and catalog currency of issue #12). */
export function planDocument(plans: HostPlan[], simulate: boolean): unknown {
  return {
    hosts: plans.map((p) => ({
      host: p.host,
      files: p.files,
      ...(p.goal !== undefined ? { goal: p.goal } : {}),
      complete: p.complete,
      incomplete: p.incomplete.map((c) => ({ ...c, text: describeIncomplete(c) })),
      catalog: p.catalogCurrency,
      ...(simulate && p.initialState ? { initialState: stateJson(p.initialState) } : {}),
      steps: p.steps.map((s) => ({
        n: s.n,
        action: s.action,
        kb: s.kb,
        file: s.file,
        sha256: s.sha256,
        kind: s.kind,
        reason: s.reason,
        ...(s.requiresEsu ? { requiresEsu: true } : {}),
        ...(s.requiresEsu && s.esuYear !== undefined ? { esuYear: s.esuYear } : {}),
        ...(s.switches !== undefined ? { switches: s.switches } : {}),
        ...(s.cancelsOwnRestart === true ? { cancelsOwnRestart: true } : {}),
        ...(simulate && s.stateAfter ? { state: stateJson(s.stateAfter) } : {}),
      })),
      missing: p.missing.map((m) => ({ kb: m.kb, reason: m.reason, cause: m.cause })),
      skipped: p.skipped.map((s) => ({ kb: s.kb, reason: s.reason, ...(s.detail ? { detail: s.detail } : {}), cause: s.cause })),
      assumptions: p.assumptions,
      ...(p.assumedInstalled !== undefined ? { assumedInstalled: p.assumedInstalled } : {}),
      ...(p.overruled !== undefined && p.overruled.length > 0 ? { overruled: p.overruled.map((o) => ({ ...o, text: describeOverruled(o) })) } : {}),
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

/** The plan as text (terminal and plan.txt); nothing from an input reaches it with raw control characters. */
export function planText(p: HostPlan, simulate: boolean): string {
  const out: string[] = [];
  out.push(`Host ${visibleName(p.host)}: ${p.complete ? `complete plan${goalQualifier(p.goal)}` : 'INCOMPLETE plan'}, ${p.steps.filter((s) => s.action === 'install').length} install(s), ${p.steps.filter((s) => s.action === 'reboot').length} restart(s)`);
  if (p.files.length > 0) out.push(`  from: ${p.files.map((f) => visibleName(f)).join(', ')}`);
  if (p.catalogCurrency) out.push(`  ${currencyText(p.catalogCurrency)}`);
  if (simulate && p.initialState) out.push(`  now: ${stateText(p.initialState)}`);
  if (p.steps.length > 0) {
    const rows = p.steps.map((s) => [String(s.n), s.action === 'reboot' ? '—' : s.kb ?? '', s.kind, s.file === null ? '(restart)' : visibleName(s.file), s.reason]);
    const head = ['#', 'KB', 'kind', 'file', 'why'];
    const widths = head.slice(0, 4).map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const fmt = (r: string[]): string => `  ${r.slice(0, 4).map((c, i) => c.padEnd(widths[i])).join('  ')}  ${r[4]}`;
    out.push(fmt(head));
    p.steps.forEach((s, i) => {
      out.push(fmt(rows[i]));
      // an executable is started by install.cmd with these switches: the admin sees what will run
      if (s.switches !== undefined && s.file !== null) {
        const cancel = s.cancelsOwnRestart === true ? ', then cancels the restart it schedules itself (shutdown /a)' : '';
        out.push(`  ${' '.repeat(widths[0])}  runs as: ${visibleName(s.file)}${s.switches.map((w) => ` ${w}`).join('')}${cancel}`);
      }
      if (simulate && s.stateAfter) out.push(`  ${' '.repeat(widths[0])}  → ${stateText(s.stateAfter)}`);
    });
  } else {
    out.push('  nothing to install');
  }
  const others = p.incomplete.filter((c) => c.kind !== 'missing');
  if (others.length > 0) {
    out.push('  not complete because:');
    for (const c of others) out.push(`    - ${describeIncomplete(c)}`);
  }
  if (p.missing.length > 0) {
    out.push('  missing (fetch these, import them, plan again):');
    // the knowledge base's sources are long quotes shared by many lines: each is listed once, after
    // the lines, which refer to it by number (--json's reasons quote them in full)
    const sources: string[] = [];
    const numbered = new Map<string, number>();
    const cite: Cite = (source) => {
      let n = numbered.get(source);
      if (n === undefined) numbered.set(source, (n = sources.push(source)));
      return `source [${n}]`;
    };
    for (const m of p.missing) out.push(`    ${m.kb}: ${describeMissing(m.cause, cite)}`);
    if (sources.length > 0) {
      out.push('  sources:');
      sources.forEach((source, i) => out.push(`    [${i + 1}] ${source}`));
    }
  }
  if (p.skipped.length > 0) {
    out.push('  skipped:');
    // the other architecture's copy of every KB says nothing new: one line for all of them (--json lists each)
    const otherArch = p.skipped.filter((s) => s.cause.kind === 'arch-mismatch');
    // payloads left out for one reason of trust (one anchor, one remedy): one line naming them all (--json details each)
    const untrusted = new Map<string, string[]>();
    for (const s of p.skipped) {
      if (s.cause.kind !== 'untrusted') continue;
      const why = `${describeDistrust(s.cause.distrust, false)}; ${distrustRemedy(s.cause.distrust)}`;
      untrusted.set(why, [...(untrusted.get(why) ?? []), `${s.kb} ${s.cause.arch}`]);
    }
    for (const [why, named] of untrusted) out.push(`    ${named.join(', ')}: untrusted — in the catalog, not trusted now: ${why}`);
    for (const s of p.skipped) if (s.cause.kind !== 'arch-mismatch' && s.cause.kind !== 'untrusted') out.push(`    ${s.kb}: ${s.reason}${s.detail ? ` — ${s.detail}` : ''}`);
    if (otherArch.length > 0) {
      const archs = [...new Set(otherArch.map((s) => (s.cause.kind === 'arch-mismatch' ? s.cause.built : '')))].join(', ');
      out.push(`    ${otherArch.length} payload(s) built for ${archs}: not-applicable — not this host's architecture`);
    }
  }
  if (p.overruled !== undefined && p.overruled.length > 0) {
    const why = p.overruled.every((o) => o.by === 'cbs') ? 'CBS, the servicing stack, says otherwise' : p.overruled.every((o) => o.by === 'lists') ? "the host's hotfix lists disagree" : "CBS, the servicing stack, says otherwise, or the host's hotfix lists disagree";
    out.push(`  not taken as installed, though listed (${why}):`);
    for (const o of p.overruled) out.push(`    - ${describeOverruled(o)}`);
  }
  if (p.assumptions.length > 0) {
    out.push('  assumptions:');
    for (const a of p.assumptions) out.push(`    - ${a}`);
  }
  if (p.assumedInstalled !== undefined && p.assumedInstalled.length > 0) out.push(`  ${assumedInstalledText(p.assumedInstalled)}`);
  return visibleText(out.join('\n')) + '\n';
}
