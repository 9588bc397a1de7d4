import type { FileVerdict } from '../authenticode/cab';
import { inputError } from '../errors';
import type { CabByteSource } from '../cab/byte-source';
import type { KbFamily, KbUpdateFact, KnowledgeBase } from '../knowledge/knowledge-base';
import { isDll, readPeHeader, type PeHeader } from '../pe/header';
import { readVersionResource, type VersionResource } from '../pe/version-resource';
import { normalizeArchitecture, ntVersionFromFileName, productsFor } from './product';
import type { Architecture, Payload, PayloadKind, SignatureSummary } from './types';

/**
 * What an executable update (the SP2 standalone installer, IE9, .NET) is. An .exe carries no
 * servicing metadata: its identity is its version resource (FileVersion, ProductName,
 * OriginalFilename, …), its machine field, its file name and what the knowledge base records
 * for the KB. The Authenticode signature covers the whole image, the version resource included,
 * so a valid signature authenticates the resource; the file name is never signed.
 *
 * "Metadata verified" therefore means exactly one of:
 * - the signed version resource names the KB itself (e.g. OriginalFilename "…-KB2345678-…"), or
 * - the file name names the KB, and the signed FileVersion is the build the knowledge base says
 *   that KB brings (SP2: 6.0.6002.x): a renamed installer of another release does not pass.
 * Anything less (the KB from the file name alone, no version resource, a signature that is not
 * valid) is reported as not verified, with the reason, and import refuses it.
 *
 * The Windows version is part of the identity too: it comes from the signed version resource's own
 * file name (OriginalFilename "IE9-Windows6.0-x64-enu.exe") or from the knowledge base's one family
 * for the KB; when only the file name says it, the identity is not verified (ntVersionOf).
 *
 * The architecture is part of the identity: a 32-bit image whose file name says x64 is filed under
 * x64 only when something signed says so too (architectureOf). The FileVersion check above does not
 * tell the x86 SP2 installer from the x64 one (both are 6.0.6002.x), so without that a renamed x86
 * installer would be a verified x64 Service Pack.
 */

/** What the PE headers and version resource say, for reports. */
export interface ExecutableIdentity {
  format: PeHeader['format'];
  /** COFF machine as the model spells architectures (x86, amd64, ia64, arm64), null for others */
  machine: Architecture | null;
  dll: boolean;
  dotnet: boolean;
  versionResource: Pick<VersionResource, 'fileVersion' | 'productVersion' | 'strings'> | null;
}

export interface ExecutableInspection {
  payload: Payload;
  executable: ExecutableIdentity;
  /** the one-line summary of what was verified (also the payload's metadataReason) */
  verified: boolean;
  reason: string;
}

export interface ExecutableFacts {
  file: string;
  fileName: string;
  size: number;
  sha256: string;
  verdict: FileVerdict;
  signatures: SignatureSummary;
  knowledgeBase: KnowledgeBase | null;
}

/** Version-resource strings that may name a KB, most specific first. */
const KB_FIELDS = ['OriginalFilename', 'InternalName', 'FileDescription', 'Comments', 'ProductName'] as const;
const KB_IN_TEXT = /\bKB(\d{6,8})\b/i;

