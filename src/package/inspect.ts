import fs = require('node:fs');
import os = require('node:os');
import path = require('node:path');
import { containerOf, deepVerdict, digestFile, innerCabinetMembers, prepareSignature, verifyInnerCabinet, verifyPreparedSignature, type FileVerdict, type TrustAnchor } from '../authenticode';
import { openCab, type Cabinet } from '../cab/cabinet';
import type { CabMember } from '../cab/types';
import { memberKey } from '../cab/member-name';
import { CabferryError, describeIoError, inputError, internalError } from '../errors';
import { RandomAccessFile } from '../io/random-access-file';
import { familyForNtVersion, type KnowledgeBase } from '../knowledge/knowledge-base';
import { classifyPayload, servicingStackVersionOf } from './classify';
import { inspectExecutable, type ExecutableIdentity } from './executable';
import { agreesWithUnattend, detectLayout, payloadCabByName, payloadCabNamedBy, type PayloadLayout } from './layout';
import { parsePackageManifest, type PackageManifest } from './mum';
import { parsePkgProperties, type PkgProperties } from './pkg-properties';
import { architectureFromFileName, normalizeArchitecture, ntVersionFromFileName, ntVersionFromPackageVersion, productsFor } from './product';
import type { Architecture, Payload, Sha2OnlyPart, SignatureSummary } from './types';
import { parseUnattend, type UnattendPackage } from './unattend';
import { maxDocumentBytes, readMetadataMembers, verifyPackageMetadata, type CatalogCheck, type MetadataVerification } from './verify-metadata';
import { writeFully } from '../io/write-fully';
import { PayloadBudget, type PayloadBudgetLimits } from '../io/payload-budget';

/**
 * What a payload is: `inspectPayload(path)` reads an .msu, a bare payload .cab or an executable
 * update (.exe, ./executable), verifies its
 * Authenticode signature (src/authenticode) and its catalog-signed servicing metadata
 * (verify-metadata.ts), parses update.mum, pkgProperties.txt and the unattend .xml, and fills the
 * Payload model the catalog stores and the planner plans with.
 *
 * Data flow for an .msu: outer cab → the payload cab chosen from the member names (layout.ts)
 * → (one folder pass) that cab streamed to a temp file + pkgProperties.txt + unattend .xml →
 * payload cab opened from the temp file → its metadata members (.mum/.cat/.manifest/
 * _manifest_.cix.xml, one folder pass) → verified → parsed → Payload. Nothing holds a whole
 * payload in memory; only metadata members are kept. Everything decoded and written on the way
 * is charged to the payload's budget (../io/payload-budget).
 */

export interface InspectOptions {
  trust: TrustAnchor[];
  /** anchors held for signatures only: never accepted, named when the file's own signer chains to one (TrustOptions.signaturesOnly) */
  signaturesOnly?: TrustAnchor[];
  /** time for signatures without a verified timestamp (default now) */
  at?: Date;
  /**
   * knowledge base for KB roles and titles, loaded (and validated) once by the caller; null: the
   * payload's own metadata alone decides. Required so that no caller gets a knowledge base it did
   * not choose, and a broken one fails where it is loaded, with its code.
   */
  knowledgeBase: KnowledgeBase | null;
  /** the payload's own file name when `file` is a temporary copy (the importer's blob temp file) */
  fileName?: string;
  /**
   * where an .msu's payload cab is unpacked while it is read (default: the system temp folder).
   * The copy is removed when inspect returns or throws; a process killed meanwhile leaves a
   * `cabferry-inspect-*` folder here, so the importer points this at its catalog's temp area.
   */
  tempDir?: string;
  /** the payload budget's limits (default: defaultPayloadBudgetLimits); tests pass small ones */
  budgetLimits?: PayloadBudgetLimits;
  /**
   * Read only what says what the payload claims to be (the quarantine record of a payload whose
   * signature failed): the payload cab, update.mum, pkgProperties.txt and the unattend .xml.
   * Nothing is verified (metadataVerified is false), no other member is decoded.
   */
  identityOnly?: boolean;
}

