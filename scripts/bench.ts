/**
 * `npm run bench`: runs every benchmark script, prints one table of cabferry beside the real
 * tools (medians, ratios, goals) and writes bench/results.json.
 *
 *   node dist/scripts/bench.js [--quick] [--only decode,verify,verify-pe,import,plan,lzx,stage,startup,rollup] [--json | --markdown] [--out FILE]
 *   node dist/scripts/bench.js --from bench/results.json [--json | --markdown]
 *
 * Each script runs as a child process with --json: its one JSON report (scripts/lib/bench-report)
 * comes back on stdout, its progress and its own text pass through on stderr. The scripts run
 * one after another, never side by side: on a 2-core machine two benchmarks would slow each other.
 *
 * --quick     small sizes and single runs: a smoke check of the whole chain in seconds, not figures
 * --only      a comma-separated subset, in the order given
 * --json      print the results document on stdout instead of the table
 * --markdown  print the table as Markdown (the README's Performance section)
 * --from FILE print the table of an earlier run's results instead of measuring
 * --out FILE  where to write the results; a full run writes bench/results.json by default, a
 *             --quick or --only run writes nothing unless given --out (it must not replace the
 *             committed figures of a full run)
 * Exit status: 0 when every script ran (goals missed are findings, not failures), 1 when one
 * failed, 2 for a usage error.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { formatErrorLine, isCabferryError, usageError } from '../src/errors';
import {
  describeMachine,
  describeMachineText,
  formatMarkdownTable,
  formatTable,
  type BenchReport,
  type BenchRow,
  type MachineDescription,
} from './lib/bench-report';

const projectRoot = path.join(__dirname, '..', '..');
const defaultResults = path.join(projectRoot, 'bench', 'results.json');

interface BenchScript {
  name: string;
  script: string;
  /** arguments of a full run: sizes from the issues, several runs for the medians */
  full: string[];
  /** arguments of a --quick run: seconds, not figures */
  quick: string[];
}

/** In the order of issue #8's list, then the two that it does not name. */
const BENCHES: readonly BenchScript[] = [
  { name: 'decode', script: 'bench-decode.js', full: ['--runs', '5', '--repeat', '5'], quick: ['--runs', '1', '--repeat', '1'] },
  { name: 'verify', script: 'bench-verify.js', full: ['--size-mb', '300', '--runs', '5'], quick: ['--size-mb', '16', '--runs', '1'] },
  { name: 'verify-pe', script: 'bench-verify-pe.js', full: ['--size-mb', '600', '--runs', '5'], quick: ['--size-mb', '16', '--runs', '1'] },
  {
    name: 'import',
    script: 'bench-import.js',
    full: ['--size-mb', '300', '--runs', '5', '--rss-size-mb', '1024', '--rss-runs', '3'],
    quick: ['--size-mb', '16', '--runs', '1', '--rss-size-mb', '32', '--rss-runs', '1'],
  },
  {
    name: 'plan',
    script: 'bench-plan.js',
    full: ['--payloads', '5000', '--hosts', '1000', '--runs', '15', '--host-runs', '3'],
    quick: ['--payloads', '5000', '--hosts', '20', '--runs', '3', '--host-runs', '1'],
  },
  { name: 'lzx', script: 'bench-lzx.js', full: ['--runs', '5'], quick: ['--runs', '1'] },
  { name: 'stage', script: 'bench-stage.js', full: ['--mb', '300', '--runs', '3'], quick: ['--mb', '16', '--runs', '1'] },
  { name: 'startup', script: 'bench-startup.js', full: ['--runs', '20'], quick: ['--runs', '2'] },
  {
    name: 'rollup',
    script: 'bench-rollup.js',
    full: ['--inner-mb', '1024', '--components', '3000', '--runs', '3'],
    quick: ['--inner-mb', '8', '--components', '40', '--runs', '1'],
  },
];

export interface ScriptRun {
  name: string;
  script: string;
  args: string[];
  seconds: number;
  /** the script's report; null when it failed */
  report: BenchReport | null;
  /** why it failed: exit status and the end of its stderr */
  error: string | null;
}

/** bench/results.json */
export interface BenchResults {
  generatedAt: string;
  mode: 'full' | 'quick';
  benches: string[];
  /** the code measured: HEAD, and whether tracked files differed from it; null outside a git checkout */
  source: { commit: string; modified: boolean } | null;
  machine: MachineDescription;
  scripts: ScriptRun[];
}

interface Options {
  quick: boolean;
  only: BenchScript[];
  format: 'text' | 'json' | 'markdown';
  out: string | null;
  /** an earlier results file to print instead of measuring */
  from: string | null;
}