export function inspectExecutable(source: CabByteSource, facts: ExecutableFacts): ExecutableInspection {
  const header = readPeHeader(source);
  const version = readVersionResource(source, header);
  const machine = machineArchitecture(header);
  const executable: ExecutableIdentity = {
    format: header.format,
    machine,
    dll: isDll(header),
    dotnet: header.clr,
    versionResource: version === null ? null : { fileVersion: version.fileVersion, productVersion: version.productVersion, strings: version.strings },
  };
  const notes: string[] = [];

  const signedKb = kbInVersionResource(version);
  const nameKb = kbInExecutableName(facts.fileName);
  const hinted = facts.knowledgeBase === null ? null : updateByFileHint(facts.knowledgeBase, facts.fileName);
  const kb = signedKb?.kb ?? nameKb ?? hinted?.fact.kb ?? null;
  if (kb === null) {
    throw inputError('PKG_NO_KB', 'neither the version resource nor the file name names a KB, and the knowledge base has no file name like it', { file: facts.file });
  }
  if (signedKb !== null && nameKb !== null && signedKb.kb !== nameKb) notes.push(`KB is ${signedKb.kb} per the signed version resource (${signedKb.field}), but the file name says ${nameKb}`);

  const nameNt = ntVersionInExecutableName(facts.fileName);
  const { ntVersion, known, proof: ntVersionProof } = ntVersionOf(kb, ntVersionInVersionResource(version), nameNt, facts.knowledgeBase, hinted, facts.file);
  if (ntVersionProof.note !== null) notes.push(ntVersionProof.note);

  const { architecture, proof: architectureProof } = architectureOf(machine, architectureInExecutableName(facts.fileName), version, facts.file);
  if (architectureProof.note !== null) notes.push(architectureProof.note);
  const fact = known?.fact ?? null;
  const identity = decideIdentity({ kb, signedKb, nameKb, hintedKb: hinted?.fact.kb ?? null, fact, ntVersion, ntVersionProof, version, verdict: facts.verdict, architecture, architectureProof });
  const kind: { kind: PayloadKind; basis: string } = fact !== null ? { kind: fact.role, basis: `knowledge base role for ${kb}` } : { kind: 'other', basis: `the knowledge base does not know ${kb}` };
  const title = fact?.title ?? version?.strings.FileDescription ?? null;
  const allProducts = productsFor({ ntVersion, architecture, applicability: [], parentNames: [], subPackageNames: [] });
  const products = fact?.products ? allProducts.filter((p) => fact.products?.includes(p)) : allProducts;

  const payload: Payload = {
    kb,
    ...(title ? { title } : {}),
    product: products[0] ?? allProducts[0],
    products: products.length > 0 ? products : allProducts,
    ntVersion,
    architecture,
    kind: kind.kind,
    kindBasis: kind.basis,
    releaseType: null,
    restart: fact?.restart ?? null,
    applicabilityEvaluation: null,
    parents: [],
    identity: null,
    fileName: facts.fileName,
    fileRevision: revisionInName(facts.fileName),
    format: 'exe',
    size: facts.size,
    sha256: facts.sha256,
    signatures: facts.signatures,
    sha2OnlyParts: facts.signatures === 'sha2-only' ? [{ part: 'file', member: null }] : [],
    metadataVerified: identity.verified,
    metadataReason: identity.reason,
    executable,
    ...(notes.length > 0 ? { notes } : {}),
  };
  return { payload, executable, verified: identity.verified, reason: identity.reason };
}

interface IdentityEvidence {
  kb: string;
  signedKb: { kb: string; field: string; value: string } | null;
  nameKb: string | null;
  hintedKb: string | null;
  fact: KbUpdateFact | null;
  ntVersion: string;
  ntVersionProof: NtVersionProof;
  version: VersionResource | null;
  verdict: FileVerdict;
  architecture: Architecture;
  architectureProof: ArchitectureProof;
}

/** Whether anything signed vouches for the KB, the Windows version and the architecture the payload is filed under, and the sentence that says what. */
function decideIdentity(e: IdentityEvidence): { verified: boolean; reason: string } {
  const kb = decideKb(e);
  if (!kb.verified) return kb;
  if (!e.ntVersionProof.signed) return { verified: false, reason: `filed under Windows NT ${e.ntVersion}, but nothing signed says so: ${e.ntVersionProof.reason}` };
  return { verified: true, reason: `${kb.reason}; Windows NT ${e.ntVersion}: ${e.ntVersionProof.reason}` };
}