/** For the importer's one-pass design: the Authenticode verdict and file SHA-256 it already computed. */
export interface PrecomputedFileFacts {
  verdict: FileVerdict;
  sha256: string;
}

export interface InspectedMember {
  /** the file (or, for an .msu's payload cab, the member) that holds it */
  container: string;
  name: string;
  size: number;
}

/** Everything inspect learned; `payload` is the model, the rest is evidence for reports. */
export interface PayloadReport {
  file: string;
  payload: Payload;
  /** the file's own Authenticode verdict */
  verdict: FileVerdict;
  /** the payload cab's Authenticode verdict, for an .msu */
  payloadCabVerdict: FileVerdict | null;
  /**
   * The file's verdict with every inner cabinet's (an .msu's payload cab, WSUSSCAN.cab and any
   * other .cab member, each on its own signature): what `verify --deep` says, and what inspect's
   * exit code and the importer's record go by. Null when the inner cabinets were not verified
   * (identity only).
   */
  deepVerdict: FileVerdict | null;
  /** for an .exe: no catalogs or members, only `verified` and `reason` (what vouches for its identity) */
  metadata: MetadataVerification;
  /** null for an .exe */
  manifest: PackageManifest | null;
  /** for an .exe: its PE headers and version resource */
  executable: ExecutableIdentity | null;
  pkgProperties: PkgProperties | null;
  unattend: UnattendPackage[] | null;
  members: InspectedMember[];
}

const maxSmallMemberBytes = 256 * 1024;

export function inspectPayload(file: string, options: InspectOptions): Payload {
  return inspectPayloadReport(file, options).payload;
}

/** The importer's variant: no second pass over the file for its digest and signatures. */
export function inspectPayloadWithFacts(file: string, options: InspectOptions & PrecomputedFileFacts): Payload {
  return inspectPayloadReport(file, options, { verdict: options.verdict, sha256: options.sha256 }).payload;
}

export function inspectPayloadReport(file: string, options: InspectOptions, facts?: PrecomputedFileFacts): PayloadReport {
  const { verdict, sha256 } = facts ?? verifyFileOnePass(file, options);
  if (isExecutable(file)) return inspectExecutableReport(file, options, verdict, sha256);
  const cabinet = openCab(file);
  try {
    const size = fs.statSync(file).size;
    cabinet.budget = new PayloadBudget(file, size, options.budgetLimits);
    const outer: OuterFile = { file, fileName: options.fileName ?? path.basename(file), size, sha256, verdict, cabinet };
    const layout = detectLayout(cabinet.members, file);
    return layout.format === 'cab' ? inspectBareCab(outer, options) : inspectMsu(outer, layout, options);
  } finally {
    cabinet.close();
  }
}

function isExecutable(file: string): boolean {
  const raf = RandomAccessFile.open(file);
  try {
    return containerOf(raf.readUpTo(0, 2)) === 'pe';
  } finally {
    raf.close();
  }
}

/** An executable payload: identity from its signed version resource, cross-checked (./executable). */
function inspectExecutableReport(file: string, options: InspectOptions, verdict: FileVerdict, sha256: string): PayloadReport {
  const raf = RandomAccessFile.open(file);
  try {
    const fileName = options.fileName ?? path.basename(file);
    const inspected = inspectExecutable(raf, { file, fileName, size: raf.size, sha256, verdict, signatures: summarizeSignatures(verdict), knowledgeBase: options.knowledgeBase });
    return {
      file,
      payload: inspected.payload,
      verdict,
      payloadCabVerdict: null,
      deepVerdict: verdict,
      metadata: { verified: inspected.verified, reason: inspected.verified ? null : inspected.reason, problems: [], catalogs: [], membersVerified: 0, containerIndex: null },
      manifest: null,
      executable: inspected.executable,
      pkgProperties: null,
      unattend: null,
      members: [],
    };
  } finally {
    raf.close();
  }
}

/** The file inspect was given, opened, with what the first pass learned. */
interface OuterFile {
  file: string;
  fileName: string;
  size: number;
  sha256: string;
  verdict: FileVerdict;
  cabinet: Cabinet;
}

