import assert from 'node:assert/strict';
import * as os from 'node:os';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { isCabferryError } from '../../src/errors';
import { hasTool, fixturePath, projectRoot, runCli, tempDir } from '../common.helpers';
import type { BenchResults } from '../../scripts/bench';
import { benchRow, formatTable, median, type BenchRow } from '../../scripts/lib/bench-report';
import { buildSignedPayloadCab, benchPki, packageMetadataMembers } from '../../scripts/lib/bench-payload';
import { GNU_TIME, parseBenchOptions, timeChild } from '../../scripts/lib/bench-run';

const benchScript = path.join(projectRoot, 'dist', 'scripts', 'bench.js');

function runBench(args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [benchScript, ...args], { cwd: projectRoot, encoding: 'utf8', timeout: 120_000 });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** What every row must be, whatever its figures: a reader of results.json relies on these. */
function assertRowShape(row: BenchRow): void {
  assert.match(row.id, /^[a-z0-9.-]+$/);
  assert.ok(row.what.length > 0);
  assert.ok(['wall', 'cpu', 'peak-rss'].includes(row.metric), row.metric);
  assert.equal(row.unit, row.metric === 'peak-rss' ? 'MiB' : 'ms');
  const figures = [row.cabferry.figure, ...(row.reference ? [row.reference.figure] : [])];
  for (const f of figures) {
    assert.ok(f.values.length >= 1);
    assert.ok(f.values.every((v) => Number.isFinite(v) && v >= 0), JSON.stringify(f.values));
    assert.equal(f.median, median(f.values));
    assert.equal(f.min, Math.min(...f.values));
    assert.equal(f.max, Math.max(...f.values));
  }
  if (row.reference === null) assert.equal(row.ratio, null);
  else if (row.reference.figure.median > 0) assert.equal(row.ratio, row.cabferry.figure.median / row.reference.figure.median);
  assert.equal(row.cpuModel, os.cpus()[0]!.model.trim().replace(/\s+/g, ' '), 'every row names the CPU it was measured on');
  if (row.goal === null) assert.equal(row.met, null);
  else {
    const measured = row.goal.on === 'ratio' ? row.ratio : row.cabferry.figure.median;
    assert.equal(row.met, measured === null ? null : measured <= row.goal.max);
  }
}

describe('bench report rows', () => {
  test('ratio and verdict come from the medians, against the goal it names', () => {
    const row = benchRow({
      id: 'x.cpu',
      what: 'x',
      metric: 'cpu',
      unit: 'ms',
      cabferry: { command: 'cabferry x', values: [30, 10, 20] },
      reference: { command: 'tool x', values: [8, 12, 10, 100] },
      goal: { max: 2, on: 'ratio', source: 'test' },
    });
    assert.equal(row.cabferry.figure.median, 20);
    assert.equal(row.reference?.figure.median, 11);
    assert.equal(row.ratio, 20 / 11);
    assert.equal(row.met, true);
    assertRowShape(row);
    const absolute = benchRow({ id: 'y.wall', what: 'y', metric: 'wall', unit: 'ms', cabferry: { command: 'y', values: [51, 60] }, goal: { max: 50, on: 'value', source: 'test' } });
    assert.equal(absolute.ratio, null);
    assert.equal(absolute.met, false);
    const table = formatTable([row, absolute]);
    assert.match(table, /tool x/);
    assert.match(table, /1\.82×/);
    assert.match(table, /NO/);
  });

  test('a child is timed with its CPU, peak RSS and output; an unexpected exit status throws', { skip: hasTool(GNU_TIME) ? false : `${GNU_TIME} is not installed` }, () => {
    // a child that holds 64 MiB: its peak RSS must show it, whatever the machine's speed
    const r = timeChild(process.execPath, ['-e', 'const b = Buffer.alloc(64 << 20, 1); process.stdout.write(String(b[5]))']);
    assert.equal(r.stdout, '1');
    assert.ok(r.peakRssKiB > 64 * 1024, `peak RSS ${r.peakRssKiB} KiB`);
    assert.ok(r.cpuMs >= 0 && r.wallMs > 0);
    assert.equal(timeChild('sh', ['-c', 'echo oops >&2; exit 3'], { expectStatus: 3 }).stderr, 'oops\n');
    assert.throws(() => timeChild('sh', ['-c', 'exit 3']), /exited 3/);
  });
});