/** Whether anything signed vouches for the KB and the architecture. */
function decideKb(e: IdentityEvidence): { verified: boolean; reason: string } {
  if (e.verdict.verdict !== 'valid') {
    return { verified: false, reason: `the signature is ${e.verdict.verdict}, so nothing in the image (its version resource included) is authenticated` };
  }
  if (!e.architectureProof.signed) return { verified: false, reason: `filed as ${e.architecture}, but nothing signed says so: ${e.architectureProof.reason}` };
  if (e.version === null) return { verified: false, reason: `the image has no version resource; ${e.kb} comes from the file name only` };
  const described = describeVersion(e.version);
  if (e.signedKb !== null && e.signedKb.kb === e.kb) {
    return { verified: true, reason: `the Authenticode signature covers the whole image; its version resource names ${e.kb} (${e.signedKb.field} "${e.signedKb.value}"; ${described})${architectureSaid(e.architectureProof)}` };
  }
  const expected = expectedFileVersionPrefix(e.fact, e.ntVersion);
  const source = e.nameKb === e.kb ? 'the file name' : e.hintedKb === e.kb ? "the knowledge base's file name for it" : 'the file name';
  if (expected === null) {
    return { verified: false, reason: `${e.kb} comes from ${source} only; the knowledge base records no build for it to check the signed version resource against (${described})` };
  }
  if (e.version.fileVersion === null || !e.version.fileVersion.startsWith(expected)) {
    return { verified: false, reason: `${e.kb} comes from ${source}, but the signed FileVersion ${e.version.fileVersion ?? '(none)'} is not the build the knowledge base records for it (${expected}x)` };
  }
  return {
    verified: true,
    reason: `the Authenticode signature covers the whole image; ${source} names ${e.kb} and the signed version resource's FileVersion ${e.version.fileVersion} is the build the knowledge base records for it (${expected}x; ${described})${architectureSaid(e.architectureProof)}`,
  };
}

/** How a verified identity's architecture is proven, when the machine field alone does not (a 32-bit installer for x64). */
function architectureSaid(proof: ArchitectureProof): string {
  return proof.note === null ? '' : `; ${proof.reason}`;
}

/** "6.0.6002." for an update that sets build 6002 of NT 6.0; null when the knowledge base records no build. */
function expectedFileVersionPrefix(fact: KbUpdateFact | null, ntVersion: string): string | null {
  if (fact?.setsBuild === null || fact?.setsBuild === undefined) return null;
  return `${ntVersion}.${fact.setsBuild}.`;
}

function describeVersion(v: VersionResource): string {
  const parts = [`FileVersion ${v.fileVersion ?? '(none)'}`];
  for (const key of ['ProductName', 'OriginalFilename'] as const) if (v.strings[key]) parts.push(`${key} "${v.strings[key]}"`);
  return parts.join(', ');
}

function kbInVersionResource(v: VersionResource | null): { kb: string; field: string; value: string } | null {
  if (v === null) return null;
  for (const field of KB_FIELDS) {
    const value = v.strings[field];
    const m = value ? KB_IN_TEXT.exec(value) : null;
    if (m && value) return { kb: `KB${m[1]}`, field, value };
  }
  return null;
}

function kbInExecutableName(fileName: string): string | null {
  const m = /(?:^|[-_])KB(\d{6,8})(?:-v\d+)?(?=[-_.])/i.exec(fileName);
  return m ? `KB${m[1]}` : null;
}

/** "…-x64.exe" / "…-X64-enu.exe" → amd64. */
function architectureInExecutableName(fileName: string): Architecture | null {
  const m = /-(x86|x64|ia64|arm64|amd64)(?:-[a-z]{2,4})?\.exe$/i.exec(fileName);
  return m ? normalizeArchitecture(m[1]) : null;
}

/** "Windows6.0-KB948465-X64.exe" and "IE9-Windows6.0-x64-enu.exe" → "6.0". */
function ntVersionInExecutableName(fileName: string): string | null {
  const m = /(?:^|-)Windows(\d+\.\d+)-/i.exec(fileName);
  return ntVersionFromFileName(fileName) ?? (m ? m[1] : null);
}

function revisionInName(fileName: string): number | null {
  const m = /-KB\d{5,8}-v(\d{1,3})-/i.exec(fileName);
  return m ? Number(m[1]) : null;
}

function machineArchitecture(header: PeHeader): Architecture | null {
  return normalizeArchitecture(header.architecture === 'x64' ? 'amd64' : header.architecture);
}

/** Whether something signed says the architecture a payload is filed under; when not, why (the identity is then not verified). */
export interface ArchitectureProof {
  signed: boolean;
  /** what says the architecture, or why nothing signed does */
  reason: string;
  /** a note for the payload when the file name and the machine field disagree */
  note: string | null;
}

