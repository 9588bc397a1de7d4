/**
 * LZX codec throughput, in CPU time: how fast the decoder itself turns CFDATA into output,
 * next to cabextract -t on the same cabinets. The end-to-end `cabferry test` comparison (with
 * process start-up) is scripts/bench-decode.ts; this one isolates the codec, and measures CPU
 * rather than wall time so that a busy machine does not blur it.
 *
 *   node dist/scripts/bench-lzx.js [--runs N] [--huge] [--synthetic MB] [--json] [CAB…]
 *
 * Default cabinets: the real LZX:21 update cabinets in ../shared/corpus/ms-signed/kb2999226-inner.
 * --huge adds cabextract's 2 GiB historical LZX:15/LZX:21 cabinets (several seconds each).
 * --synthetic MB adds an LZX:21 + E8 cabinet of MB megabytes made by the test encoder from the
 * decoded members of the corpus's Microsoft cabinets (real x86/x64 code and manifests), the size
 * of a real rollup payload; it is built once (slowly: the encoder is simple) and kept in the temp
 * folder.
 *
 * Columns (MB = uncompressed output, CPU ms = user + system):
 *   cold   one pass in a fresh Node process (what one `cabferry test` pays: JIT warm-up included)
 *   warm   in-process after warm-up passes (the decoder's steady state)
 * Passes are the library's Cabinet.testCabinet() (CFDATA reads and checksums, LZX decoding, member
 * bookkeeping): the decoder dominates it. Medians of --runs (default 5).
 *
 * The reference is one `cabextract -t` over all the cabinets (its CPU time as bash's `times` reports
 * it), beside the TOTAL row only: a cabextract process per cabinet costs ~10 ms of start-up here,
 * more than decoding a small cabinet, and summed over 16 cabinets it made the warm decoder look 5×
 * faster than cabextract's (0.21×) when it is not. One process still starts once, and cabextract
 * also MD5s every member, so the warm ratio leans a little in cabferry's favour; the cold figure,
 * a fresh process per cabinet, has no reference (scripts/bench-decode.ts compares `cabferry test`
 * with cabextract end to end, start-up included on both sides). Ratios < 1: cabferry is faster.
 * --json prints the TOTAL figures as report rows (scripts/lib/bench-report) on stdout, the table on stderr.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openCab } from '../src/cab/cabinet';
import { buildCab } from './lib/cab-writer';
import { benchRow, median, printReport } from './lib/bench-report';
import { corpusDir, countOption, GNU_TIME, hasCommand, humanOutput, parseBenchOptions, runBenchScript, runChild, timeChild } from './lib/bench-run';
import { lzxFolderEncoder } from './lib/lzx-encoder';

/** Decode (test) every folder of `file` once; returns output bytes and CPU milliseconds. */
export function decodeLzxFolders(file: string): { bytes: number; cpuMs: number } {
  const cab = openCab(file);
  try {
    if (!cab.folders.some((f) => f.compression.type === 'lzx')) throw new Error(`${file} has no LZX folder`);
    const start = process.cpuUsage();
    const report = cab.testCabinet();
    const cpu = process.cpuUsage(start);
    if (!report.ok) throw new Error(`${file}: cabferry test failed: ${JSON.stringify(report.folders)}`);
    return { bytes: report.folders.reduce((n, f) => n + f.bytes, 0), cpuMs: (cpu.user + cpu.system) / 1000 };
  } finally {
    cab.close();
  }
}

function coldPass(file: string): number {
  const script = `const r = require(${JSON.stringify(__filename)}).decodeLzxFolders(${JSON.stringify(file)}); process.stdout.write(String(r.cpuMs));`;
  return Number(runChild(process.execPath, ['-e', script]).stdout);
}

/** cabextract's CPU time (user + system) for one `cabextract -t` of all `files`, which also MD5s every member. */
function cabextractCpuMs(files: readonly string[]): number {
  return timeChild('cabextract', ['-q', '-t', ...files], { stdout: 'ignore' }).cpuMs;
}

/** The --synthetic cabinet: corpus Microsoft payload bytes, re-compressed as one LZX:21 + E8 folder. */
function syntheticCabinet(megabytes: number): string {
  const file = path.join(os.tmpdir(), `cabferry-bench-lzx21-e8-${megabytes}MB.cab`);
  if (fs.existsSync(file)) return file;
  const parts: Buffer[] = [];
  let total = 0;
  const want = megabytes * 1e6;
  const sources = defaultFiles(false).concat(fs.readdirSync(path.join(corpusDir, 'ms-signed')).filter((d) => d.startsWith('office'))
    .flatMap((d) => fs.readdirSync(path.join(corpusDir, 'ms-signed', d)).map((f) => path.join(corpusDir, 'ms-signed', d, f))));
  while (total < want) {
    for (const src of sources) {
      const cab = openCab(src);
      try {
        for (const m of cab.members) {
          if (m.size === 0 || m.size > 64e6 || total >= want) continue;
          const data = cab.readMemberToBuffer(m, 64e6);
          parts.push(data);
          total += data.length;
        }
      } finally {
        cab.close();
      }
    }
  }
  const data = Buffer.concat(parts).subarray(0, want);
  console.error(`building ${file} from ${parts.length} corpus members (the test encoder takes a while)…`);
  const encoder = lzxFolderEncoder({ windowBits: 21, e8: true, blockType: ['verbatim', 'aligned'], maxBlockSize: 3 * 65536 });
  fs.writeFileSync(file, buildCab([{ encoder, files: [{ name: 'payload.bin', data }] }]));
  return file;
}

