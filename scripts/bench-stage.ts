/**
 * Staging and verify-media throughput on one large payload, side by side with the tools an
 * operator would use otherwise (`cp` + `sha256sum`, `sha256sum -c`).
 *
 *   npx tsc -p . && node dist/scripts/bench-stage.js [--mb 300] [--runs 3] [--json]
 *
 * Prints wall times and their ratios, and the peak RSS of the process (staging streams, so it
 * must stay far below the payload size).
 */
import { createHash, randomFillSync } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeMedia } from '../src/media/stage';
import { verifyMedia } from '../src/media/verify';
import type { HostInventory, HostPlan } from '../src/planner/types';
import { benchRow, printReport } from './lib/bench-report';
import { countOption, humanOutput, parseBenchOptions, runBenchScript, runChild } from './lib/bench-run';

function main(): void {
  const options = parseBenchOptions({ numbers: { mb: countOption(300), runs: countOption(3) } });
  const { mb, runs } = options.numbers;
  // --json: one report document on stdout (scripts/lib/bench-report), the text on stderr
  const json = options.json;
  const say = humanOutput(json);
  const loadAverageAtStart = os.loadavg();
  const measured = { stage: [] as number[], copy: [] as number[], verify: [] as number[], sums: [] as number[] };
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cabferry-bench-stage-'));
  try {
    // the payload, written in 1 MiB blocks of random bytes, into a blob store laid out like the catalog's
    const hash = createHash('sha256');
    const tmp = path.join(work, 'payload.bin');
    const fd = fs.openSync(tmp, 'w');
    const block = Buffer.alloc(1 << 20);
    for (let i = 0; i < mb; i++) {
      randomFillSync(block);
      hash.update(block);
      fs.writeSync(fd, block);
    }
    fs.closeSync(fd);
    const sha = hash.digest('hex');
    const blob = path.join(work, 'blobs', sha.slice(0, 2), sha.slice(2));
    fs.mkdirSync(path.dirname(blob), { recursive: true });
    fs.renameSync(tmp, blob);

    const host: HostInventory = {
      name: 'SRV-01', product: 'Windows Server 2008', ntVersion: '6.0', build: 6002, revision: null, architecture: 'amd64', servicePack: 2,
      installed: [], servicingStackVersion: null, sha2CodeSigning: null, pendingReboot: null, sources: [], unknown: [], sections: { hotfixes: true }, esuLicence: null, files: [], evidence: [], conflicts: [],
    };
    const file = 'Windows6.0-KB4520002-x64.msu';
    const plan: HostPlan = {
      host: 'SRV-01', files: [], complete: true, incomplete: [], catalogCurrency: null, missing: [], skipped: [], assumptions: [],
      steps: [{ n: 1, action: 'install', kb: 'KB4520002', file, sha256: sha, kind: 'monthly-rollup', reason: 'bench' }],
    };
    const time = (fn: () => void): number => {
      const t = process.hrtime.bigint();
      fn();
      return Number(process.hrtime.bigint() - t) / 1e6;
    };
    const media = path.join(work, 'media');
    const plain = path.join(work, 'plain');
    say(`payload ${mb} MiB, ${runs} run(s); times in ms`);
    say('run  stage  cp+sha256sum  ratio   verify-media  sha256sum-c  ratio');
    for (let r = 1; r <= runs; r++) {
      fs.rmSync(media, { recursive: true, force: true });
      fs.rmSync(plain, { recursive: true, force: true });
      fs.mkdirSync(plain);
      const stage = time(() => writeMedia({ to: media, hosts: [{ inventory: host, plan }], blobPath: () => blob, catalog: null, allowIncomplete: false, collectCmd: '@echo off', now: new Date() }));
      const copy = time(() => runChild('sh', ['-c', 'cp "$1" "$2" && sha256sum "$2" >/dev/null', 'sh', blob, path.join(plain, file)]));
      const verify = time(() => {
        if (!verifyMedia(media, { trust: null, allowUnsigned: true }).ok) throw new Error('verify-media failed on a fresh medium');
      });
      const sums = time(() => runChild('sha256sum', ['-c', '--quiet', 'SHA256SUMS'], { cwd: media }));
      const f = (n: number) => n.toFixed(0).padStart(6);
      Object.entries({ stage, copy, verify, sums }).forEach(([k, ms]) => measured[k as keyof typeof measured].push(ms));
      say(`${String(r).padStart(3)}  ${f(stage)}  ${f(copy)}       ${(stage / copy).toFixed(2)}    ${f(verify)}        ${f(sums)}      ${(verify / sums).toFixed(2)}`);
    }
    say(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
    if (json) {
      const note = 'in-process: the reference commands run as child processes';
      printReport({
        script: 'bench-stage',
        parameters: { mb, runs },
        loadAverageAtStart,
        rows: [
          benchRow({ id: 'stage.wall', what: `stage a ${mb} MiB payload`, metric: 'wall', unit: 'ms', cabferry: { command: 'writeMedia', values: measured.stage }, reference: { command: 'cp + sha256sum', values: measured.copy }, note }),
          benchRow({ id: 'verify-media.wall', what: `verify media with a ${mb} MiB payload`, metric: 'wall', unit: 'ms', cabferry: { command: 'verifyMedia', values: measured.verify }, reference: { command: 'sha256sum -c', values: measured.sums }, note }),
        ],
      });
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

runBenchScript('bench-stage', main);
