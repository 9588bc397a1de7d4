import { internalError } from '../errors';
import type { KbFamily } from '../knowledge/knowledge-base';
import type { PayloadKind } from '../package/types';
import type { Baseline } from './host-state';
import { objectList } from './object-list';
import { roleLabel } from './present';
import { compareText, rank, type Chosen, type ChosenSet, type Dep } from './resolve';
import type { Candidate } from './select';
import type { PlanStep, SimulatedState } from './types';

/**
 * The install order with restarts placed only where needed, computed over a small simulated
 * host: each step changes its state (build, servicing stack, SHA-2 support, pending restart)
 * exactly as the real host would change. The steps:
 *
 *   restartIfPending   a host with a pending restart (or SHA-2 support awaiting one) restarts first
 *   installInOrder     Kahn's algorithm over the dependency graph; when nothing can install
 *                      before a restart, restart and go on
 *   finalRestart       what asked for a restart gets it at the end
 */

/**
 * What a restart cures, for a payload it holds back: a requirement that asks for the restart
 * first, SHA-2 support that takes effect only after one, a service pack that installs on a freshly
 * restarted host. One object per cause and host plan (SimulatedHost.wait): the restart's reason
 * groups the payloads each holds back.
 */
type Wait =
  | { kind: 'restart-required'; by: string }
  | { kind: 'sha2-active'; sha2Kb: string }
  | { kind: 'service-pack' };

/** What holds a payload back (SimulatedHost.blocker): FREE, a restart that cures it, or null (only more installs help). */
const FREE = undefined;
type Held = Wait | null | typeof FREE;

/** The host as the plan changes it. */
class SimulatedHost {
  readonly state: SimulatedState;
  sha2Installed: boolean;
  /** restarts so far: the stage in which each KB installs is the number of restarts before it */
  stage = 0;
  /** installed since the last restart */
  sinceRestart: Candidate[] = objectList<Candidate>();
  private last: SimulatedState | null = null;
  /** one Wait per cause and KB, by KB (two maps, not one keyed by a string made per call: a far-behind host asks ~700 times) */
  private readonly sha2Waits = new Map<string, Wait>();
  private readonly restartWaits = new Map<string, Wait>();
  private static readonly SERVICE_PACK: Wait = { kind: 'service-pack' };

  constructor(base: Baseline, servicingStackVersion: string | null, private readonly family: KbFamily) {
    this.state = {
      build: base.build,
      revision: base.revision,
      servicingStackVersion,
      servicingStackKb: null,
      sha2Active: base.sha2Active,
      rebootPending: base.pendingReboot,
      servicePack: base.servicePack,
    };
    this.sha2Installed = base.sha2Installed;
  }

  /**
   * The state now, as a step's stateAfter: the last snapshot while nothing has changed since
   * (most installs change nothing the state shows). Snapshots are never changed after.
   */
  snapshot(): SimulatedState {
    const s = this.state;
    const last = this.last;
    if (last !== null && last.build === s.build && last.revision === s.revision && last.servicingStackVersion === s.servicingStackVersion && last.servicingStackKb === s.servicingStackKb && last.sha2Active === s.sha2Active && last.rebootPending === s.rebootPending && last.servicePack === s.servicePack) return last;
    return (this.last = copyState(s));
  }

  restart(): void {
    this.state.rebootPending = false;
    this.state.sha2Active = this.sha2Installed;
    this.sinceRestart = objectList<Candidate>();
    this.stage++;
  }

  install(c: Candidate): void {
    this.sinceRestart.push(c);
    if (c.kb === this.family.sha2SupportKb) this.sha2Installed = true;
    if (asksForRestart(c, this.family)) this.state.rebootPending = true;
    const f = c.fact;
    if (f?.setsBuild != null && (this.state.build === null || f.setsBuild > this.state.build)) {
      this.state.build = f.setsBuild;
      this.state.revision = null;
    }
    if (f?.bringsServicePack != null) this.state.servicePack = Math.max(this.state.servicePack ?? 0, f.bringsServicePack);
    if (c.role === 'servicing-stack') {
      this.state.servicingStackKb = c.kb;
      this.state.servicingStackVersion = c.payload.servicingStackVersion ?? f?.servicingStackVersion ?? null;
    }
  }