/** Version-resource strings that may name the architecture an installer is for. */
const ARCHITECTURE_FIELDS = ['OriginalFilename', 'InternalName', 'FileDescription', 'Comments', 'ProductName'] as const;
const ARCHITECTURE_IN_TEXT = /(?:^|[^a-z0-9])(x86|x64|amd64|ia64|arm64)(?![a-z0-9])/gi;

/**
 * The architecture the payload installs on, and whether something signed says it. The machine
 * field is signed; the file name is not. When they agree, the machine field proves it. A 32-bit
 * installer may carry a 64-bit payload (it runs under WoW64), so an x86 machine with an x64 (or
 * ia64) name is filed under the name's architecture, but proven only when the signed version
 * resource names that architecture (its OriginalFilename, say) and no other: an x86 installer
 * renamed "-X64" is not. Any other disagreement of machine and name is refused.
 */
export function architectureOf(machine: Architecture | null, named: Architecture | null, version: VersionResource | null, file: string): { architecture: Architecture; proof: ArchitectureProof } {
  if (machine === null) {
    throw inputError('PKG_NO_ARCHITECTURE', 'the PE machine field names no Windows architecture cabferry plans for', { file });
  }
  if (named === null || named === machine) return { architecture: machine, proof: { signed: true, reason: `the signed PE machine field says ${machine}`, note: null } };
  if (machine === 'x86' && (named === 'amd64' || named === 'ia64')) {
    const note = `a 32-bit (x86) installer program; the file name says the update is for ${named}`;
    const said = architecturesInVersionResource(version);
    const signedName = said.get(named);
    if (signedName !== undefined && said.size === 1) {
      return { architecture: named, proof: { signed: true, reason: `the signed version resource names ${named} (${signedName}) for this 32-bit installer program`, note } };
    }
    const says = said.size === 0 ? 'the signed version resource names no architecture' : `the signed version resource names ${[...said].map(([a, where]) => `${a} (${where})`).join(', ')}`;
    return { architecture: named, proof: { signed: false, reason: `the image is a 32-bit (x86) program and only the file name, which is not signed, says ${named}; ${says}`, note: `${note}, which is not covered by the signature` } };
  }
  throw inputError('PKG_ARCHITECTURE_CONFLICT', `the signed PE machine field says ${machine}, but the file name says ${named}`, { file });
}

/** The architectures the version resource's strings name, each with the first string that does ("OriginalFilename \"…-x64.exe\""). */
function architecturesInVersionResource(v: VersionResource | null): Map<Architecture, string> {
  const found = new Map<Architecture, string>();
  if (v === null) return found;
  for (const field of ARCHITECTURE_FIELDS) {
    const value = v.strings[field];
    if (!value) continue;
    for (const m of value.matchAll(ARCHITECTURE_IN_TEXT)) {
      const a = normalizeArchitecture(m[1]);
      if (a !== null && !found.has(a)) found.set(a, `${field} "${value}"`);
    }
  }
  return found;
}

/** Whether something signed (or the knowledge base, for a KB something signed named) says the Windows version a payload is filed under. */
export interface NtVersionProof {
  signed: boolean;
  /** what says the Windows version, or why nothing signed does */
  reason: string;
  /** a note for the payload when the file name says another version */
  note: string | null;
}

/** Version-resource strings that may carry the installer's own file name ("IE9-Windows6.0-x64-enu.exe"). */
const NT_VERSION_FIELDS = ['OriginalFilename', 'InternalName'] as const;

/** The Windows version the signed version resource's own file name says ("OriginalFilename \"IE9-Windows6.0-x64-enu.exe\""), read as the file name is. */
function ntVersionInVersionResource(v: VersionResource | null): { ntVersion: string; said: string } | null {
  if (v === null) return null;
  for (const field of NT_VERSION_FIELDS) {
    const value = v.strings[field];
    const ntVersion = value ? ntVersionInExecutableName(value) : null;
    if (ntVersion !== null && value) return { ntVersion, said: `${field} "${value}"` };
  }
  return null;
}

