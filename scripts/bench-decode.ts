/**
 * Decode benchmark: `cabferry test` against `cabextract -t` on the same real LZX cabinets,
 * run side by side, median of several runs, and the ratio (goal, issue #18: cabferry ≤ 1.3× cabextract CPU).
 *
 *   node dist/scripts/bench-decode.js [--runs N] [--repeat N] [--huge] [--json] [FILE…]
 *
 * Default input: every LZX cabinet under ../shared/corpus/ms-signed (real Microsoft update and
 * Office payloads, LZX:21), listed --repeat times (default 5) in one invocation each way. --huge adds
 * cabextract/historical/huge-lzx21.cab (2 GiB of output) as a separate, long-running case.
 * cabextract -t also MD5s every member; the "--sha256" row makes cabferry hash too, for a
 * like-for-like figure. Wall and CPU (user+system, via GNU time) are both reported: on a
 * shared machine the CPU ratio is the meaningful one. --json prints the rows (scripts/lib/bench-report)
 * as one JSON document on stdout, the text going to stderr.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openCab } from '../src/cab/cabinet';
import { benchRow, median, printReport, type BenchRow } from './lib/bench-report';
import { cliPath, corpusDir, countOption, envWithoutExtraCaCerts, GNU_TIME, humanOutput, parseBenchOptions, requireCommands, runBenchScript, runChild, timeChild, timeInterleaved, type ChildRun } from './lib/bench-run';

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

/** cabextract -t, cabferry test and cabferry test --sha256 on the same files; medians of `runs`. */
function decodeRows(c: { id: string; label: string; files: string[] }, runs: number, startupNote: string, say: (line: string) => void): BenchRow[] {
  const inBytes = c.files.reduce((n, f) => n + fs.statSync(f).size, 0);
  const outBytes = c.files.reduce((n, f) => {
    const cab = openCab(f);
    try {
      return n + cab.members.reduce((k, m) => k + m.size, 0);
    } finally {
      cab.close();
    }
  }, 0);
  // cabextract -q prints nothing on success; cabferry test's per-file lines are not needed either
  const quiet = { stdout: 'ignore' } as const;
  const bareEnv = envWithoutExtraCaCerts();
  const [cx, cf, cfh, cfBare] = timeInterleaved(
    [
      () => timeChild('cabextract', ['-q', '-t', ...c.files], quiet),
      () => timeChild(process.execPath, [cliPath, 'test', ...c.files], quiet),
      () => timeChild(process.execPath, [cliPath, 'test', '--sha256', ...c.files], quiet),
      ...(bareEnv === null ? [] : [() => timeChild(process.execPath, [cliPath, 'test', ...c.files], { ...quiet, env: bareEnv })]),
    ],
    runs,
  ) as [ChildRun[], ChildRun[], ChildRun[], ChildRun[] | undefined];
  const mb = outBytes / 1048576;
  const wall = (ts: ChildRun[]) => median(ts.map((t) => t.wallMs));
  const cpu = (ts: ChildRun[]) => median(ts.map((t) => t.cpuMs));
  const line = (label: string, ts: ChildRun[]) =>
    `  ${label.padEnd(38)} wall ${wall(ts).toFixed(0).padStart(6)} ms  CPU ${cpu(ts).toFixed(0).padStart(6)} ms  ${(mb / (cpu(ts) / 1000)).toFixed(0).padStart(5)} MiB/s CPU` +
    (ts === cx ? '' : `  ratio wall ${(wall(ts) / wall(cx)).toFixed(2)}x, CPU ${(cpu(ts) / cpu(cx)).toFixed(2)}x`);
  say(`\n${c.label}: ${c.files.length} file(s), ${(inBytes / 1048576).toFixed(1)} MiB in, ${mb.toFixed(1)} MiB out`);
  say(line('cabextract -t', cx));
  say(line('cabferry test', cf));
  say(line('cabferry test --sha256', cfh));
  if (cfBare !== undefined) say(line('cabferry test, no NODE_EXTRA_CA_CERTS', cfBare));

  const what = `decode ${c.label}, ${mb.toFixed(0)} MiB out`;
  const goal = { max: 1.3, on: 'ratio', source: 'issue #18' } as const;
  const reference = (metric: 'wallMs' | 'cpuMs') => ({ command: 'cabextract -t', values: cx.map((t) => t[metric]) });
  return [
    benchRow({ id: `${c.id}.cpu`, what, metric: 'cpu', unit: 'ms', cabferry: { command: 'cabferry test', values: cf.map((t) => t.cpuMs) }, reference: reference('cpuMs'), goal, note: startupNote }),
    benchRow({ id: `${c.id}.wall`, what, metric: 'wall', unit: 'ms', cabferry: { command: 'cabferry test', values: cf.map((t) => t.wallMs) }, reference: reference('wallMs'), goal, note: startupNote }),
    benchRow({
      id: `${c.id}-sha256.cpu`,
      what,
      metric: 'cpu',
      unit: 'ms',
      cabferry: { command: 'cabferry test --sha256', values: cfh.map((t) => t.cpuMs) },
      reference: reference('cpuMs'),
      goal,
      note: 'like for like: cabextract -t also hashes (MD5) every member',
    }),
    ...(cfBare === undefined
      ? []
      : [
          benchRow({
            id: `${c.id}-no-extra-ca.cpu`,
            what,
            metric: 'cpu',
            unit: 'ms',
            cabferry: { command: 'cabferry test, NODE_EXTRA_CA_CERTS unset', values: cfBare.map((t) => t.cpuMs) },
            reference: reference('cpuMs'),
            note: "informational: this machine's environment names a CA bundle that every node process parses at start (see envWithoutExtraCaCerts); the goal row above keeps it",
          }),
        ]),
  ];
}