function defaultFiles(huge: boolean): string[] {
  const files: string[] = [];
  const inner = path.join(corpusDir, 'ms-signed', 'kb2999226-inner');
  for (const dir of fs.readdirSync(inner).sort()) {
    for (const f of fs.readdirSync(path.join(inner, dir)).sort()) if (f.endsWith('.cab')) files.push(path.join(inner, dir, f));
  }
  if (huge) files.push(path.join(corpusDir, 'cabextract', 'historical', 'huge-lzx15.cab'), path.join(corpusDir, 'cabextract', 'historical', 'huge-lzx21.cab'));
  return files;
}

function main(): void {
  const options = parseBenchOptions({
    numbers: { runs: countOption(5), synthetic: { default: 0 } }, // --synthetic 0: no synthetic cabinet
    flags: ['huge'],
    operands: 'CAB',
  });
  const { runs, synthetic } = options.numbers;
  const { huge } = options.flags;
  const { json, operands: given } = options;
  const say = humanOutput(json);
  const files = given.length > 0 ? given : defaultFiles(huge);
  if (synthetic > 0) files.push(syntheticCabinet(synthetic));
  const haveCabextract = hasCommand('cabextract') && fs.existsSync(GNU_TIME);
  const loadAverageAtStart = os.loadavg();

  const rows: string[][] = [['cabinet', 'MB', 'cold ms', 'cold MB/s', 'warm ms', 'warm MB/s', 'cabx ms', 'cabx MB/s', 'warm/cabx']];
  const sum = { mb: 0, cold: 0, warm: 0 };
  // run by run totals over all cabinets, for the report's figures (a cabinet measured once counts in every run)
  const totals = { cold: [] as number[], warm: [] as number[] };
  const addRuns = (into: number[], values: number[]): void => {
    for (let r = 0; r < runs; r++) into[r] = (into[r] ?? 0) + values[Math.min(r, values.length - 1)]!;
  };
  const fmt = (x: number, d = 1): string => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
  // cabextract's columns only in the TOTAL row (see the head of this file)
  const row = (label: string, mb: number, cold: number, warm: number, cabx?: number): string[] => [
    label, fmt(mb, 2), fmt(cold), fmt(mb / (cold / 1000), 0), fmt(warm), fmt(mb / (warm / 1000), 0),
    ...(cabx === undefined ? ['', '', ''] : [fmt(cabx), fmt(mb / (cabx / 1000), 0), fmt(warm / cabx, 2)]),
  ];
  for (const file of files) {
    const huge = fs.statSync(file).size > 2_000_000 && path.basename(file).startsWith('huge');
    const n = huge ? 1 : runs;
    const coldRuns = Array.from({ length: n }, () => coldPass(file));
    let bytes = 0;
    const warmRuns: number[] = [];
    for (let r = 0; r < (huge ? 1 : n + 3); r++) {
      const pass = decodeLzxFolders(file);
      bytes = pass.bytes;
      if (huge || r >= 3) warmRuns.push(pass.cpuMs);
    }
    const [cold, warm] = [median(coldRuns), median(warmRuns)];
    addRuns(totals.cold, coldRuns);
    addRuns(totals.warm, warmRuns);
    const mb = bytes / 1e6;
    sum.mb += mb;
    sum.cold += cold;
    sum.warm += warm;
    rows.push(row(file.startsWith(corpusDir) ? path.relative(corpusDir, file) : path.basename(file), mb, cold, warm));
  }
  const anyHuge = files.some((f) => path.basename(f).startsWith('huge'));
  const cabxRuns = haveCabextract ? Array.from({ length: anyHuge ? 1 : runs }, () => cabextractCpuMs(files)) : [NaN];
  rows.push(row('TOTAL', sum.mb, sum.cold, sum.warm, median(cabxRuns)));
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  for (const r of rows) say(r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  '));
  if (!haveCabextract) say('cabextract or GNU time is not installed: no reference columns');
  say(`CPU time, medians of ${runs} runs; ratios < 1 mean cabferry's decoder is faster`);

  if (json) {
    const what = `LZX decoder alone, ${files.length} cabinets, ${sum.mb.toFixed(0)} MB out`;
    const reference = haveCabextract ? { command: 'cabextract -t (one process, all cabinets)', values: cabxRuns } : null;
    printReport({
      script: 'bench-lzx',
      parameters: { runs, huge, synthetic, files: files.length },
      loadAverageAtStart,
      rows: [
        benchRow({ id: 'lzx.warm.cpu', what, metric: 'cpu', unit: 'ms', cabferry: { command: 'testCabinet() in-process, warm', values: totals.warm }, reference }),
        benchRow({
          id: 'lzx.cold.cpu',
          what,
          metric: 'cpu',
          unit: 'ms',
          cabferry: { command: 'testCabinet() in a fresh node', values: totals.cold },
          reference: null,
          note: 'one pass per cabinet, each in a fresh process: JIT warm-up included, process start-up not (bench-decode compares end to end)',
        }),
      ],
    });
  }
}

if (require.main === module) runBenchScript('bench-lzx', main);
