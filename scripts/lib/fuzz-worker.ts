/**
 * Runs one fuzz input against one target inside a worker thread, so the parent can enforce a
 * wall-clock limit (terminate) and a heap cap (resourceLimits) per input without the fuzzer
 * itself dying. The answer is the outcome class: success, one of our typed errors, or a crash.
 */
import { parentPort } from 'node:worker_threads';
import { isCabferryError } from '../../src/errors';
import { fuzzTargets } from './fuzz-targets';

export interface FuzzJob {
  target: string;
  inputPath: string;
  scratchDir: string;
}

export type FuzzOutcome =
  | { kind: 'ok' }
  | { kind: 'typed'; code: string }
  | { kind: 'crash'; error: string; stack: string };

async function run(job: FuzzJob): Promise<FuzzOutcome> {
  const target = fuzzTargets[job.target];
  if (!target) return { kind: 'crash', error: `unknown target ${job.target}`, stack: '' };
  try {
    await target(job.inputPath, job.scratchDir);
    return { kind: 'ok' };
  } catch (e) {
    if (isCabferryError(e)) return { kind: 'typed', code: e.code };
    const err = e instanceof Error ? e : new Error(String(e));
    return { kind: 'crash', error: `${err.name}: ${err.message}`, stack: err.stack ?? '' };
  }
}

parentPort?.on('message', (job: FuzzJob) => {
  void run(job).then((outcome) => parentPort?.postMessage(outcome));
});
