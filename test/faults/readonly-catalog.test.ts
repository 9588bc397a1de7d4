import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import { bindReadonly, openUpForReading, runChild, snapshotTree, stderrLines, unprivilegedUser, unreadableBy, type ChildRun } from '../../scripts/lib/fault';
import { assertErrorDocument, cliPath, fixturePath, runCli, tempDir } from '../common.helpers';
import { knowledgeBaseAsOf } from '../planner/knowledge-as-of.helpers';

// the fixture payloads end in October 2019: their plans are complete against the knowledge of that time
const knowledgeBase = knowledgeBaseAsOf('2019-10-31');

/**
 * A catalog this process cannot write — its files chmod a-w and the command run as another
 * user (root ignores permission bits), or the same catalog seen through a read-only mount:
 * import, trust add and check --repair fail with one line naming the cause (exit 4, storage);
 * catalog list/show/check, trust list and stage still work; nothing on disk changes.
 */

const trustFile = fixturePath('pki', 'root.pem');
let work = '';
let source = '';

before(() => {
  work = tempDir('cabferry-fault-ro-');
  source = path.join(work, 'catalog');
  const imported = runCli(['import', '--catalog', source, '--trust', trustFile, '--allow-sha1-only', '--json', fixturePath('payloads')]);
  assert.equal(imported.status, 0, imported.stderr);
  assert.equal(runCli(['trust', 'add', trustFile, '--catalog', source]).status, 0);
});

type Cli = (args: string[]) => Promise<ChildRun>;

/** Every command against the unwritable catalog at `dir`; `reason` is the cause the refusals must name. */
async function exerciseReadonlyCatalog(cli: Cli, dir: string, media: string, reason: RegExp): Promise<void> {
  const before = snapshotTree(dir);

  const refusals: [string, string[]][] = [
    ['import', ['import', '--catalog', dir, '--trust', trustFile, fixturePath('payloads', 'Windows6.0-KB4474419-v4-x64.msu')]],
    ['trust add', ['trust', 'add', fixturePath('pki', 'other-root.pem'), '--catalog', dir]],
    ['check --repair', ['catalog', 'check', '--repair', '--catalog', dir]],
  ];
  for (const [what, args] of refusals) {
    const run = await cli([...args, '--json']);
    assert.equal(run.status, 4, `${what}: ${run.stderr}`);
    const lines = stderrLines(run);
    assert.equal(lines.length, 1, `${what}: one line: ${run.stderr}`);
    // nothing on stdout but the error document --json asks for
    assertErrorDocument(run.stdout, /\[([A-Z0-9_]+)\]$/.exec(lines[0])![1]);
    assert.match(lines[0], /cannot be written/, what);
    assert.match(lines[0], reason, what);
    assert.match(lines[0], /\[CATALOG_READONLY\]$/, what);
  }

  const list = await cli(['catalog', 'list', '--catalog', dir, '--json']);
  assert.equal(list.status, 0, list.stderr);
  assert.equal((JSON.parse(list.stdout) as { payloads: unknown[] }).payloads.length, 20);
  const show = await cli(['catalog', 'show', 'KB4493730', '--catalog', dir, '--json']);
  assert.equal(show.status, 0, show.stderr);
  assert.equal((JSON.parse(show.stdout) as { payloads: { events: unknown[] }[] }).payloads.length, 2);
  const check = await cli(['catalog', 'check', '--catalog', dir, '--json']);
  assert.equal(check.status, 0, check.stderr);
  const report = JSON.parse(check.stdout) as { ok: boolean; payloadsChecked: number; problems: unknown[] };
  assert.deepEqual([report.ok, report.payloadsChecked, report.problems], [true, 20, []]);
  const trusted = await cli(['trust', 'list', '--catalog', dir, '--json']);
  assert.equal(trusted.status, 0, trusted.stderr);
  assert.equal((JSON.parse(trusted.stdout) as { anchors: unknown[] }).anchors.length, 1);
  // what the catalog is for: staging from it still works
  const staged = await cli(['stage', '--catalog', dir, '--host', fixturePath('hosts', 'srv-fresh-x64.systeminfo.txt'), '--knowledge-base', knowledgeBase, '--to', media, '--json']);
  assert.equal(staged.status, 0, staged.stderr);

  assert.deepEqual(snapshotTree(dir), before, 'nothing in the catalog folder changed');
}