/**
 * The Windows version an executable is filed under, and whether something signed says it.
 * The file name is not signed; the version resource is (review 9, R9-6: IE9-Windows6.0-x64-enu.exe
 * renamed …6.1… was a verified Windows 7 payload). So: the version the signed version resource
 * names, else the knowledge base's family for the KB when the KB is in one family only; the file
 * name only picks a family among several, or stands alone, and then the identity is not verified.
 * A file name that says another version than the signed resource or the knowledge base is a note,
 * as a renamed KB is: the same bytes are filed the same whatever their name. The knowledge base's
 * fact is used only from the family the version was decided for.
 */
function ntVersionOf(
  kb: string,
  signed: { ntVersion: string; said: string } | null,
  nameNt: string | null,
  base: KnowledgeBase | null,
  hinted: { family: KbFamily; fact: KbUpdateFact } | null,
  file: string,
): { ntVersion: string; known: { family: KbFamily; fact: KbUpdateFact } | null; proof: NtVersionProof } {
  const families = base === null ? [] : knownFamiliesOf(base, kb);
  const noteAgainst = (ntVersion: string, source: string): string | null =>
    nameNt !== null && nameNt !== ntVersion ? `Windows version is ${ntVersion} per ${source}, but the file name says ${nameNt}` : null;
  if (signed !== null) {
    const source = `the signed version resource (${signed.said})`;
    const known = families.find((h) => h.family.ntVersion === signed.ntVersion) ?? null;
    const elsewhere = known === null && families.length > 0 ? `${source} says ${signed.ntVersion}, but the knowledge base knows ${kb} for NT ${families.map((h) => h.family.ntVersion).join(' and ')} only: its facts are not used` : null;
    const note = [noteAgainst(signed.ntVersion, source), elsewhere].filter((n) => n !== null).join('; ') || null;
    return { ntVersion: signed.ntVersion, known, proof: { signed: true, reason: `${source} says ${signed.ntVersion}`, note } };
  }
  if (families.length === 1) {
    const known = families[0]!;
    const ntVersion = known.family.ntVersion;
    return { ntVersion, known, proof: { signed: true, reason: `the knowledge base knows ${kb} for NT ${ntVersion} only`, note: noteAgainst(ntVersion, 'the knowledge base') } };
  }
  const named = nameNt ?? hinted?.family.ntVersion ?? null;
  if (named === null) {
    throw inputError('PKG_NO_NT_VERSION', `cannot tell the Windows version of ${kb}: the signed version resource does not say, the knowledge base ${families.length > 1 ? `knows it for NT ${families.map((h) => h.family.ntVersion).join(' and ')}` : 'does not know it'} and the file name does not say (Windows6.x-…)`, { file });
  }
  const known = families.find((h) => h.family.ntVersion === named) ?? null;
  const why = families.length > 1 ? `the knowledge base knows ${kb} for NT ${families.map((h) => h.family.ntVersion).join(' and ')}` : `the knowledge base does not know ${kb}`;
  return { ntVersion: named, known, proof: { signed: false, reason: `only the file name, which is not signed, says ${named}; the signed version resource names no Windows version and ${why}`, note: null } };
}

/** The knowledge base's facts for a KB, one per family that lists it. */
function knownFamiliesOf(base: KnowledgeBase, kb: string): { family: KbFamily; fact: KbUpdateFact }[] {
  return base.families.flatMap((family) => {
    const fact = family.updates.get(kb);
    return fact ? [{ family, fact }] : [];
  });
}

/** An update whose fileHint ("IE9-Windows6.0-{arch}-enu.exe") matches the file name. */
function updateByFileHint(base: KnowledgeBase, fileName: string): { family: KbFamily; fact: KbUpdateFact } | null {
  for (const family of base.families) {
    for (const fact of family.updates.values()) {
      if (fact.fileHint === null || !/\.exe$/i.test(fact.fileHint)) continue;
      const pattern = new RegExp(`^${fact.fileHint.split('{arch}').map(escapeRegExp).join('(x86|x64|ia64)')}$`, 'i');
      if (pattern.test(fileName)) return { family, fact };
    }
  }
  return null;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
