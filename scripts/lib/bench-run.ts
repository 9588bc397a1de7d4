/**
 * How every benchmark script runs: its command line (parseBenchOptions), the tools it needs
 * (requireCommands), the children it starts — untimed (runChild) or measured under GNU time
 * (timeChild, timeInterleaved) — and the wrapper that turns a usage mistake into one line and
 * exit 2 (runBenchScript). What the scripts report is scripts/lib/bench-report.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { formatErrorLine, internalError, isCabferryError, usageError } from '../../src/errors';

/** Where the scripts find the project: this file runs as dist/scripts/lib/bench-run.js. */
export const projectRoot = path.join(__dirname, '..', '..', '..');
/** The CLI as installed: package.json's bin, the bundled program (scripts/build-cli), not dist/src/cli/main.js. */
export const cliPath = path.join(projectRoot, 'dist', 'cli', 'cabferry.js');

let cliChecked = false;

/**
 * Throws unless the bundled CLI was built after the last tsc run: `npx tsc` alone rewrites
 * dist/src and leaves dist/cli as it was (missing, or the program before the change), and the tests
 * and benchmarks would run that. Checked once per process.
 */
export function checkCliBuilt(): void {
  if (cliChecked) return;
  const program = path.join(path.dirname(cliPath), 'cabferry-program.js');
  const built = fs.existsSync(program) ? fs.statSync(program).mtimeMs : -1;
  const newer = (function newest(dir: string): string | null {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      const found = e.isDirectory() ? newest(p) : e.name.endsWith('.js') && fs.statSync(p).mtimeMs > built ? p : null;
      if (found !== null) return found;
    }
    return null;
  })(path.join(projectRoot, 'dist', 'src'));
  if (newer !== null) {
    throw internalError('CLI_NOT_BUILT', built < 0 ? `${program} is missing: run npm run build (tsc, then scripts/build-cli)` : `${program} is older than ${newer}: run npm run build (tsc alone does not rebuild the bundled CLI)`);
  }
  cliChecked = true;
}
/** the shared real-world corpus, read in place */
export const corpusDir = path.join(projectRoot, '..', 'shared', 'corpus');
export const fixturesDir = path.join(projectRoot, 'fixtures');

export const GNU_TIME = '/usr/bin/time';

// ---------------------------------------------------------------- command line

export interface NumberOptionSpec {
  /** the value when the option is not given */
  default: number;
  /** the smallest value accepted; 0 unless given */
  min?: number;
  /** run counts, whole MiB, seeds: a fraction is a mistake, not something to round */
  integer?: boolean;
}

/** A run count or a size in whole units (MiB, payloads, hosts): a whole number of at least 1. */
export function countOption(fallback: number): NumberOptionSpec {
  return { default: fallback, min: 1, integer: true };
}

export interface BenchOptionsSpec<N extends string, F extends string> {
  /** numeric options by name without the dashes: `runs` is `--runs N` */
  numbers: Record<N, NumberOptionSpec>;
  /** boolean flags by name without the dashes, besides `--json`, which every script takes */
  flags?: readonly F[];
  /** what the other arguments are (e.g. "FILE"), for a script that takes any; without it, such an argument is a usage error */
  operands?: string;
}

export interface BenchOptions<N extends string, F extends string> {
  numbers: Record<N, number>;
  flags: Record<F, boolean>;
  /** `--json`: one BenchReport on stdout, the human lines on stderr */
  json: boolean;
  operands: string[];
}

/**
 * A benchmark script's command line, checked against what it takes: a value that is no number,
 * a fraction where a count is wanted, a value below its minimum, an option given twice or one
 * the script does not know is a usage error (exit 2 through runBenchScript), never a NaN that
 * quietly measures nothing.
 */
