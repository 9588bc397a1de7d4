#!/usr/bin/env node
/**
 * scripts/fuzz — a bounded, reproducible mutation fuzzer for the library entry points behind
 * `list`, `test`, `extract`, `verify`, `inspect` and `import`.
 *
 *   node dist/scripts/fuzz.js [--seed N] [--seconds S | --iterations N] [--targets list,test,…]
 *                             [--per-input-ms MS] [--heap-mb MB] [--save DIR] [--json]
 *   node dist/scripts/fuzz.js --replay test/regressions      (re-run every saved finding)
 *
 * Seeds are the real cabinets of ../shared/corpus plus the project's fixtures. Every input must
 * end in success or one of our typed errors (CabferryError); anything else, a run past the
 * per-input time limit, or a heap beyond the cap is a finding. Findings are minimised and saved
 * under test/regressions/ (with the target in the name), where test/regressions/regressions.test.ts
 * replays them on every `npm test`.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { mutate, Rng } from './lib/mutate';
import type { FuzzJob, FuzzOutcome } from './lib/fuzz-worker';
import { fuzzTargetNames, peFuzzTargets } from './lib/fuzz-targets';

interface Options {
  seed: number;
  seconds: number | null;
  iterations: number | null;
  targets: string[];
  perInputMs: number;
  heapMb: number;
  saveDir: string;
  json: boolean;
  maxSeedBytes: number;
  /** replay saved findings (`TARGET-KIND-HASH.bin`) instead of fuzzing */
  replayDir: string | null;
}

const projectRoot = path.resolve(__dirname, '..', '..');

function parseArgs(argv: string[]): Options {
  const o: Options = {
    seed: 1,
    seconds: null,
    iterations: null,
    targets: [...fuzzTargetNames],
    perInputMs: 10_000,
    heapMb: 512,
    saveDir: path.join(projectRoot, 'test', 'regressions'),
    json: false,
    maxSeedBytes: 2 * 1024 * 1024,
    replayDir: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--seed') o.seed = Number(val());
    else if (a === '--seconds') o.seconds = Number(val());
    else if (a === '--iterations') o.iterations = Number(val());
    else if (a === '--targets') o.targets = val().split(',').filter(Boolean);
    else if (a === '--per-input-ms') o.perInputMs = Number(val());
    else if (a === '--heap-mb') o.heapMb = Number(val());
    else if (a === '--save') o.saveDir = path.resolve(val());
    else if (a === '--max-seed-bytes') o.maxSeedBytes = Number(val());
    else if (a === '--json') o.json = true;
    else if (a === '--replay') o.replayDir = path.resolve(val());
    else throw new Error(`unknown option ${a}`);
  }
  if (o.seconds === null && o.iterations === null) o.seconds = 60;
  for (const t of o.targets) if (!fuzzTargetNames.includes(t)) throw new Error(`unknown target ${t} (have ${fuzzTargetNames.join(', ')})`);
  return o;
}

interface Seed {
  name: string;
  data: Buffer;
  /** cabinet-family targets mutate cabinets; the PE targets mutate executables */
  kind: 'cab' | 'pe';
}

/** Seed inputs: every cabinet (.cab/.msu) and PE image (.exe/.dll/.sys/.efi/.pyd/.dl_) of the corpus and fixtures up to a size cap. */
function collectSeeds(maxBytes: number): Seed[] {
  const roots = [path.join(projectRoot, '..', 'shared', 'corpus'), path.join(projectRoot, 'fixtures')];
  const seeds: Seed[] = [];
  const walk = (dir: string): void => {
    if (!fs.existsSync(dir)) return;
    for (const ent of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(dir, ent.name);
      if (ent.isDirectory()) walk(p);
      else if (fs.statSync(p).size > maxBytes) continue;
      else if (/\.(cab|msu)$/i.test(ent.name)) seeds.push({ name: path.relative(projectRoot, p), data: fs.readFileSync(p), kind: 'cab' });
      else if (/\.(exe|dll|sys|efi|pyd|dl_)$/i.test(ent.name)) seeds.push({ name: path.relative(projectRoot, p), data: fs.readFileSync(p), kind: 'pe' });
    }
  };
  roots.forEach(walk);
  return seeds;
}

/** One worker thread that can be killed and replaced when an input hangs or exhausts its heap. */
class Runner {
  private worker: Worker | null = null;

  constructor(private readonly heapMb: number) {}