function outerMembers(outer: OuterFile): InspectedMember[] {
  return outer.cabinet.members.map((m) => ({ container: outer.fileName, name: m.name, size: m.size }));
}

/** A payload cab given directly (what pkgmgr installs): its own members are the package. */
function inspectBareCab(outer: OuterFile, options: InspectOptions): PayloadReport {
  const inner = inspectPayloadCab(outer.cabinet, options);
  return buildReport({ ...outer, format: 'cab', inner, pkgProperties: null, unattend: null, payloadCab: null, payloadCabVerdict: null, innerCabinets: [], members: outerMembers(outer) }, options);
}

/**
 * An .msu: the payload cab chosen before anything is decoded (layout.ts), then in one pass that
 * cab and every other inner cabinet into temp files (their declared sizes reserved against the
 * budget first) and pkgProperties.txt and the unattend .xml into memory. Each inner cabinet is
 * verified on its own signature as `verify --deep` does (../authenticode/deep): a payload cab or
 * WSUSSCAN.cab altered after its signing is refused even under an outer signature that holds.
 * A quarantine record (identity only) reads the payload cab alone.
 */
function inspectMsu(outer: OuterFile, layout: Extract<PayloadLayout, { format: 'msu' }>, options: InspectOptions): PayloadReport {
  const { file, cabinet } = outer;
  const budget = cabinet.budget!;
  const propsMember = layout.pkgProperties;
  const unattendMember = layout.unattend;
  let unattend: UnattendPackage[] | null = null;
  let payloadCab = payloadCabByName(layout);
  if (payloadCab === null) {
    // the names do not decide: the unattend .xml does, read on its own (decoding what precedes it, writing nothing)
    if (unattendMember !== null) unattend = readUnattend(file, cabinet, unattendMember);
    payloadCab = payloadCabNamedBy(layout.payloadCabs, unattend?.[0]?.sourceFileName ?? null, file);
  }
  const chosen = payloadCab;
  const others = options.identityOnly ? [] : innerCabinetMembers(cabinet.members).filter((m) => m !== chosen);
  const small = [propsMember, unattend === null ? unattendMember : null].filter((m): m is CabMember => m !== null);
  assertReadable(cabinet, [chosen, ...others, ...small]);
  budget.assertCanDecode(declaredDecodeBytes([chosen, ...others, ...small]), `unpacking payload cab ${chosen.name}`);
  budget.reserveTemp(chosen.size, `unpacking payload cab ${chosen.name}`);
  for (const m of others) budget.reserveTemp(m.size, `unpacking inner cabinet ${m.name}`);
  const tempDir = makeTempDir(options.tempDir ?? os.tmpdir());
  try {
    const innerPath = path.join(tempDir, 'payload.cab');
    const copies = new Map<CabMember, string>([[chosen, innerPath], ...others.map((m): [CabMember, string] => [m, path.join(tempDir, `member-${m.index}.cab`)])]);
    const texts = extractMsuParts(cabinet, copies, small);
    const pkgProperties = propsMember ? inMember(file, propsMember, () => parsePkgProperties(texts.get(propsMember) as Buffer, propsMember.name)) : null;
    if (unattend === null && unattendMember !== null) unattend = inMember(file, unattendMember, () => parseUnattend(texts.get(unattendMember) as Buffer, unattendMember.name));
    agreesWithUnattend(chosen, layout.payloadCabs, unattend?.[0]?.sourceFileName ?? null, file);
    // each inner cabinet's own signature needs a read of the whole cab; a quarantine record does without them
    const verifyOptions = { trust: options.trust, at: options.at };
    const verdicts = new Map(options.identityOnly ? [] : [...copies].sort(([a], [b]) => a.index - b.index).map(([m, copy]) => [m, verifyInnerCabinet(copy, outer.verdict.file, m.name, verifyOptions)] as const));
    const innerCabinets = options.identityOnly ? null : [...verdicts.values()];
    const payloadCabVerdict = verdicts.get(chosen) ?? null;
    for (const m of others) fs.rmSync(copies.get(m)!, { force: true });
    const label = `${file} (${chosen.name})`;
    return withFileLabel(innerPath, label, () => {
      const innerCab = openCab(innerPath);
      innerCab.budget = budget;
      try {
        if (!innerCab.members.some((m) => memberKey(m.name) === 'update.mum')) {
          throw inputError('MSU_PAYLOAD_NOT_A_PACKAGE', `payload cab ${chosen.name} has no update.mum`, { file });
        }
        const inner = inspectPayloadCab(innerCab, options);
        const members = [...outerMembers(outer), ...innerCab.members.map((m) => ({ container: chosen.name, name: m.name, size: m.size }))];
        return buildReport({ ...outer, format: 'msu', inner, pkgProperties, unattend, payloadCab: chosen.name, payloadCabVerdict, innerCabinets, members }, options);
      } finally {
        innerCab.close();
      }
    });
  } finally {
    fs.rmSync(tempDir, { recursive: true, force: true });
  }
}

