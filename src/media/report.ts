import fs = require('node:fs');
import path = require('node:path');
import { createHash } from 'node:crypto';
import { describeIoError, inputError } from '../errors';
import { readRegularFile } from '../io/regular-file';
import { isIncompleteCause, isPlanGoal, type IncompleteCause } from '../planner/causes';
import { goalQualifier, incompleteReasons } from '../planner/present';
import type { HostInventory, HostPlan, PlanGoal, PlanStep } from '../planner/types';
import { endReasonText, hex32, interpretExitCode, scriptMeaningText, scriptWritesLine } from './exit-codes';
import { MEDIA } from './layout';
import { type MediaManifest } from './manifest';
import { readManifest, signatureVerdict, type IntegrityOptions, type SignatureVerdict } from './media-integrity';
import { planIdOf } from './plan-identity';
import { parseResultLog, type EndRecord, type ResultLog, type ResultRecord, type RunRecord } from './result-log';

/**
 * report: the result logs brought back on the medium, held against the plans staged on it.
 *
 * Nothing is believed that the medium cannot prove: the hosts and their plan.json come from the
 * signed manifest (a plan.json whose SHA-256 is not the manifest's is "plan-altered", and its
 * results are not read); a result counts only when its plan id, step, KB and action all match
 * the staged plan; an update counts as installed only when install.cmd found it on the host.
 * Results of other plans (an earlier staging of the same stick) are listed as history.
 */

export type StepStatus = 'installed' | 'skipped' | 'failed' | 'restart-pending' | 'unconfirmed' | 'not-reached';
/**
 * `complete`: every step of a complete plan installed and found on the host. `finished-incomplete-plan`:
 * the same, but the plan was staged incomplete (--allow-incomplete), so the host still lacks what the
 * plan could not bring. `not-applicable`: every step ran, but an installer said a planned update does
 * not apply, so the host does not have an update its plan says it needs. `test-build`: the results
 * come from a script staged with --test-build, whose installers, hasher and host facts may be test
 * stand-ins: whatever its steps say, they prove nothing about a real host (judged as real only
 * with allowTestBuild, for cabferry's own tests). `plan-unproven`: what would be `complete`, on a
 * medium whose plans are not proven (a signature that does not verify, or none and no --allow-unsigned):
 * the steps are those of a plan.json nobody vouches for, so the results cannot be measured against
 * the plan that was staged.
 */
export type HostStatus =
  | 'complete' | 'finished-incomplete-plan' | 'not-applicable' | 'test-build' | 'restart-pending' | 'failed' | 'refused' | 'in-progress' | 'unconfirmed' | 'not-run' | 'plan-altered' | 'plan-unproven';

export interface StepReport {
  n: number;
  action: 'install' | 'reboot';
  kb: string | null;
  file: string | null;
  status: StepStatus;
  code: number | null;
  codeHex: string | null;
  meaning: string | null;
  /** what install.cmd found on the host: yes, pending (restart outstanding), no, n/a; null when not reached */
  confirmed: ResultRecord['confirmed'];
  explanation: string | null;
  time: string | null;
}

/** Results on the medium that belong to another plan than the staged one. */
export interface PlanResults {
  /** the plan id the lines carry; null for logs written before plans had ids */
  planId: string | null;
  /** relative to the medium root */
  path: string;
  runs: number;
  lastRun: string | null;
  /** KBs that plan's script found installed on the host */
  confirmedInstalled: string[];
  results: number;
}

export interface HostReport {
  host: string;
  planId: string | null;
  status: HostStatus;
  /**
   * why the script refused or stopped, from the END line that closed its last run; why the plan is
   * not believed; for a finished incomplete plan, what it lacks (`planIncomplete` in words); or, when
   * every step is done but the last run ended for a restart, that
   */
  reason: string | null;
  /** what the staged plan was made to reach (a --target plan's "complete" is complete for its targets only); null from an older cabferry */
  goal: PlanGoal | null;
  /** why the staged plan itself was not complete (staged with --allow-incomplete), as the planner said; empty for a complete plan */
  planIncomplete: IncompleteCause[];
  runs: number;
  lastRun: string | null;
  /** the script was a --test-build (its results prove nothing about a real host) */
  testBuild: boolean;
  steps: StepReport[];
  counts: Record<StepStatus, number>;
  unreadableLines: number;
  /**
   * lines in this plan's log not counted for it: result lines that carry another plan id or a
   * step/KB/action the plan does not have, and lines of this plan that name another host than the plan's
   */
  unmatchedLines: number;
  history: PlanResults[];
}

