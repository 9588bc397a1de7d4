/**
 * Benchmark: `cabferry verify` against `osslsigncode verify` and `sha256sum` on one ≈300 MB
 * cabinet signed Microsoft-style (SHA-1 primary + nested SHA-256) with the test PKI.
 *
 *   npx tsc -p . && node dist/scripts/bench-verify.js [--size-mb 300] [--runs 5] [--json]
 *
 * The cabinet is built in a temporary directory (never committed) and removed afterwards.
 * Each tool runs once to warm the page cache, then the three are run in turn `runs` times;
 * the report gives each median, fastest run and CPU time (user + system, all threads) and the
 * ratios. Goal (issue #3): cabferry ≤ 0.8× osslsigncode.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { benchRow, jsonRequested, median, printReport, type BenchRow } from './lib/bench-report';
import { buildCab, noneFolderEncoder, type CabWriterFile } from './lib/cab-writer';

const projectRoot = path.join(__dirname, '..', '..');
const cli = path.join(projectRoot, 'dist', 'src', 'cli', 'main.js');
const pki = path.join(projectRoot, 'fixtures', 'pki');

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const hasGnuTime = fs.existsSync('/usr/bin/time');

interface Timing {
  wallMs: number;
  /** user + system CPU of the child (all its threads), when /usr/bin/time is there */
  cpuMs: number | null;
}

