import * as fs from 'node:fs';
import * as path from 'node:path';
import { describeIoError, inputError } from '../errors';
import { readRegularFile } from '../io/regular-file';
import type { HostPlan } from '../planner/types';
import { hex32, interpretExitCode, SCRIPT_MEANINGS } from './exit-codes';
import { MEDIA } from './layout';
import { parseResultLog, type EndRecord, type ResultRecord } from './result-log';

/**
 * report: the result logs brought back on the medium, held against the plans staged on it.
 * Each planned step is installed, skipped (not applicable), failed (with the code and what it
 * means), waiting for a restart, or not reached.
 */

export type StepStatus = 'installed' | 'skipped' | 'failed' | 'restart-pending' | 'not-reached';
export type HostStatus = 'complete' | 'restart-pending' | 'failed' | 'refused' | 'in-progress' | 'not-run';

export interface StepReport {
  n: number;
  action: 'install' | 'reboot';
  kb: string | null;
  file: string | null;
  status: StepStatus;
  code: number | null;
  codeHex: string | null;
  meaning: string | null;
  explanation: string | null;
  time: string | null;
}

export interface HostReport {
  host: string;
  status: HostStatus;
  /** why the script refused or stopped, from its last END line */
  reason: string | null;
  runs: number;
  lastRun: string | null;
  steps: StepReport[];
  counts: Record<StepStatus, number>;
  unreadableLines: number;
}

export interface MediaReport {
  dir: string;
  hosts: HostReport[];
  /** every host complete */
  ok: boolean;
}

const DONE = new Set(['installed', 'reboot-required', 'reboot-initiated', 'already-installed', 'reboot-done']);
const SKIPPED = new Set(['not-applicable']);

export function reportMedia(dir: string): MediaReport {
  const root = path.resolve(dir);
  const hostsDir = path.join(root, MEDIA.hosts);
  if (!fs.existsSync(hostsDir)) {
    throw inputError('MEDIA_NOT_STAGED', `no ${MEDIA.hosts}/ folder: not a cabferry medium`, { file: root });
  }
  if (isSymlink(hostsDir) || isSymlink(path.join(root, MEDIA.results))) {
    throw inputError('MEDIA_SYMLINK', `${MEDIA.hosts}/ or ${MEDIA.results}/ is a symbolic link: a medium cabferry staged has none; not read`, { file: root });
  }
  const names = fs.readdirSync(hostsDir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  const hosts = names.map((name) => reportHost(root, name));
  return { dir: root, hosts, ok: hosts.length > 0 && hosts.every((h) => h.status === 'complete') };
}

function reportHost(root: string, name: string): HostReport {
  const planPath = path.join(root, MEDIA.hosts, name, 'plan.json');
  const plan = readPlan(root, planPath);
  const logPath = path.join(root, MEDIA.results, name, 'result.log');
  const log = fs.existsSync(logPath) || isSymlink(logPath) ? parseResultLog(readMediumFile(root, logPath, MAX_RESULT_LOG_BYTES, 'result.log').toString('latin1')) : null;

  const lastByStep = new Map<number, ResultRecord>();
  for (const r of log?.results ?? []) lastByStep.set(r.step, r);
  const steps: StepReport[] = plan.steps.map((s) => {
    const r = lastByStep.get(s.n);
    const base = { n: s.n, action: s.action, kb: s.kb, file: s.file };
    if (r === undefined) return { ...base, status: 'not-reached', code: null, codeHex: null, meaning: null, explanation: null, time: null };
    return { ...base, status: stepStatus(r), code: r.code, codeHex: hex32(r.code), meaning: r.meaning, explanation: explain(r), time: r.time };
  });
  const counts: Record<StepStatus, number> = { installed: 0, skipped: 0, failed: 0, 'restart-pending': 0, 'not-reached': 0 };
  for (const s of steps) counts[s.status]++;
  const lastEnd: EndRecord | undefined = log?.ends.at(-1);
  return {
    host: plan.host,
    status: hostStatus(log === null, lastEnd, counts, steps.length),
    reason: lastEnd?.reason ?? null,
    runs: log?.runs.length ?? 0,
    lastRun: log?.runs.at(-1)?.time ?? null,
    steps,
    counts,
    unreadableLines: log?.unreadable.length ?? 0,
  };
}

function stepStatus(r: ResultRecord): StepStatus {
  if (r.meaning === 'reboot-requested') return 'restart-pending';
  if (DONE.has(r.meaning)) return 'installed';
  if (SKIPPED.has(r.meaning)) return 'skipped';
  return 'failed';
}

function explain(r: ResultRecord): string {
  if (r.action === 'install' && !(r.meaning in SCRIPT_MEANINGS)) return interpretExitCode(r.code).explanation;
  return SCRIPT_MEANINGS[r.meaning] ?? r.meaning;
}

function hostStatus(notRun: boolean, end: EndRecord | undefined, counts: Record<StepStatus, number>, total: number): HostStatus {
  if (notRun) return 'not-run';
  if (counts.installed + counts.skipped === total) return 'complete';
  if (end?.status === 'refused') return 'refused';
  if (counts.failed > 0 && end?.status === 'stopped') return 'failed';
  if (end?.status === 'restart' || counts['restart-pending'] > 0) return 'restart-pending';
  if (end?.status === 'stopped') return 'failed';
  return 'in-progress';
}

/** A staged plan.json is a few KB; a result log grows a few lines per run. Anything far larger was not written by us. */
export const MAX_PLAN_BYTES = 16 * 1024 * 1024;
export const MAX_RESULT_LOG_BYTES = 64 * 1024 * 1024;

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

function readPlan(root: string, file: string): HostPlan {
  const bytes = readMediumFile(root, file, MAX_PLAN_BYTES, 'plan.json');
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch {
    // the parser's message quotes the content: never echoed (the file may be anything)
    throw inputError('MEDIA_PLAN_UNREADABLE', 'plan.json is not valid JSON', { file });
  }
  const plan = (doc as { plan?: HostPlan } | null)?.plan;
  if (!plan || typeof plan.host !== 'string' || !Array.isArray(plan.steps)) {
    throw inputError('MEDIA_PLAN_UNREADABLE', 'plan.json has no plan with host and steps', { file });
  }
  plan.steps.forEach((step: unknown, i: number) => {
    const s = step as { n?: unknown; action?: unknown; kb?: unknown; file?: unknown } | null;
    const ok = typeof s === 'object' && s !== null && Number.isSafeInteger(s.n) && (s.action === 'install' || s.action === 'reboot')
      && (s.kb === null || s.kb === undefined || typeof s.kb === 'string') && (s.file === null || s.file === undefined || typeof s.file === 'string');
    if (!ok) throw inputError('MEDIA_PLAN_UNREADABLE', `plan.json step ${i + 1} is not a step (needs a number n and action install or reboot)`, { file });
  });
  return plan;
}
