#!/usr/bin/env node
// Runs every compiled test file (dist/test/**/*.test.js) with node's test runner.
// Node 20's `node --test` takes no globs, so the files are listed here.
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.join(__dirname, '..', 'dist', 'test');
const filter = process.argv.slice(2);
const files = [];
(function walk(dir) {
  if (!fs.existsSync(dir)) return;
  for (const ent of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, ent.name);
    if (ent.isDirectory()) walk(p);
    else if (ent.name.endsWith('.test.js') && (filter.length === 0 || filter.some((f) => p.includes(f)))) files.push(p);
  }
})(root);
files.sort();
if (files.length === 0) {
  console.error('run-tests: no compiled test files under dist/test');
  process.exit(1);
}
// The files that run install.cmd and collect.cmd under Wine run beside the other files, each as a
// test run of its own, the longest first: one at a time while the other files run, two at a time
// once they are done. Each Wine process start costs about 0.1 s of one core, mostly in the kernel,
// and a Wine file spends most of its time starting processes one after another, so it leaves the
// second core to the rest. Two Wine files side by side have gone wrong under load (hence two only
// on an otherwise quiet machine): Wine's reg.exe inside those scripts came back empty now and then
// (an update just registered not found, a build not read), about one full run in three at the
// time, before install.cmd read an empty registry listing once more and started reg.exe itself
// instead of through a cmd.exe per reading. (Running the other files at nice 10 beside them did
// not shorten the Wine files: 839 s for the whole run against 795 s without; their cost is the
// kernel's, not a core they wait for.)
// The other files report as they go; each Wine file's report is kept in a file and printed whole
// at the end, so that no two reports are mixed line by line.
const usesWine = (f) => fs.readFileSync(f, 'utf8').includes('wine.helpers');
const others = files.filter((f) => !usesWine(f));
// measured on a 2-core EPYC (seconds, alone): the longest Wine file first
const WINE_WEIGHT = { 'install-script-wine': 260, 'review8-restart-wine': 57, 'review8-install-wine': 40, 'install-lookup-wine': 38 };
const weight = (f) => WINE_WEIGHT[path.basename(f, '.test.js')] ?? 30;
const queue = files.filter(usesWine).sort((a, b) => weight(b) - weight(a));
const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cabferry-run-tests-'));
const wineReports = [];
let othersRunning = others.length > 0;
let running = 0;
let failed = false;

function runNode(files, concurrency, out) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--test', `--test-concurrency=${concurrency}`, ...files], { stdio: ['ignore', out, out] });
    child.on('close', (code, signal) => resolve({ ok: code === 0, how: signal ?? `exit ${code}` }));
  });
}

let wineFinished;
const wineDone = new Promise((resolve) => { wineFinished = resolve; });
function startWine() {
  while (queue.length > 0 && running < (othersRunning ? 1 : 2)) {
    const file = queue.shift();
    const report = path.join(outDir, `${wineReports.length}.out`);
    wineReports.push({ file, report });
    const fd = fs.openSync(report, 'w');
    running++;
    runNode([file], 1, fd).then(({ ok, how }) => {
      fs.closeSync(fd);
      running--;
      if (!ok) {
        failed = true;
        fs.appendFileSync(report, `\n# run-tests: ${path.relative(root, file)} failed (${how})\n`);
      }
      startWine();
    });
  }
  if (queue.length === 0 && running === 0) wineFinished();
}

(async () => {
  startWine();
  if (others.length > 0) {
    const { ok, how } = await runNode(others, 2, 'inherit');
    if (!ok) {
      failed = true;
      process.stdout.write(`\n# run-tests: the other tests failed (${how})\n`);
    }
    othersRunning = false;
    startWine();
  }
  await wineDone;
  if (wineReports.length > 0) process.stdout.write(`\n# ---- Wine tests (${wineReports.length} files, run beside the others) ----\n`);
  for (const { report } of wineReports) process.stdout.write(fs.readFileSync(report));
  fs.rmSync(outDir, { recursive: true, force: true });
  process.exit(failed ? 1 : 0);
})();
