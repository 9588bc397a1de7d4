import fs = require('node:fs');
import os = require('node:os');
import path = require('node:path');
import type { FileVerdict } from '../authenticode/cab';
import { verifyPreparedSignature } from '../authenticode/verify-file';
import { RandomAccessFile } from '../io/random-access-file';
import { memberKey } from '../cab/member-name';
import { isSha2Signature, type SignatureReport } from '../authenticode/signature';
import type { TrustAnchor } from '../authenticode/trust';
import type { KnowledgeBase } from '../knowledge/knowledge-base';
import type { Catalog } from '../catalog/catalog';
import type { StoredBlobState } from '../catalog/blob-store';
import type { CatalogEntry, ImportEvent, ImportOutcome, MemberRecord, NewCatalogEntry, SignatureRecord } from '../catalog/types';
import { type CabferryError, describeIoError, internalError, isCabferryError, usageError } from '../errors';
import type { PayloadBudgetLimits } from '../io/payload-budget';
import { inspectPayloadReport, type InspectedMember, type PayloadReport } from '../package/inspect';
import type { Payload } from '../package/types';
import { version } from '../version';
import { ingestFile, ingestStream, notAPayload, type IngestedPayload } from './ingest';
import { checkSourcePaths, DEFAULT_SOURCE_LIMITS, surveySources, walkSources, type SourceItem, type SourceLimits } from './sources';
import { isoTime } from '../iso-time';

/**
 * `cabferry import`: sources → one pass into the store's temp area (file SHA-256 + Authenticode
 * digests) → signature verdict → signing policy (SHA-2 unless --allow-sha1-only) → verified
 * metadata → one transaction that publishes the blob and its rows. Each payload is its own
 * atomic unit: an import killed half way keeps what it finished and nothing of the rest.
 */

export interface ImportOptions {
  trust: TrustAnchor[];
  /** the catalog's anchors for signatures only: never accepted, named when a payload's signer chains to one (TrustOptions.signaturesOnly) */
  signaturesOnly?: TrustAnchor[];
  /** the knowledge base that names roles and titles of known KBs (loaded once by the caller; null: metadata only) */
  knowledgeBase: KnowledgeBase | null;
  /** verification time for signatures without a verified timestamp (default: now) */
  at?: Date;
  /** accept payloads whose only valid signatures are SHA-1 (recorded on the row) */
  allowSha1Only?: boolean;
  /** keep rejected payloads as quarantined rows (never offered to the planner) */
  quarantine?: boolean;
  limits?: SourceLimits;
  /** what one payload may make us decode and write to temp (default: defaultPayloadBudgetLimits) */
  budgetLimits?: PayloadBudgetLimits;
  onProgress?: (event: ProgressEvent) => void;
}

export type ProgressEvent =
  /** before anything is read: how many results (one per file or bundle entry) the run will report */
  | { type: 'total'; items: number }
  | { type: 'start'; label: string; size: number | null }
  | { type: 'bytes'; bytes: number }
  | { type: 'result'; result: ImportResult };

export type ResultOutcome = ImportOutcome | 'skipped';

export interface ImportResult {
  label: string;
  source: string;
  entry: string | null;
  outcome: ResultOutcome;
  sha256: string | null;
  size: number | null;
  kb: string | null;
  /** set for rejected, quarantined and skipped files: the one-line why; for a restored one, what was wrong with the stored blob */
  code: string | null;
  reason: string | null;
  /** imported although only SHA-1 signatures are valid (--allow-sha1-only) */
  sha1OnlyAllowed: boolean;
}

export interface ImportSummary {
  catalog: string;
  imported: number;
  duplicates: number;
  restored: number;
  quarantined: number;
  rejected: number;
  skipped: number;
  bytes: number;
  results: ImportResult[];
}

/** What the checks decided about one file. */
type Judgement =
  | { accepted: true; payload: Payload; verdict: FileVerdict; sha1OnlyAllowed: boolean; members: MemberRecord[] }
  | { accepted: false; code: string; reason: string; payload: Payload | null; verdict: FileVerdict | null; members?: MemberRecord[] };

