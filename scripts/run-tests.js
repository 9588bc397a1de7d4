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
// The files that run install.cmd and collect.cmd under Wine run one at a time, beside the other
// files: each Wine process start costs about 0.1 s of one core, mostly in the kernel, and a Wine
// file spends most of its time starting processes one after another, so it leaves the second core
// to the rest. Two Wine files side by side have gone wrong under load: Wine's reg.exe inside those
// scripts came back empty now and then (an update just registered not found, a build not read),
// about one full run in three at the time, before install.cmd read an empty registry listing once
// more and started reg.exe itself instead of through a cmd.exe per reading.
// (Running the other files at nice 10 beside them did not shorten the Wine files: 839 s for the
// whole run against 795 s without; their cost is the kernel's, not a core they wait for.)
const usesWine = (f) => fs.readFileSync(f, 'utf8').includes('wine.helpers');
const groups = [
  { name: 'tests', files: files.filter((f) => !usesWine(f)), concurrency: 2 },
  { name: 'Wine tests', files: files.filter(usesWine), concurrency: 1 },
].filter((g) => g.files.length > 0);

// The first group reports as it goes; the others' reports are kept in a file each and printed
// whole after it, so that no two reports are mixed line by line.
const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cabferry-run-tests-'));
const runs = groups.map((g, i) => new Promise((resolve) => {
  const out = i === 0 ? 'inherit' : fs.openSync(path.join(outDir, `group-${i}.out`), 'w');
  const child = spawn(process.execPath, ['--test', `--test-concurrency=${g.concurrency}`, ...g.files], { stdio: ['ignore', out, out] });
  child.on('close', (code, signal) => {
    if (typeof out === 'number') fs.closeSync(out);
    resolve({ g, i, ok: code === 0, how: signal ?? `exit ${code}` });
  });
}));
(async () => {
  let failed = false;
  for (const run of runs) {
    const { g, i, ok, how } = await run;
    if (i > 0) {
      process.stdout.write(`\n# ---- ${g.name} (${g.files.length} files, run beside the others) ----\n`);
      process.stdout.write(fs.readFileSync(path.join(outDir, `group-${i}.out`)));
    }
    if (!ok) {
      failed = true;
      process.stdout.write(`\n# run-tests: ${g.name} failed (${how})\n`);
    }
  }
  fs.rmSync(outDir, { recursive: true, force: true });
  process.exit(failed ? 1 : 0);
})();
