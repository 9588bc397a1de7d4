/**
 * Issue 17, first bullet: "A 115 KB MSU costs ~1 GB of temp writes". The issue's file (16 `.cab`
 * members over one 64 MiB run of MSZIP zeros, beside WSUSSCAN.cab), generated here, run through
 * the CLI with the real default budget while the temp folder it writes to is measured: before,
 * `inspect` peaked at 1 GiB in TMPDIR and `import --quarantine` the same in the catalog's tmp/.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { PayloadBudget } from '../../src/io/payload-budget';
import { buildZeroBombCab, issue17Msu } from '../../scripts/lib/zero-bomb-cab';
import { fixturePath, runCliWatchingDir, tempDir } from '../common.helpers';

const work = tempDir('cabferry-cli-budget-');
const MiB = 1024 * 1024;
const trust = fixturePath('pki', 'root.pem');

const bomb = path.join(work, 'bomb.msu');
fs.writeFileSync(bomb, issue17Msu());
// the same zeros as the one payload cab the names choose: only the budget stands between it and TMPDIR
const named = path.join(work, 'Windows6.1-KB4999998-x64.msu');
fs.writeFileSync(named, buildZeroBombCab({
  zeroBytes: 64 * MiB,
  zeroMembers: [{ name: 'Windows6.1-KB4999998-x64.cab', at: 0, size: 64 * MiB }],
  files: [{ name: 'WSUSSCAN.cab', data: Buffer.from('x') }],
}));

function freshTmp(name: string): string {
  const dir = path.join(work, name);
  fs.mkdirSync(dir);
  return dir;
}

test("inspect of the issue's 115 KB MSU: exit 3 with a code, and TMPDIR never holds more than the default budget (it held 1 GiB)", async () => {
  assert.ok(fs.statSync(bomb).size < 120_000, 'the file is the issue\'s size');
  const tmp = freshTmp('tmp-inspect');
  const r = await runCliWatchingDir(['inspect', '--trust', trust, bomb], tmp, { env: { TMPDIR: tmp } });
  assert.equal(r.status, 3, r.stderr);
  assert.match(r.stderr, /bomb\.msu: the MSU holds 16 payload cabs .* \[MSU_AMBIGUOUS_LAYOUT\]$/m);
  assert.ok(r.peakBytes <= new PayloadBudget(bomb, fs.statSync(bomb).size).tempLimit, `peak ${r.peakBytes} bytes`);
  assert.equal(r.peakBytes, 0, 'nothing at all is written: the payload cab is chosen before extraction');
});

test('inspect of a 64 MiB zero payload cab named like its MSU: PAYLOAD_BUDGET_EXCEEDED with the numbers, exit 3, nothing in TMPDIR', async () => {
  const tmp = freshTmp('tmp-named');
  const r = await runCliWatchingDir(['inspect', '--trust', trust, named], tmp, { env: { TMPDIR: tmp } });
  assert.equal(r.status, 3, r.stderr);
  assert.match(r.stderr, /unpacking payload cab Windows6\.1-KB4999998-x64\.cab: decoding would reach 67108865 bytes, over the \d+-byte budget for a \d+-byte payload .*\[PAYLOAD_BUDGET_EXCEEDED\]$/m);
  assert.equal(r.peakBytes, 0);
});

test("import --quarantine of the issue's MSU and the named bomb: both quarantined, the catalog's tmp/ never holds more than the files themselves", async () => {
  const catalog = path.join(work, 'catalog');
  const watched = path.join(catalog, 'tmp');
  const r = await runCliWatchingDir(['import', '--catalog', catalog, '--trust', trust, '--quarantine', '--json', bomb, named], watched);
  assert.equal(r.status, 1, r.stderr);
  const doc = JSON.parse(r.stdout) as { results: { outcome: string; code: string | null; kb: string | null }[] };
  assert.deepEqual(doc.results.map((x) => [x.outcome, x.code, x.kb]), [['quarantined', 'SIG_UNSIGNED', null], ['quarantined', 'SIG_UNSIGNED', null]]);
  assert.ok(r.peakBytes <= Math.max(fs.statSync(bomb).size, fs.statSync(named).size), `peak ${r.peakBytes} bytes: only the copy being imported`);
});

test("verify --deep of the issue's MSU: its inner cabinets share their bytes, exit 3 CAB_MEMBER_OVERLAP, nothing in TMPDIR", async () => {
  const tmp = freshTmp('tmp-verify');
  const r = await runCliWatchingDir(['verify', '--deep', '--trust', trust, bomb], tmp, { env: { TMPDIR: tmp } });
  assert.equal(r.status, 3, r.stderr);
  assert.match(r.stderr, /\[CAB_MEMBER_OVERLAP\]$/m);
  assert.equal(r.peakBytes, 0);
});