export async function importPayloads(catalog: Catalog, paths: string[], options: ImportOptions): Promise<ImportSummary> {
  checkSourcePaths(paths);
  const summary: ImportSummary = { catalog: catalog.dir, imported: 0, duplicates: 0, restored: 0, quarantined: 0, rejected: 0, skipped: 0, bytes: 0, results: [] };
  const actor = importActor();
  const survey = await surveySources(paths, options.limits ?? DEFAULT_SOURCE_LIMITS);
  // a transfer bundle among the sources is refused before anything is imported: its payloads
  // without its check would be an import that did not happen as the operator believes, and half
  // of a folder imported is not what was asked either (a bundle met by the walk itself, put
  // there after this survey, is one rejected item: still never walked)
  if (survey.nestedBundle !== null) {
    throw usageError(survey.nestedBundle.code, `${survey.nestedBundle.reason}; nothing was imported`, { file: survey.nestedBundle.label });
  }
  options.onProgress?.({ type: 'total', items: survey.items });
  for await (const item of walkSources(paths, options.limits ?? DEFAULT_SOURCE_LIMITS)) {
    const result = await importItem(catalog, item, options, actor);
    summary.results.push(result);
    if (result.size !== null && result.outcome !== 'skipped') summary.bytes += result.size;
    switch (result.outcome) {
      case 'imported': summary.imported++; break;
      case 'duplicate': summary.duplicates++; break;
      case 'restored': summary.restored++; break;
      case 'quarantined': summary.quarantined++; break;
      case 'rejected': summary.rejected++; break;
      case 'skipped': summary.skipped++; break;
    }
    options.onProgress?.({ type: 'result', result });
  }
  return summary;
}

async function importItem(catalog: Catalog, item: SourceItem, options: ImportOptions, actor: ImportActor): Promise<ImportResult> {
  const base = { label: item.label, source: item.source, entry: item.entry, sha256: null, size: null, kb: null, sha1OnlyAllowed: false };
  const event = (over: Partial<ImportEvent> & Pick<ImportEvent, 'outcome'>): ImportEvent => ({
    at: isoTime(new Date()), who: actor.who, host: actor.host, pid: process.pid, source: item.source, entry: item.entry,
    sha256: null, size: null, verdict: null, code: null, reason: null, cabferryVersion: version, ...over,
  });
  if (item.kind === 'skipped') return { ...base, outcome: 'skipped', code: 'NOT_A_PAYLOAD', reason: item.reason };
  if (item.kind === 'rejected') {
    catalog.recordEvent(event({ outcome: 'rejected', code: item.code, reason: item.reason }));
    return { ...base, outcome: 'rejected', code: item.code, reason: item.reason };
  }

  const expectedSize = item.kind === 'zip-entry' ? item.size : fileSize(item.path);
  if (expectedSize !== null) catalog.blobs.assertRoomFor(expectedSize);
  options.onProgress?.({ type: 'start', label: item.label, size: expectedSize });
  const onBytes = (bytes: number): void => options.onProgress?.({ type: 'bytes', bytes });
  let ingested: IngestedPayload;
  try {
    ingested = item.kind === 'file'
      ? ingestFile(item.path, catalog.blobs, { onBytes, keepNonCabinets: options.quarantine })
      : await ingestStream(await item.open(), item.label, catalog.blobs, onBytes);
  } catch (e) {
    if (!isCabferryError(e) || e.kind === 'internal') throw e;
    const reason = describeError(e);
    catalog.recordEvent(event({ outcome: 'rejected', code: e.code, reason }));
    return { ...base, outcome: 'rejected', code: e.code, reason };
  }

  try {
    return commitDecision(catalog, decideIngested(catalog, ingested, item, options, actor));
  } finally {
    ingested.temp.discard();
  }
}

/** Who is importing, as every import event records it. */
export interface ImportActor {
  who: string;
  host: string;
}

export function importActor(): ImportActor {
  return { who: currentUser(), host: os.hostname() };
}

/** Where a payload came from, as results and events name it. */
export interface PayloadOrigin {
  label: string;
  source: string;
  entry: string | null;
  /** the name the metadata reader sees (KB, architecture and version partly come from it) */
  fileName: string;
}

/**
 * What the checks decided for one ingested payload, not yet written: the result as it will be
 * reported, and what to store (an entry with its blob) or only to log. Split from the commit so
 * a transfer bundle can decide every payload first and commit them all in one transaction.
 */
