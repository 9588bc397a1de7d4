/**
 * What a command costs before it does any work (issue #18: `cabferry verify` of a small file
 * within 1.5× a bare `node -e 0`): the installed CLI is one bundled program started from V8's code
 * cache (scripts/build-cli, src/cli/bundled-program), and a command runs the modules it needs and
 * no others.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { CABINET_COMMANDS, CABINET_PROGRAM_FILE, codeCacheFileOf, loadBundledProgram, PROGRAM_FILE, programFileFor } from '../../src/cli/bundled-program';
import { COMMAND_NAMES } from '../../src/cli/main';
import { cliPath, filesContaining, fixturePath, projectRoot, runCli, tempDir } from '../common.helpers';

const SMALL_SIGNED = fixturePath('signed', 'dual-microsoft-style.cab');
const TEST_ROOT = fixturePath('pki', 'root.pem');
const bundleDir = path.dirname(cliPath);

/**
 * The program module by module, as tsc wrote it. The bundle keeps each module's body in a function
 * run at its first require, so what a command requires is what it runs there too; only here does
 * node's module cache show it.
 */
const unbundledMain = path.join(projectRoot, 'dist', 'src', 'cli', 'main.js');

/** Run `cli` with a preload that records, at exit, every module file node loaded (paths relative to the project, `/`-separated). */
function modulesLoadedBy(cli: string, args: string[]): { status: number; stdout: string; stderr: string; modules: string[] } {
  const dir = tempDir('cabferry-startup-');
  const record = path.join(dir, 'modules.json');
  const preload = path.join(dir, 'record-modules.js');
  fs.writeFileSync(preload, `process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(record)}, JSON.stringify(Object.keys(require.cache))));\n`);
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: projectRoot, env: { ...process.env, NODE_OPTIONS: `--require ${preload}` }, encoding: 'utf8' });
  const loaded = JSON.parse(fs.readFileSync(record, 'utf8')) as string[];
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, modules: loaded.filter((f) => f !== preload).map((f) => path.relative(projectRoot, f).split(path.sep).join('/')) };
}

/** A module file's package (`node-forge`) or, for our own, its path under dist/src (`catalog/catalog.js`). */
function moduleName(file: string): string {
  const dep = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(file);
  return dep !== null ? dep[1]! : file.replace(/^dist\/src\//, '');
}

test('verify of a signed cabinet loads the verifier, and no catalog, database, XML, zip, progress, forge or cabinet decoding modules', () => {
  const r = modulesLoadedBy(unbundledMain, ['verify', SMALL_SIGNED, '--trust', TEST_ROOT]);
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
  const r = modulesLoadedBy(unbundledMain, ['--version']);
  assert.equal(r.status, 0, r.stderr);
  const names = r.modules.map(moduleName);
  assert.ok(names.includes('version.js'), names.join(', '));
  const commands = names.filter((n) => n === 'commander' || /^(cli\/(?!main|run|help|version-only|requested-command)|authenticode\/|catalog\/)/.test(n));
  assert.deepEqual(commands, []);
});

test('the installed command is the bundle: package.json bin, what the tests run, and it reads no module file of its own besides', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { bin: Record<string, string> };
  assert.equal(path.join(projectRoot, pkg.bin.cabferry!), cliPath);
  for (const args of [['verify', SMALL_SIGNED, '--trust', TEST_ROOT], ['--version']]) {
    const r = modulesLoadedBy(cliPath, args);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.modules, ['dist/cli/cabferry.js'], `cabferry ${args[0]}`);
  }
});

const PROGRAM_FILES = [PROGRAM_FILE, CABINET_PROGRAM_FILE];

test('the code caches are taken by this node, and the digest worker is beside the programs', () => {
  for (const file of PROGRAM_FILES) assert.equal(loadBundledProgram(bundleDir, true, file).cacheAccepted, true, file);
  // parallel-digest starts digest-worker.js from the folder of the code running it, and quietly
  // hashes on one thread when the file is not there
  assert.ok(fs.existsSync(path.join(bundleDir, 'digest-worker.js')));
});

test('the program files are ASCII only, so reading them as latin1 (bundled-program) gives their text exactly', () => {
  for (const file of PROGRAM_FILES) {
    const bytes = fs.readFileSync(path.join(bundleDir, file));
    const first = bytes.findIndex((b) => b > 0x7f);
    assert.equal(first, -1, `byte ${first} of ${file} is outside ASCII`);
  }
});

test('the cabinet commands run from the cabinet program, every other command line from the whole program', () => {
  for (const name of CABINET_COMMANDS) assert.ok(COMMAND_NAMES.includes(name), `${name} is a command`);
  const file = (...args: string[]) => programFileFor(['node', 'cabferry', ...args]);
  assert.equal(file('verify', SMALL_SIGNED), CABINET_PROGRAM_FILE);
  assert.equal(file('--json', 'test', 'a.cab'), CABINET_PROGRAM_FILE);
  assert.equal(file('list', '--help'), CABINET_PROGRAM_FILE);
  assert.equal(file('plan', '--host', 'h.txt'), PROGRAM_FILE);
  assert.equal(file('verify-media', 'E:'), PROGRAM_FILE);
  assert.equal(file('--help'), PROGRAM_FILE, 'help lists every command');
  assert.equal(file('verfy'), PROGRAM_FILE, 'a typo: commander suggests from every command');
  assert.equal(file(), PROGRAM_FILE);
});