export interface MediaReport {
  dir: string;
  integrity: SignatureVerdict;
  hosts: HostReport[];
  /** the staged plans are proven and every host is complete: every host finished the plan staged for it (the exit code is 0 exactly then) */
  ok: boolean;
  /**
   * ok, and every host's plan was made to bring it current against the newest updates known: false
   * when a host's "complete" is for --target KBs only, or its plan (of an older cabferry) does not
   * say what it was made to reach (completeForLess). What a script asking "is every
   * host patched?" reads: ok says only that every host did what its plan asked.
   */
  allCurrent: boolean;
}

/**
 * The anchors for manifest.json.p7s (without any the plans are not proven), and whether an
 * unsigned medium is accepted (its plans are then only as good as manifest.json): media-integrity.ts.
 */
export interface ReportOptions extends IntegrityOptions {
  /** judge the results of --test-build scripts as if they came from real hosts (cabferry's own tests) */
  allowTestBuild?: boolean;
}

/** The meanings that say an update was installed (its `confirmed` decides whether it counts). */
const INSTALLED = new Set(['installed', 'reboot-required', 'reboot-initiated', 'already-installed', 'confirmed-on-host']);
const SKIPPED = new Set(['not-applicable']);

export function reportMedia(dir: string, options: ReportOptions): MediaReport {
  const root = path.resolve(dir);
  const { manifest, bytes } = readManifest(root);
  if (isSymlink(path.join(root, MEDIA.hosts)) || isSymlink(path.join(root, MEDIA.results))) {
    throw inputError('MEDIA_SYMLINK', `${MEDIA.hosts}/ or ${MEDIA.results}/ is a symbolic link: a medium cabferry staged has none; not read`, { file: root });
  }
  const integrity = signatureVerdict(root, bytes, options);
  const hosts = manifest.hosts.map((h) => reportHost(root, h.name, manifest, options.allowTestBuild === true, integrity));
  const ok = integrity.proven && hosts.length > 0 && hosts.every((h) => h.status === 'complete');
  return { dir: root, integrity, hosts, ok, allCurrent: ok && !hosts.some(completeForLess) };
}

function reportHost(root: string, name: string, manifest: MediaManifest, allowTestBuild: boolean, integrity: SignatureVerdict): HostReport {
  const staged = readStagedPlan(root, name, manifest);
  const history = resultsOnMedium(root, name).filter((r) => !isStagedPlanLog(r, name, staged.planId));
  if (staged.plan === null) {
    return {
      host: name, planId: null, status: 'plan-altered', reason: staged.problem, goal: null, planIncomplete: [], runs: 0, lastRun: null, testBuild: false,
      steps: [], counts: emptyCounts(), unreadableLines: 0, unmatchedLines: 0, history,
    };
  }
  const { plan, planId } = staged as { plan: HostPlan; planId: string };
  const log = readLog(root, path.join(root, MEDIA.results, name, planId, 'result.log'));
  const ofPlan = (r: { plan: string | null }) => r.plan === planId;
  const counted = writtenFor(planId, plan.host);
  const mine = (log?.results ?? []).filter(counted);
  const runs = (log?.runs ?? []).filter(counted);
  const steps = plan.steps.map((s) => stepReport(s, mine, runs, plan.steps));
  const matched = mine.filter((r) => plan.steps.some((s) => accountedFor(s, r)));
  const counts = emptyCounts();
  for (const s of steps) counts[s.status]++;
  const ends = (log?.ends ?? []).filter(counted);
  const notRun = runs.length === 0 && ends.length === 0;
  const { complete: planComplete, incomplete: planIncomplete } = stagedVerdict(plan);
  // any line of the plan marks a test build, whichever host it names: the mark can only make the host count for less
  const testBuild = [...(log?.runs ?? []), ...(log?.ends ?? []), ...(log?.results ?? [])].some((r) => ofPlan(r) && r.script === 'test');
  // RUN and END lines of this plan that name another host are not counted either, and said to be so
  const foreign = [...(log?.runs ?? []), ...(log?.ends ?? [])].filter((r) => ofPlan(r) && !counted(r)).length;
  const closing = closingEnd(runs, mine, ends);
  const status = hostStatus(notRun, closing, counts, steps.length, planComplete, testBuild && !allowTestBuild, integrity.proven);
  return {
    host: plan.host,
    planId,
    status,
    reason: hostReason(status, planIncomplete, closing, counts, integrity),
    goal: plan.goal ?? null,
    planIncomplete,
    runs: runs.length,
    lastRun: runs.at(-1)?.time ?? null,
    testBuild,
    steps,
    counts,
    unreadableLines: log?.unreadable.length ?? 0,
    unmatchedLines: (log?.results.length ?? 0) - matched.length + foreign,
    history,
  };
}