export interface ImportDecision {
  ingested: IngestedPayload;
  result: ImportResult;
  /** the catalog's existing entry when these bytes were already imported */
  known: CatalogEntry | null;
  /** the entry to store (imported, quarantined, or the known one seen again), or null to only log a rejection */
  store: NewCatalogEntry | null;
  /** for bytes already imported: whether the stored blob still holds them, judged here, outside the write lock */
  storedBlob?: StoredBlobState;
  event: ImportEvent;
}

export function decideIngested(catalog: Catalog, ingested: IngestedPayload, origin: PayloadOrigin, options: ImportOptions, actor: ImportActor): ImportDecision {
  const { sha256, size } = ingested;
  const event = (over: Partial<ImportEvent> & Pick<ImportEvent, 'outcome'>): ImportEvent => ({
    at: isoTime(new Date()), who: actor.who, host: actor.host, pid: process.pid, source: origin.source, entry: origin.entry,
    sha256, size, verdict: null, code: null, reason: null, cabferryVersion: version, ...over,
  });
  const stored = { label: origin.label, source: origin.source, entry: origin.entry, sha256, size };
  const known = catalog.entry(sha256);
  if (known?.status === 'imported') {
    // bytes the catalog already accepted: log a duplicate (or restore a lost or altered blob), no re-verification.
    // Proving the stored blob intact reads it whole: a re-import already reads and copies the
    // whole file before its SHA-256 names it a duplicate, so this adds one read of the same size,
    // on an operator's re-run, not on any hot path; size alone kept altered blobs as "duplicates".
    return {
      ingested, known, store: knownEntry(known, ingested), storedBlob: catalog.blobs.storedState(sha256, size), event: event({ outcome: 'duplicate', verdict: known.verdict }),
      result: { ...stored, outcome: 'duplicate', kb: known.payload?.kb ?? null, code: null, reason: null, sha1OnlyAllowed: known.sha1OnlyAllowed },
    };
  }

  const judgement = judge(ingested, origin.fileName, origin.label, options);
  if (judgement.accepted) {
    return {
      ingested, known, store: newEntry(ingested, origin.fileName, judgement), event: event({ outcome: 'imported', verdict: judgement.verdict.verdict }),
      result: { ...stored, outcome: 'imported', kb: judgement.payload.kb, code: null, reason: null, sha1OnlyAllowed: judgement.sha1OnlyAllowed },
    };
  }

  const refusal = { verdict: judgement.verdict?.verdict ?? null, code: judgement.code, reason: judgement.reason };
  if (options.quarantine) {
    const kept = judgement.payload === null ? { ...judgement, ...claimedMetadata(ingested, origin.fileName, origin.label, judgement.verdict, options) } : judgement;
    return {
      // quarantined again: storeEntry keeps the row and judges its blob as for a duplicate, judged here outside the lock
      ingested, known, store: newEntry(ingested, origin.fileName, kept), ...(known !== null && { storedBlob: catalog.blobs.storedState(sha256, size) }),
      event: event({ outcome: 'quarantined', ...refusal }),
      result: { ...stored, outcome: 'quarantined', kb: kept.payload?.kb ?? null, code: refusal.code, reason: refusal.reason, sha1OnlyAllowed: false },
    };
  }
  return {
    ingested, known, store: null, event: event({ outcome: 'rejected', ...refusal }),
    result: { ...stored, outcome: 'rejected', kb: judgement.payload?.kb ?? null, code: refusal.code, reason: refusal.reason, sha1OnlyAllowed: false },
  };
}

/**
 * Write one decision: the blob and its rows (storeEntry says what actually happened: another
 * importer may have stored the same bytes meanwhile) or, for a rejection, the log line only.
 */
export function commitDecision(catalog: Catalog, decision: ImportDecision): ImportResult {
  if (decision.store === null) {
    catalog.recordEvent(decision.event);
    return decision.result;
  }
  const { outcome, note } = catalog.storeEntry(decision.ingested.temp, decision.store, decision.event, decision.storedBlob);
  return note === null ? { ...decision.result, outcome } : { ...decision.result, outcome, reason: note };
}

/**
 * The acceptance chain, each step able to refuse with one code: a readable cabinet or PE image → a valid
 * Authenticode verdict → a valid SHA-2 signature (unless SHA-1 is allowed) → metadata that
 * parses → metadata verified against the signed catalog.
 */
