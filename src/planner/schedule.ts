import { internalError } from '../errors';
import type { KbFamily } from '../knowledge/knowledge-base';
import { publishedFileName } from '../knowledge/file-names';
import type { Baseline } from './host-state';
import { roleLabel } from './present';
import { compareText, rank, type Chosen } from './resolve';
import { ARCH_FILE, type Candidate } from './select';
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

/** The host as the plan changes it. */
class SimulatedHost {
  readonly state: SimulatedState;
  sha2Installed: boolean;
  /** restarts so far: the stage in which each KB installs is the number of restarts before it */
  stage = 0;
  /** installed since the last restart */
  sinceRestart: Candidate[] = [];
  private readonly stageOf = new Map<string, number>();

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

  restart(): void {
    this.state.rebootPending = false;
    this.state.sha2Active = this.sha2Installed;
    this.sinceRestart = [];
    this.stage++;
  }

  install(c: Candidate): void {
    this.stageOf.set(c.kb, this.stage);
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

  installedThisStage(kb: string): boolean {
    return this.stageOf.get(kb) === this.stage;
  }

  has(kb: string): boolean {
    return this.stageOf.has(kb);
  }

  /** null when `ch` can install now; else what holds it (a restart that cures it, or null when only more installs help) */
  blocker(ch: Chosen, chosen: Map<string, Chosen>): { needsRestart: string | null } | null {
    for (const d of ch.deps) {
      if (!this.installedThisStage(d.kb)) continue;
      const dep = chosen.get(d.kb)!.c;
      // the SHA-2 reason first: it is the one an admin must not get wrong
      if (d.active) return { needsRestart: `${ch.c.kb} is signed with SHA-2 only; ${dep.kb} (SHA-2 code signing support) takes effect after a restart` };
      if (dep.restart === 'required') return { needsRestart: `${dep.kb} requires a restart before ${ch.c.kb} can install` };
    }
    if (ch.c.payload.signatures === 'sha2-only' && ch.c.kb !== this.family.sha2SupportKb && !this.state.sha2Active) {
      return { needsRestart: this.sha2Installed ? `${ch.c.kb} is signed with SHA-2 only; ${this.family.sha2SupportKb} (SHA-2 code signing support) takes effect after a restart` : null };
    }
    // a service pack installs alone: nothing may be pending beneath it
    if (ch.c.role === 'service-pack' && this.sinceRestart.length > 0) return { needsRestart: `${ch.c.kb} (service pack) installs on a freshly restarted host` };
    return null;
  }
}

function asksForRestart(c: Candidate, family: KbFamily): boolean {
  return c.restart === 'required' || c.restart === 'possible' || c.kb === family.sha2SupportKb;
}

export function schedule(chosen: Map<string, Chosen>, base: Baseline, servicingStackVersion: string | null, family: KbFamily, host: string, assumptions: string[]): { steps: PlanStep[]; initialState: SimulatedState } {
  const sim = new SimulatedHost(base, servicingStackVersion, family);
  const initialState = { ...sim.state };
  const steps: PlanStep[] = [];
  const addRestart = (reason: string): void => {
    sim.restart();
    steps.push({ n: steps.length + 1, action: 'reboot', kb: null, file: null, sha256: null, kind: 'reboot', reason, stateAfter: { ...sim.state } });
  };
  restartIfPending(sim, chosen, base, family, addRestart);
  installInOrder(sim, chosen, base, family, host, steps, addRestart, assumptions);
  finalRestart(sim, family, steps, addRestart);
  return { steps, initialState };
}

function restartIfPending(sim: SimulatedHost, chosen: Map<string, Chosen>, base: Baseline, family: KbFamily, addRestart: (reason: string) => void): void {
  if (chosen.size === 0 || !base.pendingReboot) return;
  const why = base.sha2Installed && !base.sha2Active
    ? `${family.sha2SupportKb} (SHA-2 code signing support) is installed but the host has not restarted since; it becomes active only after a restart`
    : 'the host reports a pending restart; servicing refuses new packages until it restarts';
  addRestart(`restart first: ${why}`);
}

function installInOrder(sim: SimulatedHost, chosen: Map<string, Chosen>, base: Baseline, family: KbFamily, host: string, steps: PlanStep[], addRestart: (reason: string) => void, assumptions: string[]): void {
  // among the installable, the heap's order: restart-required payloads last in a stage, then role (SSU first), release date, KB
  const unmet = new Map<string, number>();
  const dependents = new Map<string, Chosen[]>();
  const order = new Map<Chosen, number>();
  for (const ch of chosen.values()) order.set(ch, (ch.c.restart === 'required' ? 100 : 0) + rank(ch.c));
  const heap = new MinHeap<Chosen>((x, y) => order.get(x)! - order.get(y)! || compareText(x.c.released ?? '9999', y.c.released ?? '9999') || compareText(x.c.kb, y.c.kb));
  for (const ch of chosen.values()) {
    const deps = new Set(ch.deps.map((d) => d.kb));
    unmet.set(ch.c.kb, deps.size);
    for (const d of deps) (dependents.get(d) ?? dependents.set(d, []).get(d)!).push(ch);
    if (deps.size === 0) heap.push(ch);
  }
  let remaining = chosen.size;
  let deferred: { ch: Chosen; needsRestart: string | null }[] = [];
  while (remaining > 0) {
    const next = heap.pop();
    if (!next) {
      if (deferred.length === 0 || (sim.sinceRestart.length === 0 && !sim.state.rebootPending)) {
        throw internalError('PLAN_NO_PROGRESS', `cannot order ${[...chosen.keys()].filter((k) => !sim.has(k)).join(', ')} for ${host}`);
      }
      const reasons = [...new Set(deferred.map((d) => d.needsRestart).filter((r): r is string => r !== null))];
      addRestart(reasons.length > 0 ? reasons.join('; ') : 'finish the updates installed so far');
      for (const d of deferred) heap.push(d.ch);
      deferred = [];
      continue;
    }
    const held = sim.blocker(next, chosen);
    if (held) {
      deferred.push({ ch: next, needsRestart: held.needsRestart });
      continue;
    }
    remaining--;
    sim.install(next.c);
    for (const d of dependents.get(next.c.kb) ?? []) {
      const left = unmet.get(d.c.kb)! - 1;
      unmet.set(d.c.kb, left);
      if (left === 0) heap.push(d);
    }
    steps.push({
      n: steps.length + 1,
      action: 'install',
      kb: next.c.kb,
      // the name on the media comes from verified metadata, never from the name the file arrived under
      file: publishedFileName(family, next.c.kb, ARCH_FILE[next.c.payload.architecture], next.c.payload.format),
      sha256: next.c.payload.sha256,
      kind: next.c.role,
      reason: explain(next, base),
      ...switchesFor(next.c, assumptions),
      stateAfter: { ...sim.state },
      ...(next.requiresEsu ? { requiresEsu: true } : {}),
    });
  }
}

/**
 * An executable runs with the silent switches the knowledge base records for its KB. Without
 * them install.cmd has nothing unattended to run it with: the step carries no switches and the
 * plan says so, rather than guessing switches an installer may not know.
 */
function switchesFor(c: Candidate, assumptions: string[]): { switches?: string[] } {
  if (c.payload.format !== 'exe') return {};
  const switches = c.fact?.silentSwitches ?? null;
  if (switches === null) {
    assumptions.push(`${c.kb} (${c.payload.fileName}) is an executable and the knowledge base records no silent switches for it: install.cmd would start it without any, and it may wait for someone at the console`);
    return {};
  }
  return { switches: [...switches] };
}

function finalRestart(sim: SimulatedHost, family: KbFamily, steps: PlanStep[], addRestart: (reason: string) => void): void {
  if (!sim.state.rebootPending || !steps.some((s) => s.action === 'install')) return;
  const asking = sim.sinceRestart.filter((c) => asksForRestart(c, family)).map((c) => c.kb);
  const shown = asking.length > 8 ? `${asking.slice(0, 8).join(', ')} and ${asking.length - 8} more` : asking.join(', ');
  addRestart(asking.length > 0 ? `${shown} ${asking.length === 1 ? 'asks' : 'ask'} for a restart to finish installing` : 'finish the updates installed so far');
}

function explain(ch: Chosen, base: Baseline): string {
  const c = ch.c;
  const parts = [`${roleLabel(c.role)}${c.released ? ` (${c.released})` : ''}`];
  for (const w of ch.why) parts.push(w);
  if (ch.neededBy.size > 0) parts.push(`prerequisite of ${listKbs([...ch.neededBy])}`);
  for (const [older, by] of ch.standsFor) parts.push(`replaces ${older}, which ${by} requires`);
  const required = [...new Set(ch.deps.filter((d) => !d.recommended).map((d) => d.kb))];
  if (required.length > 0) parts.push(`after ${listKbs(required)}`);
  const recommended = [...new Set(ch.deps.filter((d) => d.recommended && !required.includes(d.kb)).map((d) => d.kb))];
  if (recommended.length > 0) parts.push(`after ${listKbs(recommended)} (a recommended order, not a prerequisite)`);
  if (c.payload.signatures === 'sha2-only') parts.push('signed with SHA-2 only');
  if (ch.requiresEsu) parts.push('needs an activated ESU key');
  if (c.fact?.setsBuild != null && (base.build === null || c.fact.setsBuild > base.build)) parts.push(`moves the build to ${c.fact.setsBuild}`);
  return parts.join('; ');
}

/** "KB1, KB2" — or, for the thousand hotfixes that all need SHA-2 support, the first few and a count. */
function listKbs(kbs: string[]): string {
  const sorted = [...kbs].sort();
  return sorted.length > 6 ? `${sorted.slice(0, 5).join(', ')} and ${sorted.length - 5} more` : sorted.join(', ');
}

/** A binary min-heap: the scheduler pops the best installable payload in O(log n). */
class MinHeap<T> {
  private readonly items: T[] = [];
  constructor(private readonly less: (a: T, b: T) => number) {}

  push(x: T): void {
    const a = this.items;
    a.push(x);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.less(a[i], a[p]) >= 0) break;
      [a[i], a[p]] = [a[p], a[i]];
      i = p;
    }
  }

  pop(): T | undefined {
    const a = this.items;
    if (a.length === 0) return undefined;
    const top = a[0];
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.less(a[l], a[m]) < 0) m = l;
        if (r < a.length && this.less(a[r], a[m]) < 0) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m], a[i]];
        i = m;
      }
    }
    return top;
  }
}
