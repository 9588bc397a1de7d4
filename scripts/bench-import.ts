/**
 * Benchmark: `cabferry import` of one ≈300 MB signed payload cab against `sha256sum` on the same
 * file, and the peak RSS of importing a ≈1 GB payload.
 *
 *   npx tsc -p . && node dist/scripts/bench-import.js [--size-mb 300] [--rss-size-mb 1024] [--runs 5]
 *
 * The payload is a real-shaped package cab: the metadata members (update.mum, update.cat, the
 * manifests, _manifest_.cix.xml) of a fixture payload plus incompressible filler stored in NONE
 * folders, signed SHA-1 + nested SHA-256 with the test PKI by osslsigncode. It is built in a
 * temporary directory (never committed) and removed afterwards. Every import goes into a fresh
 * catalog (the removal is not timed), after one warm-up run of each tool for the page cache.
 * Goals (issue #5): import ≤ 1.5× sha256sum; peak RSS ≤ 150 MB at 1 GB.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildCab, noneFolderEncoder, type CabWriterFile } from './lib/cab-writer';

const projectRoot = path.join(__dirname, '..', '..');
const cli = path.join(projectRoot, 'dist', 'src', 'cli', 'main.js');
const pki = path.join(projectRoot, 'fixtures', 'pki');
const template = path.join(projectRoot, 'fixtures', 'payloads', 'Windows6.0-KB4493730-x64.msu');

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

interface Timed {
  ms: number;
  /** user + system CPU seconds of the child, from /usr/bin/time (null where it is missing) */
  cpuMs: number | null;
  rssKb: number | null;
  stdout: string;
  stderr: string;
}

/** Run under /usr/bin/time when present: wall time alone is noisy on a shared machine, CPU time less so. */
function timed(cmd: string, args: string[]): Timed {
  const haveTime = fs.existsSync('/usr/bin/time');
  const r = haveTime ? run('/usr/bin/time', ['-f', 'cabferry-bench %U %S %M', cmd, ...args]) : run(cmd, args);
  const m = /cabferry-bench ([\d.]+) ([\d.]+) (\d+)\s*$/.exec(r.stderr);
  return { ...r, cpuMs: m ? (Number(m[1]) + Number(m[2])) * 1000 : null, rssKb: m ? Number(m[3]) : null };
}

