#!/usr/bin/env node
/**
 * `npm start`: the main job end to end on the bundled sample, through the real CLI.
 * A throwaway catalog and media folder under .tmp/demo/ (or $CABFERRY_DEMO_DIR; recreated each run):
 *   trust the test PKI root → import the fixture MSUs → plan two Server 2008 SP2 hosts (x64 from systeminfo, x86 from systeminfo + Get-HotFix JSON) →
 *   stage them onto "USB media" → verify the media → verify one real Microsoft MSU.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkCliBuilt, cliPath as cli } from './lib/bench-run';

const root = path.resolve(__dirname, '..', '..');
checkCliBuilt(); // the installed command, as built by npm run build (npm start builds first)
// the test of `npm start` (test/scripts/demo.test.ts) runs it in a folder of its own
const work = process.env.CABFERRY_DEMO_DIR ?? path.join(root, '.tmp', 'demo');
const catalog = path.join(work, 'catalog');
const media = path.join(work, 'media');

interface Step {
  title: string;
  args: string[];
  /** exit codes that are a correct outcome for this step */
  expect: number[];
  optional?: () => boolean;
}

const hosts = ['fixtures/hosts/srv-fresh-x64.systeminfo.txt', 'fixtures/hosts/srv-x86.systeminfo.txt', 'fixtures/hosts/srv-x86.hotfix.json'];
const realMsu = path.join(root, '..', 'shared', 'corpus', 'msu', 'Windows6.1-KB2999226-x64.msu');
const msRoots = path.join(root, '..', 'shared', 'corpus', 'trust-anchors', 'microsoft-roots-bundle.pem');

const steps: Step[] = [
  {
    // the sample has one test PKI: its root signs the payloads and the media signer alike, so it is
    // trusted for both purposes (and trust add says that is a warning: a real catalog keeps them apart)
    title: 'Trust the test PKI root that signed the sample payloads and issued the media signer (both purposes)',
    args: ['trust', 'add', '--for', 'both', 'fixtures/pki/root.pem', '--catalog', catalog],
    expect: [0],
  },
  { title: 'Import the sample Server 2008 SP2 payloads (signatures and signed metadata verified)', args: ['import', 'fixtures/payloads', '--catalog', catalog, '--allow-sha1-only'], expect: [0, 1] },
  { title: 'What the catalog holds', args: ['catalog', 'list', '--catalog', catalog], expect: [0] },
  {
    // the truthful answer: the sample catalog ends in October 2019, the knowledge base knows the
    // rollups and ESU packages up to 2023, so no host can be brought fully current from it
    title: 'Install plans for two disconnected hosts, fully current: the 2019 sample catalog cannot do it, and the plan says what is missing (exit 1)',
    args: ['plan', '--catalog', catalog, '--simulate', ...hosts.flatMap((h) => ['--host', h])],
    expect: [1],
  },
  {
    title: 'The same hosts brought to the October 2019 rollup (KB4520002) and everything it needs: complete',
    args: ['plan', '--catalog', catalog, '--target', 'KB4520002', ...hosts.flatMap((h) => ['--host', h])],
    expect: [0],
  },
  {
    title: 'Stage that plan: payloads, install scripts and a signed SHA-256 manifest onto the media',
    args: ['stage', '--catalog', catalog, '--to', media, '--target', 'KB4520002', ...hosts.flatMap((h) => ['--host', h]), '--sign-key', 'fixtures/pki/leaf-rsa.key', '--sign-cert', 'fixtures/pki/leaf-rsa-chain.pem'],
    expect: [0],
  },
  { title: "Re-check the media as the far side would (signature against the catalog's anchors for signatures)", args: ['verify-media', media, '--catalog', catalog], expect: [0] },
  {
    title: 'Verify a real Microsoft-signed MSU against the Microsoft roots',
    args: ['verify', realMsu, '--trust', msRoots],
    expect: [0],
    optional: () => fs.existsSync(realMsu) && fs.existsSync(msRoots),
  },
];

function main(): number {
  fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(work, { recursive: true });
  for (const [i, step] of steps.entries()) {
    if (step.optional && !step.optional()) continue;
    process.stdout.write(`\n=== ${i + 1}. ${step.title}\n$ cabferry ${step.args.map((a) => (a.includes(' ') ? JSON.stringify(a) : path.isAbsolute(a) ? path.relative(root, a) : a)).join(' ')}\n`);
    const r = spawnSync(process.execPath, [cli, ...step.args], { cwd: root, stdio: 'inherit' });
    if (r.status === null || !step.expect.includes(r.status)) {
      process.stderr.write(`demo: step ${i + 1} exited ${r.status}, expected ${step.expect.join(' or ')}\n`);
      return 1;
    }
  }
  process.stdout.write(`\nDone. The staged media is in ${path.relative(root, media)}/ (hosts/*/install.cmd, manifest.json, SHA256SUMS).\n`);
  return 0;
}

process.exitCode = main();