/** What a host's status is said with: what a finished incomplete plan lacks, why a test build counts for nothing, else why the script refused or stopped. */
function hostReason(status: HostStatus, planIncomplete: IncompleteCause[], end: EndRecord | null, counts: Record<StepStatus, number>, integrity: SignatureVerdict): string | null {
  if (status === 'plan-unproven') return `every step of the plan.json on the medium is done and found on the host, but the medium does not prove that plan is the one staged (${integrity.reason ?? integrity.status})`;
  if (status === 'finished-incomplete-plan') return planIncomplete.length > 0 ? incompleteReasons({ incomplete: planIncomplete }).join('; ') : 'the plan was staged incomplete';
  if (status === 'test-build') return 'the results come from a script staged with --test-build, which honours test hooks (stand-in installers, hasher and host facts): they prove nothing about a real host';
  // every step may be installed and found on the host, yet the run stopped for a restart: only the run after it ends complete
  // (a restart the script gave a reason for, an update the plan rests on still pending, says that reason)
  if (status === 'restart-pending' && counts['restart-pending'] === 0 && !end?.reason) return 'the last run of install.cmd ended asking for a restart: restart the host and run install.cmd again';
  return end?.reason ?? null;
}

/** A host's reason as report's text and the fleet page show it: an END line's reason with what it means. */
export function hostReasonText(reason: string): string {
  const meaning = endReasonText(reason);
  return meaning === undefined ? reason : `${reason}: ${meaning}`;
}

/**
 * What "complete" is measured against, beside a complete host's status when it is less than current
 * (completeForLess: a --target plan's, or an older cabferry's plan that does not say): empty otherwise.
 */
export function completeQualifier(h: Pick<HostReport, 'status' | 'goal'>): string {
  if (!completeForLess(h)) return '';
  return h.goal === null ? ` ${completeForLessText(null)}: it may have been a --target plan, the host may not be current` : goalQualifier(h.goal);
}

/**
 * Whether a plan's goal makes "complete" mean current against the newest updates known: a plan for
 * the newest updates (or --security-only) is; a --target plan is complete for its targets only; a
 * plan.json of an older cabferry has no goal, and nothing then says it was not a --target plan.
 */
export function goalMeansCurrent(goal: PlanGoal | null): boolean {
  return goal !== null && goal.kind !== 'target';
}

/** A complete host whose "complete" is not "current" (goalMeansCurrent): what a fleet's summary must say beside "complete". */
export function completeForLess(h: Pick<HostReport, 'status' | 'goal'>): boolean {
  return h.status === 'complete' && !goalMeansCurrent(h.goal);
}

/** Why a complete host is not known current (completeForLess), short enough to stand beside its name in a fleet's summary. */
export function completeForLessText(goal: PlanGoal | null): string {
  if (goal === null) return 'for its plan, which does not say what it was made to reach (staged by an older cabferry)';
  return goal.kind === 'target' ? `for --target ${goal.kbs.join(', ')} only` : '';
}

/**
 * The fleet's verdict in words, the same at the top of report's text and of the fleet page: a
 * fleet whose hosts finished --target plans is "complete for its plan", never "every host
 * complete", and the hosts that may not be current are named.
 */
export function fleetVerdictText(r: Pick<MediaReport, 'integrity' | 'ok' | 'hosts'>): string {
  if (!r.integrity.proven) return 'PLANS NOT PROVEN: no host can be called complete';
  const less = r.hosts.filter(completeForLess);
  if (less.length === 0) return r.ok ? 'every host complete' : 'not every host is complete';
  const head = r.ok ? 'every host complete for its plan' : 'not every host is complete';
  const which = less.map((h) => `${h.host} ${completeForLessText(h.goal)}`).join('; ');
  return `${head}; ${less.length === 1 ? 'one complete host is' : `${less.length} complete hosts are`} NOT checked against the newest updates known and may not be current: ${which}`;
}

/** Whether a line was written for the plan `planId` on `host`: its plan id, and its host= (sameHost). */
function writtenFor(planId: string, host: string): (r: { plan: string | null; host: string }) => boolean {
  return (r) => r.plan === planId && sameHost(r.host, host);
}

/**
 * Whether a line's host= is the plan's host. install.cmd writes the plan's host name into every
 * line, after checking that it is the computer's name (%COMPUTERNAME%, compared as cmd's if /i does):
 * a line naming another host was not written by this plan's script on its host.
 */
function sameHost(lineHost: string, planHost: string): boolean {
  return lineHost.toLowerCase() === planHost.toLowerCase();
}