export function parseBenchOptions<N extends string, F extends string = never>(
  spec: BenchOptionsSpec<N, F>,
  argv: readonly string[] = process.argv.slice(2),
): BenchOptions<N, F> {
  const numberSpecs = spec.numbers as Record<string, NumberOptionSpec>;
  const flagNames = new Set<string>(spec.flags ?? []);
  const numbers: Record<string, number> = {};
  const flags: Record<string, boolean> = Object.fromEntries([...flagNames].map((f) => [f, false]));
  const seen = new Set<string>();
  const operands: string[] = [];
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) {
      if (spec.operands === undefined) throw usageError('BENCH_USAGE', `unexpected argument ${JSON.stringify(arg)}: this script takes options only`);
      operands.push(arg);
      continue;
    }
    const name = arg.slice(2);
    if (seen.has(name)) throw usageError('BENCH_USAGE', `${arg} is given twice`);
    seen.add(name);
    if (name === 'json') json = true;
    else if (flagNames.has(name)) flags[name] = true;
    else if (Object.hasOwn(numberSpecs, name)) numbers[name] = numberValue(arg, argv[++i], numberSpecs[name]!);
    else throw usageError('BENCH_USAGE', `unknown option ${arg} (known: ${knownOptions(spec).join(' ')})`);
  }
  for (const [name, s] of Object.entries(numberSpecs)) numbers[name] ??= s.default;
  return { numbers: numbers as Record<N, number>, flags: flags as Record<F, boolean>, json, operands };
}

function numberValue(flag: string, text: string | undefined, spec: NumberOptionSpec): number {
  const min = spec.min ?? 0;
  const wanted = `${spec.integer ? 'a whole number' : 'a number'} of at least ${min}`;
  // digits only: Number() would also take "", " 5", "0x10" and "1e3"
  const value = text !== undefined && (spec.integer ? /^\d+$/ : /^\d+(\.\d+)?$/).test(text) ? Number(text) : NaN;
  if (!Number.isFinite(value) || value < min) throw usageError('BENCH_USAGE', `${flag} needs ${wanted}, not ${JSON.stringify(text ?? '')}`);
  return value;
}

function knownOptions(spec: BenchOptionsSpec<string, string>): string[] {
  const numbers = Object.keys(spec.numbers).map((n) => `--${n} N`);
  const flags = [...(spec.flags ?? []), 'json'].map((f) => `--${f}`);
  return [...numbers, ...flags, ...(spec.operands === undefined ? [] : [`${spec.operands}…`])];
}

/** Where a script's human-readable lines go: stdout, or stderr when stdout carries the JSON report. */
export function humanOutput(json: boolean): (line: string) => void {
  const stream = json ? process.stderr : process.stdout;
  return (line) => stream.write(`${line}\n`);
}

/**
 * Run a script's main. A CabferryError (a bad option, a missing tool) is one line on stderr and
 * its exit code (2 for both); anything else is a fault of the benchmark itself and keeps its stack.
 */
export function runBenchScript(script: string, main: () => void): void {
  try {
    checkCliBuilt();
    main();
  } catch (e) {
    if (!isCabferryError(e)) throw e;
    process.stderr.write(`${script}: ${formatErrorLine(e)}\n`);
    process.exitCode = e.exitCode;
  }
}

// ---------------------------------------------------------------- tools

export function hasCommand(name: string): boolean {
  return spawnSync('sh', ['-c', 'command -v "$1"', 'sh', name], { stdio: 'ignore' }).status === 0;
}

/** Refuse to start without a tool the script runs (exit 2: the machine, not the code, lacks something). */
export function requireCommands(names: readonly string[]): void {
  const packages: Record<string, string> = { [GNU_TIME]: 'time', sha256sum: 'coreutils', sync: 'coreutils' };
  const missing = names.filter((n) => (n.startsWith('/') ? !fs.existsSync(n) : !hasCommand(n)));
  if (missing.length === 0) return;
  throw usageError('BENCH_MISSING_TOOL', `needs ${missing.join(', ')} (apt-get install ${missing.map((n) => packages[n] ?? n).join(' ')})`);
}

// ---------------------------------------------------------------- children

const CHILD_OUTPUT_LIMIT = 64 * 1024 * 1024;

function childFailure(cmd: string, args: readonly string[], status: number | null, stdout: string, stderr: string): Error {
  return new Error(`${cmd} ${args.join(' ')} exited ${status}\n${stdout}\n${stderr.slice(-2000)}`);
}

/**
 * Run `cmd args` to completion, untimed: building inputs, signing them, a cold pass that times
 * itself. An unexpected exit status throws with the child's output.
 */
export function runChild(cmd: string, args: readonly string[], options: { expectStatus?: number; cwd?: string } = {}): { stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { cwd: options.cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: CHILD_OUTPUT_LIMIT });
  if (r.error) throw r.error;
  if (r.status !== (options.expectStatus ?? 0)) throw childFailure(cmd, args, r.status, r.stdout, r.stderr);
  return { stdout: r.stdout, stderr: r.stderr };
}