function readUnattend(file: string, cabinet: Cabinet, member: CabMember): UnattendPackage[] {
  assertReadable(cabinet, [member]);
  assertSmall(cabinet, member);
  cabinet.budget?.assertCanDecode(declaredDecodeBytes([member]), `reading ${member.name}`);
  return inMember(file, member, () => parseUnattend(cabinet.readMemberToBuffer(member, maxSmallMemberBytes), member.name));
}

/** The first reason a wanted member cannot be read (overlapping, beyond its folder, spanned), before anything is decoded. */
function assertReadable(cabinet: Cabinet, members: CabMember[]): void {
  for (const m of members) {
    const problem = cabinet.memberProblem(m);
    if (problem !== null) throw problem;
  }
}

function assertSmall(cabinet: Cabinet, m: CabMember): void {
  if (m.size > maxSmallMemberBytes) {
    throw inputError('MSU_MEMBER_TOO_LARGE', `${m.name} is ${m.size} bytes; real ones are under 1 KiB (limit ${maxSmallMemberBytes})`, { file: cabinet.path, member: m.name });
  }
}

/** What a pass over these members decodes at most: each folder up to the end of its last wanted member. */
function declaredDecodeBytes(members: CabMember[]): number {
  const ends = new Map<number, number>();
  for (const m of members) ends.set(m.folderIndex, Math.max(ends.get(m.folderIndex) ?? 0, m.folderOffset + m.size));
  return [...ends.values()].reduce((a, b) => a + b, 0);
}

/** File SHA-256 and every Authenticode digest in one read of the file, then the verdict. */
function verifyFileOnePass(file: string, options: InspectOptions): PrecomputedFileFacts {
  const raf = RandomAccessFile.open(file);
  try {
    const prepared = prepareSignature(raf);
    const digests = digestFile(raf, prepared.ranges, prepared.algorithms);
    return { verdict: verifyPreparedSignature(file, raf, prepared, digests, { trust: options.trust, signaturesOnly: options.signaturesOnly, at: options.at }), sha256: digests.sha256.toString('hex') };
  } finally {
    raf.close();
  }
}

interface InnerPackage {
  manifest: PackageManifest;
  /** the other .mum documents, by member name: the packages update.mum installs, where the components are listed */
  packageDocuments: Map<string, Buffer>;
  metadata: MetadataVerification;
}

/** The servicing package inside a payload cab: metadata verified first, then update.mum parsed. */
function inspectPayloadCab(cabinet: Cabinet, options: InspectOptions): InnerPackage {
  if (options.identityOnly) return claimedPackage(cabinet);
  const metadataMembers = readMetadataMembers(cabinet);
  const metadata = verifyPackageMetadata(metadataMembers, cabinet.members, { trust: options.trust, at: options.at });
  const mum = metadataMembers.documents.get('update.mum');
  if (mum === undefined) throw inputError('PKG_NO_UPDATE_MUM', 'payload cab has no update.mum', { file: cabinet.path, member: 'update.mum' });
  let manifest: PackageManifest;
  try {
    manifest = parsePackageManifest(mum, 'update.mum');
  } catch (e) {
    throw e instanceof CabferryError ? e.withContext({ file: cabinet.path, member: 'update.mum' }) : e;
  }
  const packageDocuments = new Map([...metadataMembers.documents].filter(([name]) => name.endsWith('.mum') && name !== 'update.mum'));
  return { manifest, packageDocuments, metadata };
}