/** A result belongs to a planned step when step number, action and KB agree (a reboot step's restart record included). */
function recordMatches(s: PlanStep, r: ResultRecord): boolean {
  if (r.step !== s.n) return false;
  if (s.action === 'reboot') return (r.action === 'reboot' || r.action === 'restart') && r.kb === null;
  return r.action === 'install' && r.kb !== null && s.kb !== null && r.kb.toUpperCase() === s.kb.toUpperCase();
}

/**
 * A result line that belongs to a planned step: one of its own (recordMatches), or the restart an
 * install step asked for (3010), which install.cmd logs under that step's number as action restart,
 * kb -. That line is not the install's result: the step is judged by its install lines.
 */
function accountedFor(s: PlanStep, r: ResultRecord): boolean {
  return recordMatches(s, r) || (r.step === s.n && r.action === 'restart' && r.kb === null);
}

function stepReport(s: PlanStep, results: ResultRecord[], runs: RunRecord[], planSteps: PlanStep[]): StepReport {
  const r = results.filter((x) => recordMatches(s, x)).at(-1);
  if (r === undefined) return { n: s.n, action: s.action, kb: s.kb, file: s.file, status: 'not-reached', code: null, codeHex: null, meaning: null, confirmed: null, explanation: null, time: null };
  // A reboot step is there for the installs before it: its restart counts only when it came after the
  // last install of every step before it, which is to say in a later run (no restart happens within a
  // run, and install.cmd proves one only as a run's first act). An update rolled back at the restart and
  // installed again after it, before a reboot-done in the same run or after one, leaves the restart the
  // plan demands still to come - install.cmd asks for it again (:step_reboot_recheck, :restart_shown)
  if (s.action === 'reboot' && stepStatus(r) === 'installed') {
    const lastInstall = results.filter((x) => x.action === 'install' && installerInstalled(x) && planSteps.some((p) => p.n < s.n && recordMatches(p, x))).at(-1);
    if (lastInstall !== undefined && !runBetween(runs, lastInstall, r)) {
      return stepOfRecord(s, r, 'restart-pending', `${explain(r)}, but step ${lastInstall.step} was installed after that restart (or in the same run as it): the restart it stands for has not happened since`);
    }
    // ... and before the installs after it: a later step installed before this restart was shown went in
    // on the operator's word (/restarted), the only way past a reboot step, and no restart shown since
    // can be the one the plan put between them. install.cmd ends such a run unconfirmed (:restart_late)
    const early = installedBefore(r, lastInstall, results, planSteps.filter((p) => p.n > s.n));
    if (early.length > 0) {
      return stepOfRecord(s, r, 'unconfirmed', `${explain(r)}, but step ${early.join(', ')} was installed before it, on the operator's word that the host had restarted (install.cmd /restarted): nothing shows that restart happened before them`);
    }
  }
  // an install step is judged by what the host said of its update; the restart it asked for, when
  // only the operator vouched for it, is said beside that
  const restarts = results.filter((x) => accountedFor(s, x) && !recordMatches(s, x) && believed(x));
  const restartStated = s.action === 'install' && restarts.some((x) => x.meaning === 'reboot-stated');
  const explanation = restartStated ? `${explain(r)}; the restart it asked for was stated by the operator (install.cmd /restarted), not proven` : explain(r);
  let status = stepStatus(r);
  // An installer that asked for a restart (3010) with the update already listed (confirmed=yes, before
  // any restart): the listing says nothing of the restart, so only the host's own evidence of it after
  // that line counts - a proven restart of the step (reboot-done), or confirmed-on-host, which would be
  // the step's last line. The operator's word (reboot-stated) leaves the step unconfirmed, as it leaves a
  // reboot step; no restart line yet, the restart is still to come. install.cmd ends such a run
  // unconfirmed (restart-stated) after asking once more for a restart it can prove (restart-reasked).
  if (status === 'installed' && s.action === 'install' && asksRestart(r)) {
    const after = restarts.filter((x) => x.line > r.line);
    if (!after.some(provenRestart) && !provenInLaterRun(r, results, runs)) {
      // the operator's word, or an older install.cmd's reboot-done on a weaker proof: a restart said, not shown
      status = after.some((x) => x.meaning === 'reboot-stated' || x.meaning === 'reboot-done') ? 'unconfirmed' : 'restart-pending';
      const shown = status === 'unconfirmed'
        ? 'nothing on the host shows that restart happened (only the operator stated it, or an older install.cmd logged it without the ShutdownTime proof), and the update was listed before it: NOT counted as installed'
        : 'the restart it asked for has not been shown yet';
      return stepOfRecord(s, r, status, `${explain(r)}; ${shown}`);
    }
  }
  return stepOfRecord(s, r, status, explanation);
}