  /** FREE when `ch` can install now; else what holds it: the restart that cures it, or null when only more installs help */
  blocker(ch: Chosen, q: Queue): Held {
    for (const d of ch.deps) {
      const at = q.priorityOf(d.kb);
      if (q.stageOf[at] !== this.stage) continue;
      const dep = q.chosenAt(at).c;
      // the SHA-2 reason first: it is the one an admin must not get wrong
      if (d.active) return this.wait('sha2-active', dep.kb);
      if (dep.restart === 'required') return this.wait('restart-required', dep.kb);
    }
    if (ch.c.sha2Only && !this.state.sha2Active && ch.c.kb !== this.family.sha2SupportKb) {
      return this.sha2Installed ? this.wait('sha2-active', this.family.sha2SupportKb) : null;
    }
    // a service pack installs alone: nothing may be pending beneath it
    if (ch.c.role === 'service-pack' && this.sinceRestart.length > 0) return SimulatedHost.SERVICE_PACK;
    return FREE;
  }

  private wait(kind: 'sha2-active' | 'restart-required', kb: string): Wait {
    const waits = kind === 'sha2-active' ? this.sha2Waits : this.restartWaits;
    let w = waits.get(kb);
    if (w === undefined) waits.set(kb, (w = kind === 'sha2-active' ? { kind, sha2Kb: kb } : { kind, by: kb }));
    return w;
  }
}

/**
 * A restart's reason: what it cures, each cause once with the payloads it held back (a host
 * without SHA-2 support holds back every SHA-2-only payload: a thousand on a far-behind host,
 * named by the first few and a count; each of their steps says "after KB4474419" itself).
 */
function restartReason(held: Map<Wait, string[]>): string {
  const parts: string[] = [];
  for (const [w, kbs] of held) {
    const one = kbs.length === 1;
    switch (w.kind) {
      case 'restart-required': parts.push(`${w.by} requires a restart before ${listKbs(kbs)} can install`); break;
      // which of their parts are SHA-2 only (or not recorded) each step says: sha2Words
      case 'sha2-active': parts.push(`${listKbs(kbs)} ${one ? 'needs' : 'need'} SHA-2 code signing support; ${w.sha2Kb} (SHA-2 code signing support) takes effect after a restart`); break;
      case 'service-pack': parts.push(`${listKbs(kbs)} (service pack${one ? '' : 's'}) install${one ? 's' : ''} on a freshly restarted host`); break;
    }
  }
  return parts.length > 0 ? parts.join('; ') : 'finish the updates installed so far';
}

function asksForRestart(c: Candidate, family: KbFamily): boolean {
  return c.restart === 'required' || c.restart === 'possible' || c.kb === family.sha2SupportKb;
}

export function schedule(chosen: ChosenSet, base: Baseline, servicingStackVersion: string | null, family: KbFamily, host: string, assumptions: string[]): { steps: PlanStep[]; initialState: SimulatedState } {
  const sim = new SimulatedHost(base, servicingStackVersion, family);
  const initialState = sim.snapshot();
  const steps = objectList<PlanStep>();
  const addRestart = (reason: string): void => {
    sim.restart();
    steps.push({ n: steps.length + 1, action: 'reboot', kb: null, file: null, sha256: null, kind: 'reboot', reason, stateAfter: sim.snapshot() });
  };
  restartIfPending(sim, base, family, addRestart);
  installInOrder(sim, chosen, base, family, host, steps, addRestart, assumptions, new UndatedWords());
  finalRestart(sim, family, steps, addRestart);
  return { steps, initialState };
}

/**
 * A pending restart comes first, and is the whole plan when nothing else is to install: until it
 * happens the host runs without what waits for it (CBS commits an install-pending package at the
 * restart, or rolls it back), so a plan without it would call a host current that is not yet.
 */
function restartIfPending(sim: SimulatedHost, base: Baseline, family: KbFamily, addRestart: (reason: string) => void): void {
  if (!base.pendingReboot) return;
  const why = base.sha2Installed && !base.sha2Active
    ? `${family.sha2SupportKb} (SHA-2 code signing support) is installed but the host has not restarted since; it becomes active only after a restart`
    : 'the host reports a pending restart; servicing refuses new packages until it restarts';
  addRestart(`restart first: ${why}`);
}

/**
 * The order in which the scheduler installs what can install at one time: restart-required
 * payloads last in a stage, then role (SSU first), release date, KB. It depends on the candidates
 * alone, so it is worked out once per kind of host: each candidate's `priority` is its place.
 */