function run(cmd: string, args: string[], expectStatus = 0): { ms: number; stdout: string; stderr: string } {
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.error) throw r.error;
  if (r.status !== expectStatus) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}\n${r.stdout}\n${r.stderr}`);
  return { ms, stdout: r.stdout, stderr: r.stderr };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** The metadata members of the fixture's inner package cab, extracted with cabextract. */
function packageMetadata(dir: string): CabWriterFile[] {
  const outer = path.join(dir, 'outer');
  const inner = path.join(dir, 'inner');
  run('cabextract', ['-q', '-d', outer, template]);
  const innerCab = fs.readdirSync(outer).find((n) => /^Windows6\.0-KB\d+-x64\.cab$/i.test(n));
  if (!innerCab) throw new Error(`no payload cab in ${template}`);
  run('cabextract', ['-q', '-d', inner, path.join(outer, innerCab)]);
  const files = fs.readdirSync(inner).sort().map((name) => ({ name, data: fs.readFileSync(path.join(inner, name)) }));
  fs.rmSync(outer, { recursive: true });
  fs.rmSync(inner, { recursive: true });
  return files;
}

/** A signed payload cab of about `sizeMb` MiB named like the fixture's inner cab. */
function buildSignedPayload(dir: string, sizeMb: number, metadata: CabWriterFile[]): string {
  const fileMb = 25;
  const filler: CabWriterFile[] = [];
  for (let left = sizeMb; left > 0; left -= fileMb) {
    filler.push({ name: `bench\\filler${filler.length}.bin`, data: randomBytes(Math.min(fileMb, left) * 1024 * 1024) });
  }
  // a folder holds at most 65535 blocks (2 GiB); 40 files of 25 MiB stay far below
  const folders = [{ encoder: noneFolderEncoder(), files: metadata }];
  for (let i = 0; i < filler.length; i += 40) folders.push({ encoder: noneFolderEncoder(), files: filler.slice(i, i + 40) });
  const unsigned = path.join(dir, `unsigned-${sizeMb}.cab`);
  fs.writeFileSync(unsigned, buildCab(folders));
  const sha1 = path.join(dir, `sha1-${sizeMb}.cab`);
  const signedDir = path.join(dir, `payload-${sizeMb}`);
  fs.mkdirSync(signedDir);
  const signed = path.join(signedDir, 'Windows6.0-KB4493730-x64.cab');
  const sign = ['-certs', path.join(pki, 'leaf-rsa-chain.pem'), '-key', path.join(pki, 'leaf-rsa.key')];
  run('osslsigncode', ['sign', ...sign, '-h', 'sha1', '-in', unsigned, '-out', sha1]);
  run('osslsigncode', ['sign', ...sign, '-h', 'sha256', '-nest', '-in', sha1, '-out', signed]);
  fs.rmSync(unsigned);
  fs.rmSync(sha1);
  return signed;
}

/** One import into a fresh catalog (its removal not timed); wall time, CPU time, peak RSS and what became of the file. */
function importOnce(dir: string, payload: string): Timed & { outcome: string } {
  const catalog = path.join(dir, 'catalog');
  fs.rmSync(catalog, { recursive: true, force: true });
  spawnSync('sync');
  // --quarantine: the blob is stored even if a future fixture change made the metadata fail
  const r = timed(process.execPath, [cli, 'import', '--catalog', catalog, '--trust', path.join(pki, 'root.pem'), '--quarantine', '--json', payload]);
  const first = (JSON.parse(r.stdout) as { results: { outcome: string; code: string | null; reason: string | null }[] }).results[0];
  return { ...r, outcome: first.outcome + (first.code ? ` (${first.code}: ${first.reason})` : '') };
}

function main(): void {
  const sizeMb = option('--size-mb', 300);
  const rssSizeMb = option('--rss-size-mb', 1024);
  const runs = option('--runs', 5);
  for (const tool of ['osslsigncode', 'sha256sum', 'cabextract']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) throw new Error(`${tool} is needed for this benchmark`);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cabferry-bench-import-'));
  try {
    process.stderr.write(`building and signing a ${sizeMb} MiB payload cab in ${dir} …\n`);
    const metadata = packageMetadata(dir);
    const payload = buildSignedPayload(dir, sizeMb, metadata);
    const size = fs.statSync(payload).size;
    spawnSync('sync'); // the freshly written payload must not be flushed during the timed runs
    const warm = importOnce(dir, payload);
    timed('sha256sum', [payload]);
    const imports: Timed[] = [];
    const sums: Timed[] = [];
    for (let i = 0; i < runs; i++) {
      imports.push(importOnce(dir, payload));
      sums.push(timed('sha256sum', [payload]));
    }
    const mib = size / 1024 / 1024;
    const line = (name: string, xs: Timed[]) => {
      const wall = median(xs.map((x) => x.ms));
      const cpu = xs.every((x) => x.cpuMs !== null) ? median(xs.map((x) => x.cpuMs as number)) : null;
      process.stdout.write(`${name.padEnd(16)} median wall ${wall.toFixed(0).padStart(6)} ms (${(mib / (wall / 1000)).toFixed(0)} MiB/s)${cpu === null ? '' : `, cpu ${cpu.toFixed(0)} ms`}  runs: ${xs.map((x) => x.ms.toFixed(0)).join(' ')}\n`);
      return { wall, cpu };
    };
    process.stdout.write(`payload: ${mib.toFixed(0)} MiB signed cab (SHA-1 + nested SHA-256), ${runs} runs each, ${os.cpus().length} CPUs, load ${os.loadavg()[0].toFixed(1)}\n`);
    process.stdout.write(`import outcome: ${warm.outcome}\n`);
    const a = line('cabferry import', imports);
    const b = line('sha256sum', sums);
    process.stdout.write(`import / sha256sum = ${(a.wall / b.wall).toFixed(2)} wall${a.cpu !== null && b.cpu !== null ? `, ${(a.cpu / b.cpu).toFixed(2)} cpu` : ''}  (goal ≤ 1.50)\n`);
    process.stdout.write(`peak RSS importing ${mib.toFixed(0)} MiB: ${imports[0].rssKb === null ? 'unknown' : (imports[0].rssKb / 1024).toFixed(0) + ' MiB'}\n`);
    fs.rmSync(path.dirname(payload), { recursive: true });

    if (rssSizeMb > 0) {
      process.stderr.write(`building and signing a ${rssSizeMb} MiB payload cab …\n`);
      const big = buildSignedPayload(dir, rssSizeMb, metadata);
      spawnSync('sync');
      const r = importOnce(dir, big);
      process.stdout.write(`peak RSS importing ${(fs.statSync(big).size / 1024 / 1024).toFixed(0)} MiB: ${r.rssKb === null ? 'unknown (no /usr/bin/time)' : (r.rssKb / 1024).toFixed(0) + ' MiB'} (goal ≤ 150 MB), ${r.ms.toFixed(0)} ms, outcome ${r.outcome}\n`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main();
