/**
 * Benchmark: importing a rollup-sized MSU built the way the real monthly rollups are, against
 * the reference tools doing the same work side by side.
 *
 *   npx tsc -p . && node dist/scripts/bench-rollup.js [--inner-mb 1024] [--components 3000] [--runs 3] [--json]
 *
 * The payload (scripts/lib/msu-builder, the fixtures' builder): an MSZIP .msu, dual-signed,
 * holding WSUSSCAN.cab and the package cab; the package cab is ONE LZX:21 folder of about
 * `--inner-mb` MiB with `--components` components — a payload file and a .manifest each, all
 * listed in update.cat — and update.mum, the catalogs and _manifest_.cix.xml at the END of the
 * folder, so that reaching the metadata means decoding everything before it. The payload files
 * are skewed random bytes that LZX codes to about a third of their size (literals only: the test
 * encoder's match finder needs 4 bytes of index per input byte, too much for a GiB).
 *
 * Built once into bench/tmp/rollup-<inner-mb>-<components>/ (ignored by git; minutes to build)
 * and reused. Timed, interleaved, `runs` times:
 *   cabferry import (fresh catalog each run)  vs  the reference: osslsigncode verify of the .msu
 *   and of the package cab, and cabextract -t of both (the package cab extracted once, untimed).
 * Goals (issue #18): import ≤ 1.2× the reference, peak RSS < 200 MiB. `inspect` and
 * `verify --deep` are timed once each, for the record.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { lzxFolderEncoder } from './lib/lzx-encoder';
import { buildMsu, type ComponentSpec, type PackageDefinition } from './lib/msu-builder';
import { buildTestPki, type TestPki } from './lib/pki';
import { benchRow, median, printReport, type BenchRow } from './lib/bench-report';
import { cliPath, countOption, fixturesDir, GNU_TIME, humanOutput, parseBenchOptions, projectRoot, requireCommands, runBenchScript, runChild, timeChild, timeInterleaved, type ChildRun } from './lib/bench-run';

const ISSUE = 'issue #18';
const RSS_GOAL_MIB = 200;

interface Rollup {
  msu: string;
  innerCab: string;
  root: string;
}

/** Bytes drawn from 5 values with skewed odds: about 2.1 bits each, so LZX literals take ~30 %. */
function skewedBytes(size: number, seed: string): Buffer {
  const alphabet = [0x00, 0xff, 0x8b, 0x45, 0xe8];
  const table = Buffer.alloc(256);
  for (let i = 0; i < 256; i++) table[i] = alphabet[i < 128 ? 0 : i < 192 ? 1 : i < 224 ? 2 : i < 240 ? 3 : 4]!;
  const out = Buffer.alloc(size);
  let filled = 0;
  let counter = 0;
  while (filled < size) {
    const block = crypto.createHash('sha512').update(`${seed}|${counter++}`).digest();
    for (let i = 0; i < block.length && filled < size; i++) out[filled++] = table[block[i]!]!;
  }
  return out;
}

function rollupDefinition(innerMb: number, components: number): PackageDefinition {
  const fileBytes = Math.floor((innerMb * 1024 * 1024) / components);
  const specs: ComponentSpec[] = [];
  for (let i = 0; i < components; i++) {
    const name = `Microsoft-Windows-Rollup-Component-${String(i).padStart(5, '0')}`;
    specs.push({ name, version: '6.0.6003.21138', files: [`c${i}.dll`], makeFile: (file) => skewedBytes(fileBytes, `${name}/${file}`) });
  }
  return {
    kb: 5022340, ntVersion: '6.0', arch: 'x64', role: 'monthly-rollup', title: 'benchmark: a rollup-sized package',
    releaseType: 'Security Update', packageType: 'Security Update', restart: 'required', packageVersion: '6.0.1.1',
    releaseDate: new Date('2023-01-10T17:00:00Z'), applicabilityInfo: 'Windows Server 2008 SP2;',
    parents: [{ identities: [{ name: 'package_for_KB948465', version: '6.0.1.18005' }], buildCompare: 'EQ', serviceCompare: 'GE' }],
    components: specs,
    signing: 'dual',
  };
}

/** The bench PKI: the fixture keys, certificates issued afresh in the benchmark's own folder. */
function benchTestPki(dir: string): TestPki {
  fs.mkdirSync(dir, { recursive: true });
  for (const f of fs.readdirSync(path.join(fixturesDir, 'pki'))) {
    if (f.endsWith('.key')) fs.copyFileSync(path.join(fixturesDir, 'pki', f), path.join(dir, f));
  }
  return buildTestPki(dir);
}