export function setInstallOrder(candidates: Candidate[]): void {
  const key = (c: Candidate): number => (c.restart === 'required' ? 100 : 0) + rank(c);
  const sorted = [...candidates].sort((x, y) => key(x) - key(y) || compareText(x.released ?? '9999', y.released ?? '9999') || compareText(x.kb, y.kb));
  sorted.forEach((c, i) => (c.priority = i));
}

/**
 * installInOrder's queue, by candidate priority (distinct small integers, setInstallOrder): for
 * each chosen payload its requirements not yet installed, what requires it, and the stage
 * (restarts before it) it installed in. Arrays indexed by priority rather than one object per
 * payload: a host plans a thousand payloads or more, and every one of them would be garbage.
 */
class Queue {
  readonly unmet: Int32Array;
  /** the stage each installed in; -1 before it installs */
  readonly stageOf: Int32Array;
  /** the priorities that require each (undefined: nothing) */
  readonly dependents: (number[] | undefined)[];

  constructor(readonly chosen: ChosenSet) {
    const size = chosen.priorities;
    this.unmet = new Int32Array(size);
    this.stageOf = new Int32Array(size).fill(-1);
    this.dependents = new Array<number[] | undefined>(size);
  }

  chosenAt(priority: number): Chosen {
    return this.chosen.at(priority)!;
  }

  /** the last KB asked and its priority: most requirements a host's payloads have are one KB (SHA-2 support) */
  private lastKb: string | null = null;
  private lastPriority = -1;

  priorityOf(kb: string): number {
    if (kb !== this.lastKb) {
      this.lastPriority = this.chosen.get(kb)!.c.priority;
      this.lastKb = kb;
    }
    return this.lastPriority;
  }
}

function installInOrder(sim: SimulatedHost, chosen: ChosenSet, base: Baseline, family: KbFamily, host: string, steps: PlanStep[], addRestart: (reason: string) => void, assumptions: string[], undated: UndatedWords): void {
  // among the installable, the queue's order (setInstallOrder); the nodes by priority, which is distinct for each candidate
  const q = new Queue(chosen);
  const heap = new PriorityQueue(chosen.priorities);
  for (const ch of chosen.values()) {
    const at = ch.c.priority;
    const deps = ch.deps;
    for (let i = 0; i < deps.length; i++) {
      const kb = deps[i]!.kb;
      // each requirement counts once, however many ways it is required
      let repeated = false;
      for (let j = 0; j < i && !repeated; j++) repeated = deps[j]!.kb === kb;
      if (repeated) continue;
      q.unmet[at]++;
      (q.dependents[q.priorityOf(kb)] ??= []).push(at);
    }
    if (q.unmet[at] === 0) heap.push(at);
  }
  let remaining = chosen.size;
  // what waits for a restart, and why (a restart that cures it; null: only more installs help)
  let deferred: number[] = [];
  let deferredWhy: (Wait | null)[] = [];
  while (remaining > 0) {
    const at = heap.pop();
    if (at < 0) {
      if (deferred.length === 0 || (sim.sinceRestart.length === 0 && !sim.state.rebootPending)) {
        throw internalError('PLAN_NO_PROGRESS', `cannot order ${chosen.values().filter((ch) => q.stageOf[ch.c.priority]! < 0).map((ch) => ch.c.kb).join(', ')} for ${host}`);
      }
      const held = new Map<Wait, string[]>();
      for (let i = 0; i < deferred.length; i++) {
        const why = deferredWhy[i]!;
        if (why === null) continue;
        const kbs = held.get(why);
        const kb = q.chosenAt(deferred[i]!).c.kb;
        if (kbs) kbs.push(kb);
        else held.set(why, [kb]);
      }
      addRestart(restartReason(held));
      for (const d of deferred) heap.push(d);
      deferred = [];
      deferredWhy = [];
      continue;
    }
    const next = q.chosenAt(at);
    const held = sim.blocker(next, q);
    if (held !== FREE) {
      deferred.push(at);
      deferredWhy.push(held);
      continue;
    }
    remaining--;
    q.stageOf[at] = sim.stage;
    sim.install(next.c);
    const dependents = q.dependents[at];
    if (dependents !== undefined) for (const d of dependents) if (--q.unmet[d]! === 0) heap.push(d);
    const c = next.c;
    // built property by property, in the order the --json contract prints them
    // the name on the media comes from verified metadata, never from the name the file arrived under
    const reason = explain(next, base, undated);
    const switches = switchesFor(c, assumptions);
    const n = steps.length + 1;
    const step: PlanStep = switches === undefined
      ? { n, action: 'install', kb: c.kb, file: c.file, sha256: c.sha256, kind: c.role, reason, stateAfter: sim.snapshot() }
      : { n, action: 'install', kb: c.kb, file: c.file, sha256: c.sha256, kind: c.role, reason, switches, stateAfter: sim.snapshot() };
    if (next.requiresEsu) step.requiresEsu = true;
    if (switches !== undefined && c.fact?.schedulesOwnRestart === true) step.cancelsOwnRestart = true;
    steps.push(step);
  }
}

