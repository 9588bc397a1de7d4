import { createHash } from 'node:crypto';
import type { Architecture, Payload, PayloadKind, SignatureSummary } from '../../src/package/types';

/**
 * Payload objects shaped like the ones src/package's inspectPayload produces for the Server
 * 2008 SP2 fixture MSUs (fixtures/payloads/, made by the fixtures script): KB, product, NT
 * version, architecture, kind, restart, update.mum parents and the digest algorithms of the
 * valid signatures — dual-signed up to July 2019, SHA-256 only from August 2019 on.
 */

interface Spec {
  kb: string;
  kind: PayloadKind;
  signatures: SignatureSummary;
  restart: string | null;
  version?: string;
  releaseType: string;
}

export const NT60_SPECS: Spec[] = [
  { kb: 'KB948465', kind: 'service-pack', signatures: 'dual', restart: 'required', releaseType: 'Service Pack' },
  { kb: 'KB4493730', kind: 'servicing-stack', signatures: 'dual', restart: 'never', releaseType: 'Update' },
  { kb: 'KB4474419', kind: 'sha2-support', signatures: 'dual', restart: 'required', version: 'v4', releaseType: 'Security Update' },
  { kb: 'KB4489887', kind: 'rollup-preview', signatures: 'dual', restart: 'required', releaseType: 'Update' },
  { kb: 'KB4493471', kind: 'monthly-rollup', signatures: 'dual', restart: 'required', releaseType: 'Security Update' },
  { kb: 'KB4499180', kind: 'security-only', signatures: 'dual', restart: 'required', releaseType: 'Security Update' },
  { kb: 'KB4517134', kind: 'servicing-stack', signatures: 'sha2-only', restart: 'never', releaseType: 'Update' },
  { kb: 'KB4520002', kind: 'monthly-rollup', signatures: 'sha2-only', restart: 'required', releaseType: 'Security Update' },
];

export function nt60Payload(kb: string, arch: Architecture, overrides: Partial<Payload> = {}): Payload {
  const spec = NT60_SPECS.find((s) => s.kb === kb);
  if (!spec) throw new Error(`no sample spec for ${kb}`);
  const fileArch = arch === 'amd64' ? 'x64' : arch;
  const fileName = `Windows6.0-${kb}${spec.version ? `-${spec.version}` : ''}-${fileArch}.msu`;
  const sp2Parent = spec.kind === 'service-pack'
    ? []
    : [{ identity: { name: 'Package_for_KB948465', version: '6.0.1.0', processorArchitecture: arch, language: 'neutral', publicKeyToken: '31bf3856ad364e35' }, kb: 'KB948465', disposition: 'detect', integrate: 'separate' }];
  return {
    kb,
    product: 'Windows Server 2008',
    products: ['Windows Server 2008', 'Windows Vista'],
    ntVersion: '6.0',
    architecture: arch,
    kind: spec.kind,
    releaseType: spec.releaseType,
    restart: spec.restart,
    parents: sp2Parent,
    identity: { name: `Package_for_${kb}`, version: '6.0.1.0', processorArchitecture: arch, language: 'neutral', publicKeyToken: '31bf3856ad364e35' },
    fileName,
    format: 'msu',
    // the payload cab inside, named (under the MSU's signature) after the release, as Microsoft names it
    payloadCab: fileName.replace(/\.msu$/, '.cab'),
    size: 4096,
    sha256: createHash('sha256').update(fileName).digest('hex'),
    signatures: spec.signatures,
    // as a payload imported today records it: the catalogs signed as the file is
    sha2OnlyParts: (overrides.signatures ?? spec.signatures) === 'sha2-only' ? [{ part: 'file', member: null }, { part: 'catalog', member: 'update.cat' }] : [],
    metadataVerified: true,
    ...overrides,
  };
}

/** Every NT 6.0 sample in x86 and x64: the catalog the scenario tests plan against. */
export function nt60Catalog(options: { without?: string[] } = {}): Payload[] {
  const out: Payload[] = [];
  for (const s of NT60_SPECS) {
    if (options.without?.includes(s.kb)) continue;
    for (const arch of ['x86', 'amd64'] as const) out.push(nt60Payload(s.kb, arch));
  }
  return out;
}

/** A later SSU from the knowledge base, SHA-256 signed only (released after August 2019). */
export function laterSsu(kb: string, arch: Architecture): Payload {
  const p = nt60Payload('KB4517134', arch);
  const fileArch = arch === 'amd64' ? 'x64' : arch;
  const fileName = `Windows6.0-${kb}-${fileArch}.msu`;
  return { ...p, kb, fileName, payloadCab: fileName.replace(/\.msu$/, '.cab'), identity: { ...p.identity!, name: `Package_for_${kb}` }, sha256: createHash('sha256').update(fileName).digest('hex') };
}
