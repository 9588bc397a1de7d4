import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { test } from 'node:test';
import { fixturePath, runCli, tempDir } from '../common.helpers';

// Node 20's mkdirSync(recursive) retries forever where mkdir says EEXIST and stat says ENOENT,
// as under /proc: every folder a user names is made by src/io/make-directories instead
const skip = fs.existsSync('/proc/self') ? false : 'needs /proc (Linux)';

test('an output folder that cannot be made is an error, not a hang (extract -o, stage --to, trust add --catalog)', { skip }, () => {
  const catalog = tempDir('cabferry-unmakeable-');
  const runs = [
    { args: ['extract', '-o', '/proc/cabferry-x/y', fixturePath('signed', 'dual-microsoft-style.cab')], code: 'OUTPUT_UNUSABLE', exit: 2 },
    { args: ['trust', 'add', '--catalog', '/proc/cabferry-x', fixturePath('pki', 'root.pem')], code: 'CATALOG_CREATE', exit: 4 },
    { args: ['stage', '--catalog', catalog, '--to', '/proc/cabferry-x', '--host', fixturePath('hosts', 'srv-x86.systeminfo.txt'), '--allow-incomplete'], code: null, exit: null },
  ];
  for (const run of runs) {
    const r = runCli(run.args, { timeoutMs: 60_000 });
    assert.notEqual(r.status, null, `${run.args[0]} ended (it hung before)`);
    assert.notEqual(r.status, 0, `${run.args[0]}: ${r.stderr}`);
    if (run.exit !== null) assert.equal(r.status, run.exit, r.stderr);
    if (run.code !== null) assert.match(r.stderr, new RegExp(`\\[${run.code}\\]`));
    assert.doesNotMatch(r.stderr, /EEXIST|at .*\.js:\d+/, 'one line of our words, no stack');
  }
});