describe('bench script options', () => {
  const spec = {
    numbers: { runs: { default: 5, min: 1, integer: true }, synthetic: { default: 0 } },
    flags: ['huge'],
    operands: 'CAB',
  } as const;
  const usage = (argv: string[], pattern: RegExp, s: Parameters<typeof parseBenchOptions>[0] = spec) =>
    assert.throws(
      () => parseBenchOptions(s, argv),
      (e: unknown) => isCabferryError(e) && e.kind === 'usage' && e.exitCode === 2 && e.code === 'BENCH_USAGE' && pattern.test(e.message),
      argv.join(' '),
    );

  test('defaults where not given; values, flags, --json and operands where given', () => {
    assert.deepEqual(parseBenchOptions(spec, []), { numbers: { runs: 5, synthetic: 0 }, flags: { huge: false }, json: false, operands: [] });
    assert.deepEqual(parseBenchOptions(spec, ['a.cab', '--runs', '3', '--json', '--huge', '--synthetic', '2.5', 'b.cab']), {
      numbers: { runs: 3, synthetic: 2.5 },
      flags: { huge: true },
      json: true,
      operands: ['a.cab', 'b.cab'],
    });
  });

  test('a value that is not a number the option takes is a usage error naming it, never NaN or a rounded count', () => {
    usage(['--runs', 'x'], /^--runs needs a whole number of at least 1, not "x"$/);
    usage(['--runs'], /^--runs needs a whole number of at least 1, not ""$/);
    usage(['--runs', '0'], /at least 1/);
    usage(['--runs', '2.5'], /whole number/);
    usage(['--runs', '1e3'], /not "1e3"/);
    usage(['--runs', ' 5'], /not " 5"/);
    usage(['--runs', '--huge'], /not "--huge"/);
    usage(['--synthetic', '-1'], /^--synthetic needs a number of at least 0, not "-1"$/);
  });

  test('an unknown option, an option given twice or an operand where the script takes none is a usage error', () => {
    usage(['--rnus', '3'], /^unknown option --rnus \(known: --runs N --synthetic N --huge --json CAB…\)$/);
    usage(['--runs', '3', '--runs', '4'], /--runs is given twice/);
    usage(['300'], /unexpected argument "300"/, { numbers: { runs: { default: 5 } } });
  });

  for (const [script, bad] of [
    ['bench-decode', ['--runs', 'nope']],
    ['bench-verify', ['--size-mb', '0.5']],
    ['bench-import', ['--rss-runs', '0']],
    ['bench-plan', ['--seed', 'x']],
    ['bench-lzx', ['--synthetic', 'lots']],
    ['bench-stage', ['--mb']],
  ] as const) {
    test(`${script} ${bad.join(' ')}: one line on stderr, exit 2, nothing on stdout, nothing measured`, () => {
      const r = spawnSync(process.execPath, [path.join(projectRoot, 'dist', 'scripts', `${script}.js`), '--json', ...bad], { cwd: projectRoot, encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.status, 2, r.stderr);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, new RegExp(`^${script}: ${bad[0]} needs a (whole )?number of at least \\d+, not "[^"]*" \\[BENCH_USAGE\\]\n$`));
    });
  }
});

