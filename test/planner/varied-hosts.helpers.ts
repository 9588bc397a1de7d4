import { createHash } from 'node:crypto';
import type { Architecture, Payload, PayloadKind, SignatureSummary } from '../../src/package/types';
import type { KnowledgeBase } from '../../src/knowledge/knowledge-base';
import type { HostInventory, InventoryEvidence, PlanGoal } from '../../src/planner/types';
import { prng } from '../../scripts/lib/prng';

/**
 * A catalog and a fleet that reach every corner of the planner at once, for tests that compare
 * two ways of planning the same hosts: both families of the knowledge base and a foreign one,
 * every architecture, several files per KB, unsigned and SHA-2-only payloads, executables,
 * unverified metadata, update.mum parents of this and of another NT version, chains of SSUs and
 * rollups the knowledge base does not know; hosts with and without each fact, with installed
 * sets small and large, conflicting files, pending restarts, ESU licences and look-alike names.
 */

const ARCHS: Architecture[] = ['x86', 'amd64'];

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)]!;
}

function payload(r: () => number, kb: string, ntVersion: string, arch: Architecture, kind: PayloadKind, fileName: string, extra: Partial<Payload> = {}): Payload {
  const products = ntVersion === '6.0' ? ['Windows Server 2008', 'Windows Vista'] : ntVersion === '6.1' ? ['Windows 7', 'Windows Server 2008 R2'] : ['Windows Server 2003'];
  const signatures: SignatureSummary = r() < 0.04 ? pick(r, ['unsigned', 'invalid'] as SignatureSummary[]) : r() < 0.5 ? 'sha2-only' : 'dual';
  return {
    kb,
    product: products[0]!,
    products: r() < 0.1 ? [products[1]!] : products,
    ntVersion,
    architecture: arch,
    kind,
    releaseType: 'Update',
    restart: pick(r, ['required', 'possible', 'never', 'Required', null, 'sometimes']),
    parents: [],
    identity: { name: `Package_for_${kb}`, version: `${ntVersion}.1.0` },
    fileName,
    format: fileName.endsWith('.exe') ? 'exe' : 'msu',
    size: 1 << 16,
    sha256: createHash('sha256').update(fileName).digest('hex'),
    signatures,
    metadataVerified: r() < 0.05 ? false : true,
    ...(r() < 0.03 ? { metadataReason: 'no update.cat' } : {}),
    ...extra,
  } as Payload;
}

/** Every knowledge-base update of both families in x86 and x64 (some twice, some not at all), plus `extra` generated ones. */
export function variedCatalog(kb: KnowledgeBase, seed: number, extra: number): Payload[] {
  const r = prng(seed);
  const out: Payload[] = [];
  for (const family of kb.families) {
    const prefix = family.filePrefix;
    for (const f of family.updates.values()) {
      for (const arch of ARCHS) {
        if (r() < 0.08) continue; // the catalog lacks this file: something goes missing
        const a = arch === 'amd64' ? 'x64' : arch;
        const name = f.fileHint ? f.fileHint.replace('{arch}', a) : `${prefix}-${f.kb}-${a}.msu`;
        const extraFields: Partial<Payload> = {};
        if (f.role === 'servicing-stack' && r() < 0.5) extraFields.servicingStackVersion = `${family.ntVersion}.${family.ntVersion === '6.0' ? 6003 : 7601}.${20000 + Math.floor(r() * 1000)}`;
        if (f.role !== 'service-pack' && r() < 0.5) extraFields.parents = [{ identity: { name: `Package_for_${family.minimumServicePackKb}`, version: `${family.ntVersion}.1.0` }, kb: family.minimumServicePackKb }] as Payload['parents'];
        out.push(payload(r, f.kb, family.ntVersion, arch, f.role, name, extraFields));
        // another file of the same KB: an older revision, or a file name the knowledge base does not name
        if (r() < 0.1) out.push(payload(r, f.kb, family.ntVersion, arch, f.role, `${prefix}-${f.kb}-v${2 + Math.floor(r() * 3)}-${a}.msu`, extraFields));
      }
    }
  }
  const kinds: PayloadKind[] = ['hotfix', 'security-update', 'update', 'hotfix', 'servicing-stack', 'monthly-rollup', 'rollup-preview', 'security-only', 'other'];
  let next = 3_100_000;
  for (let i = 0; i < extra; i++) {
    const kbId = `KB${next}`;
    next += 1 + Math.floor(r() * 3);
    const family = pick(r, kb.families);
    const ntVersion = r() < 0.05 ? '5.2' : family.ntVersion;
    const kind = pick(r, kinds);
    const arch: Architecture = r() < 0.05 ? 'neutral' : r() < 0.03 ? 'ia64' : pick(r, ARCHS);
    const a = arch === 'amd64' ? 'x64' : arch;
    const exe = r() < 0.04;
    const name = exe ? `${kbId}-${a}-enu.exe` : `${family.filePrefix}-${kbId}-${a}.msu`;
    const parents: Payload['parents'] = [];
    const roll = r();
    if (roll < 0.2) parents.push({ identity: { name: `Package_for_${family.minimumServicePackKb}`, version: `${family.ntVersion}.1.0` }, kb: family.minimumServicePackKb } as Payload['parents'][number]);
    else if (roll < 0.25) parents.push({ identity: { name: 'Microsoft-Windows-Foundation-Package', version: pick(r, ['6.0.6001.18000', '6.1.7601.17514', '5.2.3790.0']) }, kb: null } as Payload['parents'][number]);
    else if (roll < 0.3) parents.push({ identity: { name: `Package_for_KB${next + 7}`, version: '6.0.1.0' }, kb: `KB${next + 7}` } as Payload['parents'][number]);
    const p = payload(r, kbId, ntVersion, arch, kind, name, { parents });
    out.push(p);
    if (arch !== 'neutral' && r() < 0.7) {
      const other: Architecture = arch === 'x86' ? 'amd64' : 'x86';
      const b = other === 'amd64' ? 'x64' : other;
      out.push({ ...p, architecture: other, fileName: exe ? `${kbId}-${b}-enu.exe` : `${family.filePrefix}-${kbId}-${b}.msu`, sha256: createHash('sha256').update(`${kbId}-${b}`).digest('hex') });
    }
  }
  return out;
}