function copyState(s: SimulatedState): SimulatedState {
  return { build: s.build, revision: s.revision, servicingStackVersion: s.servicingStackVersion, servicingStackKb: s.servicingStackKb, sha2Active: s.sha2Active, rebootPending: s.rebootPending, servicePack: s.servicePack };
}

/**
 * An executable runs with the silent switches the knowledge base records for its KB. Without
 * them install.cmd has nothing unattended to run it with: the step carries no switches and the
 * plan says so, rather than guessing switches an installer may not know.
 */
function switchesFor(c: Candidate, assumptions: string[]): string[] | undefined {
  if (c.format !== 'exe') return undefined;
  const switches = c.fact?.silentSwitches ?? null;
  if (switches === null) {
    assumptions.push(`${c.kb} (${c.file}) is an executable and the knowledge base records no silent switches for it: install.cmd starts it without any, where it may wait for someone at the console, and under /autoreboot does not start it (run install.cmd at the console for that step)`);
    return undefined;
  }
  return [...switches];
}

function finalRestart(sim: SimulatedHost, family: KbFamily, steps: PlanStep[], addRestart: (reason: string) => void): void {
  if (!sim.state.rebootPending || !steps.some((s) => s.action === 'install')) return;
  const asking = sim.sinceRestart.filter((c) => asksForRestart(c, family)).map((c) => c.kb);
  const shown = asking.length > 8 ? `${asking.slice(0, 8).join(', ')} and ${asking.length - 8} more` : asking.join(', ');
  addRestart(asking.length > 0 ? `${shown} ${asking.length === 1 ? 'asks' : 'ask'} for a restart to finish installing` : 'finish the updates installed so far');
}

/**
 * The usual step's reason: one why, needed by nothing, standing for nothing; the words depend on
 * nothing else than the candidate's role and date, that why and its requirements (by KB and
 * strength), which differ between hosts only in what of them a host has already. A dated
 * candidate's words are kept with it, a few variants (a build-moving payload's words depend on the
 * host's build: worded each time); an undated one's are shared within the plan (UndatedWords).
 */
const REASON_VARIANTS = 4;

function explain(ch: Chosen, base: Baseline, undated: UndatedWords): string {
  const c = ch.c;
  const usual = ch.why.length === 1 && ch.neededBy === null && ch.standsFor === null && c.fact?.setsBuild == null;
  if (!usual) return reasonText(ch, base);
  if (c.released === null) return undated.of(ch, base);
  const why = ch.why[0]!;
  const deps = ch.deps;
  // the variants side by side in one list (why, deps, text, why, deps, text, …): a step reads one
  // list, not an object per variant; deps are mostly the very list of the variant (Requirement's
  // depOnly, NO_DEPS), compared item by item only when not
  const known = c.reasonsMemo;
  if (known !== null) {
    for (let i = 0; i < known.length; i += 3) {
      if (known[i] === why && (known[i + 1] === deps || sameDeps(known[i + 1] as readonly Dep[], deps))) return known[i + 2] as string;
    }
  }
  const text = reasonText(ch, base);
  // (the deps list itself: nothing changes a chosen payload's deps list once set)
  if (known === null) c.reasonsMemo = [why, deps, text];
  else if (known.length < 3 * REASON_VARIANTS) known.push(why, deps, text);
  else known.splice(3 * (REASON_VARIANTS - 1), 3, why, deps, text);
  return text;
}

/**
 * The usual words of the undated candidates of one plan (most are updates the knowledge base does
 * not know: a catalog's hotfixes), by their requirements list. Alike in role, why, SHA-2 signing
 * and ESU, with the same list (mostly the one list of every candidate with that requirement alone:
 * Requirement's depOnly), they have the same words: a fresh host's two thousand hotfixes are worded
 * a dozen ways, a dozen times, and nothing is kept per candidate.
 */
class UndatedWords {
  private readonly byDeps = new Map<readonly Dep[], { role: PayloadKind; why: string; sha2: string; requiresEsu: boolean; text: string }[]>();

