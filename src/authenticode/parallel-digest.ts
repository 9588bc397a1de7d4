import fs = require('node:fs');
import os = require('node:os');
import path = require('node:path');
import type { Worker } from 'node:worker_threads';
import { internalError } from '../errors';
import type { RandomAccessFile } from '../io/random-access-file';
import { digestFile, RangeHasher, type ByteRange, type FileDigests } from './digest';

/**
 * The digest pass of a large file with its hashes on worker threads. A dual-signed Microsoft
 * payload needs SHA-1 and SHA-256 of nearly every byte (and the file SHA-256 when reported):
 * hashes that run one after another on one core, or side by side on several.
 *
 * The file is still read once, in order, by this thread, into a ring of shared slots; this
 * thread hashes the first job itself, the other jobs go to workers that hash every slot (each
 * job's RangeHasher keeps only its ranges) and report per job how far they got, and a slot is
 * refilled only when every job is past it. The API stays synchronous: this thread blocks in
 * Atomics.wait, which is what the verify pipeline does anyway while hashing.
 *
 * There are at most as many workers as cores besides this one (workerCount): on two cores the
 * import's two SHA-256 jobs share one worker. A third thread hashing on two cores gained no time
 * and cost a worker's start-up (tens of ms of CPU: node's bootstrap and crypto, in the worker).
 *
 * The importer's copy into the blob store rides on the same pass (copyWithDigests): each slot,
 * once read, is handed to the copy's sink on this thread while the workers hash it, so the
 * copy costs a write per chunk and no second read.
 */

/** Below this, starting workers (tens of ms) costs more than it saves. */
export const PARALLEL_DIGEST_MIN_BYTES = 64 * 1024 * 1024;
const SLOT_BYTES = 4 * 1024 * 1024;
const SLOTS = 4;
const MAX_DIGEST_BYTES = 64;
/** A worker that makes no progress for this long is broken; fail rather than hang. */
const STALL_MS = 60_000;

/** One hash a worker computes. */
export interface DigestJob {
  algorithm: string;
  ranges: ByteRange[];
}

/** A job given to a worker, with its index in the pass (its control words and result slot). */
export interface DealtJob {
  job: DigestJob;
  index: number;
}

/** What a digest worker receives (see ./digest-worker). */
export interface DigestWorkerData {
  jobs: DealtJob[];
  jobCount: number;
  size: number;
  slotBytes: number;
  slots: number;
  data: SharedArrayBuffer;
  control: SharedArrayBuffer;
  results: SharedArrayBuffer;
}

/**
 * Layout of the control words (Int32): [0] chunks produced; [1 + j] chunks consumed by job j;
 * [1 + jobCount + j] digest length of job j once done, or -1 if it failed.
 */
export const Control = {
  produced: 0,
  consumed: (j: number): number => 1 + j,
  done: (jobCount: number, j: number): number => 1 + jobCount + j,
} as const;

const workerScript = path.join(__dirname, 'digest-worker.js');

/** Digests of a verification pass; the whole-file SHA-256 only when asked for. */
export interface VerifyDigests {
  sha256: Buffer | null;
  authenticode: Map<string, Buffer>;
}

/**
 * Same result as digestFile; faster on large files when more than one core is available.
 * The file SHA-256 is a third full hash, so it is computed only with `fileSha256`.
 */
export function digestFileInParallel(file: RandomAccessFile, ranges: ByteRange[], algorithms: string[], options: { fileSha256: boolean; maxWorkers?: number }): VerifyDigests {
  return digestPass(file, ranges, algorithms, options.fileSha256, null, options.maxWorkers);
}

/** Receives every chunk of the file once, in order, before the pass reads further (the slot is reused afterwards). */
export type ChunkSink = (chunk: Buffer, offset: number) => void;

/**
 * One read of the whole file that feeds `sink` (the importer's copy) and computes the file SHA-256
 * and the Authenticode digests of `ranges` — on digest workers beside the copy when the file is
 * large, else on this thread. If the sink throws (a full disk), the pass stops and rethrows.
 */
export function copyWithDigests(file: RandomAccessFile, ranges: ByteRange[], algorithms: string[], sink: ChunkSink): FileDigests {
  const { sha256, authenticode } = digestPass(file, ranges, algorithms, true, sink);
  if (sha256 === null) throw internalError('DIGEST_NO_FILE_HASH', 'the copy pass lost the file SHA-256');
  return { sha256, authenticode };
}

/**
 * How many workers hash the jobs this thread does not: one per core besides this thread, at most
 * one per job. `maxWorkers` (tests) lowers the bound.
 */
export function workerCount(jobCount: number, maxWorkers = os.availableParallelism() - 1): number {
  return Math.max(0, Math.min(jobCount - 1, maxWorkers));
}