/**
 * The unprivileged user runs the built CLI from this checkout and reads the fixtures: when the
 * checkout sits in a folder that user cannot enter (a private 0700 home or mktemp -d), the
 * permission tests cannot run as that user and say so; the read-only mount test still covers
 * a catalog nobody can write.
 */
function cannotRunAs(user: { uid: number; gid: number }): string | null {
  const blocked = unreadableBy(user, [cliPath, require.resolve('better-sqlite3'), fixturePath('hosts', 'srv-fresh-x64.systeminfo.txt')]);
  return blocked === null ? null : `uid ${user.uid} cannot read ${blocked} (the checkout is in a private folder), so the CLI cannot run as that user`;
}

describe('a read-only catalog', () => {
  it('by permissions (chmod -R a-w, run as an unprivileged user)', async (t) => {
    const user = unprivilegedUser();
    if ('unavailable' in user) return t.skip(user.unavailable);
    const blocked = cannotRunAs(user);
    if (blocked !== null) return t.skip(blocked);
    const dir = path.join(work, 'by-permissions');
    fs.cpSync(source, dir, { recursive: true });
    assert.equal(spawnSync('chmod', ['-R', 'a-w', dir]).status, 0);
    openUpForReading(dir);
    const media = path.join(work, 'media-nobody');
    fs.mkdirSync(media);
    fs.chownSync(media, user.uid, user.gid);
    await exerciseReadonlyCatalog((args) => runChild(cliPath, args, { runAs: user }), dir, media, /permission denied/);
  });

  it('by a read-only mount (even root cannot write)', async (t) => {
    const mount = bindReadonly(source, work);
    if ('unavailable' in mount) return t.skip(mount.unavailable);
    try {
      await exerciseReadonlyCatalog((args) => runChild(cliPath, args), mount.dir, path.join(work, 'media-ro-mount'), /read-only file system/);
    } finally {
      mount.unmount();
    }
  });

  it('left by a crashed writer (catalog.sqlite-wal and -shm present) is read with what the log holds', async (t) => {
    const user = unprivilegedUser();
    if ('unavailable' in user) return t.skip(user.unavailable);
    const blocked = cannotRunAs(user);
    if (blocked !== null) return t.skip(blocked);
    // a writer killed after committing: its -wal holds the last import, not yet in catalog.sqlite
    const dir = path.join(work, 'crashed-writer');
    fs.cpSync(source, dir, { recursive: true });
    const script = `const D = require(${JSON.stringify(require.resolve('better-sqlite3'))});
      const db = new D(${JSON.stringify(path.join(dir, 'catalog.sqlite'))});
      db.pragma('wal_autocheckpoint = 0');
      db.prepare("UPDATE payloads SET file_name = 'renamed-in-wal.msu' WHERE kb = 'KB4493730' AND architecture = 'amd64'").run();
      process.kill(process.pid, 'SIGKILL');`;
    spawnSync(process.execPath, ['-e', script]);
    assert.ok(fs.existsSync(path.join(dir, 'catalog.sqlite-wal')) && fs.existsSync(path.join(dir, 'catalog.sqlite-shm')));
    assert.equal(spawnSync('chmod', ['-R', 'a-w', dir]).status, 0);
    openUpForReading(dir);
    const show = await runChild(cliPath, ['catalog', 'show', 'KB4493730', '--catalog', dir, '--json'], { runAs: user });
    assert.equal(show.status, 0, show.stderr);
    const names = (JSON.parse(show.stdout) as { payloads: { fileName: string }[] }).payloads.map((p) => p.fileName);
    assert.ok(names.includes('renamed-in-wal.msu'), `the committed change in the log is seen: ${names.join(', ')}`);
  });
});