export interface ChildRun {
  wallMs: number;
  /** user + system CPU of the child and all its threads: what stays meaningful on a loaded machine */
  cpuMs: number;
  peakRssKiB: number;
  stdout: string;
  stderr: string;
}

const RSS_MARK = 'cabferry-bench-rss';
const TIMES_MARK = 'cabferry-bench-times';

/**
 * bash's `times` reports the CPU of everything it waited for to the millisecond (GNU time's %U %S
 * only to 10 ms, too coarse for cabextract on one small cabinet); GNU time, wrapped directly
 * around the command, reports its peak RSS. GNU time's own start-up (about a millisecond of CPU)
 * is in the CPU figure.
 */
const MEASURE_SCRIPT = `"$@"; status=$?; echo ${TIMES_MARK} >&2; times >&2; exit $status`;

function parseMeasurements(stderr: string): { cpuMs: number; peakRssKiB: number; childStderr: string } | null {
  const at = stderr.lastIndexOf(`${RSS_MARK} `);
  if (at < 0) return null;
  const m = new RegExp(`^${RSS_MARK} (\\d+)\\n${TIMES_MARK}\\n[^\\n]*\\n(\\d+)m([\\d.]+)s (\\d+)m([\\d.]+)s\\s*$`).exec(stderr.slice(at));
  if (m === null) return null;
  const seconds = (min: string, sec: string): number => Number(min) * 60 + Number(sec);
  return {
    cpuMs: Math.round((seconds(m[2]!, m[3]!) + seconds(m[4]!, m[5]!)) * 1000), // `times` prints whole milliseconds
    peakRssKiB: Number(m[1]),
    childStderr: stderr.slice(0, at).replace(/Command exited with non-zero status \d+\n$/, ''),
  };
}

/**
 * Run `cmd args` to completion and measure it: wall time here, CPU (user + system, ms
 * resolution) and peak RSS as described at MEASURE_SCRIPT. The measurement lines are taken off the
 * end of the child's stderr. An unexpected exit status throws with the child's output.
 */
export function timeChild(
  cmd: string,
  args: readonly string[],
  options: { expectStatus?: number; cwd?: string; stdout?: 'pipe' | 'ignore'; env?: NodeJS.ProcessEnv } = {},
): ChildRun {
  const start = process.hrtime.bigint();
  const r = spawnSync('bash', ['-c', MEASURE_SCRIPT, 'bash', GNU_TIME, '-f', `${RSS_MARK} %M`, cmd, ...args], {
    cwd: options.cwd,
    env: options.env,
    encoding: 'utf8',
    stdio: ['ignore', options.stdout ?? 'pipe', 'pipe'],
    maxBuffer: CHILD_OUTPUT_LIMIT,
  });
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.error) throw r.error;
  const stderr = r.stderr ?? '';
  const measured = parseMeasurements(stderr);
  if (r.status !== (options.expectStatus ?? 0)) throw childFailure(cmd, args, r.status, r.stdout ?? '', measured?.childStderr ?? stderr);
  if (measured === null) throw new Error(`no measurements from ${GNU_TIME} and bash times for ${cmd}: ${stderr.slice(-300)}`);
  return { wallMs, cpuMs: measured.cpuMs, peakRssKiB: measured.peakRssKiB, stdout: r.stdout ?? '', stderr: measured.childStderr };
}

/**
 * This environment without NODE_EXTRA_CA_CERTS, when it sets that variable; else null. Node reads
 * and parses every certificate the variable names before any JavaScript runs (~150 of them, ~40 ms
 * of CPU, here where a proxy's CA bundle is named), a cost every node process pays — bare
 * `node -e 0` too — and cabextract, osslsigncode and sha256sum do not; cabferry makes no TLS
 * connection. The benchmarks keep their goal rows in the environment as given and add rows
 * without it, marked as such, so that the difference is seen rather than hidden either way.
 */
export function envWithoutExtraCaCerts(): NodeJS.ProcessEnv | null {
  if (process.env.NODE_EXTRA_CA_CERTS === undefined) return null;
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  return env;
}

/** Run each command in turn, `runs` times over, so that a busy moment of the machine slows all of them alike. */
export function timeInterleaved(commands: readonly (() => ChildRun)[], runs: number): ChildRun[][] {
  const out = commands.map(() => [] as ChildRun[]);
  for (let i = 0; i < runs; i++) commands.forEach((run, k) => out[k]!.push(run()));
  return out;
}