/**
 * The steps among `later` whose last installer run that installed (installerInstalled) came after
 * `since` (the last install before a reboot step; the start of the log when none) and before `r`,
 * the restart that reboot step counts. The last install only, as install.cmd's :restart_lines keeps
 * it: an update installed again after the restart went in after it.
 */
function installedBefore(r: ResultRecord, since: ResultRecord | undefined, results: ResultRecord[], later: PlanStep[]): number[] {
  return later.filter((p) => {
    const last = results.filter((x) => installerInstalled(x) && recordMatches(p, x)).at(-1);
    return last !== undefined && last.line > (since?.line ?? 0) && last.line < r.line;
  }).map((p) => p.n);
}

/** A planned step's report from the result line that decides it, with the status and words it was given. */
function stepOfRecord(s: PlanStep, r: ResultRecord, status: StepStatus, explanation: string): StepReport {
  return { n: s.n, action: s.action, kb: s.kb, file: s.file, status, code: r.code, codeHex: r.code === null ? null : hex32(r.code), meaning: r.meaning, confirmed: r.confirmed, explanation, time: r.time };
}

/**
 * Whether a run began between two lines of the log: after `earlier`, before `later`. No restart
 * happens within a run, and install.cmd proves one only as the first thing a run does, so a restart
 * line is after an install line only when a run began between them.
 */
function runBetween(runs: RunRecord[], earlier: { line: number }, later: { line: number }): boolean {
  return runs.some((run) => run.line > earlier.line && run.line < later.line);
}

/**
 * A believed install line of an installer's run that installed its update, or says so (an exit code whose
 * update is on the host after it: not "not applicable", not a failure); not the script's own lines, such
 * as confirmed-on-host, which installs nothing. install.cmd's CF_INSTALLED is set on the same runs.
 */
function installerInstalled(r: ResultRecord): boolean {
  if (r.action !== 'install' || r.code === null || !believed(r)) return false;
  const c = interpretExitCode(r.code);
  return c.meaning === r.meaning && c.presentAfter;
}

/**
 * A restart the host showed: reboot-done with how=shutdown, Windows' ShutdownTime changed since the
 * request (install.cmd's :check_restart). An older install.cmd wrote reboot-done with how=- on weaker
 * proofs too (the boot time unknown when it asked, or one moved by the clock), and its lines cannot
 * say which: none of them is counted as a restart that happened.
 */
function provenRestart(r: ResultRecord): boolean {
  return r.meaning === 'reboot-done' && r.how === 'shutdown';
}

/**
 * Whether a proven restart (provenRestart), logged under any step, came in a run after the one that
 * wrote `r`: install.cmd proves a restart only as the first thing a run does, so such a line shows a
 * clean restart after `r`. The restart a 3010 asked for is logged under its own step only when its
 * await line was written; one lost on a full medium is settled by the next restart the host shows,
 * which install.cmd logs under whatever step asked for it (:restart_owed counts any, as this does).
 */
function provenInLaterRun(r: ResultRecord, results: ResultRecord[], runs: RunRecord[]): boolean {
  return results.some((x) => x.line > r.line && believed(x) && provenRestart(x) && runBetween(runs, r, x));
}

/** A believed install line whose installer asked for a restart after installing (3010, 1641, ...: the exit code table's outcome reboot). */
function asksRestart(r: ResultRecord): boolean {
  return r.action === 'install' && r.code !== null && believed(r) && interpretExitCode(r.code).outcome === 'reboot';
}

/**
 * A line install.cmd does not write (an installer's meaning beside another code, a restart's word on
 * an install step, the script's own word with a code it never writes beside it) says nothing about
 * the host: it is not believed, whatever its confirmed= says.
 */
function believed(r: ResultRecord): boolean {
  return scriptWritesLine(r.action, r.meaning, r.code);
}

function stepStatus(r: ResultRecord): StepStatus {
  if (!believed(r)) return 'unconfirmed';
  if (r.meaning === 'reboot-requested') return 'restart-pending';
  if (r.meaning === 'reboot-done') return provenRestart(r) ? 'installed' : 'unconfirmed';
  // the operator's word that the host restarted, where install.cmd could not prove it: never a restart that happened
  if (r.meaning === 'reboot-stated') return 'unconfirmed';
  if (SKIPPED.has(r.meaning)) return 'skipped';
  if (r.meaning === 'not-on-host') return 'unconfirmed';
  if (INSTALLED.has(r.meaning)) {
    if (r.confirmed === 'yes') return 'installed';
    if (r.confirmed === 'pending') return 'restart-pending';
    return 'unconfirmed';
  }
  return 'failed';
}

