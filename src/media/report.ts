import * as fs from 'node:fs';
import * as path from 'node:path';
import { CabferryError, inputError } from '../errors';
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
  const names = fs.readdirSync(hostsDir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  const hosts = names.map((name) => reportHost(root, name));
  return { dir: root, hosts, ok: hosts.length > 0 && hosts.every((h) => h.status === 'complete') };
}

function reportHost(root: string, name: string): HostReport {
  const planPath = path.join(root, MEDIA.hosts, name, 'plan.json');
  const plan = readPlan(planPath);
  const logPath = path.join(root, MEDIA.results, name, 'result.log');
  const log = fs.existsSync(logPath) ? parseResultLog(fs.readFileSync(logPath, 'latin1')) : null;

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

function readPlan(file: string): HostPlan {
  let doc: unknown;
  try {
    doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    if (e instanceof CabferryError) throw e;
    throw inputError('MEDIA_PLAN_UNREADABLE', `cannot read the staged plan: ${(e as Error).message}`, { file });
  }
  const plan = (doc as { plan?: HostPlan }).plan;
  if (!plan || typeof plan.host !== 'string' || !Array.isArray(plan.steps)) {
    throw inputError('MEDIA_PLAN_UNREADABLE', 'plan.json has no plan with host and steps', { file });
  }
  return plan;
}