test('the cabinet program holds the cabinet commands and leaves the others out: requiring one fails loudly', () => {
  const text = fs.readFileSync(path.join(bundleDir, CABINET_PROGRAM_FILE), 'latin1');
  // esbuild names each bundled module by its path (`"dist/src/cli/verify.js"(exports, module) {…}`)
  for (const name of CABINET_COMMANDS) assert.ok(text.includes(`"dist/src/cli/${name}.js"`), `${name} is in the cabinet program`);
  for (const module of ['cli/plan.js', 'cli/import.js', 'cli/stage.js', 'planner/', 'importer/', 'media/', 'transfer/']) assert.ok(!text.includes(`"dist/src/${module}`), `${module} is left out`);
  assert.ok(fs.statSync(path.join(bundleDir, CABINET_PROGRAM_FILE)).size * 3 < fs.statSync(path.join(bundleDir, PROGRAM_FILE)).size, 'the point of it: a fraction of the whole program to read');
  const cabinet = loadBundledProgram(bundleDir, true, CABINET_PROGRAM_FILE);
  assert.throws(() => cabinet.exports.buildProgram(['node', 'cabferry', 'plan']), /the plan command is not in this program file/);
  assert.equal(cabinet.exports.buildProgram(['node', 'cabferry', 'verify']).commands.map((c) => c.name()).join(), 'verify');
});

test('a cache made for another build is not given to V8, and the program runs without it', () => {
  for (const file of PROGRAM_FILES) {
    const cacheFile = codeCacheFileOf(file);
    const dir = tempDir('cabferry-bundle-');
    fs.cpSync(bundleDir, dir, { recursive: true });
    const cache = fs.readFileSync(path.join(dir, cacheFile));
    cache.write(cache[0] === 0x30 ? '1' : '0', 0, 'latin1'); // another build id, same V8 data
    fs.writeFileSync(path.join(dir, cacheFile), cache);
    assert.equal(loadBundledProgram(dir, true, file).cacheAccepted, null, file);
    // verify runs from the cabinet program, collect-script from the whole one (neither needs
    // better-sqlite3, which the copy has no node_modules to find)
    const args = file === CABINET_PROGRAM_FILE ? ['verify', SMALL_SIGNED, '--trust', TEST_ROOT] : ['collect-script'];
    assert.equal(programFileFor(['node', 'cabferry', ...args]), file);
    const r = spawnSync(process.execPath, [path.join(dir, 'cabferry.js'), ...args], { encoding: 'utf8' });
    assert.equal(r.status, 0, `${file}: ${r.stderr}`);
    assert.equal(r.stdout, runCli(args).stdout, file);
    fs.rmSync(path.join(dir, cacheFile));
    assert.equal(loadBundledProgram(dir, true, file).cacheAccepted, null, file);
  }
});

test('the launcher without its program: one line, exit 4', () => {
  const dir = tempDir('cabferry-bundle-');
  fs.copyFileSync(cliPath, path.join(dir, 'cabferry.js'));
  for (const [args, file] of [[['verify', SMALL_SIGNED], CABINET_PROGRAM_FILE], [['plan', '--help'], PROGRAM_FILE]] as const) {
    const r = spawnSync(process.execPath, [path.join(dir, 'cabferry.js'), ...args], { encoding: 'utf8' });
    assert.equal(r.status, 4);
    assert.match(r.stderr, new RegExp(`^cabferry: internal error: cannot load the program: .*${file.replace(/\./g, '\\.')}.*\\n$`));
    assert.equal(r.stdout, '');
  }
});

/**
 * The program imports each CommonJS module (node's own, yauzl, yazl, node-forge) as
 * `import fs = require('node:fs')`, never `import * as fs from 'node:fs'`: with esModuleInterop,
 * tsc wraps every namespace import in __importStar, which copies each property of the module into
 * a new object, once per importing file (69 copies of fs, path, os and crypto). A small `cabferry
 * verify` spent about 3 ms of its 35 ms above bare node in those copies (issue #18, interleaved
 * medians of 100 runs on the AMD EPYC). What is checked is what tsc wrote.
 */
test('no module of the program copies a CommonJS module through __importStar', () => {
  const compiled = path.join(projectRoot, 'dist', 'src');
  assert.deepEqual(filesContaining(compiled, 'js', '__importStar('), [], "import these files' CommonJS modules as `import x = require('…')`");
  assert.ok(fs.readFileSync(path.join(compiled, 'io', 'regular-file.js'), 'utf8').includes('require("node:fs")'), 'the check reads what tsc wrote');
});