/** A believed result's meaning in words: the script's own, or its installer's exit code's. */
function meaningText(r: ResultRecord): string {
  return scriptMeaningText(r.meaning) ?? (r.code === null ? r.meaning : interpretExitCode(r.code).explanation);
}

/** Why a line is not believed: what it says, and what install.cmd writes for its exit code instead. */
function notWrittenText(r: ResultRecord): string {
  const instead = r.action === 'install' && r.code !== null ? ` (for exit code ${r.code} it writes "${interpretExitCode(r.code).meaning}")` : '';
  return `install.cmd writes no ${r.action} line with "${r.meaning}" and exit code ${r.code ?? '-'}${instead}: not believed, the step is not counted`;
}

function explain(r: ResultRecord): string {
  if (!believed(r)) return notWrittenText(r);
  const base = meaningText(r);
  if (r.meaning === 'reboot-done' && !provenRestart(r)) return `${base}, logged by an install.cmd older than its ShutdownTime proof (how=${r.how ?? '-'}), which logged restarts on weaker proofs too: NOT counted as a restart that happened (run today's install.cmd: it judges that restart again)`;
  if (SKIPPED.has(r.meaning)) return `${base}; NOT installed, though the plan says the host needs it (collect a new inventory and plan again)`;
  if (!INSTALLED.has(r.meaning)) return base;
  if (r.confirmed === 'yes') return `${base}; found on the host${r.how ? ` (${r.how})` : ''}`;
  if (r.confirmed === 'pending') return `${base}; on the host, waiting for a restart`;
  return `${base}; NOT found on the host`;
}

/**
 * The END line that closed this plan's last run: its last END, when no RUN or RESULT line of the
 * plan comes after it in the log; null while the last run has not ended (install.cmd writes an END
 * on every way out of a run that wrote a line, so none after the last line means it was cut off).
 */
function closingEnd(runs: RunRecord[], results: ResultRecord[], ends: EndRecord[]): EndRecord | null {
  const end = ends.at(-1);
  if (end === undefined) return null;
  const lastLine = [...runs, ...results].reduce((n, r) => Math.max(n, r.line), 0);
  return end.line > lastLine ? end : null;
}

function hostStatus(notRun: boolean, end: EndRecord | null, counts: Record<StepStatus, number>, total: number, planComplete: boolean, judgedAsTestBuild: boolean, plansProven: boolean): HostStatus {
  // a test build's results prove nothing about a real host, whatever its steps say
  if (judgedAsTestBuild) return 'test-build';
  if (notRun) return 'not-run';
  // Only a run that ended complete says install.cmd got through every step and found each update
  // on the host: steps all installed with the last run ended for a restart (a last step's 3010), or
  // not ended at all, are not a finished host. A plan without steps has no result line to judge:
  // such a run also got through install.cmd's checks of the host (its name, architecture, Windows
  // version and build, and the updates the plan took as installed). Refused or stopped, it proves nothing.
  if (end?.status === 'complete' && counts.installed === total) {
    if (!planComplete) return 'finished-incomplete-plan';
    // complete against what? Only a proven plan says what the host was to get
    return plansProven ? 'complete' : 'plan-unproven';
  }
  // the planner planned the update because the host lacks it; "does not apply" leaves it lacking
  // (install.cmd ends such a run not-applicable)
  if ((end?.status === 'not-applicable' || end?.status === 'complete') && counts.skipped > 0 && counts.installed + counts.skipped === total) return 'not-applicable';
  if (end === null) return 'in-progress';
  if (end.status === 'refused') return 'refused';
  if (counts.failed > 0 && end.status === 'stopped') return 'failed';
  if (end.status === 'restart' || counts['restart-pending'] > 0) return 'restart-pending';
  if (end.status === 'stopped') return 'failed';
  if (end.status === 'unconfirmed' || (counts.unconfirmed > 0 && counts['not-reached'] === 0)) return 'unconfirmed';
  return 'in-progress';
}

function emptyCounts(): Record<StepStatus, number> {
  return { installed: 0, skipped: 0, failed: 0, 'restart-pending': 0, unconfirmed: 0, 'not-reached': 0 };
}

interface StagedPlan { plan: HostPlan | null; planId: string | null; problem: string | null }

