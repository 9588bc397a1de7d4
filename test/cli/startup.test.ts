/**
 * What a command costs before it does any work (issue #18: `cabferry verify` of a small file
 * within 1.5× a bare `node -e 0`): a command loads the modules it needs and no others.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { fixturePath, projectRoot, runCli, tempDir } from '../common.helpers';

const SMALL_SIGNED = fixturePath('signed', 'dual-microsoft-style.cab');
const TEST_ROOT = fixturePath('pki', 'root.pem');

/** Run the CLI with a preload that records, at exit, every module file it loaded (paths relative to the project, `/`-separated). */
function modulesLoadedBy(args: string[]): { status: number; stdout: string; stderr: string; modules: string[] } {
  const dir = tempDir('cabferry-startup-');
  const record = path.join(dir, 'modules.json');
  const preload = path.join(dir, 'record-modules.js');
  fs.writeFileSync(preload, `process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(record)}, JSON.stringify(Object.keys(require.cache))));\n`);
  const r = runCli(args, { env: { NODE_OPTIONS: `--require ${preload}` } });
  const loaded = JSON.parse(fs.readFileSync(record, 'utf8')) as string[];
  return { ...r, modules: loaded.filter((f) => f !== preload).map((f) => path.relative(projectRoot, f).split(path.sep).join('/')) };
}

/** A module file's package (`node-forge`) or, for our own, its path under dist/src (`catalog/catalog.js`). */
function moduleName(file: string): string {
  const dep = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(file);
  return dep !== null ? dep[1]! : file.replace(/^dist\/src\//, '');
}

test('verify of a signed cabinet loads the verifier, and no catalog, database, XML, zip, progress, forge or cabinet decoding modules', () => {
  const r = modulesLoadedBy(['verify', SMALL_SIGNED, '--trust', TEST_ROOT]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /dual-microsoft-style\.cab: VALID/);
  const names = [...new Set(r.modules.map(moduleName))];
  // the record is real: the modules verify cannot do without are in it
  for (const needed of ['cli/verify.js', 'authenticode/signature.js', 'authenticode/chain.js', 'commander']) {
    assert.ok(names.includes(needed), `${needed} not among the loaded modules: ${names.join(', ')}`);
  }
  const notNeeded = names.filter((n) =>
    ['better-sqlite3', 'node-forge', 'fast-xml-parser', 'yauzl', 'yazl', 'cli-progress'].includes(n) ||
    /^(catalog\/(?!trust\.js$)|importer\/|planner\/|media\/|package\/|transfer\/|knowledge\/|codecs\/(?!method\.js$)|cab\/(?!header|byte-source|types))/.test(n));
  assert.deepEqual(notNeeded, [], `verify loaded modules it does not need: ${notNeeded.join(', ')}`);
});

test('--version loads no command module and not commander', () => {
  const r = modulesLoadedBy(['--version']);
  assert.equal(r.status, 0, r.stderr);
  const names = r.modules.map(moduleName);
  assert.ok(names.includes('version.js'), names.join(', '));
  const commands = names.filter((n) => n === 'commander' || /^(cli\/(?!main|run|help)|authenticode\/|catalog\/)/.test(n));
  assert.deepEqual(commands, []);
});
