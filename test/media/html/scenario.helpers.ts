import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadTrustAnchors } from '../../../src/authenticode/trust';
import { openCatalog, type Catalog } from '../../../src/catalog/catalog';
import { importPayloads } from '../../../src/importer/import';
import { catalogEvidence } from '../../../src/media/html';
import { writeMedia, type StageResult } from '../../../src/media/stage';
import type { Payload } from '../../../src/package/types';
import type { HostInventory, HostPlan, PlanStep } from '../../../src/planner/types';
import { version as cabferryVersion } from '../../../src/version';
import { fixturePath, tempDir } from '../../common.helpers';

/**
 * A staged medium whose every input is fixed here, so its index.html is the same on every run:
 * the fixture payloads imported into a fresh catalog (their signatures and timestamps are in the
 * fixture bytes; only the import time varies, and `maskVarying` hides it), plans written by hand
 * (not by the planner, whose wording other work changes), a fixed staging time and a signed manifest.
 */

export const STAGED_AT = new Date('2026-12-01T09:30:00Z');
export const CATALOG_LABEL = 'C:\\cabferry\\catalog';

let shared: Promise<{ dir: string; catalog: Catalog; byFile: Map<string, Payload> }> | null = null;

/** One imported catalog per test process (importing is the slow part). */
export function importedCatalog(): Promise<{ dir: string; catalog: Catalog; byFile: Map<string, Payload> }> {
  shared ??= (async () => {
    const dir = path.join(tempDir('cabferry-html-catalog-'), 'catalog');
    const catalog = openCatalog({ dir });
    // no knowledge base: kinds and titles from the payloads' own metadata, so the golden text
    // does not change when the knowledge base learns more
    await importPayloads(catalog, [fixturePath('payloads')], { trust: loadTrustAnchors([fixturePath('pki', 'root.pem')]), knowledgeBase: null });
    const byFile = new Map(catalog.payloads().map((p) => [p.fileName, p]));
    return { dir, catalog, byFile };
  })();
  return shared;
}

export function inventory(name: string, architecture: 'amd64' | 'x86', build: number, installed: string[]): HostInventory {
  return {
    name, product: 'Windows Server 2008', ntVersion: '6.0', build, revision: null, architecture, servicePack: 2,
    installed, servicingStackVersion: null, sha2CodeSigning: false, pendingReboot: false, sources: ['systeminfo', 'wmic-qfe'], unknown: ['revision'], sections: { hotfixes: true }, esuLicence: null, files: [], evidence: [], conflicts: [],
  };
}

/** kinds as the planner's knowledge base names them (the catalog here was imported without one) */
function install(n: number, p: Payload, kind: PlanStep['kind'], reason: string): PlanStep {
  return { n, action: 'install', kb: p.kb, file: p.fileName ?? null, sha256: p.sha256 ?? null, kind, reason };
}

function reboot(n: number, reason: string): PlanStep {
  return { n, action: 'reboot', kb: null, file: null, sha256: null, kind: 'reboot', reason };
}

export interface ScenarioHost { inventory: HostInventory; plan: HostPlan }