/** update.mum alone, read and parsed but not verified: what a quarantine record says the payload claims to be. */
function claimedPackage(cabinet: Cabinet): InnerPackage {
  const mums = cabinet.members.filter((m) => memberKey(m.name) === 'update.mum');
  if (mums.length === 0) throw inputError('PKG_NO_UPDATE_MUM', 'payload cab has no update.mum', { file: cabinet.path, member: 'update.mum' });
  if (mums.length > 1) throw inputError('PKG_DUPLICATE_MEMBER', 'the cab holds this metadata member more than once', { file: cabinet.path, member: 'update.mum' });
  const mum = mums[0]!;
  assertReadable(cabinet, [mum]);
  cabinet.budget?.assertCanDecode(declaredDecodeBytes([mum]), 'reading update.mum');
  const manifest = inMember(cabinet.path, mum, () => parsePackageManifest(cabinet.readMemberToBuffer(mum, maxDocumentBytes), 'update.mum'));
  const reason = 'not verified: only the identity was read (quarantine)';
  return { manifest, packageDocuments: new Map(), metadata: { verified: false, reason, problems: [], catalogs: [], membersVerified: 0, containerIndex: null } };
}

/**
 * The servicing stack version a servicing stack update installs. update.mum only names the
 * packages it installs; the components are listed in those packages' own .mum files, which are
 * parsed here (a rollup holds hundreds, and nothing else needs them parsed). A .mum that does not
 * parse becomes a note.
 */
function servicingStackVersionIn(manifest: PackageManifest, packageDocuments: Map<string, Buffer>, notes: string[]): string | null {
  const manifests = [manifest];
  for (const [name, bytes] of packageDocuments) {
    try {
      manifests.push(parsePackageManifest(bytes, name));
    } catch (e) {
      if (!(e instanceof CabferryError)) throw e;
      notes.push(`package manifest not read: ${name}: ${e.message}`);
    }
  }
  return servicingStackVersionOf(manifests);
}

/**
 * One pass over the outer cab's folders: each inner cabinet streams into its temp file
 * (`copies`), the small text members are kept in memory.
 */
function extractMsuParts(cabinet: Cabinet, copies: Map<CabMember, string>, small: CabMember[]): Map<CabMember, Buffer> {
  for (const m of small) assertSmall(cabinet, m);
  const texts = new Map<CabMember, Buffer>();
  const pieces = new Map<CabMember, Buffer[]>();
  let failure: CabferryError | null = null;
  const fds = new Map<CabMember, number>();
  try {
    for (const [m, target] of copies) fds.set(m, openTempFile(target));
    cabinet.forEachMemberData([...copies.keys(), ...small], {
      onData: (m, chunk) => {
        const fd = fds.get(m);
        if (fd !== undefined) writeTempChunk(fd, chunk, copies.get(m)!);
        else {
          const list = pieces.get(m) ?? [];
          list.push(Buffer.from(chunk)); // chunks are only valid during the call
          pieces.set(m, list);
        }
      },
      done: (m, error) => {
        if (error !== null) failure ??= error;
        else if (!copies.has(m)) texts.set(m, Buffer.concat(pieces.get(m) ?? [], m.size));
      },
    });
  } finally {
    for (const fd of fds.values()) fs.closeSync(fd);
  }
  if (failure !== null) throw failure;
  return texts;
}

function makeTempDir(parent: string): string {
  try {
    return fs.mkdtempSync(path.join(parent, 'cabferry-inspect-'));
  } catch (e) {
    throw internalError('TEMP_UNWRITABLE', `cannot create a temporary folder in ${parent}: ${describeIoError(e)}`, { cause: e });
  }
}

function openTempFile(file: string): number {
  try {
    return fs.openSync(file, 'wx', 0o600);
  } catch (e) {
    throw internalError('TEMP_UNWRITABLE', `cannot create ${file}: ${describeIoError(e)}`, { file, cause: e });
  }
}