describe('the signed payload cab of the verify and import benchmarks (scripts/lib/bench-payload)', () => {
  const tools = ['osslsigncode', 'cabextract'].filter((t) => !hasTool(t));
  test('SHA-1 primary + nested SHA-256 that osslsigncode and cabferry verify, filler after the fixture package metadata', { skip: tools.length ? `${tools.join(', ')} not installed` : false }, () => {
    const dir = tempDir('cabferry-bench-payload-test-');
    const metadata = packageMetadataMembers(fixturePath('payloads', 'Windows6.0-KB4493730-x64.msu'), dir);
    assert.ok(metadata.some((m) => m.name === 'update.mum') && metadata.some((m) => m.name === 'update.cat'), metadata.map((m) => m.name).join(' '));
    assert.deepEqual(fs.readdirSync(dir), [], 'the extraction is removed');

    const out = buildSignedPayloadCab(path.join(dir, 'payload', 'Windows6.0-KB4493730-x64.cab'), 2, metadata);
    assert.deepEqual(fs.readdirSync(path.dirname(out)), ['Windows6.0-KB4493730-x64.cab'], 'the unsigned and SHA-1-only intermediates are removed');
    const size = fs.statSync(out).size;
    assert.ok(size > 2 * 1048576 && size < 3 * 1048576, `${size} bytes`);

    const oss = spawnSync('osslsigncode', ['verify', '-in', out, '-CAfile', benchPki.root, '-ignore-crl'], { encoding: 'utf8' });
    assert.equal(oss.status, 0, oss.stdout + oss.stderr);
    assert.match(oss.stdout, /Number of verified signatures: 2/);
    assert.match(oss.stdout, /Message digest algorithm\s*:\s*SHA1[\s\S]*Message digest algorithm\s*:\s*SHA256/);
    const listed = spawnSync('cabextract', ['-l', out], { encoding: 'utf8' }).stdout;
    for (const m of metadata) assert.ok(listed.includes(` ${m.name}\n`), `${m.name} in the cab`);
    // cabextract shows the member's backslash as a slash; the filler comes after the metadata folder
    assert.ok(listed.indexOf(' bench/filler0.bin\n') > listed.indexOf(' update.mum\n'), listed);
    assert.equal(runCli(['verify', out, '--trust', benchPki.root]).status, 0);
  });
});

