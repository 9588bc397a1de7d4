import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import { openCatalog } from '../../src/catalog/catalog';
import { checkCatalog, type ProblemKind } from '../../src/catalog/check';
import { isCabferryError } from '../../src/errors';
import { MEDIA } from '../../src/media/layout';
import { verifyMedia } from '../../src/media/verify';
import { faultSeed, fillFileSystem, mountTmpfs, runChild, snapshotTree, stderrLines, type ChildRun, type MountedFs } from '../../scripts/lib/fault';
import { prng } from '../../scripts/lib/prng';
import { catalogPayloadKeys } from '../catalog.helpers';
import { assertErrorDocument, cliPath, fixturePath, projectRoot, runCli, tempDir } from '../common.helpers';
import { knowledgeBaseAsOf } from '../planner/knowledge-as-of.helpers';

// the fixture payloads end in October 2019: their plans are complete against the knowledge of that time
const knowledgeBase = knowledgeBaseAsOf('2019-10-31');

/**
 * Disk full, with real small file systems (tmpfs, so the test needs root or CAP_SYS_ADMIN and
 * skips with the reason otherwise), for the catalog during `import` and the medium during
 * `stage`, three ways: no inode left at the N-th file the command creates (a FAT16 root folder
 * runs out of entries the same way), the disk filled by "another program" at a seeded moment
 * while the command runs, and a disk already full. Every run ends in success or in ONE line with
 * a typed error code and exit 4; the catalog then checks consistent (at most what --repair
 * removes), the medium is unfinished (no manifest) or verifies; with room again, the same
 * command completes.
 */

const crashChild = path.join(projectRoot, 'dist', 'scripts', 'lib', 'fault-crash-child.js');
const trustFile = fixturePath('pki', 'root.pem');
const importArgs = (catalog: string) => ['import', '--catalog', catalog, '--trust', trustFile, '--allow-sha1-only', '--json', fixturePath('payloads')];
const hosts = [fixturePath('hosts', 'srv-fresh-x64.systeminfo.txt'), fixturePath('hosts', 'srv-x86.systeminfo.txt'), fixturePath('hosts', 'srv-x86.hotfix.json')];
/** what an interrupted import may leave behind; anything else is corruption */
const repairable: ProblemKind[] = ['orphan-blob', 'leftover-temp'];
const MiB = 1 << 20;

let work = '';
let unavailable: string | null = null;
/** a catalog on ordinary disk, to stage from */
let catalog = '';

before(() => {
  work = tempDir('cabferry-fault-space-'); // no "full" in paths: messages are matched for it
  const probe = mountTmpfs(work, { sizeBytes: MiB });
  if ('unavailable' in probe) unavailable = probe.unavailable;
  else probe.unmount();
  catalog = path.join(work, 'catalog');
  // the catalog's trust set vouches for what stage offers, not a one-off import --trust (#17 live trust)
  assert.equal(runCli(['trust', 'add', trustFile, '--catalog', catalog]).status, 0);
  const imported = runCli(importArgs(catalog));
  assert.equal(imported.status, 0, imported.stderr);
});

function mount(options: { sizeBytes: number; inodes?: number }): MountedFs {
  const m = mountTmpfs(work, options);
  if ('unavailable' in m) throw new Error(m.unavailable);
  return m;
}