function writeTempChunk(fd: number, chunk: Buffer, file: string): void {
  try {
    writeFully(fd, chunk);
  } catch (e) {
    throw internalError('TEMP_WRITE', `cannot write ${file}: ${describeIoError(e)}`, { file, cause: e });
  }
}

/** Parse errors of a member name the file and the member. */
function inMember<T>(file: string, member: CabMember, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw e instanceof CabferryError ? e.withContext({ file, member: member.name }) : e;
  }
}

/** Errors about the temp copy of an inner cab name the .msu and the member instead. */
function withFileLabel<T>(tempPath: string, label: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof CabferryError && (e.file === tempPath || e.file === undefined)) e.file = label;
    throw e;
  }
}

interface ReportParts extends OuterFile {
  format: 'msu' | 'cab';
  inner: InnerPackage;
  pkgProperties: PkgProperties | null;
  unattend: UnattendPackage[] | null;
  payloadCab: string | null;
  payloadCabVerdict: FileVerdict | null;
  /** each inner cabinet's verdict, in member order ([] for a bare cab; null: not verified, identity only) */
  innerCabinets: FileVerdict[] | null;
  members: InspectedMember[];
}

function buildReport(parts: ReportParts, options: InspectOptions): PayloadReport {
  const { manifest, metadata } = parts.inner;
  const { fileName } = parts;
  const notes: string[] = [];
  const props = parts.pkgProperties;

  const kbFact = firstSaid([['update.mum', manifest.kb], ['pkgProperties.txt', props?.kb ?? null]]);
  if (kbFact === null) throw inputError('PKG_NO_KB', 'update.mum names no KB (package@identifier) and there is no pkgProperties.txt', { file: parts.file, member: 'update.mum' });
  const kb = kbFact.value;
  crossCheck(notes, 'KB', kbFact, [['pkgProperties.txt', props?.kb ?? null], ['the file name', kbInFileName(fileName)]]);

  const architectureFact = firstSaid<Architecture>([
    ['update.mum', normalizeArchitecture(manifest.identity.processorArchitecture)],
    ['pkgProperties.txt', normalizeArchitecture(props?.processorArchitecture)],
    ['the file name', architectureFromFileName(fileName)],
  ]);
  if (architectureFact === null) throw inputError('PKG_NO_ARCHITECTURE', 'no processor architecture in update.mum, pkgProperties.txt or the file name', { file: parts.file });
  const architecture = architectureFact.value;
  crossCheck(notes, 'architecture', architectureFact, [['pkgProperties.txt', normalizeArchitecture(props?.processorArchitecture)], ['the file name', architectureFromFileName(fileName)]]);

  const ntVersionFact = firstSaid([
    ['update.mum', ntVersionFromPackageVersion(manifest.identity.version)],
    ['pkgProperties.txt', props?.ntVersion ?? null],
    ['the file name', ntVersionFromFileName(fileName)],
  ]);
  if (ntVersionFact === null) throw inputError('PKG_NO_NT_VERSION', 'cannot tell the Windows version: no package version, "Applies to", or Windows6.x file name', { file: parts.file });
  const ntVersion = ntVersionFact.value;
  crossCheck(notes, 'Windows version', ntVersionFact, [['pkgProperties.txt', props?.ntVersion ?? null], ['the file name', ntVersionFromFileName(fileName)]]);
  const identity = identityVerification(metadata, [['KB', kbFact], ['architecture', architectureFact], ['Windows version', ntVersionFact]]);
  // the file's verdict with its inner cabinets' (null: they were not verified, identity only)
  const deep = parts.innerCabinets === null ? null : deepVerdict(parts.verdict, parts.innerCabinets);

  for (const u of parts.unattend ?? []) {
    if (u.identity.name.toLowerCase() !== manifest.identity.name.toLowerCase() || (u.identity.version && u.identity.version !== manifest.identity.version)) {
      notes.push(`the unattend .xml installs ${u.identity.name} ${u.identity.version ?? ''}, but update.mum is ${manifest.identity.name} ${manifest.identity.version ?? ''}`.replace(/ +/g, ' '));
    }
  }

  for (const v of parts.innerCabinets ?? []) {
    if (v.verdict === 'valid') continue;
    const which = v === parts.payloadCabVerdict ? 'the payload cab' : 'the inner cabinet';
    notes.push(`${which} ${v.member}'s own signature is ${v.verdict}: ${v.reason}`);
  }

  const products = productsFor({
    ntVersion,
    architecture,
    applicability: props?.applicability ?? [],
    parentNames: manifest.parents.map((p) => p.identity.name),
    subPackageNames: manifest.updates.flatMap((u) => u.packages.map((p) => p.name)),
  });
  const knowledge = knownUpdate(options, ntVersion, kb);
  const title = knowledge?.title ?? genericDescriptionFree(manifest.description);
  const kind = classifyPayload({ manifest, knownRole: knowledge?.role ?? null, title, packageType: props?.packageType ?? null });

  const payload: Payload = {
    kb,
    ...(title ? { title } : {}),
    product: products[0],
    products,
    ntVersion,
    architecture,
    kind: kind.kind,
    kindBasis: kind.basis,
    releaseType: manifest.releaseType,
    restart: manifest.restart,
    applicabilityEvaluation: manifest.applicabilityEvaluation,
    parents: manifest.parents,
    identity: manifest.identity,
    installerAssembly: manifest.installerAssembly,
    subPackages: manifest.updates.flatMap((u) => u.packages),
    servicingStackVersion: kind.kind === 'servicing-stack' ? servicingStackVersionIn(manifest, parts.inner.packageDocuments, notes) : null,
    fileName,
    fileRevision: revisionInFileName(fileName),
    format: parts.format,
    ...(parts.payloadCab !== null ? { payloadCab: parts.payloadCab } : {}),
    size: parts.size,
    unpackedSize: parts.cabinet.members.reduce((sum, m) => sum + m.size, 0),
    sha256: parts.sha256,
    signatures: summarizeSignatures(parts.verdict),
    // known only of parts whose signatures hold under the caller's trust: an invalid or untrusted
    // signature has no valid algorithms to judge by, and would read as "none"
    ...(deep?.verdict === 'valid' && metadata.verified ? { sha2OnlyParts: sha2OnlyPartsOf(parts.verdict, parts.innerCabinets!, metadata.catalogs) } : {}),
    metadataVerified: identity.verified,
    metadataReason: identity.reason,
    ...(notes.length > 0 ? { notes } : {}),
  };
  return {
    file: parts.file,
    payload,
    verdict: parts.verdict,
    payloadCabVerdict: parts.payloadCabVerdict,
    deepVerdict: deep,
    metadata,
    manifest,
    executable: null,
    pkgProperties: props,
    unattend: parts.unattend,
    members: parts.members,
  };
}

