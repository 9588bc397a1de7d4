/**
 * Decode benchmark: `cabferry test` against `cabextract -t` on the same real LZX cabinets,
 * run side by side, median of several runs, and the ratio (goal: cabferry ≤ 2× cabextract).
 *
 *   node dist/scripts/bench-decode.js [--runs N] [--repeat N] [--huge] [FILE…]
 *
 * Default input: every LZX cabinet under ../shared/corpus/ms-signed (real Microsoft update and
 * Office payloads, LZX:21), listed --repeat times (default 5) in one invocation each way. --huge adds
 * cabextract/historical/huge-lzx21.cab (2 GiB of output) as a separate, long-running case.
 * cabextract -t also MD5s every member; the "--sha256" row makes cabferry hash too, for a
 * like-for-like figure. Wall and CPU (user+system, via GNU time) are both reported: on a
 * shared machine the CPU ratio is the meaningful one.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openCab } from '../src/cab/cabinet';

const root = path.resolve(__dirname, '..', '..');
const corpus = path.join(root, '..', 'shared', 'corpus');
const cli = path.join(root, 'dist', 'src', 'cli', 'main.js');

function lzxCabinets(dir: string): string[] {
  const out: string[] = [];
  (function walk(d: string) {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.toLowerCase().endsWith('.cab')) {
        const cab = openCab(p);
        try {
          if (cab.folders.some((f) => f.compression.type === 'lzx')) out.push(p);
        } finally {
          cab.close();
        }
      }
    }
  })(dir);
  return out.sort();
}

interface Timing {
  wallMs: number;
  /** user + system CPU of the child, from GNU time; what matters on a shared, loaded machine */
  cpuMs: number;
}

const GNU_TIME = '/usr/bin/time';

function timeOnce(cmd: string, args: string[]): Timing {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(GNU_TIME, ['-f', 'CPU %U %S', cmd, ...args], { stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 26 });
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const err = r.stderr.toString();
  if (r.status !== 0) throw new Error(`${cmd} ${args.slice(0, 2).join(' ')}… exited ${r.status}: ${err.slice(0, 300)}`);
  const m = /CPU ([\d.]+) ([\d.]+)\s*$/.exec(err);
  if (m === null) throw new Error(`no CPU times from ${GNU_TIME}: ${err.slice(-200)}`);
  return { wallMs, cpuMs: (Number(m[1]) + Number(m[2])) * 1000 };
}

/** Commands alternate run by run, so a busy machine slows all of them alike. */
function timeInterleaved(commands: [string, string[]][], runs: number): Timing[][] {
  const times = commands.map(() => [] as Timing[]);
  for (let i = 0; i < runs; i++) commands.forEach(([cmd, args], k) => times[k]!.push(timeOnce(cmd, args)));
  return times;
}

function medians(ts: Timing[]): Timing {
  return { wallMs: median(ts.map((t) => t.wallMs)), cpuMs: median(ts.map((t) => t.cpuMs)) };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

function main(): void {
  const argv = process.argv.slice(2);
  let runs = 5;
  let huge = false;
  let repeat = 5;
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--runs') runs = Number(argv[++i]);
    else if (argv[i] === '--huge') huge = true;
    else if (argv[i] === '--repeat') repeat = Number(argv[++i]);
    else files.push(argv[i]!);
  }
  if (spawnSync('sh', ['-c', 'command -v cabextract']).status !== 0) {
    console.error('bench-decode: cabextract is not installed (apt-get install cabextract)');
    process.exit(2);
  }
  if (!fs.existsSync(GNU_TIME)) {
    console.error(`bench-decode: ${GNU_TIME} (GNU time, apt-get install time) is needed for CPU times`);
    process.exit(2);
  }
  const cases: { label: string; files: string[] }[] = [];
  if (files.length > 0) cases.push({ label: `${files.length} given file(s)`, files });
  else {
    // the same cabinets several times in one invocation, so process startup does not dominate.
    // Each repetition gets its own file name: cabextract skips a path it has already seen in the
    // same run ("skipping known cabinet"), which would let it do a fraction of the work.
    const base = lzxCabinets(path.join(corpus, 'ms-signed'));
    const copies = fs.mkdtempSync(path.join(os.tmpdir(), 'cabferry-bench-decode-'));
    process.on('exit', () => fs.rmSync(copies, { recursive: true, force: true }));
    const repeated = Array.from({ length: repeat }, (_, r) =>
      base.map((f, i) => {
        const copy = path.join(copies, `${r}-${i}-${path.basename(f)}`);
        fs.copyFileSync(f, copy);
        return copy;
      }),
    ).flat();
    cases.push({ label: `ms-signed LZX cabinets ×${repeat} (distinct copies)`, files: repeated });
  }
  if (huge) cases.push({ label: 'huge-lzx21.cab (2 GiB out)', files: [path.join(corpus, 'cabextract', 'historical', 'huge-lzx21.cab')] });

  console.log(`runs per command: ${runs}, interleaved (median reported); load average now ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} CPU(s)`);
  const startup = medians(timeInterleaved([[process.execPath, [cli, '--version']]], runs)[0]!);
  console.log(`cabferry startup alone (--version): ${startup.wallMs.toFixed(0)} ms wall, ${startup.cpuMs.toFixed(0)} ms CPU`);
  for (const c of cases) {
    const inBytes = c.files.reduce((n, f) => n + fs.statSync(f).size, 0);
    const outBytes = c.files.reduce((n, f) => {
      const cab = openCab(f);
      try {
        return n + cab.members.reduce((k, m) => k + m.size, 0);
      } finally {
        cab.close();
      }
    }, 0);
    const [cx, cf, cfh] = timeInterleaved(
      [
        ['cabextract', ['-q', '-t', ...c.files]],
        [process.execPath, [cli, 'test', ...c.files]],
        [process.execPath, [cli, 'test', '--sha256', ...c.files]],
      ],
      runs,
    ).map(medians) as [Timing, Timing, Timing];
    const mb = outBytes / 1048576;
    const row = (label: string, t: Timing) =>
      `  ${label.padEnd(24)} wall ${t.wallMs.toFixed(0).padStart(6)} ms  CPU ${t.cpuMs.toFixed(0).padStart(6)} ms  ${(mb / (t.cpuMs / 1000)).toFixed(0).padStart(5)} MiB/s CPU` +
      (t === cx ? '' : `  ratio wall ${(t.wallMs / cx.wallMs).toFixed(2)}x, CPU ${(t.cpuMs / cx.cpuMs).toFixed(2)}x`);
    console.log(`\n${c.label}: ${c.files.length} file(s), ${(inBytes / 1048576).toFixed(1)} MiB in, ${mb.toFixed(1)} MiB out`);
    console.log(row('cabextract -t', cx));
    console.log(row('cabferry test', cf));
    console.log(row('cabferry test --sha256', cfh));
  }
}

main();