function parseOptions(argv: readonly string[]): Options {
  let quick = false;
  let format: Options['format'] = 'text';
  let out: string | undefined;
  let from: string | null = null;
  let only: BenchScript[] | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--quick') quick = true;
    else if (a === '--json' || a === '--markdown') {
      if (format !== 'text') throw usageError('BENCH_USAGE', '--json and --markdown exclude each other');
      format = a === '--json' ? 'json' : 'markdown';
    } else if (a === '--out' || a === '--from') {
      const file = argv[++i];
      if (!file) throw usageError('BENCH_USAGE', `${a} needs a file name`);
      if (a === '--out') out = file;
      else from = path.resolve(file);
    } else if (a === '--only') {
      const names = (argv[++i] ?? '').split(',').filter((n) => n !== '');
      if (names.length === 0) throw usageError('BENCH_USAGE', `--only needs a list of benchmarks: ${BENCHES.map((b) => b.name).join(',')}`);
      only = names.map((n) => {
        const b = BENCHES.find((x) => x.name === n);
        if (!b) throw usageError('BENCH_USAGE', `unknown benchmark ${JSON.stringify(n)} in --only (known: ${BENCHES.map((x) => x.name).join(', ')})`);
        return b;
      });
    } else throw usageError('BENCH_USAGE', `unknown argument ${JSON.stringify(a)}`);
  }
  if (from !== null && (quick || only !== undefined || out !== undefined)) throw usageError('BENCH_USAGE', '--from prints earlier results: it takes no --quick, --only or --out');
  const partial = quick || only !== undefined || from !== null;
  return { quick, format, from, only: only ?? [...BENCHES], out: out !== undefined ? path.resolve(out) : partial ? null : defaultResults };
}

function describeSource(): BenchResults['source'] {
  const git = (...args: string[]) => spawnSync('git', ['-C', projectRoot, ...args], { encoding: 'utf8' });
  const head = git('rev-parse', 'HEAD');
  if (head.status !== 0) return null;
  // the committed results file is what a run writes, not a change to what it measures: a second
  // full run in the same checkout would otherwise call itself "with local changes"
  const changed = git('status', '--porcelain', '--untracked-files=no', '--', '.', ':(exclude)bench/results.json');
  return { commit: head.stdout.trim(), modified: changed.stdout.trim() !== '' };
}

/** The script's stderr passes through as it comes; its stdout is collected and must be one report. */
function runBench(bench: BenchScript, quick: boolean): Promise<ScriptRun> {
  const args = quick ? bench.quick : bench.full;
  const script = path.join(__dirname, bench.script);
  const started = process.hrtime.bigint();
  process.stderr.write(`\n== ${bench.name}: ${bench.script} ${args.join(' ')}\n`);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script, '--json', ...args], { cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    let stderrTail = '';
    child.stdout.on('data', (d: Buffer) => stdout.push(d));
    child.stderr.on('data', (d: Buffer) => {
      process.stderr.write(d);
      stderrTail = (stderrTail + d.toString('utf8')).slice(-8000);
    });
    const finish = (report: BenchReport | null, error: string | null): void =>
      resolve({ name: bench.name, script: bench.script, args, seconds: Number(process.hrtime.bigint() - started) / 1e9, report, error });
    child.on('error', (e) => finish(null, `could not start: ${e.message}`));
    child.on('close', (status, signal) => {
      if (status !== 0) return finish(null, `exited ${status ?? signal}: ${failureReason(stderrTail)}`);
      try {
        finish(parseReport(Buffer.concat(stdout).toString('utf8')), null);
      } catch (e) {
        finish(null, `its stdout is not one report: ${(e as Error).message}`);
      }
    });
  });
}

/** The line of a failed script's stderr that says why: a thrown error's message, else its last words. */
function failureReason(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('at ') && !/^Node\.js v\d/.test(l));
  return lines.find((l) => /^[A-Za-z]*Error\b/.test(l)) ?? lines[lines.length - 1] ?? '(nothing on stderr)';
}

function parseReport(text: string): BenchReport {
  const doc = JSON.parse(text) as Partial<BenchReport>;
  if (typeof doc.script !== 'string' || !Array.isArray(doc.rows) || doc.rows.length === 0) throw new Error('no script name or no rows');
  for (const row of doc.rows) {
    if (typeof row.id !== 'string' || typeof row.cabferry?.figure?.median !== 'number') throw new Error(`malformed row ${JSON.stringify(row).slice(0, 200)}`);
  }
  return doc as BenchReport;
}

