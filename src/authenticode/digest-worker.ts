import { workerData } from 'node:worker_threads';
import { keepYoungGenerationSmall } from '../io/v8-settings';
import { RangeHasher } from './digest';
import { Control, type DigestWorkerData } from './parallel-digest';

/**
 * The jobs of the parallel digest pass (./parallel-digest) dealt to this worker: consume the
 * shared ring slot by slot, in file order, hash each slot for every job that still needs it, and
 * publish each job's progress and digest. Any failure is published as -1 for the worker's jobs so
 * the reading thread stops instead of waiting.
 */
keepYoungGenerationSmall(); // a worker's start undid the main thread's setting (see ../io/v8-settings)
const { jobs, jobCount, size, slotBytes, slots, data, control, results } = workerData as DigestWorkerData;
const ctl = new Int32Array(control);
const chunks = Math.ceil(size / slotBytes);

try {
  const hashers = jobs.map(({ job, index }) => ({ index, algorithm: job.algorithm, hasher: new RangeHasher(job.ranges, [job.algorithm]) }));
  const end = Math.max(...hashers.map((h) => h.hasher.end));
  for (let k = 0; k < chunks; k++) {
    const offset = k * slotBytes;
    if (offset >= end) break; // nothing these jobs need beyond here
    for (let produced = Atomics.load(ctl, Control.produced); produced < k + 1; produced = Atomics.load(ctl, Control.produced)) {
      Atomics.wait(ctl, Control.produced, produced);
    }
    const chunk = Buffer.from(data, (k % slots) * slotBytes, Math.min(slotBytes, size - offset));
    for (const h of hashers) {
      if (offset < h.hasher.end) h.hasher.update(chunk, offset);
      Atomics.store(ctl, Control.consumed(h.index), k + 1);
      Atomics.notify(ctl, Control.consumed(h.index));
    }
  }
  for (const h of hashers) {
    const digest = h.hasher.digests().get(h.algorithm) as Buffer;
    digest.copy(Buffer.from(results, h.index * 64, 64));
    Atomics.store(ctl, Control.consumed(h.index), chunks); // never hold back the reader, even if we stopped early
    Atomics.notify(ctl, Control.consumed(h.index));
    Atomics.store(ctl, Control.done(jobCount, h.index), digest.length);
    Atomics.notify(ctl, Control.done(jobCount, h.index));
  }
} catch {
  for (const { index } of jobs) {
    Atomics.store(ctl, Control.done(jobCount, index), -1);
    Atomics.notify(ctl, Control.consumed(index));
    Atomics.notify(ctl, Control.done(jobCount, index));
  }
}
