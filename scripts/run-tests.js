#!/usr/bin/env node
// Runs every compiled test file (dist/test/**/*.test.js) with node's test runner.
// Node 20's `node --test` takes no globs, so the files are listed here.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
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
// The files that run install.cmd and collect.cmd under Wine run last, one at a time: under the CPU
// load of other files (another Wine file included), Wine's reg.exe inside those scripts came back
// empty now and then (an update just registered not found, a build not read): about one full run in
// three with the Wine files beside each other, once in a run after install.cmd began reading the
// whole package list for each look-up (a rollup step installed twice in sp2-exe-wine-e2e).
const usesWine = (f) => fs.readFileSync(f, 'utf8').includes('wine.helpers');
if (files.length === 0) {
  console.error('run-tests: no compiled test files under dist/test');
  process.exit(1);
}
const groups = [
  { files: files.filter((f) => !usesWine(f)), concurrency: 2 },
  { files: files.filter(usesWine), concurrency: 1 },
].filter((g) => g.files.length > 0);
let failed = false;
for (const g of groups) {
  const r = spawnSync(process.execPath, ['--test', `--test-concurrency=${g.concurrency}`, ...g.files], { stdio: 'inherit' });
  if (r.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