function judge(ingested: IngestedPayload, fileName: string, label: string, options: ImportOptions): Judgement {
  const { signature } = ingested;
  if ('unreadable' in signature) {
    const e = notAPayload(signature.unreadable);
    return { accepted: false, code: e.code, reason: describeError(e), payload: null, verdict: null };
  }
  const verdict = verifyStoredCopy(ingested, signature, label, options);
  if (verdict.verdict !== 'valid') return refusedBySignature(verdict);
  const sha1Only = !verdict.signatures.some(isSha2Signature);
  if (sha1Only && !options.allowSha1Only) {
    return { accepted: false, code: 'SIG_SHA1_ONLY', reason: 'only SHA-1 signatures are valid; pass --allow-sha1-only to import it anyway', payload: null, verdict };
  }
  let report: PayloadReport;
  try {
    report = inspectStoredCopy(ingested, fileName, label, verdict, options);
  } catch (e) {
    if (!isCabferryError(e) || e.kind === 'internal') throw e;
    return { accepted: false, code: e.code, reason: `metadata unreadable: ${describeError(e)}`, payload: null, verdict };
  }
  const { payload } = report;
  const members = membersOfInterest(report.members, fileName, payload.payloadCab ?? null);
  // the verdict of record is the deep one: an .msu is refused when an inner cabinet (payload cab,
  // WSUSSCAN.cab) fails its own signature, whatever the outer signature says
  const deep = report.deepVerdict;
  if (deep === null) throw internalError('IMPORT_NO_DEEP_VERDICT', 'inspect returned no verdict on the inner cabinets', { file: label });
  if (deep.verdict !== 'valid') return { ...refusedBySignature(deep), payload, members };
  if (!payload.metadataVerified) {
    return { accepted: false, code: 'METADATA_NOT_VERIFIED', reason: `metadata not verified: ${payload.metadataReason ?? 'no reason given'}`, payload, verdict: deep, members };
  }
  return { accepted: true, payload, verdict: deep, sha1OnlyAllowed: sha1Only, members };
}

/** A refusal for a verdict that is not valid, with the deciding failure's code. */
function refusedBySignature(verdict: FileVerdict): Extract<Judgement, { accepted: false }> {
  const code = verdict.code ?? (verdict.verdict === 'unsigned' ? 'SIG_UNSIGNED' : `SIG_${verdict.verdict.toUpperCase()}`);
  return { accepted: false, code, reason: `signature ${verdict.verdict}: ${verdict.reason}`, payload: null, verdict };
}

/** The verdict on the stored copy; a PE signature's page hashes are read from that copy too. */
function verifyStoredCopy(ingested: IngestedPayload, signature: Extract<IngestedPayload['signature'], { prepared: unknown }>, label: string, options: ImportOptions): FileVerdict {
  const stored = RandomAccessFile.open(ingested.temp.path);
  try {
    return verifyPreparedSignature(label, stored, signature.prepared, signature.digests, { trust: options.trust, signaturesOnly: options.signaturesOnly, at: options.at });
  } finally {
    stored.close();
  }
}

/**
 * What a file that failed its signature check claims to be (KB, architecture …), read for the
 * quarantine record only, so `catalog list` can say what was refused. Never trusted: the row
 * stays quarantined whatever this finds.
 */
function claimedMetadata(ingested: IngestedPayload, fileName: string, label: string, verdict: FileVerdict | null, options: ImportOptions): { payload: Payload | null; members?: MemberRecord[] } {
  if ('unreadable' in ingested.signature || verdict === null) return { payload: null };
  try {
    // identity only: a payload refused before its metadata was trusted is not unpacked further than its claims
    const report = inspectStoredCopy(ingested, fileName, label, verdict, options, { identityOnly: true });
    return { payload: report.payload, members: membersOfInterest(report.members, fileName, report.payload.payloadCab ?? null) };
  } catch (e) {
    if (!isCabferryError(e) || e.kind === 'internal') throw e;
    return { payload: null };
  }
}

/**
 * Read the metadata of the stored copy (the temp file) under the name the operator gave it:
 * the metadata reader takes KB, architecture and Windows version partly from the file name
 * (Windows6.0-KB4493730-x64.msu). An .msu's payload cab is unpacked into a folder of the
 * store's tmp/ that carries our pid, so a crash leaves something `check --repair` removes and
 * a concurrent repair leaves alone.
 */