function buildOrReuse(innerMb: number, components: number, say: (line: string) => void): Rollup {
  const dir = path.join(projectRoot, 'bench', 'tmp', `rollup-${innerMb}-${components}`);
  const done = path.join(dir, 'built.json');
  if (fs.existsSync(done)) return JSON.parse(fs.readFileSync(done, 'utf8')) as Rollup;
  fs.rmSync(dir, { recursive: true, force: true });
  const started = Date.now();
  say(`building a rollup-sized MSU in ${dir} (${innerMb} MiB in ${components} components; minutes) …`);
  const pki = benchTestPki(path.join(dir, 'pki'));
  const built = buildMsu(rollupDefinition(innerMb, components), pki, dir, {
    metadataLast: true,
    encoder: lzxFolderEncoder({ windowBits: 21, e8: false, blockType: ['verbatim', 'aligned'], matches: false }),
  });
  const extracted = path.join(dir, 'inner');
  runChild('cabextract', ['-q', '-d', extracted, '-F', built.innerCab, built.file]);
  const rollup: Rollup = { msu: built.file, innerCab: path.join(extracted, built.innerCab), root: path.join(dir, 'pki', 'root.pem') };
  fs.writeFileSync(done, JSON.stringify(rollup));
  say(`built in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return rollup;
}

function main(): void {
  const options = parseBenchOptions({ numbers: { 'inner-mb': countOption(1024), components: countOption(3000), runs: countOption(3) } });
  const { 'inner-mb': innerMb, components, runs } = options.numbers;
  const say = humanOutput(options.json);
  requireCommands(['osslsigncode', 'cabextract', GNU_TIME]);
  const rollup = buildOrReuse(innerMb, components, say);
  const loadAverageAtStart = os.loadavg();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cabferry-bench-rollup-'));
  try {
    const catalog = path.join(work, 'catalog');
    const importOnce = (): ChildRun => {
      fs.rmSync(catalog, { recursive: true, force: true });
      const r = timeChild(process.execPath, [cliPath, 'import', '--catalog', catalog, '--trust', rollup.root, '--json', rollup.msu]);
      const outcome = (JSON.parse(r.stdout) as { results: { outcome: string; reason: string | null }[] }).results[0]!;
      if (outcome.outcome !== 'imported') throw new Error(`the rollup was not imported: ${outcome.outcome} ${outcome.reason ?? ''}`);
      return r;
    };
    const ossl = (file: string) => `osslsigncode verify -in '${file}' -CAfile '${rollup.root}' -ignore-crl >/dev/null`;
    const referenceScript = [ossl(rollup.msu), ossl(rollup.innerCab), `cabextract -q -t '${rollup.msu}' >/dev/null`, `cabextract -q -t '${rollup.innerCab}' >/dev/null`].join(' && ');
    const reference = (): ChildRun => timeChild('bash', ['-c', referenceScript]);
    importOnce(); // warm-up: page cache, and proof that it imports
    reference();
    const [imports, references] = timeInterleaved([importOnce, reference], runs) as [ChildRun[], ChildRun[]];
    const inspect = timeChild(process.execPath, [cliPath, 'inspect', '--trust', rollup.root, rollup.msu], { stdout: 'ignore' });
    const deep = timeChild(process.execPath, [cliPath, 'verify', '--deep', '--trust', rollup.root, rollup.msu], { stdout: 'ignore' });

    const mib = (f: string) => fs.statSync(f).size / 1048576;
    say(`rollup: ${mib(rollup.msu).toFixed(0)} MiB .msu, package cab ${mib(rollup.innerCab).toFixed(0)} MiB (one LZX:21 folder of ${innerMb} MiB, ${components} components), ${runs} runs, load ${os.loadavg()[0]!.toFixed(1)}`);
    const wall = (xs: ChildRun[]) => median(xs.map((x) => x.wallMs));
    const cpu = (xs: ChildRun[]) => median(xs.map((x) => x.cpuMs));
    say(`cabferry import         wall ${wall(imports).toFixed(0).padStart(7)} ms  cpu ${cpu(imports).toFixed(0).padStart(7)} ms  peak RSS ${(median(imports.map((x) => x.peakRssKiB)) / 1024).toFixed(0)} MiB`);
    say(`reference (2× osslsigncode verify + 2× cabextract -t)  wall ${wall(references).toFixed(0)} ms  cpu ${cpu(references).toFixed(0)} ms`);
    say(`import / reference = ${(wall(imports) / wall(references)).toFixed(2)} wall, ${(cpu(imports) / cpu(references)).toFixed(2)} cpu  (goal ≤ 1.20)`);
    say(`cabferry inspect: ${inspect.wallMs.toFixed(0)} ms (peak RSS ${(inspect.peakRssKiB / 1024).toFixed(0)} MiB); cabferry verify --deep: ${deep.wallMs.toFixed(0)} ms`);

    if (options.json) {
      const what = `import a ${mib(rollup.msu).toFixed(0)} MiB rollup-shaped .msu (${innerMb} MiB LZX:21 package)`;
      const referenceCommand = 'osslsigncode verify ×2 + cabextract -t ×2';
      const rows: BenchRow[] = [];
      for (const metric of ['wall', 'cpu'] as const) {
        const key = metric === 'wall' ? 'wallMs' : 'cpuMs';
        rows.push(benchRow({
          id: `rollup.${metric}`, what, metric, unit: 'ms',
          cabferry: { command: 'cabferry import', values: imports.map((x) => x[key]) },
          reference: { command: referenceCommand, values: references.map((x) => x[key]) },
          goal: metric === 'wall' ? { max: 1.2, on: 'ratio', source: ISSUE } : null,
        }));
      }
      rows.push(benchRow({
        id: 'rollup.peak-rss', what, metric: 'peak-rss', unit: 'MiB',
        cabferry: { command: 'cabferry import', values: imports.map((x) => x.peakRssKiB / 1024) },
        reference: null,
        goal: { max: RSS_GOAL_MIB, on: 'value', source: ISSUE },
      }));
      rows.push(
        benchRow({ id: 'rollup.inspect.wall', what: 'inspect the rollup-shaped .msu', metric: 'wall', unit: 'ms', cabferry: { command: 'cabferry inspect', values: [inspect.wallMs] } }),
        benchRow({ id: 'rollup.verify-deep.wall', what: 'verify --deep the rollup-shaped .msu', metric: 'wall', unit: 'ms', cabferry: { command: 'cabferry verify --deep', values: [deep.wallMs] } }),
      );
      printReport({ script: 'bench-rollup', parameters: { innerMb, components, runs }, loadAverageAtStart, rows });
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

runBenchScript('bench-rollup', main);