function main(): void {
  const options = parseBenchOptions({
    numbers: { runs: countOption(5), repeat: countOption(5) },
    flags: ['huge'],
    operands: 'FILE',
  });
  const { runs, repeat } = options.numbers;
  const { huge } = options.flags;
  const { json, operands: files } = options;
  const say = humanOutput(json);
  requireCommands(['cabextract', GNU_TIME, 'sync']);
  const cases: { id: string; label: string; files: string[] }[] = [];
  if (files.length > 0) cases.push({ id: 'decode.given', label: `${files.length} given file(s)`, files });
  else {
    // the same cabinets several times in one invocation, so process startup does not dominate.
    // Each repetition gets its own file name: cabextract skips a path it has already seen in the
    // same run ("skipping known cabinet"), which would let it do a fraction of the work.
    const base = lzxCabinets(path.join(corpusDir, 'ms-signed'));
    const copies = fs.mkdtempSync(path.join(os.tmpdir(), 'cabferry-bench-decode-'));
    process.on('exit', () => fs.rmSync(copies, { recursive: true, force: true }));
    const repeated = Array.from({ length: repeat }, (_, r) =>
      base.map((f, i) => {
        const copy = path.join(copies, `${r}-${i}-${path.basename(f)}`);
        fs.copyFileSync(f, copy);
        return copy;
      }),
    ).flat();
    // 52 MB just written: their writeback must not run on the cores beside the timed runs
    runChild('sync', []);
    cases.push({ id: 'decode', label: `${base.length} ms-signed LZX cabinets ×${repeat}`, files: repeated });
  }
  if (huge) cases.push({ id: 'decode.huge', label: 'huge-lzx21.cab (2 GiB out)', files: [path.join(corpusDir, 'cabextract', 'historical', 'huge-lzx21.cab')] });

  const loadAverageAtStart = os.loadavg();
  say(`runs per command: ${runs}, interleaved (median reported); load average now ${loadAverageAtStart[0]!.toFixed(1)} on ${os.cpus().length} CPU(s)`);
  const startup = Array.from({ length: runs }, () => timeChild(process.execPath, [cliPath, '--version'], { stdout: 'ignore' }));
  const startupText = `${median(startup.map((t) => t.wallMs)).toFixed(0)} ms wall, ${median(startup.map((t) => t.cpuMs)).toFixed(0)} ms CPU`;
  say(`cabferry startup alone (--version): ${startupText}`);
  const rows = cases.flatMap((c) => decodeRows(c, runs, `included: cabferry's start-up alone (--version) takes ${startupText}`, say));
  if (json) printReport({ script: 'bench-decode', parameters: { runs, repeat, huge, files: files.length }, loadAverageAtStart, rows });
}

runBenchScript('bench-decode', main);
