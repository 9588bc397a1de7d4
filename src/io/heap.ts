/**
 * Keep V8's young generation at its initial size from now on.
 *
 * The commands that stream payloads of hundreds of MB through decoders and hashes hold little
 * (one block, one window, the metadata documents), but what they allocate on the way made V8 grow
 * the young generation to 2 × 16 MiB and the heap after it: importing a rollup-sized MSU
 * (scripts/bench-rollup.js, 256 MiB LZX folder, 3000 components) peaked at 204–207 MiB RSS;
 * bounded, at 167–180 MiB, with no more CPU (smaller scavenges, fewer promotions).
 *
 * V8 reads this flag each time it considers growing the new space, so setting it after start-up
 * takes effect. Starting a worker thread undoes it (measured: set only in the main thread, the
 * peak stayed at 204 MiB; set in the digest workers too, 167 MiB), so every worker sets it again
 * first thing. Factor 1 means "do not grow"; 0 is not valid (V8 crashes on it).
 */
export function keepYoungGenerationSmall(): void {
  // required here: every command's start-up imports this module, few call it
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  (require('node:v8') as typeof import('node:v8')).setFlagsFromString('--semi-space-growth-factor=1');
}