/**
 * The signature summary the planner relies on: digest algorithms of the VALID signatures only
 * (a file with a broken SHA-256 nested signature next to a good SHA-1 one is not "dual").
 */
export function summarizeSignatures(verdict: FileVerdict): SignatureSummary {
  if (verdict.verdict === 'unsigned') return 'unsigned';
  const valid = verdict.signatures.filter((s) => s.valid && s.digestAlgorithm !== null);
  if (verdict.verdict !== 'valid' || valid.length === 0) return 'invalid';
  return summarizeDigests(valid.map((s) => s.digestAlgorithm as string));
}

/** The digest algorithms of valid signatures, summarized: the one rule of what counts as SHA-1 and as SHA-2 (MD5 is neither). */
function summarizeDigests(algorithms: readonly string[]): 'dual' | 'sha2-only' | 'sha1-only' | 'invalid' {
  const sha1 = algorithms.includes('sha1');
  const sha2 = algorithms.some((a) => a !== 'sha1' && a !== 'md5');
  if (sha1 && sha2) return 'dual';
  return sha2 ? 'sha2-only' : sha1 ? 'sha1-only' : 'invalid';
}

/** Where an identity fact of an .msu or .cab was read: update.mum (signed through its catalog), pkgProperties.txt (signed as a member of the .msu) or the file name (signed by nothing). */
type FactSource = 'update.mum' | 'pkgProperties.txt' | 'the file name';