  of(ch: Chosen, base: Baseline): string {
    const c = ch.c;
    const why = ch.why[0]!;
    let alike = this.byDeps.get(ch.deps);
    if (alike === undefined) this.byDeps.set(ch.deps, (alike = []));
    const sha2 = sha2Words(c);
    for (const w of alike) if (w.role === c.role && w.why === why && w.sha2 === sha2 && w.requiresEsu === ch.requiresEsu) return w.text;
    const text = reasonText(ch, base);
    alike.push({ role: c.role, why, sha2, requiresEsu: ch.requiresEsu, text });
    return text;
  }
}

function sameDeps(a: readonly Dep[], b: readonly Dep[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i]!.kb !== b[i]!.kb || a[i]!.recommended !== b[i]!.recommended) return false;
  return true;
}

function reasonText(ch: Chosen, base: Baseline): string {
  const c = ch.c;
  let text = c.released ? `${roleLabel(c.role)} (${c.released})` : roleLabel(c.role);
  for (const w of ch.why) text += `; ${w}`;
  if (ch.neededBy !== null && ch.neededBy.size > 0) text += `; prerequisite of ${listKbs([...ch.neededBy])}`;
  if (ch.standsFor !== null) for (const [older, by] of ch.standsFor) text += `; replaces ${older}, which ${by} requires`;
  const required: string[] = [];
  for (const d of ch.deps) if (!d.recommended && !required.includes(d.kb)) required.push(d.kb);
  if (required.length > 0) text += `; after ${listKbs(required)}`;
  const recommended: string[] = [];
  for (const d of ch.deps) if (d.recommended && !required.includes(d.kb) && !recommended.includes(d.kb)) recommended.push(d.kb);
  if (recommended.length > 0) text += `; after ${listKbs(recommended)} (a recommended order, not a prerequisite)`;
  text += sha2Words(c);
  if (ch.requiresEsu) text += '; needs an activated ESU key';
  if (c.fact?.setsBuild != null && (base.build === null || c.fact.setsBuild > base.build)) text += `; moves the build to ${c.fact.setsBuild}`;
  return text;
}

/** what a step says of its SHA-2 signing: one of a few fixed phrases (UndatedWords compares them) */
function sha2Words(c: Candidate): string {
  if (!c.sha2Only) return '';
  if (c.sha2Parts === null) return '; how its catalogs are signed is not recorded: taken to need SHA-2 support';
  for (const p of c.sha2Parts) if (p.part === 'file') return '; signed with SHA-2 only';
  return '; its catalogs or inner cabinets are signed with SHA-2 only';
}

/** "KB1, KB2" — or, for the thousand hotfixes that all need SHA-2 support, the first few and a count. */
function listKbs(kbs: string[]): string {
  if (kbs.length === 1) return kbs[0]!;
  if (kbs.length <= 6) return [...kbs].sort().join(', ');
  // the five first in sort order, without sorting the thousand
  const first: string[] = [];
  for (const kb of kbs) {
    if (first.length === 5 && kb >= first[4]!) continue;
    let i = first.length;
    while (i > 0 && kb < first[i - 1]!) i--;
    first.splice(i, 0, kb);
    if (first.length > 5) first.pop();
  }
  return `${first.join(', ')} and ${kbs.length - 5} more`;
}

/**
 * The installable payloads by priority, smallest first. Priorities are small distinct integers (a
 * candidate's place in setInstallOrder), so a bitmap finds the smallest in a word or two: the
 * scheduler pushes and pops each of a thousand payloads once or twice per host.
 */
class PriorityQueue {
  private readonly words: Uint32Array;
  /** no word below this one has a bit set */
  private low = 0;
  private count = 0;

  constructor(size: number) {
    this.words = new Uint32Array((size + 31) >>> 5);
  }

  /** `priority` is in [0, size) and not in the queue already */
  push(priority: number): void {
    const w = priority >>> 5;
    this.words[w]! |= 1 << (priority & 31);
    if (w < this.low) this.low = w;
    this.count++;
  }

  /** the smallest priority in the queue, taken out of it; -1 when it is empty */
  pop(): number {
    if (this.count === 0) return -1;
    const words = this.words;
    while (words[this.low] === 0) this.low++;
    const word = words[this.low]!;
    const lowest = word & -word;
    words[this.low] = word ^ lowest;
    this.count--;
    return (this.low << 5) + 31 - Math.clz32(lowest);
  }
}
