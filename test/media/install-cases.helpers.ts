import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { renderInstallScript, type InstallScriptOptions } from '../../src/media/install-script';
import { planIdOf } from '../../src/media/plan-identity';
import { mediaToolFiles } from '../../src/media/layout';
import { parseResultLog } from '../../src/media/result-log';
import type { HostInventory, HostPlan, PlanStep } from '../../src/planner/types';
import { hostClock, Stubs, type WinePrefix } from './wine.helpers';

/**
 * One install.cmd run under Wine, set up as a test needs it: a medium (its path has a space, so
 * every path in install.cmd must be quoted) holding the plan's payloads and tools, a test-build
 * install.cmd for a Server 2008 SP2 x64 host named as the Wine prefix's computer, and stub
 * installers and hasher (wine.helpers Stubs). Shared by the install.cmd test files.
 */

export type PlannedStep = Omit<PlanStep, 'sha256'>;

export function install(n: number, kb: string, file: string): PlannedStep {
  return { n, action: 'install', kb, file, kind: 'update', reason: 'test' };
}
export function reboot(n: number): PlannedStep {
  return { n, action: 'reboot', kb: null, file: null, kind: 'reboot', reason: 'test' };
}

export interface InstallCase {
  root: string;
  hostDir: string;
  stubs: Stubs;
  plan: HostPlan;
  host: HostInventory;
  resultLog: string;
  /** results/HOST/PLAN/state.txt, beside the result log */
  statePath: string;
  setCodes(codes: Record<string, number>): void;
  /** point the stub hasher at the current content of every payload */
  refreshHashes(): void;
  run(args?: string[], env?: Record<string, string | undefined>): { status: number; stdout: string; stderr: string };
  calls(): string[];
  log(): ReturnType<typeof parseResultLog>;
}

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/** The cases of one test file, in folders under `work`, run in one Wine prefix. */
export class InstallCases {
  private made = 0;

  constructor(
    private readonly work: string,
    private readonly wine: WinePrefix,
  ) {}

  /** how many cases were made (the folder of the next is `case N+1`) */
  get count(): number {
    return this.made;
  }

  hostInventory(overrides: Partial<HostInventory> = {}): HostInventory {
    return {
      name: this.wine.computerName, product: 'Windows Server 2008', ntVersion: '6.0', build: 6002, revision: 24000,
      architecture: 'amd64', servicePack: 2, installed: [], servicingStackVersion: null, sha2CodeSigning: false,
      pendingReboot: false, sources: ['profile'], unknown: [], sections: { hotfixes: true }, esuLicence: null, files: [], evidence: [], conflicts: [], ...overrides,
    };
  }

  make(steps: PlannedStep[], hostOverrides: Partial<HostInventory> = {}, scriptOptions: Partial<InstallScriptOptions> = {}, planOverrides: Partial<HostPlan> = {}): InstallCase {
    const wine = this.wine;
    const root = path.join(this.work, `case ${++this.made}`, 'media root');
    const stubDir = path.join(this.work, `case ${this.made}`, 'stubs');
    fs.mkdirSync(path.join(root, 'payloads'), { recursive: true });
    for (const f of mediaToolFiles()) {
      fs.mkdirSync(path.dirname(path.join(root, f.path)), { recursive: true });
      fs.writeFileSync(path.join(root, f.path), f.content);
    }
    const sizes = new Map<string, number>();
    const planned: PlanStep[] = steps.map((s) => {
      if (s.file === null) return { ...s, sha256: null };
      const content = Buffer.from(`payload ${s.file} ${'x'.repeat(100)}`);
      fs.writeFileSync(path.join(root, 'payloads', s.file), content);
      sizes.set(s.file, content.length);
      return { ...s, sha256: sha256(content) };
    });
    const host = this.hostInventory(hostOverrides);
    const plan: HostPlan = { host: host.name, files: [], complete: true, incomplete: [], catalogCurrency: null, steps: planned, missing: [], skipped: [], assumptions: [], ...planOverrides };
    const hostDir = path.join(root, 'hosts', host.name);
    fs.mkdirSync(hostDir, { recursive: true });
    fs.writeFileSync(path.join(hostDir, 'install.cmd'), renderInstallScript(plan, host, { version: 'test', generatedAt: '2026-11-23T00:00:00Z', testBuild: true, payloadSize: (f) => sizes.get(f), ...scriptOptions }));

    const stubs = new Stubs(stubDir);
    // each case starts on a host with no update installed (the prefix is shared by the whole file)
    wine.clearPackages();

    const resultLog = path.join(root, 'results', host.name, planIdOf(host, plan), 'result.log');
    const c: InstallCase = {
      root, hostDir, stubs, plan, host, resultLog,
      statePath: path.join(path.dirname(resultLog), 'state.txt'),
      setCodes: (codes) => stubs.setCodes(codes),
      refreshHashes: () => stubs.hashPayloads(path.join(root, 'payloads')),
      run: (args = [], env = {}) =>
        wine.runScript(path.join(hostDir, 'install.cmd'), resultLog, args, { ...stubs.env(), ...hostClock(1), ...env }),
      calls: () => stubs.calls(),
      log: () => parseResultLog(fs.readFileSync(resultLog, 'latin1')),
    };
    c.refreshHashes();
    return c;
  }
}