/** hosts/NAME/plan.json, believed only when it is byte for byte what the manifest lists and its id is its own. */
export function readStagedPlan(root: string, name: string, manifest: MediaManifest): StagedPlan {
  const rel = `${MEDIA.hosts}/${name}/plan.json`;
  const file = path.join(root, MEDIA.hosts, name, 'plan.json');
  const entry = manifest.files.find((f) => f.path === rel);
  if (entry === undefined) return { plan: null, planId: null, problem: `${rel} is not in the manifest` };
  if (!fs.existsSync(file) && !isSymlink(file)) return { plan: null, planId: null, problem: `${rel} is missing` };
  const bytes = readMediumFile(root, file, MAX_PLAN_BYTES, 'plan.json');
  if (createHash('sha256').update(bytes).digest('hex') !== entry.sha256 || bytes.length !== entry.size) {
    return { plan: null, planId: null, problem: `${rel} is not the staged plan: its SHA-256 differs from the manifest's` };
  }
  let doc: { planId?: unknown; host?: HostInventory; plan?: HostPlan } | null;
  try {
    doc = JSON.parse(bytes.toString('utf8')) as typeof doc;
  } catch {
    // the parser's message quotes the content: never echoed (the file may be anything)
    throw inputError('MEDIA_PLAN_UNREADABLE', 'plan.json is not valid JSON', { file });
  }
  if (doc === null || typeof doc !== 'object') throw inputError('MEDIA_PLAN_UNREADABLE', 'plan.json has no host and plan with steps', { file });
  const plan = doc.plan;
  if (!plan || typeof plan.host !== 'string' || !Array.isArray(plan.steps)) {
    throw inputError('MEDIA_PLAN_UNREADABLE', 'plan.json has no plan with host and steps', { file });
  }
  plan.steps.forEach((step: unknown, i: number) => {
    const st = step as { n?: unknown; action?: unknown; kb?: unknown; file?: unknown } | null;
    const ok = typeof st === 'object' && st !== null && Number.isSafeInteger(st.n) && (st.action === 'install' || st.action === 'reboot')
      && (st.kb === null || st.kb === undefined || typeof st.kb === 'string') && (st.file === null || st.file === undefined || typeof st.file === 'string');
    if (!ok) throw inputError('MEDIA_PLAN_UNREADABLE', `plan.json step ${i + 1} is not a step (needs a number n and action install or reboot)`, { file });
  });
  checkPlanVerdict(plan, file);
  if (!doc.host || typeof doc.host !== 'object') return { plan: null, planId: null, problem: `${rel} has no host inventory, so no plan id: not a plan this cabferry staged` };
  const planId = planIdOf(doc.host, plan);
  if (doc.planId !== planId) return { plan: null, planId: null, problem: `${rel} states plan id ${String(doc.planId)}, its content is plan ${planId}` };
  return { plan, planId, problem: null };
}

/**
 * Whether a staged plan (readStagedPlan) was complete, and why not: complete only when it says so
 * and names no reason it is not. A plan.json of an older cabferry may lack `incomplete`: then only
 * `complete` says whether it was.
 */
export function stagedVerdict(plan: HostPlan): { complete: boolean; incomplete: IncompleteCause[] } {
  const incomplete = Array.isArray(plan.incomplete) ? plan.incomplete : [];
  return { complete: plan.complete === true && incomplete.length === 0, incomplete };
}

/**
 * What report and verify-media say of a staged plan besides its steps: whether it is complete, why
 * not, its goal. Each is worded as is (present.ts), so each must be what the planner writes: on an
 * unsigned medium a plan.json whose id is its own can still hold anything.
 */
function checkPlanVerdict(plan: HostPlan, file: string): void {
  const unreadable = (what: string) => inputError('MEDIA_PLAN_UNREADABLE', `plan.json ${what}`, { file });
  const p = plan as unknown as Record<string, unknown>;
  if (p.complete !== undefined && typeof p.complete !== 'boolean') throw unreadable('"complete" is not true or false');
  // (a plan.json of an older cabferry may lack `incomplete` and `goal`)
  if (p.incomplete !== undefined) {
    if (!Array.isArray(p.incomplete)) throw unreadable('"incomplete" is not a list');
    p.incomplete.forEach((c: unknown, i: number) => {
      if (!isIncompleteCause(c)) throw unreadable(`"incomplete" item ${i + 1} is not a reason cabferry gives`);
    });
  }
  if (p.goal !== undefined && p.goal !== null && !isPlanGoal(p.goal)) throw unreadable('"goal" is not a goal cabferry plans for');
}

/**
 * Whether the last run of the plan `planId` on `host` recorded on the medium (results/HOST/PLANID/
 * result.log) ended complete: the END that closed it says so. Stage asks it of a plan staged again.
 */
