import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { openCatalog } from '../../src/catalog/catalog';
import { checkCatalog, type ProblemKind } from '../../src/catalog/check';
import { prng } from '../../scripts/lib/prng';
import { catalogPayloadKeys } from '../catalog.helpers';
import { cliPath, fixturePath, tempDir } from '../common.helpers';

/**
 * Atomicity and concurrency, with real processes: an import SIGKILLed at random moments must
 * leave a catalog whose every row has its blob (at most orphans and temp files, which
 * `check --repair` removes), and two imports at once must not corrupt anything.
 */

const trustArgs = ['--trust', fixturePath('pki', 'root.pem')];

/**
 * The fixture payloads, snapshotted so a fixture regeneration during the run cannot change
 * what "the same import" means (the real MSUs are covered by import.test.ts; here speed
 * buys more kill moments).
 */
function importSources(): string[] {
  const snapshot = path.join(tempDir(), 'payloads');
  fs.mkdirSync(snapshot);
  for (const f of fs.readdirSync(fixturePath('payloads')).filter((n) => n.endsWith('.msu'))) {
    fs.copyFileSync(fixturePath('payloads', f), path.join(snapshot, f));
  }
  return [snapshot];
}
/** what an interrupted import may leave behind; anything else is corruption */
const repairable: ProblemKind[] = ['orphan-blob', 'leftover-temp'];

interface Run {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function runImport(catalogDir: string, sources: string[], killAfterMs: number | null = null): Promise<Run> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(process.execPath, [cliPath, 'import', '--catalog', catalogDir, '--json', ...trustArgs, ...sources], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = killAfterMs === null ? null : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('error', reject);
    child.on('close', (status, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ status, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}

describe('an import killed at random moments', () => {
  it('always leaves a consistent catalog, and a re-import completes', async () => {
    const dir = tempDir();
    const sources = importSources();
    const reference = await runImport(path.join(dir, 'reference'), sources);
    assert.equal(reference.signal, null);
    assert.ok(reference.status === 0 || reference.status === 1, reference.stderr);
    const expected = catalogPayloadKeys(path.join(dir, 'reference'));
    assert.ok(expected.length >= 16);

    const seed = Number(process.env.CABFERRY_KILL_SEED ?? Date.now() % 100000);
    const random = prng(seed);
    // Rounds come in pairs: a kill on a fresh catalog, then a kill of the next import into
    // what the first left behind (a restart after a crash). Later rounds on one catalog would
    // only meet duplicates, which finish before most kill times.
    let catalogDir = '';
    let killedMidway = 0;
    const rounds = 12;
    // a run that finishes before its kill (the machine got faster than the reference run) lowers
    // the ceiling, so later kills still land inside the run
    let ceiling = reference.ms;
    for (let round = 0; round < rounds; round++) {
      if (round % 2 === 0) catalogDir = path.join(dir, `killed-${round}`);
      // node itself takes ~150 ms to start; kills before that prove nothing
      const delay = 150 + Math.floor(random() * Math.max(ceiling - 150, 1));
      const run = await runImport(catalogDir, sources, delay);
      if (run.signal === 'SIGKILL') killedMidway++;
      else if (round % 2 === 0) ceiling = Math.min(ceiling, run.ms);
      const catalog = openCatalog({ dir: catalogDir });
      try {
        const report = checkCatalog(catalog);
        const bad = report.problems.filter((p) => !repairable.includes(p.kind));
        assert.deepEqual(bad, [], `seed ${seed}, round ${round}, killed after ${delay} ms: ${JSON.stringify(bad)}`);
        // repair only sometimes, so imports also meet orphans left in place
        if (random() < 0.5) assert.equal(checkCatalog(catalog, { repair: true }).ok, true, `seed ${seed}, round ${round}: repair`);
      } finally {
        catalog.close();
      }
    }
    // timers depend on the machine's load: test/faults/catalog-kill crashes the import before each
    // of its file-system changes in turn; here it is enough that most kills landed inside a run
    assert.ok(killedMidway >= rounds / 3, `seed ${seed}: only ${killedMidway} of ${rounds} runs were killed before finishing`);

    const final = await runImport(catalogDir, sources);
    assert.equal(final.status, reference.status, final.stderr);
    const summary = JSON.parse(final.stdout) as { imported: number; duplicates: number; restored: number };
    assert.deepEqual(catalogPayloadKeys(catalogDir), expected);
    const catalog = openCatalog({ dir: catalogDir });
    try {
      assert.equal(checkCatalog(catalog, { repair: true }).ok, true);
      assert.equal(checkCatalog(catalog).problems.length, 0);
    } finally {
      catalog.close();
    }
    assert.equal(summary.imported + summary.duplicates + summary.restored, expected.length);
  });
});

describe('two imports at once', () => {
  it('queue on the write lock: every payload stored once, nothing corrupt', async () => {
    const dir = path.join(tempDir(), 'cat');
    const sources = importSources();
    const [a, b] = await Promise.all([runImport(dir, sources), runImport(dir, sources)]);
    for (const run of [a, b]) {
      assert.ok(run.status === 0 || run.status === 1, run.stderr);
      assert.doesNotMatch(run.stderr, /internal|SQLITE_BUSY|locked/i);
    }
    const sa = JSON.parse(a.stdout) as { imported: number; duplicates: number };
    const sb = JSON.parse(b.stdout) as { imported: number; duplicates: number };
    const catalog = openCatalog({ dir });
    try {
      const n = catalog.payloads().length;
      assert.ok(n >= 16);
      assert.equal(sa.imported + sb.imported, n, 'each payload imported by exactly one of them');
      assert.equal(sa.imported + sa.duplicates, n);
      assert.equal(sb.imported + sb.duplicates, n);
      assert.equal(checkCatalog(catalog).problems.length, 0);
    } finally {
      catalog.close();
    }
  });
});

describe('check --repair while an import runs', () => {
  it('never removes the running import\'s temp files or freshly published blobs', async () => {
    const dir = path.join(tempDir(), 'cat');
    const sources = importSources();
    const importing = runImport(dir, sources);
    let done = false;
    void importing.then(() => (done = true));
    let repairs = 0;
    while (!done) {
      const catalog = openCatalog({ dir });
      try {
        const report = checkCatalog(catalog, { repair: true });
        const removedLive = report.problems.filter((p) => p.repaired);
        assert.deepEqual(removedLive, [], 'nothing of a live import is an orphan or a leftover');
        repairs++;
      } finally {
        catalog.close();
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    const run = await importing;
    assert.ok(run.status === 0 || run.status === 1, run.stderr);
    assert.ok(repairs >= 2, `only ${repairs} repair passes overlapped the import`);
    const catalog = openCatalog({ dir });
    try {
      assert.equal(checkCatalog(catalog).problems.length, 0);
      assert.equal(catalog.payloads().length, (JSON.parse(run.stdout) as { imported: number }).imported);
    } finally {
      catalog.close();
    }
  });
});