function run(cmd: string, args: string[], expectStatus = 0): Timing {
  const [exe, argv] = hasGnuTime ? ['/usr/bin/time', ['-f', 'cabferry-bench-cpu %U %S', cmd, ...args]] : [cmd, args];
  const start = process.hrtime.bigint();
  const r = spawnSync(exe, argv, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.error) throw r.error;
  if (r.status !== expectStatus) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}\n${r.stdout}\n${r.stderr}`);
  const cpu = /cabferry-bench-cpu ([\d.]+) ([\d.]+)/.exec(r.stderr);
  return { wallMs, cpuMs: cpu ? (Number(cpu[1]) + Number(cpu[2])) * 1000 : null };
}

function buildSignedCabinet(dir: string, sizeMb: number): string {
  // incompressible data in stored (NONE) folders: the payload bytes dominate, as in a real update
  const fileMb = 25;
  const files: CabWriterFile[] = [];
  for (let left = sizeMb; left > 0; left -= fileMb) {
    files.push({ name: `payload\\part${files.length}.bin`, data: randomBytes(Math.min(fileMb, left) * 1024 * 1024) });
  }
  // a folder holds at most 65535 blocks (2 GiB); 25 MiB files, ~40 per folder, stay far below
  const folders = [];
  for (let i = 0; i < files.length; i += 40) folders.push({ encoder: noneFolderEncoder(), files: files.slice(i, i + 40) });
  const unsigned = path.join(dir, 'bench.cab');
  fs.writeFileSync(unsigned, buildCab(folders));
  const sha1 = path.join(dir, 'bench-sha1.cab');
  const dual = path.join(dir, 'bench-dual.cab');
  const sign = ['-certs', path.join(pki, 'leaf-rsa-chain.pem'), '-key', path.join(pki, 'leaf-rsa.key')];
  run('osslsigncode', ['sign', ...sign, '-h', 'sha1', '-in', unsigned, '-out', sha1]);
  run('osslsigncode', ['sign', ...sign, '-h', 'sha256', '-nest', '-in', sha1, '-out', dual]);
  fs.rmSync(unsigned);
  fs.rmSync(sha1);
  return dual;
}

function main(): void {
  const sizeMb = option('--size-mb', 300);
  const runs = option('--runs', 5);
  // --json: one report document on stdout (scripts/lib/bench-report), the text on stderr
  const json = jsonRequested();
  const out = json ? process.stderr : process.stdout;
  const loadAverageAtStart = os.loadavg();
  for (const tool of ['osslsigncode', 'sha256sum']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) throw new Error(`${tool} is needed for this benchmark`);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cabferry-bench-'));
  try {
    process.stderr.write(`building and signing a ${sizeMb} MB cabinet in ${dir} …\n`);
    const cab = buildSignedCabinet(dir, sizeMb);
    const root = path.join(pki, 'root.pem');
    const tools: Record<string, () => Timing> = {
      'cabferry verify': () => run(process.execPath, [cli, 'verify', cab, '--trust', root]),
      'osslsigncode verify': () => run('osslsigncode', ['verify', '-in', cab, '-CAfile', root, '-ignore-crl']),
      sha256sum: () => run('sha256sum', [cab]),
    };
    const times: Record<string, Timing[]> = {};
    for (const [name, fn] of Object.entries(tools)) {
      fn(); // warm-up: page cache, and proof that the tool accepts the file
      times[name] = [];
    }
    for (let i = 0; i < runs; i++) for (const [name, fn] of Object.entries(tools)) times[name].push(fn());

    const wall = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v.map((t) => t.wallMs))]));
    // on a shared machine the fastest run is the best estimate of the uncontended cost
    const best = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, Math.min(...v.map((t) => t.wallMs))]));
    const cpu = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, hasGnuTime ? median(v.map((t) => t.cpuMs ?? 0)) : NaN]));
    const size = fs.statSync(cab).size;
    const load = os.loadavg()[0].toFixed(1);
    out.write(`cabinet: ${(size / 1024 / 1024).toFixed(0)} MiB, SHA-1 primary + nested SHA-256, ${runs} runs each, ${os.cpus().length} CPUs, load average ${load}\n`);
    for (const [name, ms] of Object.entries(wall)) {
      const cpuText = Number.isNaN(cpu[name]) ? '' : `  cpu ${cpu[name].toFixed(0).padStart(5)} ms`;
      out.write(`${name.padEnd(20)} wall ${ms.toFixed(0).padStart(6)} ms (best ${best[name].toFixed(0).padStart(5)})${cpuText}  (${(size / 1024 / 1024 / (ms / 1000)).toFixed(0)} MiB/s)  runs: ${times[name].map((t) => t.wallMs.toFixed(0)).join(' ')}\n`);
    }
    const ratio = (a: Record<string, number>, x: string, y: string): string => (a[x] / a[y]).toFixed(2);
    out.write(`wall: cabferry / osslsigncode = ${ratio(wall, 'cabferry verify', 'osslsigncode verify')}  (goal ≤ 0.80), cabferry / sha256sum = ${ratio(wall, 'cabferry verify', 'sha256sum')}\n`);
    out.write(`best: cabferry / osslsigncode = ${ratio(best, 'cabferry verify', 'osslsigncode verify')}, cabferry / sha256sum = ${ratio(best, 'cabferry verify', 'sha256sum')}\n`);
    if (hasGnuTime) {
      out.write(`cpu:  cabferry / osslsigncode = ${ratio(cpu, 'cabferry verify', 'osslsigncode verify')}, cabferry / sha256sum = ${ratio(cpu, 'cabferry verify', 'sha256sum')}  (cabferry hashes on 2 threads, so it spends more CPU than it takes wall time on an idle machine; CPU time does not depend on load)\n`);
    }
    if (json) {
      const what = `verify a ${(size / 1024 / 1024).toFixed(0)} MiB dual-signed cab`;
      const rows: BenchRow[] = [];
      for (const reference of ['osslsigncode verify', 'sha256sum']) {
        const values = (name: string, metric: 'wallMs' | 'cpuMs') => times[name].map((t) => t[metric] ?? NaN);
        const goal = reference === 'osslsigncode verify' ? ({ max: 0.8, on: 'ratio', source: 'issue #3' } as const) : null;
        const id = `verify.${reference.split(' ')[0]}`;
        rows.push(benchRow({ id: `${id}.wall`, what, metric: 'wall', unit: 'ms', cabferry: { command: 'cabferry verify', values: values('cabferry verify', 'wallMs') }, reference: { command: reference, values: values(reference, 'wallMs') }, goal }));
        if (hasGnuTime) {
          const note = 'cabferry hashes on 2 threads: more CPU than wall on an idle machine';
          rows.push(benchRow({ id: `${id}.cpu`, what, metric: 'cpu', unit: 'ms', cabferry: { command: 'cabferry verify', values: values('cabferry verify', 'cpuMs') }, reference: { command: reference, values: values(reference, 'cpuMs') }, note }));
        }
      }
      printReport({ script: 'bench-verify', parameters: { sizeMb, runs }, loadAverageAtStart, rows });
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main();