  private spawn(): Worker {
    const w = new Worker(path.join(__dirname, 'lib', 'fuzz-worker.js'), {
      resourceLimits: { maxOldGenerationSizeMb: this.heapMb, maxYoungGenerationSizeMb: 64 },
      stdout: true,
      stderr: true,
    });
    w.unref();
    return w;
  }

  run(job: FuzzJob, timeoutMs: number): Promise<FuzzOutcome | { kind: 'hang' } | { kind: 'oom'; error: string }> {
    const w = (this.worker ??= this.spawn());
    return new Promise((resolve) => {
      const done = (r: FuzzOutcome | { kind: 'hang' } | { kind: 'oom'; error: string }, kill: boolean): void => {
        clearTimeout(timer);
        w.removeAllListeners('message');
        w.removeAllListeners('error');
        w.removeAllListeners('exit');
        if (kill) {
          void w.terminate();
          this.worker = null;
        }
        resolve(r);
      };
      const timer = setTimeout(() => done({ kind: 'hang' }, true), timeoutMs);
      w.once('message', (m: FuzzOutcome) => done(m, false));
      w.once('error', (e: Error & { code?: string }) =>
        done(e.code === 'ERR_WORKER_OUT_OF_MEMORY' ? { kind: 'oom', error: e.message } : { kind: 'crash', error: e.message, stack: e.stack ?? '' }, true),
      );
      w.once('exit', (code) => done({ kind: 'crash', error: `worker exited with ${code}`, stack: '' }, true));
      w.postMessage(job);
    });
  }

  close(): void {
    void this.worker?.terminate();
    this.worker = null;
  }
}

type Finding = { target: string; kind: string; error: string; seed: string; mutations: string[]; savedAs?: string };

function isFinding(r: { kind: string }): boolean {
  return r.kind === 'crash' || r.kind === 'hang' || r.kind === 'oom';
}

/**
 * Shrink a failing input while it still fails the same way: drop tails, then halves of
 * ranges, then zero bytes (a simple ddmin; inputs are at most a few MB).
 */
async function minimise(data: Buffer, stillFails: (b: Buffer) => Promise<boolean>, budgetMs: number): Promise<Buffer> {
  const deadline = Date.now() + budgetMs;
  let best = data;
  let chunk = Math.max(1, best.length >> 1);
  while (chunk >= 1 && Date.now() < deadline) {
    let shrunk = false;
    for (let start = 0; start < best.length && Date.now() < deadline; start += chunk) {
      const candidate = Buffer.concat([best.subarray(0, start), best.subarray(start + chunk)]);
      if (candidate.length > 0 && (await stillFails(candidate))) {
        best = candidate;
        shrunk = true;
        start -= chunk;
      }
    }
    if (!shrunk) chunk >>= 1;
  }
  return best;
}

