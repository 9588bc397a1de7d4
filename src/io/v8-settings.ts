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

/**
 * No allocation-site pretenuring, for commands that plan hosts in one process (plan, stage).
 *
 * Why: V8 counts, per allocation site, how many of its objects survive young-generation
 * collections, and once a site's objects mostly do, it allocates them in the old generation from
 * then on and throws away all optimized code that assumed otherwise. The planner's per-host
 * objects (steps, causes, the chosen set) survive one plan and die with it; after V8 grew the young
 * generation to its largest size, around the tenth to fifteenth plan of a process, that decision
 * flipped for many sites at once and most of the planner's optimized functions were thrown away
 * together (`--trace-deopt`: "code dependencies"), so the next two or three plans ran unoptimized
 * again: 15 to 40 ms each against ~3 ms. Without pretenuring nothing flips. Measured with
 * bench-plan, the flag set this way at the start of the process, six alternating runs each: one
 * fresh host, median of 15 plans, 5.8 to 11.1 ms wall (three over the 10 ms goal) before, 4.3 to
 * 6.2 ms after; 1,000 hosts 0.74 to 0.79 s both ways; peak RSS of the bench 113 against 115 MiB;
 * staging 300 MiB (bench-stage) unchanged. Plans are the same (a heap heuristic only).
 */
export function avoidPretenuringDeopts(): void {
  v8Flags('--no-allocation-site-pretenuring');
}

function v8Flags(flags: string): void {
  // required here: every command's start-up imports this module, few call it
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  (require('node:v8') as typeof import('node:v8')).setFlagsFromString(flags);
}