function inspectStoredCopy(ingested: IngestedPayload, fileName: string, label: string, verdict: FileVerdict, options: ImportOptions, how: { identityOnly?: boolean } = {}): PayloadReport {
  const tempPath = ingested.temp.path;
  let dir: string;
  try {
    dir = fs.mkdtempSync(path.join(path.dirname(tempPath), `${process.pid}-inspect-`));
  } catch (e) {
    throw internalError('TEMP_UNWRITABLE', `cannot create a temporary folder in ${path.dirname(tempPath)}: ${describeIoError(e)}`, { cause: e });
  }
  try {
    return inspectPayloadReport(tempPath, { trust: options.trust, at: options.at, knowledgeBase: options.knowledgeBase, fileName, tempDir: dir, budgetLimits: options.budgetLimits, identityOnly: how.identityOnly }, { verdict, sha256: ingested.sha256 });
  } catch (e) {
    if (isCabferryError(e) && (e.file === undefined || e.file === tempPath || e.file.startsWith(dir))) e.file = label;
    throw e;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function newEntry(ingested: IngestedPayload, fileName: string, j: Judgement): NewCatalogEntry {
  return {
    sha256: ingested.sha256,
    size: ingested.size,
    status: j.accepted ? 'imported' : 'quarantined',
    fileName,
    rejectCode: j.accepted ? undefined : j.code,
    rejectReason: j.accepted ? undefined : j.reason,
    sha1OnlyAllowed: j.accepted && j.sha1OnlyAllowed,
    payload: j.payload,
    verdict: j.verdict?.verdict ?? null,
    verdictDocument: j.verdict,
    signatures: (j.verdict?.signatures ?? []).map(signatureRecord),
    members: j.members ?? [],
  };
}

/** An already-imported file seen again: storeEntry only needs its identity to log a duplicate or restore the blob. */
function knownEntry(known: NonNullable<ReturnType<Catalog['entry']>>, ingested: IngestedPayload): NewCatalogEntry {
  return {
    sha256: ingested.sha256, size: ingested.size, status: known.status, fileName: known.fileName, sha1OnlyAllowed: known.sha1OnlyAllowed,
    payload: known.payload, verdict: known.verdict, verdictDocument: null, signatures: known.signatures, members: known.members,
  };
}

function signatureRecord(s: SignatureReport): SignatureRecord {
  return {
    position: s.index,
    nested: s.nested,
    digestAlgorithm: s.digestAlgorithm,
    signer: s.signer,
    issuer: s.issuer,
    timestamp: s.timestamp === null ? null : { kind: s.timestamp.kind, time: s.timestamp.time, authority: s.timestamp.authority },
    valid: s.valid,
    code: s.code,
    reason: s.reason,
  };
}

/** The members that say what a payload is (not the hundreds of component files). */
function membersOfInterest(members: InspectedMember[], fileName: string, payloadCab: string | null): MemberRecord[] {
  const out: MemberRecord[] = [];
  for (const m of members) {
    const outer = m.container === fileName;
    const base = memberKey(m.name).split('/').pop()!;
    let role: string | null = null;
    if (outer && payloadCab !== null && m.name === payloadCab) role = 'payload-cab';
    else if (base === 'wsusscan.cab') role = 'wsusscan';
    else if (base.endsWith('pkgproperties.txt')) role = 'pkg-properties';
    else if (outer && payloadCab !== null && base.endsWith('.xml')) role = 'unattend';
    else if (base === 'update.mum') role = 'update.mum';
    else if (base.endsWith('.mum')) role = 'package-manifest';
    else if (base.endsWith('.cat')) role = 'catalog';
    else if (base === '_manifest_.cix.xml') role = 'container-index';
    if (role !== null) out.push({ name: outer ? m.name : `${m.container}/${m.name}`, role, size: m.size });
  }
  return out;
}

/** An error as one line without the file name (the result line names the file already). */
function describeError(e: CabferryError): string {
  const where: string[] = [];
  if (e.member !== undefined) where.push(`member ${JSON.stringify(e.member)}`);
  if (e.offset !== undefined) where.push(`at offset ${e.offset} (0x${e.offset.toString(16)})`);
  return [...where, e.message].join(': ');
}

function fileSize(file: string): number | null {
  try {
    return fs.statSync(file).size;
  } catch {
    return null;
  }
}

function currentUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return process.env.USER ?? process.env.LOGNAME ?? 'unknown';
  }
}
