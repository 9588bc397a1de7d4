import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../common.helpers';

const projectRoot = path.join(__dirname, '..', '..', '..');
const demo = path.join(projectRoot, 'dist', 'scripts', 'demo.js');

// README's first command is `npm install && npm start`: the demo must run on a fresh clone
test('npm start: the demo runs every step with the exit code it expects and leaves signed media', () => {
  const work = tempDir('cabferry-demo-');
  const r = spawnSync(process.execPath, [demo], { cwd: projectRoot, env: { ...process.env, CABFERRY_DEMO_DIR: work }, encoding: 'utf8', timeout: 600_000 });
  assert.equal(r.status, 0, `${r.stdout.slice(-3000)}\n${r.stderr}`);
  // the fully-current plan names what the 2019 sample lacks; the targeted one is complete
  assert.match(r.stdout, /newest rollup in the catalog: 2019-10; known: 2023-01/);
  assert.match(r.stdout, /Host SRV-FRESH: complete plan/);
  for (const f of ['manifest.json', 'manifest.json.p7s', 'SHA256SUMS', 'index.html']) {
    assert.ok(fs.existsSync(path.join(work, 'media', f)), `${f} on the media`);
  }
});