/** Hosts of every kind, each a little odd in its own way. */
export function variedHosts(kb: KnowledgeBase, catalog: Payload[], seed: number, count: number): HostInventory[] {
  const r = prng(seed);
  const hosts: HostInventory[] = [];
  const catalogKbs = [...new Set(catalog.map((p) => p.kb))];
  for (let i = 0; i < count; i++) {
    const family = r() < 0.9 ? pick(r, kb.families) : null;
    const ntVersion = family ? (r() < 0.1 ? null : family.ntVersion) : pick(r, ['5.2', '10.0']);
    const familyKbs = family ? [...family.updates.keys()] : [];
    const share = pick(r, [0, 0.05, 0.3, 0.7, 1]);
    // drawn from a generator of its own, so that a knowledge base listing more updates changes which
    // are installed, not every host drawn after this one
    const pickInstalled = prng(Math.floor(r() * 2 ** 31));
    const installed = [...new Set([...familyKbs.filter(() => pickInstalled() < share), ...catalogKbs.filter(() => pickInstalled() < share / 4), ...(r() < 0.2 ? ['KB9999999'] : [])])];
    const architecture: Architecture | null = r() < 0.08 ? null : r() < 0.03 ? 'ia64' : pick(r, ARCHS);
    const product = family ? (r() < 0.1 ? null : r() < 0.05 ? 'Windows Server 2012' : pick(r, family.products)) : null;
    const files = [`host${i}.systeminfo.txt`, ...(r() < 0.3 ? [`host${i}.qfe.txt`] : [])];
    const evidence: InventoryEvidence[] = [];
    const conflicts: HostInventory['conflicts'] = [];
    const build = r() < 0.15 ? null : family?.ntVersion === '6.1' ? pick(r, [7600, 7601]) : pick(r, [6001, 6002, 6003]);
    const servicePack = r() < 0.1 ? null : pick(r, [0, 1, 2, 2, 2, 1]);
    if (files.length > 1) {
      // one file lists what the other does not; sometimes the two disagree on the build
      const [a, b] = files as [string, string];
      const split = Math.floor(installed.length / 2);
      evidence.push({ file: a, facts: { build: build ?? 0, servicePack: servicePack ?? 0 }, installed: installed.slice(0, split) });
      evidence.push({ file: b, facts: r() < 0.5 ? { build: (build ?? 0) + 1 } : {}, installed: installed.slice(split - 1) });
      if (r() < 0.3) conflicts.push({ fact: 'build', claims: [{ claim: { kind: 'fact', fact: 'build', value: build ?? 0 }, files: [a] }, { claim: { kind: 'fact', fact: 'build', value: (build ?? 0) + 1 }, files: [b] }] });
    }
    hosts.push({
      name: i % 25 === 3 ? `SRV-\u0410PP${i}` : `HOST${String(i).padStart(4, '0')}`,
      product,
      ntVersion,
      build,
      revision: r() < 0.5 ? null : Math.floor(r() * 25000),
      architecture,
      servicePack,
      installed,
      servicingStackVersion: r() < 0.3 ? `${family?.ntVersion ?? '6.0'}.${family?.ntVersion === '6.1' ? 7601 : 6003}.${20000 + Math.floor(r() * 1000)}` : null,
      sha2CodeSigning: pick(r, [true, false, null]),
      pendingReboot: pick(r, [true, false, null, false]),
      sources: ['systeminfo'],
      unknown: [],
      sections: { hotfixes: r() < 0.95 },
      esuLicence: pick(r, ['activated', 'not-activated', null] as const),
      files,
      evidence,
      conflicts,
    });
  }
  return hosts;
}

/** The three kinds of goal; targets drawn from the catalog, one of them absent from it. */
export function variedGoals(catalog: Payload[], seed: number): PlanGoal[] {
  const r = prng(seed);
  const kbs = [...new Set(catalog.map((p) => p.kb))];
  return [{ kind: 'current' }, { kind: 'security-only' }, { kind: 'target', kbs: [pick(r, kbs), pick(r, kbs), pick(r, kbs), 'KB1234567'] }];
}