/** Three hosts: a fresh x64 host, an x86 host and an x64 host staged incomplete (KB4474419 missing). */
export function threeHosts(byFile: Map<string, Payload>): ScenarioHost[] {
  const p = (file: string): Payload => {
    const found = byFile.get(file);
    if (!found) throw new Error(`fixture payload ${file} was not imported`);
    return found;
  };
  const fresh: HostPlan = {
    host: 'SRV-A', files: [], goal: { kind: 'current' }, complete: true, incomplete: [], catalogCurrency: null,
    steps: [
      install(1, p('Windows6.0-KB4493730-x64.msu'), 'servicing-stack', 'servicing stack update; prerequisite of KB4474419'),
      install(2, p('Windows6.0-KB4474419-v4-x64.msu'), 'sha2-support', 'SHA-2 code signing support; prerequisite of KB4520002'),
      reboot(3, 'KB4474419 takes effect after a restart'),
      install(4, p('Windows6.0-KB4520002-x64.msu'), 'monthly-rollup', 'newest monthly rollup in the catalog; moves the build to 6003'),
      reboot(5, 'KB4520002 asks for a restart to finish installing'),
    ],
    missing: [],
    skipped: [
      { kb: 'KB4489887', reason: 'superseded', detail: 'replaced by KB4520002, which this plan installs', cause: { kind: 'replaced-by-planned', by: 'KB4520002', byRole: 'monthly-rollup', byReleased: '2019-10-08' } },
      { kb: 'KB4474419', reason: 'not-applicable', detail: 'Windows6.0-KB4474419-v4-x86.msu: built for x86; the host is amd64', cause: { kind: 'arch-mismatch', file: 'Windows6.0-KB4474419-v4-x86.msu', built: 'x86', host: 'amd64' } },
    ],
    assumptions: ['pending-reboot state not reported; assumed no restart is pending'],
  };
  const x86: HostPlan = {
    host: 'SRV-B', files: [], goal: { kind: 'current' }, complete: true, incomplete: [], catalogCurrency: null,
    steps: [
      install(1, p('Windows6.0-KB4474419-v4-x86.msu'), 'sha2-support', 'SHA-2 code signing support; prerequisite of KB4520002'),
      reboot(2, 'KB4474419 takes effect after a restart'),
      install(3, p('Windows6.0-KB4520002-x86.msu'), 'monthly-rollup', 'newest monthly rollup in the catalog; moves the build to 6003'),
      reboot(4, 'KB4520002 asks for a restart to finish installing'),
    ],
    missing: [],
    skipped: [{ kb: 'KB4493730', reason: 'installed', detail: 'the host reports it installed', cause: { kind: 'installed' } }],
    assumptions: [],
    assumedInstalled: ['KB4493730'],
  };
  const partial: HostPlan = {
    host: 'SRV-C', files: [], goal: { kind: 'current' }, complete: false, incomplete: [{ kind: 'missing', kbs: ['KB4474419'] }], catalogCurrency: null,
    steps: [install(1, p('Windows6.0-KB4493730-x64.msu'), 'servicing-stack', 'servicing stack update; prerequisite of KB4474419')],
    missing: [{ kb: 'KB4474419', reason: 'SHA-2 code signing support is not in the catalog', fileHint: 'Windows6.0-KB4474419-v4-x64.msu', cause: { kind: 'missing', kb: 'KB4474419', title: null, copy: null, needs: [], fileHint: 'Windows6.0-KB4474419-v4-x64.msu' } }],
    skipped: [],
    assumptions: ['servicing stack version not reported'],
  };
  return [
    { inventory: inventory('SRV-A', 'amd64', 6002, ['KB2999226', 'KB3078601']), plan: fresh },
    { inventory: inventory('SRV-B', 'x86', 6002, ['KB4493730']), plan: x86 },
    { inventory: inventory('SRV-C', 'amd64', 6002, []), plan: partial },
  ];
}

export const signingMaterial = () => ({
  keyPem: fs.readFileSync(fixturePath('pki', 'leaf-rsa.key'), 'utf8'),
  certPem: fs.readFileSync(fixturePath('pki', 'leaf-rsa-chain.pem'), 'utf8'),
});

/** Stage `hosts` into a fresh folder with the catalog's evidence and a signed manifest. */
export async function stageScenario(hosts: (byFile: Map<string, Payload>) => ScenarioHost[] = threeHosts): Promise<{ to: string; result: StageResult; hosts: ScenarioHost[]; catalog: Catalog }> {
  const { catalog, byFile } = await importedCatalog();
  const planned = hosts(byFile);
  const to = path.join(tempDir('cabferry-html-media-'), 'media');
  const result = writeMedia({
    to, hosts: planned, blobPath: (sha) => catalog.blobPath(sha), catalog: CATALOG_LABEL, allowIncomplete: true,
    signing: signingMaterial(), collectCmd: '@echo off\n', now: STAGED_AT, payloadEvidence: catalogEvidence(catalog),
  });
  return { to, result, hosts: planned, catalog };
}

/** The page text with what differs between runs or releases (import times, temporary folders, the version) replaced by names. */
export function maskVarying(text: string, catalog: Catalog | null, folders: string[] = []): string {
  let out = text;
  for (const e of catalog?.entries() ?? []) out = out.split(e.firstImportedAt).join('<imported-at>');
  for (const f of folders) out = out.split(f).join('<medium>');
  return out.split(`cabferry ${cabferryVersion}`).join('cabferry <version>').split(`cabferry version\t${cabferryVersion}`).join('cabferry version\t<version>');
}