function summary(rows: readonly BenchRow[], runs: readonly ScriptRun[], quick: boolean): string {
  const withGoal = rows.filter((r) => r.met !== null);
  const missed = withGoal.filter((r) => r.met === false);
  const lines = [`goals met: ${withGoal.length - missed.length} of ${withGoal.length}${missed.length ? ` (missed: ${missed.map((r) => r.id).join(', ')})` : ''}`];
  if (quick) lines.push('a --quick run checks that every benchmark runs: its sizes and run counts are too small for figures to set against the goals');
  lines.push(`medians of the runs shown; CPU is user + system of the process and its threads, the figure a loaded machine disturbs least`);
  const notes = new Map<string, string[]>();
  for (const r of rows) if (r.note !== undefined) notes.set(r.note, [...(notes.get(r.note) ?? []), r.id]);
  if (notes.size > 0) lines.push('notes:', ...[...notes].map(([note, ids]) => `  ${ids.join(', ')}: ${note}`));
  for (const r of runs) {
    const load = r.report ? `, load average at its start ${r.report.loadAverageAtStart[0]!.toFixed(2)}` : '';
    lines.push(`${r.name}: ${r.script} ${r.args.join(' ')} — ${r.seconds.toFixed(1)} s${load}${r.error ? `, FAILED: ${r.error}` : ''}`);
  }
  return lines.join('\n');
}

function readResults(file: string): BenchResults {
  let doc: BenchResults;
  try {
    doc = JSON.parse(fs.readFileSync(file, 'utf8')) as BenchResults;
  } catch (e) {
    throw usageError('BENCH_USAGE', `cannot read results from ${file}: ${(e as Error).message}`);
  }
  if (!Array.isArray(doc.scripts) || typeof doc.machine !== 'object') throw usageError('BENCH_USAGE', `${file} is not a results file of bench.js`);
  return doc;
}

async function measure(options: Options): Promise<BenchResults> {
  const machine = describeMachine();
  const source = describeSource();
  const generatedAt = new Date().toISOString();
  const scripts: ScriptRun[] = [];
  // `npm run bench` has just built dist/ (some MB of program, maps and code caches): its writeback
  // would share the two cores with the first timings. Best effort: without `sync` the scripts still
  // run, and each that needs it says so itself (requireCommands)
  spawnSync('sync', [], { stdio: 'ignore' });
  for (const bench of options.only) scripts.push(await runBench(bench, options.quick));
  return { generatedAt, mode: options.quick ? 'quick' : 'full', benches: options.only.map((b) => b.name), source, machine, scripts };
}

function printResults(results: BenchResults, format: Options['format']): void {
  const rows = results.scripts.flatMap((r) => r.report?.rows ?? []);
  if (format === 'json') {
    process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
    return;
  }
  const code = results.source === null ? 'not a git checkout' : `commit ${results.source.commit.slice(0, 12)}${results.source.modified ? ' with local changes' : ''}`;
  if (format === 'markdown') {
    const m = results.machine;
    process.stdout.write(`${formatMarkdownTable(rows)}\n\n`);
    process.stdout.write(`${results.mode} run of ${results.generatedAt.slice(0, 10)}, ${code}, on ${m.cpuModel} (${m.cores} cores, ${(m.memoryMiB / 1024).toFixed(0)} GiB), load average at start ${m.loadAverageAtStart[0]!.toFixed(2)}; node ${m.versions.node}, ${m.versions.cabextract ?? 'no cabextract'}, ${m.versions.osslsigncode ?? 'no osslsigncode'}, ${m.versions.sha256sum ?? 'no sha256sum'}.\n`);
    return;
  }
  process.stdout.write(`\ncabferry benchmarks (${results.mode} run, ${results.generatedAt}, ${code})\n${describeMachineText(results.machine)}\n\n`);
  process.stdout.write(`${formatTable(rows)}\n\n${summary(rows, results.scripts, results.mode === 'quick')}\n`);
}

async function main(): Promise<number> {
  let options: Options;
  let results: BenchResults;
  try {
    options = parseOptions(process.argv.slice(2));
    results = options.from !== null ? readResults(options.from) : await measure(options);
  } catch (e) {
    if (!isCabferryError(e)) throw e;
    process.stderr.write(`bench: ${formatErrorLine(e)}\n`);
    return e.exitCode;
  }
  printResults(results, options.format);
  if (options.from !== null) return 0;
  if (options.out !== null) {
    fs.mkdirSync(path.dirname(options.out), { recursive: true });
    fs.writeFileSync(options.out, `${JSON.stringify(results, null, 2)}\n`);
    process.stderr.write(`bench: results written to ${path.relative(process.cwd(), options.out) || options.out}\n`);
  } else process.stderr.write('bench: a --quick or --only run writes no results file (give --out FILE to keep it)\n');
  return results.scripts.every((r) => r.error === null) ? 0 : 1;
}

if (require.main === module) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