/** Re-run saved findings; each must now end in success or a typed error. */
async function replay(opts: Options, dir: string): Promise<void> {
  const runner = new Runner(opts.heapMb);
  const scratchRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'cabferry-replay-'));
  let failed = 0;
  let total = 0;
  try {
    const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.bin')).sort() : [];
    for (const f of files) {
      const target = fuzzTargetNames.find((t) => f.startsWith(`${t}-`) && !fuzzTargetNames.some((u) => u.length > t.length && f.startsWith(`${u}-`)));
      if (!target) throw new Error(`${f}: name does not start with a target (${fuzzTargetNames.join(', ')})`);
      const scratchDir = path.join(scratchRoot, 'scratch');
      fs.rmSync(scratchDir, { recursive: true, force: true });
      fs.mkdirSync(scratchDir, { recursive: true });
      const inputPath = path.join(scratchRoot, f.replace(/\.bin$/, target === 'inspect' || target === 'import' ? '.msu' : '.cab'));
      fs.copyFileSync(path.join(dir, f), inputPath);
      const r = await runner.run({ target, inputPath, scratchDir }, opts.perInputMs);
      total++;
      const bad = isFinding(r);
      if (bad) failed++;
      process.stdout.write(`${bad ? 'FAIL' : 'ok  '} ${f}: ${r.kind}${r.kind === 'typed' ? ` ${r.code}` : 'error' in r ? ` ${r.error}` : ''}\n`);
    }
  } finally {
    runner.close();
    fs.rmSync(scratchRoot, { recursive: true, force: true });
  }
  process.stdout.write(`replay: ${total} saved inputs, ${failed} still failing\n`);
  process.exitCode = failed > 0 ? 1 : 0;
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.replayDir !== null) return replay(opts, opts.replayDir);
  const allSeeds = collectSeeds(opts.maxSeedBytes);
  const seedsOf = (target: string): Seed[] => allSeeds.filter((s) => s.kind === (peFuzzTargets.has(target) ? 'pe' : 'cab'));
  for (const t of opts.targets) if (seedsOf(t).length === 0) throw new Error(`no seed inputs for target ${t} found (is ../shared/corpus there?)`);
  const rng = new Rng(opts.seed);
  const scratchRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'cabferry-fuzz-'));
  const runner = new Runner(opts.heapMb);
  const counts: Record<string, Record<string, number>> = {};
  const typedCodes: Record<string, number> = {};
  const findings: Finding[] = [];
  const started = Date.now();
  let iterations = 0;

  const runOne = async (target: string, data: Buffer): Promise<FuzzOutcome | { kind: 'hang' } | { kind: 'oom'; error: string }> => {
    const inputPath = path.join(scratchRoot, `input-${target}.${peFuzzTargets.has(target) ? 'exe' : target === 'inspect' || target === 'import' ? 'msu' : 'cab'}`);
    const scratchDir = path.join(scratchRoot, `scratch-${target}`);
    fs.rmSync(scratchDir, { recursive: true, force: true });
    fs.mkdirSync(scratchDir, { recursive: true });
    fs.writeFileSync(inputPath, data);
    return runner.run({ target, inputPath, scratchDir }, opts.perInputMs);
  };

  try {
    while (true) {
      if (opts.iterations !== null && iterations >= opts.iterations) break;
      if (opts.seconds !== null && Date.now() - started >= opts.seconds * 1000) break;
      const target = opts.targets[iterations % opts.targets.length];
      const seeds = seedsOf(target);
      const seed = rng.pick(seeds);
      let data = seed.data;
      const mutations: string[] = [];
      const rounds = 1 + rng.int(3);
      for (let k = 0; k < rounds; k++) {
        const m = mutate(data, rng, seeds.map((s) => s.data));
        data = m.output;
        mutations.push(`${m.mutation.name} ${m.mutation.detail}`);
      }
      iterations++;
      const r = await runOne(target, data);
      (counts[target] ??= {})[r.kind] = ((counts[target] ??= {})[r.kind] ?? 0) + 1;
      if (r.kind === 'typed') typedCodes[r.code] = (typedCodes[r.code] ?? 0) + 1;
      if (!isFinding(r)) continue;
      const error = 'error' in r ? r.error : `no answer within ${opts.perInputMs} ms`;
      const small = await minimise(data, async (b) => (await runOne(target, b)).kind === r.kind, 60_000);
      const name = `${target}-${r.kind}-${crypto.createHash('sha256').update(small).digest('hex').slice(0, 16)}.bin`;
      fs.mkdirSync(opts.saveDir, { recursive: true });
      fs.writeFileSync(path.join(opts.saveDir, name), small);
      findings.push({ target, kind: r.kind, error, seed: seed.name, mutations, savedAs: path.join(opts.saveDir, name) });
      if (!opts.json) process.stderr.write(`FINDING ${r.kind} in ${target}: ${error}\n  seed ${seed.name}; saved ${name} (${small.length} bytes)\n`);
    }
  } finally {
    runner.close();
    fs.rmSync(scratchRoot, { recursive: true, force: true });
  }

  const summary = {
    seed: opts.seed,
    seconds: Math.round((Date.now() - started) / 100) / 10,
    iterations,
    seeds: allSeeds.length,
    perInputMs: opts.perInputMs,
    heapMb: opts.heapMb,
    outcomes: counts,
    typedErrorCodes: typedCodes,
    findings,
  };
  if (opts.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  else {
    process.stdout.write(`fuzz: seed ${summary.seed}, ${iterations} inputs in ${summary.seconds} s from ${allSeeds.length} seeds\n`);
    for (const [t, c] of Object.entries(counts)) {
      process.stdout.write(`  ${t.padEnd(8)} ${Object.entries(c).map(([k, v]) => `${k} ${v}`).join(', ')}\n`);
    }
    process.stdout.write(`  findings: ${findings.length}\n`);
  }
  process.exitCode = findings.length > 0 ? 1 : 0;
}

main().catch((e: unknown) => {
  process.stderr.write(`fuzz: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 2;
});