describe('npm run bench (scripts/bench.js)', () => {
  test('--quick --only plan,stage prints one results document and writes it to --out', { skip: hasTool(GNU_TIME) ? false : `${GNU_TIME} is not installed` }, () => {
    const out = path.join(tempDir('cabferry-bench-test-'), 'results.json');
    const r = runBench(['--quick', '--only', 'plan,stage', '--json', '--out', out]);
    assert.equal(r.status, 0, r.stderr);
    const results = JSON.parse(r.stdout) as BenchResults;
    assert.deepEqual(JSON.parse(fs.readFileSync(out, 'utf8')), results);
    assert.equal(results.mode, 'quick');
    assert.deepEqual(results.benches, ['plan', 'stage']);
    assert.ok(results.machine.cores >= 1 && results.machine.memoryMiB > 0 && results.machine.cpuModel.length > 0);
    assert.equal(results.machine.loadAverageAtStart.length, 3);
    assert.match(results.machine.versions.node, /^v\d+/);
    if (results.source !== null) assert.match(results.source.commit, /^[0-9a-f]{40}$/);
    assert.deepEqual(results.scripts.map((s) => [s.name, s.error]), [['plan', null], ['stage', null]]);

    const [plan, stage] = results.scripts.map((s) => s.report!);
    assert.equal(plan!.script, 'bench-plan');
    assert.deepEqual(plan!.rows.map((row) => row.id), ['plan.one-host.cpu', 'plan.one-host.wall', 'plan.one-host.first.wall', 'plan.hosts.cpu', 'plan.hosts.wall', 'plan.realistic-hosts.cpu', 'plan.realistic-hosts.wall']);
    for (const row of plan!.rows) {
      assertRowShape(row);
      assert.equal(row.reference, null, 'no outside tool plans installs');
      // the realistic fleet and the first plan of a process are informational: the goal is
      // for its own catalog, after a warm-up
      if (row.id.startsWith('plan.realistic-') || row.id === 'plan.one-host.first.wall') assert.equal(row.goal, null);
      else assert.equal(row.goal?.on, 'value');
    }
    assert.equal(plan!.parameters.payloads, 5000);
    assert.equal(stage!.script, 'bench-stage');
    assert.deepEqual(stage!.rows.map((row) => [row.id, row.reference?.command]), [['stage.wall', 'cp + sha256sum'], ['verify-media.wall', 'sha256sum -c']]);
    stage!.rows.forEach(assertRowShape);

    // the README's table is printed from a results file, without measuring again
    const markdown = runBench(['--from', out, '--markdown']);
    assert.equal(markdown.status, 0, markdown.stderr);
    const tableLines = markdown.stdout.split('\n').filter((l) => l.startsWith('|'));
    assert.equal(tableLines[0], '| what | cabferry | reference tool | ratio | goal | met? | CPU |');
    assert.equal(tableLines.length, 2 + plan!.rows.length + stage!.rows.length);
    assert.match(markdown.stdout, /\| stage a 16 MiB payload, wall \(`writeMedia`\) \| [\d.]+ ms \| `cp \+ sha256sum` [\d.]+ ms \| [\d.]+× \|/);
    assert.match(markdown.stdout, /quick run of \d{4}-\d\d-\d\d/);
  });

  test('the table names each figure beside its reference; a partial run writes no results file', { skip: hasTool(GNU_TIME) ? false : `${GNU_TIME} is not installed` }, () => {
    const before = fs.existsSync(path.join(projectRoot, 'bench', 'results.json')) ? fs.statSync(path.join(projectRoot, 'bench', 'results.json')).mtimeMs : null;
    const r = runBench(['--quick', '--only', 'plan']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /load average at start: [\d.]+ [\d.]+ [\d.]+/);
    assert.match(r.stdout, /what +metric +cabferry command +cabferry +reference tool +reference +ratio +goal +met +runs/);
    assert.match(r.stdout, /plan one fresh host, 5000 payloads +CPU +planInstall/);
    assert.match(r.stderr, /writes no results file/);
    const after = fs.existsSync(path.join(projectRoot, 'bench', 'results.json')) ? fs.statSync(path.join(projectRoot, 'bench', 'results.json')).mtimeMs : null;
    assert.equal(after, before);
  });

  test('a script that fails is reported with its reason, the others still run, and the exit status is 1', () => {
    // a PATH with the shell but without osslsigncode: bench-verify stops at its tool check
    const bin = tempDir('cabferry-bench-path-');
    for (const tool of ['sh', 'bash', 'git']) {
      const found = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
      if (found) fs.symlinkSync(found, path.join(bin, tool));
    }
    const r = spawnSync(process.execPath, [benchScript, '--quick', '--only', 'verify,plan', '--json'], {
      cwd: projectRoot,
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, PATH: bin },
    });
    assert.equal(r.status, 1, r.stderr);
    const results = JSON.parse(r.stdout) as BenchResults;
    const [verify, plan] = results.scripts;
    assert.equal(verify!.report, null);
    assert.match(verify!.error ?? '', /^exited 2: bench-verify: needs osslsigncode, sha256sum \(apt-get install osslsigncode coreutils\) \[BENCH_MISSING_TOOL\]$/);
    assert.equal(plan!.error, null);
    assert.ok(plan!.report!.rows.length > 0);
  });

  test('an unknown benchmark name is a usage error, with nothing on stdout', () => {
    const r = runBench(['--only', 'plan,nosuch']);
    assert.equal(r.status, 2);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /unknown benchmark "nosuch".*known: decode, verify, verify-pe, import, plan, lzx, stage, startup, rollup\b/);
  });
});
