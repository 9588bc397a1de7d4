import { workerData } from 'node:worker_threads';
import { keepYoungGenerationSmall } from '../io/v8-settings';
import { RangeHasher } from './digest';
import { Control, type DigestWorkerData } from './parallel-digest';

/**
 * One hash of the parallel digest pass (./parallel-digest): consume the shared ring slot by
 * slot, in file order, and publish the digest. Any failure is published as -1 so the reading
 * thread stops instead of waiting.
 */
keepYoungGenerationSmall(); // a worker's start undid the main thread's setting (see ../io/v8-settings)
const { job, index, jobCount, size, slotBytes, slots, data, control, results } = workerData as DigestWorkerData;
const ctl = new Int32Array(control);
const doneAt = Control.done(jobCount, index);
const consumedAt = Control.consumed(index);

try {
  const hasher = new RangeHasher(job.ranges, [job.algorithm]);
  const chunks = Math.ceil(size / slotBytes);
  for (let k = 0; k < chunks; k++) {
    const offset = k * slotBytes;
    if (offset >= hasher.end) break; // nothing this job needs beyond here
    for (let produced = Atomics.load(ctl, Control.produced); produced < k + 1; produced = Atomics.load(ctl, Control.produced)) {
      Atomics.wait(ctl, Control.produced, produced);
    }
    hasher.update(Buffer.from(data, (k % slots) * slotBytes, Math.min(slotBytes, size - offset)), offset);
    Atomics.store(ctl, consumedAt, k + 1);
    Atomics.notify(ctl, consumedAt);
  }
  const digest = hasher.digests().get(job.algorithm) as Buffer;
  digest.copy(Buffer.from(results, index * 64, 64));
  Atomics.store(ctl, consumedAt, chunks); // never hold back the reader, even if we stopped early
  Atomics.notify(ctl, consumedAt);
  Atomics.store(ctl, doneAt, digest.length);
} catch {
  Atomics.store(ctl, doneAt, -1);
  Atomics.notify(ctl, consumedAt);
}
Atomics.notify(ctl, doneAt);