export function planRunEndedComplete(root: string, host: string, planId: string): boolean {
  const log = readLog(root, path.join(root, MEDIA.results, host, planId, 'result.log'));
  if (log === null) return false;
  const counted = writtenFor(planId, host);
  return closingEnd(log.runs.filter(counted), log.results.filter(counted), log.ends.filter(counted))?.status === 'complete';
}

function readLog(root: string, file: string): ResultLog | null {
  return fs.existsSync(file) || isSymlink(file) ? parseResultLog(readMediumFile(root, file, MAX_RESULT_LOG_BYTES, 'result.log').toString('latin1')) : null;
}

/**
 * A staged plan.json is a few KB; a result log grows a few lines per run. Anything far larger was
 * not written by us. A log line is ~200 bytes: a host with 1,400 steps restarting 20 times writes
 * well under 1 MB. Each line read becomes a record of a dozen fields, ~13× the bytes in memory: a
 * 60 MB log took 7 s and 823 MB of memory to report on.
 */
export const MAX_PLAN_BYTES = 16 * 1024 * 1024;
export const MAX_RESULT_LOG_BYTES = 16 * 1024 * 1024;

function isSymlink(p: string): boolean {
  try {
    return fs.lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

/**
 * A file brought back on the medium: a regular file (never a link: O_NOFOLLOW on the file, and
 * its folder must resolve inside the medium), no larger than `maxBytes`. Errors name the file
 * and never quote its content.
 */
function readMediumFile(root: string, file: string, maxBytes: number, what: string): Buffer {
  let realParent: string;
  let realRoot: string;
  try {
    realRoot = fs.realpathSync(root);
    realParent = fs.realpathSync(path.dirname(file));
  } catch (e) {
    throw inputError('MEDIA_FILE_UNREADABLE', `cannot read ${what}: ${describeIoError(e)}`, { file });
  }
  if (realParent !== realRoot && !realParent.startsWith(realRoot + path.sep)) {
    throw inputError('MEDIA_FILE_OUTSIDE', `${what} is reached through a symbolic link that leaves the medium; not read`, { file });
  }
  return readRegularFile(file, { maxBytes, noFollow: true, what });
}

/**
 * Whether a log on the medium is the one report reads for the staged plan: results/HOST/PLAN/result.log,
 * where that plan's install.cmd writes. A copy elsewhere, even with the plan's id in its lines, is
 * not read as the plan's progress (it is listed as history).
 */
export function isStagedPlanLog(r: Pick<PlanResults, 'planId' | 'path'>, host: string, planId: string | null): boolean {
  return planId !== null && r.planId === planId && r.path === `${MEDIA.results}/${host}/${planId}/result.log`;
}

/**
 * Every result log of a host on the medium, whichever plan wrote it: results/HOST/PLAN/result.log,
 * folders stage moved aside, and a result.log directly in results/HOST/ (written before plans had ids).
 * A log's plan is the id its lines carry (the folder name is only where it was found).
 */
export function resultsOnMedium(root: string, host: string): PlanResults[] {
  const hostDir = path.join(root, MEDIA.results, host);
  if (!fs.existsSync(hostDir)) return [];
  const logs: string[] = [];
  const visit = (dir: string, depth: number): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory() && depth < 3) visit(p, depth + 1);
      else if ((e.isFile() || e.isSymbolicLink()) && e.name.toLowerCase() === 'result.log') logs.push(p);
    }
  };
  visit(hostDir, 0);
  const out: PlanResults[] = [];
  for (const file of logs.sort()) {
    const all = parseResultLog(readMediumFile(root, file, MAX_RESULT_LOG_BYTES, 'result.log').toString('latin1'));
    // what another host's lines say is not this host's history
    const ofHost = <T extends { host: string }>(records: T[]): T[] => records.filter((r) => sameHost(r.host, host));
    const log = { runs: ofHost(all.runs), results: ofHost(all.results), ends: ofHost(all.ends) };
    const ids = new Set([...log.runs, ...log.results, ...log.ends].map((r) => r.plan));
    if (ids.size === 0) ids.add(null);
    for (const planId of ids) {
      const results = log.results.filter((r) => r.plan === planId);
      const runs = log.runs.filter((r) => r.plan === planId);
      out.push({
        planId,
        path: path.relative(root, file).split(path.sep).join('/'),
        runs: runs.length,
        lastRun: runs.at(-1)?.time ?? null,
        confirmedInstalled: [...new Set(results.filter((r) => r.confirmed === 'yes' && r.kb !== null).map((r) => r.kb as string))],
        results: results.length,
      });
    }
  }
  return out;
}
