/**
 * V8 settings a command asks for before it starts its work; process-wide, so only the CLI
 * (./cli/main, by command) and the workers it starts set them, never the library.
 */

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
  v8Flags('--semi-space-growth-factor=1');
}

/**
 * V8 profiler-tick budget (bytes of bytecode run per tick) for commands that decode many cabinets
 * in one short process, e.g. `cabferry test` over an update's cabinets: 8× V8's default (67,584 in
 * Node 20).
 *
 * Why: such a run spent a quarter of its CPU in V8's optimizing compiler, compiling not just the
 * LZX hot loop but every function called once per data block or per member (folder reader,
 * checksum, file table), whose optimized code never pays back its compile in a run this short. A
 * larger budget leaves those in V8's baseline code and still optimizes the decoder's loop, which
 * runs millions of times, at once. Measured on the 155 bench-decode cabinets (interleaved
 * medians of 9, node flag): 0.81 → 0.69 s CPU, 1.72× → 1.47× cabextract -t; 2× the budget gains
 * less. The steady-state speed of a long decode is unchanged.
 *
 * The flag is read each time V8 resets a function's budget, so setting it before the work starts
 * takes effect for it (Node warns that flags set after start-up may not; this one is re-read).
 * Set before commander and the command's modules load: set when the action started, node's path
 * normalisation, run for every module resolved, had often become hot enough during the loading to
 * be compiled by the optimizing compiler (about 30 ms of CPU, in 3 of 3 runs with the project
 * under /work/cf-decode; 0 of 3 when set first).
 */
export function useBatchDecodeJitBudget(): void {
  v8Flags(`--interrupt-budget=${DECODE_INTERRUPT_BUDGET}`);
}

const DECODE_INTERRUPT_BUDGET = 540_000;

function v8Flags(flags: string): void {
  // required here: every command's start-up imports this module, few call it
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  (require('node:v8') as typeof import('node:v8')).setFlagsFromString(flags);
}