function remount(m: MountedFs, options: string): void {
  const r = spawnSync('mount', ['-o', `remount,${options}`, m.dir], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}

/** A failed run said ONE thing: a typed error line (never "internal error: <raw message>") and exit 4. */
function assertOneStorageError(run: ChildRun, context: string): string {
  assert.equal(run.signal, null, context);
  assert.equal(run.status, 4, `${context}: exit ${run.status}: ${run.stderr}`);
  const lines = stderrLines(run);
  assert.equal(lines.length, 1, `${context}: one line: ${run.stderr}`);
  assert.match(lines[0], /^cabferry: .*\[[A-Z][A-Z0-9_]+\]$/, `${context}: a typed error: ${lines[0]}`);
  // no success document after a failure: under --json only the error document, the same code
  if (run.stdout !== '') assertErrorDocument(run.stdout, /\[([A-Z0-9_]+)\]$/.exec(lines[0])![1]);
  assert.match(lines[0], /ENOSPC|no space|full|free/i, `${context}: the line says the disk is full: ${lines[0]}`);
  return /\[([A-Z0-9_]+)\]$/.exec(lines[0])![1];
}

/** Consistent but for what --repair removes; after the repair, fully consistent. */
function assertCatalogRepairable(dir: string, context: string): void {
  if (!fs.existsSync(path.join(dir, 'catalog.sqlite'))) return; // failed before the database existed
  const c = openCatalog({ dir });
  try {
    const bad = checkCatalog(c).problems.filter((p) => !repairable.includes(p.kind));
    assert.deepEqual(bad, [], `${context}: ${JSON.stringify(bad)}`);
    assert.equal(checkCatalog(c, { repair: true }).ok, true, `${context}: repair`);
  } finally {
    c.close();
  }
}

/**
 * `catalog check` while the disk is still full: a report (nothing but what --repair removes), or
 * — when SQLite has no room for its -wal/-shm files — one line that says the disk is full.
 */
async function checkOnFullDisk(dir: string, context: string): Promise<void> {
  if (!fs.existsSync(path.join(dir, 'catalog.sqlite'))) return;
  const run = await runChild(cliPath, ['catalog', 'check', '--catalog', dir, '--json']);
  if (run.status === 4) {
    assert.equal(assertOneStorageError(run, `${context}, check on the full disk`), 'CATALOG_NO_SPACE');
    return;
  }
  assert.ok(run.status === 0 || run.status === 1, `${context}, check on the full disk: ${run.stderr}`);
  const report = JSON.parse(run.stdout) as { problems: { kind: ProblemKind }[] };
  // these catalogs are filled with a one-off import --trust: what they hold is untrusted-payload for
  // the CLI's check (test/cli/live-trust), which says nothing about storage
  const storage = report.problems.filter((p) => p.kind !== 'untrusted-payload');
  assert.deepEqual(storage.filter((p) => !repairable.includes(p.kind)), [], `${context}, check on the full disk`);
}

function mediumState(dir: string, context: string): 'unfinished' | 'verified' {
  if (!fs.existsSync(path.join(dir, MEDIA.manifest))) {
    assert.throws(() => verifyMedia(dir, { trust: null, allowUnsigned: true }), (e) => isCabferryError(e) && e.code === 'MEDIA_NO_MANIFEST', context);
    return 'unfinished';
  }
  // staged unsigned here (signatures are stage-kill.test.ts's business): hashes only
  const report = verifyMedia(dir, { trust: null, allowUnsigned: true });
  assert.ok(report.ok, `${context}: ${JSON.stringify(report)}`);
  return 'verified';
}

/** How many file-system changes a clean run of `args` makes (the range of fault points). */
async function countChanges(args: string[]): Promise<number> {
  const countFile = path.join(work, `changes-${process.hrtime.bigint()}`);
  const probe = await runChild(crashChild, [`count:${countFile}`, ...args]);
  assert.equal(probe.status, 0, probe.stderr);
  return Number(fs.readFileSync(countFile, 'utf8'));
}

/** `count` fault points in 1..`points`: seeded, plus the first and the last */
function faultPoints(seed: number, points: number, count: number): number[] {
  const random = prng(seed);
  const chosen = new Set<number>([1, points]);
  while (chosen.size < Math.min(count, points)) chosen.add(1 + Math.floor(random() * points));
  return [...chosen].sort((a, b) => a - b);
}

/** inode budgets to starve a command at: seeded, spread over 0..`upTo` extra files */
function inodeBudgets(seed: number, upTo: number, count: number): number[] {
  const random = prng(seed);
  const chosen = new Set<number>([1, 2, 3]);
  while (chosen.size < count) chosen.add(1 + Math.floor(random() * upTo));
  return [...chosen].sort((a, b) => a - b);
}

describe('disk full: the catalog during import', () => {
  it('no inode left at the N-th file: one typed line, exit 4; catalog repairable; with room, import completes', async (t) => {
    if (unavailable) return t.skip(unavailable);
    const seed = faultSeed();
    const expected = catalogPayloadKeys(catalog);
    const failures = new Map<string, number>();
    for (const inodes of inodeBudgets(seed, 60, 9)) {
      const context = `seed ${seed}, import with ${inodes} inode(s)`;
      const fsys = mount({ sizeBytes: 200 * MiB, inodes });
      try {
        const dir = path.join(fsys.dir, 'catalog');
        const run = await runChild(cliPath, importArgs(dir));
        if (run.status !== 0) {
          const code = assertOneStorageError(run, context);
          failures.set(code, (failures.get(code) ?? 0) + 1);
        }
        await checkOnFullDisk(dir, context);
        remount(fsys, 'nr_inodes=100000');
        assertCatalogRepairable(dir, context);
        const again = await runChild(cliPath, importArgs(dir));
        assert.equal(again.status, 0, `${context}, re-run with room: ${again.stderr}`);
        assert.deepEqual(catalogPayloadKeys(dir), expected, context);
        const c = openCatalog({ dir });
        try {
          assert.deepEqual(checkCatalog(c).problems, [], context);
        } finally {
          c.close();
        }
      } finally {
        fsys.unmount();
      }
    }
    t.diagnostic(`seed ${seed}: errors met ${JSON.stringify(Object.fromEntries(failures))}`);
    assert.ok(failures.size > 0, `seed ${seed}: no budget made the import fail`);
  });

  it('the disk filled by another program at a seeded moment: one typed line, exit 4, or done; catalog repairable', async (t) => {
    if (unavailable) return t.skip(unavailable);
    const seed = faultSeed();
    const random = prng(seed);
    const expected = catalogPayloadKeys(catalog);
    // the importer refuses up front unless 64 MiB stay free (BlobStore.assertRoomFor): room for that,
    // which the filler then takes
    const fsys = mount({ sizeBytes: 72 * MiB });
    try {
      const reference = await runChild(cliPath, importArgs(path.join(fsys.dir, 'reference')));
      assert.equal(reference.status, 0, reference.stderr);
      fs.rmSync(path.join(fsys.dir, 'reference'), { recursive: true });
      let failed = 0;
      const met: string[] = [];
      for (let round = 0; round < 6; round++) {
        const dir = path.join(fsys.dir, `catalog-${round}`);
        const at = Math.floor(80 + random() * Math.max(reference.ms - 80, 1));
        const context = `seed ${seed}, round ${round}, disk filled after ${at} ms`;
        let filler = '';
        const run = await runChild(cliPath, importArgs(dir), { atMs: { ms: at, fn: () => (filler = fillFileSystem(fsys.dir)) } });
        if (run.status !== 0) {
          met.push(assertOneStorageError(run, context));
          failed++;
        } else met.push('completed');
        if (filler === '') filler = fillFileSystem(fsys.dir);
        await checkOnFullDisk(dir, context);
        fs.rmSync(filler);
        assertCatalogRepairable(dir, context);
        const again = await runChild(cliPath, importArgs(dir));
        assert.equal(again.status, 0, `${context}, re-run with room: ${again.stderr}`);
        assert.deepEqual(catalogPayloadKeys(dir), expected, context);
        fs.rmSync(dir, { recursive: true });
      }
      t.diagnostic(`seed ${seed}: ${met.join(', ')}`);
      assert.ok(failed > 0, `seed ${seed}: the disk never filled while an import ran`);
    } finally {
      fsys.unmount();
    }
  });

  it('the disk filled just before the N-th file-system change: one typed line, exit 4; catalog repairable; with room, import completes', async (t) => {
    if (unavailable) return t.skip(unavailable);
    const seed = faultSeed();
    const expected = catalogPayloadKeys(catalog);
    const fsys = mount({ sizeBytes: 72 * MiB });
    try {
      const points = await countChanges(importArgs(path.join(fsys.dir, 'probe')));
      fs.rmSync(path.join(fsys.dir, 'probe'), { recursive: true });
      const met: string[] = [];
      for (const n of faultPoints(seed + 3, points, 8)) {
        const dir = path.join(fsys.dir, 'catalog');
        const context = `seed ${seed}, disk filled before change ${n} of ${points}`;
        const run = await runChild(crashChild, [`fill:${n}:${fsys.dir}`, ...importArgs(dir)]);
        met.push(`${n}: ${run.status === 0 ? 'completed' : assertOneStorageError(run, context)}`);
        await checkOnFullDisk(dir, context);
        fs.rmSync(path.join(fsys.dir, 'filler'), { force: true });
        assertCatalogRepairable(dir, context);
        const again = await runChild(cliPath, importArgs(dir));
        assert.equal(again.status, 0, `${context}, re-run with room: ${again.stderr}`);
        assert.deepEqual(catalogPayloadKeys(dir), expected, context);
        fs.rmSync(dir, { recursive: true });
      }
      t.diagnostic(`seed ${seed}: ${met.join(', ')}`);
    } finally {
      fsys.unmount();
    }
  });

  it('a disk already full: refused before anything is stored, catalog unchanged', async (t) => {
    if (unavailable) return t.skip(unavailable);
    const fsys = mount({ sizeBytes: 72 * MiB });
    try {
      const dir = path.join(fsys.dir, 'catalog');
      assert.equal(runCli(['catalog', 'init', '--catalog', dir]).status, 0);
      const filler = fillFileSystem(fsys.dir);
      // SQLite's working files (-wal, -shm) may appear, truncated, from the failed open: not catalog content
      const content = () => new Map([...snapshotTree(dir)].filter(([name]) => !/-(wal|shm)$/.test(name)));
      const before = content();
      const run = await runChild(cliPath, importArgs(dir));
      assert.equal(assertOneStorageError(run, 'full disk'), 'CATALOG_NO_SPACE');
      assert.deepEqual(content(), before);
      // and they do no harm once there is room again
      fs.rmSync(filler);
      const again = await runChild(cliPath, importArgs(dir));
      assert.equal(again.status, 0, again.stderr);
      assert.deepEqual(catalogPayloadKeys(dir), catalogPayloadKeys(catalog));
    } finally {
      fsys.unmount();
    }
  });
});

describe('disk full: the medium during stage', () => {
  const stageArgs = (to: string) => ['stage', '--catalog', catalog, '--host', ...hosts, '--knowledge-base', knowledgeBase, '--to', to, '--json'];

  it('no inode left at the N-th file: one typed line, exit 4; medium unfinished; with room, stage completes', async (t) => {
    if (unavailable) return t.skip(unavailable);
    const seed = faultSeed();
    let failed = 0;
    const met: string[] = [];
    for (const inodes of inodeBudgets(seed + 1, 30, 10)) {
      const context = `seed ${seed}, stage with ${inodes} inode(s)`;
      const fsys = mount({ sizeBytes: 16 * MiB, inodes });
      try {
        const to = path.join(fsys.dir, 'media');
        const run = await runChild(cliPath, stageArgs(to));
        if (run.status !== 0) {
          met.push(`${inodes}: ${assertOneStorageError(run, context)}`);
          failed++;
        }
        if (fs.existsSync(to)) assert.equal(mediumState(to, context), run.status === 0 ? 'verified' : 'unfinished', context);
        remount(fsys, 'nr_inodes=100000');
        const again = await runChild(cliPath, stageArgs(to));
        assert.equal(again.status, 0, `${context}, re-run with room: ${again.stderr}`);
        assert.equal(mediumState(to, context), 'verified');
      } finally {
        fsys.unmount();
      }
    }
    t.diagnostic(`seed ${seed}: ${met.join(', ')}`);
    assert.ok(failed > 0, `seed ${seed}: no budget made the stage fail`);
  });

  it('the medium filled just before the N-th file-system change: one typed line, exit 4; unfinished; with room, completes', async (t) => {
    if (unavailable) return t.skip(unavailable);
    const seed = faultSeed();
    // staging wants its payloads plus 1 MiB free (checkFreeSpace): a 2 MiB stick
    const fsys = mount({ sizeBytes: 2 * MiB });
    try {
      const points = await countChanges(stageArgs(path.join(fsys.dir, 'probe')));
      fs.rmSync(path.join(fsys.dir, 'probe'), { recursive: true });
      const met: string[] = [];
      for (const n of faultPoints(seed + 2, points, 12)) {
        const to = path.join(fsys.dir, 'media');
        const context = `seed ${seed}, medium filled before change ${n} of ${points}`;
        const run = await runChild(crashChild, [`fill:${n}:${fsys.dir}`, ...stageArgs(to)]);
        met.push(`${n}: ${run.status === 0 ? 'completed' : assertOneStorageError(run, context)}`);
        if (fs.existsSync(to)) assert.equal(mediumState(to, context), run.status === 0 ? 'verified' : 'unfinished', context);
        fs.rmSync(path.join(fsys.dir, 'filler'), { force: true });
        const again = await runChild(cliPath, stageArgs(to));
        assert.equal(again.status, 0, `${context}, re-run with room: ${again.stderr}`);
        assert.equal(mediumState(to, context), 'verified');
        fs.rmSync(to, { recursive: true });
      }
      t.diagnostic(`seed ${seed}: ${met.join(', ')}`);
      assert.ok(met.some((m) => m.endsWith('MEDIA_WRITE')), `seed ${seed}: no write met the full disk: ${met.join(', ')}`);
    } finally {
      fsys.unmount();
    }
  });

  it('a medium already full: refused before it is changed (MEDIA_NO_SPACE), old staging intact', async (t) => {
    if (unavailable) return t.skip(unavailable);
    const fsys = mount({ sizeBytes: 2 * MiB });
    try {
      const to = path.join(fsys.dir, 'media');
      // a complete staging for one host, then a bigger one onto the full stick
      const first = await runChild(cliPath, ['stage', '--catalog', catalog, '--host', fixturePath('hosts', 'srv-x86.systeminfo.txt'), '--knowledge-base', knowledgeBase, '--to', to, '--json']);
      assert.equal(first.status, 0, first.stderr);
      fillFileSystem(fsys.dir);
      const before = snapshotTree(to);
      const run = await runChild(cliPath, stageArgs(to));
      assert.equal(assertOneStorageError(run, 'full medium'), 'MEDIA_NO_SPACE');
      assert.deepEqual(snapshotTree(to), before);
      assert.equal(mediumState(to, 'full medium'), 'verified');
    } finally {
      fsys.unmount();
    }
  });
});