/** Jobs 1… dealt to `workers` workers in turn (job 0 stays on the reading thread). */
function dealJobs(jobs: DigestJob[], workers: number): DealtJob[][] {
  const dealt: DealtJob[][] = Array.from({ length: workers }, () => []);
  for (let j = 1; j < jobs.length; j++) dealt[(j - 1) % workers].push({ job: jobs[j], index: j });
  return dealt;
}

function digestPass(file: RandomAccessFile, ranges: ByteRange[], algorithms: string[], fileSha256: boolean, sink: ChunkSink | null, maxWorkers?: number): VerifyDigests {
  const unique = [...new Set(algorithms)];
  const jobs: DigestJob[] = unique.map((algorithm) => ({ algorithm, ranges }));
  if (fileSha256) jobs.push({ algorithm: 'sha256', ranges: [[0, file.size]] });
  const workerTotal = workerCount(jobs.length, maxWorkers);
  if (workerTotal === 0 || file.size < PARALLEL_DIGEST_MIN_BYTES || !fs.existsSync(workerScript)) {
    return sequentialDigests(file, ranges, unique, fileSha256, sink);
  }
  const data = new SharedArrayBuffer(SLOTS * SLOT_BYTES);
  const control = new SharedArrayBuffer(4 * (1 + 2 * jobs.length));
  const results = new SharedArrayBuffer(MAX_DIGEST_BYTES * jobs.length);
  const ctl = new Int32Array(control);
  // job 0 is hashed here, between reads; jobs 1… are dealt to the workers
  // loaded here, not at the top: verifying a small file (nearly all start-up) never needs it
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Worker: WorkerThread } = require('node:worker_threads') as typeof import('node:worker_threads');
  const workers: Worker[] = dealJobs(jobs, workerTotal).map(
    (dealt) =>
      new WorkerThread(workerScript, {
        workerData: { jobs: dealt, jobCount: jobs.length, size: file.size, slotBytes: SLOT_BYTES, slots: SLOTS, data, control, results } satisfies DigestWorkerData,
      }),
  );
  try {
    const own = new RangeHasher(jobs[0].ranges, [jobs[0].algorithm]);
    const chunks = Math.ceil(file.size / SLOT_BYTES);
    for (let k = 0; k < chunks; k++) {
      // slot k % SLOTS last held chunk k - SLOTS: every job must be past it
      for (let j = 1; j < jobs.length; j++) waitFor(ctl, Control.consumed(j), k - SLOTS + 1, jobs.length, j);
      const offset = k * SLOT_BYTES;
      const chunk = file.readInto(Buffer.from(data, (k % SLOTS) * SLOT_BYTES, Math.min(SLOT_BYTES, file.size - offset)), offset, 'file data');
      Atomics.store(ctl, Control.produced, k + 1);
      Atomics.notify(ctl, Control.produced);
      sink?.(chunk, offset);
      if (offset < own.end) own.update(chunk, offset);
    }
    const digests = [
      own.digests().get(jobs[0].algorithm) as Buffer,
      ...jobs.slice(1).map((_, i) => {
        const j = i + 1;
        waitFor(ctl, Control.done(jobs.length, j), 1, jobs.length, j);
        return Buffer.from(new Uint8Array(results, j * MAX_DIGEST_BYTES, Atomics.load(ctl, Control.done(jobs.length, j))));
      }),
    ];
    return { sha256: fileSha256 ? digests[unique.length] : null, authenticode: new Map(unique.map((a, i) => [a, digests[i]])) };
  } finally {
    for (const w of workers) void w.terminate();
  }
}

function sequentialDigests(file: RandomAccessFile, ranges: ByteRange[], algorithms: string[], fileSha256: boolean, sink: ChunkSink | null): VerifyDigests {
  if (fileSha256) return digestFile(file, ranges, algorithms, sink ?? undefined);
  const hasher = new RangeHasher(ranges, algorithms);
  const end = sink === null ? hasher.end : file.size;
  const buffer = Buffer.allocUnsafe(Math.min(SLOT_BYTES, end));
  for (let offset = 0; offset < end; offset += SLOT_BYTES) {
    const chunk = file.readInto(buffer.subarray(0, Math.min(SLOT_BYTES, end - offset)), offset, 'file data');
    sink?.(chunk, offset);
    if (offset < hasher.end) hasher.update(chunk, offset);
  }
  return { sha256: null, authenticode: hasher.digests() };
}

/** Block until ctl[at] ≥ target, failing if job j reports an error or stops making progress. */
function waitFor(ctl: Int32Array, at: number, target: number, jobCount: number, j: number): void {
  for (;;) {
    if (Atomics.load(ctl, Control.done(jobCount, j)) < 0) throw internalError('DIGEST_WORKER_FAILED', `digest worker ${j} failed`);
    const current = Atomics.load(ctl, at);
    if (current >= target) return;
    if (Atomics.wait(ctl, at, current, STALL_MS) === 'timed-out' && Atomics.load(ctl, at) === current) {
      throw internalError('DIGEST_WORKER_STALLED', `digest worker ${j} made no progress for ${STALL_MS / 1000} s`);
    }
  }
}
