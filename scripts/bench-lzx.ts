/**
 * LZX throughput benchmark: cabferry against `cabextract -t` on the same real LZX cabinets, run
 * side by side and reported as ratios (never asserted: timings belong here, not in tests).
 *
 *   node dist/scripts/bench-lzx.js [--runs N] [--huge] [CAB…]
 *
 * Default cabinets: the real LZX:21 update cabinets in ../shared/corpus/ms-signed/kb2999226-inner.
 * --huge adds cabextract's 2 GiB historical LZX:15/LZX:21 cabinets (about 10 s each).
 *
 * Columns:
 *   decode   in-process `Cabinet.testCabinet()` (container + LZX decoder, no process start-up)
 *   cli      `cabferry test FILE` as a user runs it (includes Node start-up)
 *   cabx     `cabextract -t FILE` (includes its MD5 of every member)
 * Times are medians of --runs runs (default 5); MB is uncompressed output.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openCab } from '../src/cab/cabinet';

const projectRoot = path.join(__dirname, '..', '..');
const corpus = path.join(projectRoot, '..', 'shared', 'corpus');
const cli = path.join(projectRoot, 'dist', 'src', 'cli', 'main.js');

function parseArgs(argv: string[]): { runs: number; huge: boolean; files: string[] } {
  let runs = 5;
  let huge = false;
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--runs') runs = Number(argv[++i]);
    else if (a === '--huge') huge = true;
    else files.push(a);
  }
  if (files.length === 0) {
    const inner = path.join(corpus, 'ms-signed', 'kb2999226-inner');
    for (const dir of fs.readdirSync(inner).sort()) {
      for (const f of fs.readdirSync(path.join(inner, dir)).sort()) if (f.endsWith('.cab')) files.push(path.join(inner, dir, f));
    }
  }
  if (huge) files.push(path.join(corpus, 'cabextract', 'historical', 'huge-lzx15.cab'), path.join(corpus, 'cabextract', 'historical', 'huge-lzx21.cab'));
  return { runs, huge, files };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function timeMs(fn: () => void, runs: number): number {
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t = process.hrtime.bigint();
    fn();
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return median(times);
}

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr?.toString().trim()}`);
}

function main(): void {
  const { runs, files } = parseArgs(process.argv.slice(2));
  const haveCabextract = spawnSync('sh', ['-c', 'command -v cabextract']).status === 0;
  const rows: string[][] = [['cabinet', 'MB', 'decode ms', 'decode MB/s', 'cli ms', 'cabx ms', 'cabx MB/s', 'decode/cabx', 'cli/cabx']];
  let totalBytes = 0;
  let totalDecode = 0;
  let totalCli = 0;
  let totalCabx = 0;
  for (const file of files) {
    let bytes = 0;
    const decode = timeMs(() => {
      const cab = openCab(file);
      try {
        const report = cab.testCabinet();
        if (!report.ok) throw new Error(`${file}: cabferry test failed: ${JSON.stringify(report.folders)}`);
        bytes = report.folders.reduce((n, f) => n + f.bytes, 0);
      } finally {
        cab.close();
      }
    }, runs);
    let cliMs = NaN;
    try {
      cliMs = timeMs(() => run(process.execPath, [cli, 'test', file]), runs);
    } catch (e) {
      console.error(`cli column skipped for ${path.basename(file)}: ${(e as Error).message}`);
    }
    const cabx = haveCabextract ? timeMs(() => run('cabextract', ['-q', '-t', file]), runs) : NaN;
    totalBytes += bytes;
    totalDecode += decode;
    totalCli += cliMs;
    totalCabx += cabx;
    const mb = bytes / 1e6;
    rows.push([
      path.relative(corpus, file),
      mb.toFixed(2),
      decode.toFixed(1),
      (mb / (decode / 1000)).toFixed(0),
      cliMs.toFixed(1),
      cabx.toFixed(1),
      (mb / (cabx / 1000)).toFixed(0),
      (decode / cabx).toFixed(2),
      (cliMs / cabx).toFixed(2),
    ]);
  }
  const mb = totalBytes / 1e6;
  rows.push(['TOTAL', mb.toFixed(2), totalDecode.toFixed(1), (mb / (totalDecode / 1000)).toFixed(0), totalCli.toFixed(1), totalCabx.toFixed(1),
    (mb / (totalCabx / 1000)).toFixed(0), (totalDecode / totalCabx).toFixed(2), (totalCli / totalCabx).toFixed(2)]);
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  for (const r of rows) console.log(r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  '));
  if (!haveCabextract) console.log('cabextract not installed: no reference column');
  console.log(`medians of ${runs} runs; ratios < 1 mean cabferry is faster`);
}

main();