interface SaidFact<T extends string> {
  value: T;
  source: FactSource;
}

/** The first source, strongest first, that says the fact. */
function firstSaid<T extends string>(sources: [FactSource, T | null | undefined][]): SaidFact<T> | null {
  for (const [source, value] of sources) if (value !== null && value !== undefined) return { value, source };
  return null;
}

/**
 * Whether what the payload is filed under is vouched for by something signed: the metadata
 * verified against its signed catalogs, and no identity fact taken from the file name, which
 * anyone can rename (a payload filed under the wrong Windows version or architecture would be
 * planned for hosts it does not fit, and reported as installed there).
 */
function identityVerification(metadata: InnerPackage['metadata'], facts: [string, SaidFact<string>][]): { verified: boolean; reason: string } {
  if (!metadata.verified) return { verified: false, reason: metadata.reason ?? 'not verified' };
  const named = facts.filter(([, f]) => f.source === 'the file name');
  if (named.length > 0) {
    const which = named.map(([what, f]) => `${what} ${f.value}`).join(' and ');
    return { verified: false, reason: `filed under ${which} by its file name only: neither update.mum nor pkgProperties.txt says so, and a file name is signed by nothing` };
  }
  return { verified: true, reason: `update.mum and ${metadata.membersVerified - 1} other .mum/.manifest members match ${metadata.catalogs.length} validly signed catalog(s)` };
}

/**
 * The parts of a payload a host can verify only with SHA-2 code signing support: the file itself,
 * each inner cabinet, each valid catalog whose signatures are all SHA-2. The planner puts SHA-2
 * support (and its restart) before a payload with any such part: a dual-signed .msu whose
 * catalogs are signed with SHA-256 alone passes wusa's check and then fails in CBS on such a host.
 */
export function sha2OnlyPartsOf(verdict: FileVerdict, innerCabinets: readonly FileVerdict[], catalogs: readonly CatalogCheck[]): Sha2OnlyPart[] {
  const parts: Sha2OnlyPart[] = [];
  if (summarizeSignatures(verdict) === 'sha2-only') parts.push({ part: 'file', member: null });
  for (const v of innerCabinets) if (summarizeSignatures(v) === 'sha2-only') parts.push({ part: 'inner-cabinet', member: v.member ?? v.file });
  for (const c of catalogs) if (c.valid && summarizeDigests(c.digestAlgorithms) === 'sha2-only') parts.push({ part: 'catalog', member: c.member });
  return parts;
}

function crossCheck(notes: string[], what: string, chosen: SaidFact<string>, others: [FactSource, string | null][]): void {
  for (const [source, value] of others) {
    if (source === chosen.source) continue;
    if (value !== null && value.toLowerCase() !== chosen.value.toLowerCase()) notes.push(`${what} is ${chosen.value} per ${chosen.source === 'update.mum' ? 'the signed update.mum' : chosen.source}, but ${source} says ${value}`);
  }
}

/** "-KB4474419-v4-" → 4: Microsoft's re-release suffix. */
function revisionInFileName(fileName: string): number | null {
  const m = /-KB\d{5,8}-v(\d{1,3})-/i.exec(fileName);
  return m ? Number(m[1]) : null;
}

function kbInFileName(fileName: string): string | null {
  const m = /-KB(\d{5,8})(?:-v\d+)?-/i.exec(fileName);
  return m ? `KB${m[1]}` : null;
}

/** "Fix for KB2999226" says nothing a title should; anything else is kept. */
function genericDescriptionFree(description: string | null): string | null {
  if (!description || /^fix for kb\d+$/i.test(description.trim())) return null;
  return description;
}

/** The knowledge base's facts for a KB, when the caller passed one that knows it. */
function knownUpdate(options: InspectOptions, ntVersion: string, kb: string): { role: Payload['kind']; title: string } | null {
  const base = options.knowledgeBase;
  const fact = base ? familyForNtVersion(base, ntVersion)?.updates.get(kb) : undefined;
  return fact ? { role: fact.role, title: fact.title } : null;
}
