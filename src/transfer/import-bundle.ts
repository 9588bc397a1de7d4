import path = require('node:path');
import { canonicalJson } from '../canonical-json';
import type { Catalog } from '../catalog/catalog';
import type { SignatureTrust } from '../catalog/trust';
import type { CatalogEntry, MemberRecord, SignatureRecord } from '../catalog/types';
import { isCabferryError, usageError } from '../errors';
import { version } from '../version';
import {
  commitDecision,
  decideIngested,
  importActor,
  importPayloads,
  type ImportDecision,
  type ImportOptions,
  type ImportResult,
  type ImportSummary,
  type PayloadOrigin,
} from '../importer/import';
import { ingestFile, ingestStream, type IngestedPayload } from '../importer/ingest';
import type { ManifestSignatureReport } from '../media/manifest';
import {
  BUNDLE,
  MAX_RECORD_BYTES,
  parseTransferManifest,
  parseTransferRecord,
  sha256Hex,
  type BundlePayload,
  type TransferManifest,
  type TransferRecord,
} from './bundle-format';
import { describeEntryProblem, isTransferBundle, openBundle, readSignedManifest, type BundleSource } from './bundle-source';
import { isoTime } from '../iso-time';

/**
 * `cabferry import BUNDLE` for a transfer bundle, in three steps, nothing written to the
 * catalog before the last:
 *
 *   check     the manifest's signature against the anchors trusted for signatures; the files
 *             present against the files listed; what the bundles it follows carried against
 *             what this catalog has met; every record and payload against its hash — the
 *             payloads are hashed as they are spooled into the store's temp area, so what is
 *             checked is exactly what will be kept. Any difference refuses the bundle whole.
 *   decide    every payload goes through the ordinary import's checks (signature, signing
 *             policy, verified metadata) as if it came from anywhere: the low side's verdict is
 *             never trusted. The low side's record is compared with the high side's own and
 *             differences are reported; the record stored is always the high side's.
 *   commit    one transaction for the whole bundle: a kill leaves the catalog as it was (at
 *             most temp files and orphan blobs, which `catalog check --repair` removes), and
 *             importing the bundle again completes it. Payloads already imported are duplicates.
 */

/**
 * `trust` (ImportOptions) verifies the bundle's payloads, as for any import; the manifest's
 * signature is checked against `signatureTrust` alone. The two never stand in for each other: an
 * anchor trusted for payloads does not make a bundle believed, and the root of the bundle's signer
 * does not make what it signed an update.
 */
export interface BundleImportOptions extends ImportOptions {
  /** what the manifest's signature is checked against: the catalog's anchors trusted for signatures */
  signatureTrust: SignatureTrust;
  /** when the bundle signature is checked (default: now) */
  now?: Date;
}

export interface AlteredBundleFile {
  path: string;
  reason: string;
}

export interface BundleCheckReport {
  path: string;
  kind: 'zip' | 'folder';
  ok: boolean;
  signature: ManifestSignatureReport | { status: 'absent'; reason: string };
  /** what the manifest says, once its signature verified */
  manifest: (Pick<TransferManifest, 'cabferryVersion' | 'createdAt' | 'sourceCatalog' | 'since' | 'follows'> & { payloads: number; sha256: string }) | null;
  missing: string[];
  altered: AlteredBundleFile[];
  unexpected: string[];
  /** entries no bundle can hold (links, unsafe names, duplicates, encrypted entries) */
  problems: string[];
  /**
   * Payloads the bundles this one follows carried (its manifest's carriedBefore) that this catalog
   * has never met: it holds no row for them and its audit log names them nowhere. An incremental
   * bundle carries only what those did not; imported without them, the catalog would lack what
   * they carried and still look as up to date as the low side.
   */
  earlierMissing: string[];
}

/** Why a bundle was refused whole, most fundamental first: its signature, its files, then the bundles it follows. */
export type BundleRefusalCode = 'BUNDLE_UNSIGNED' | 'BUNDLE_SIGNATURE_INVALID' | 'BUNDLE_ALTERED' | 'BUNDLE_EARLIER_MISSING';

/** Where the low side's record and the high side's own verification disagree. */
export interface RecordMismatch {
  sha256: string;
  label: string;
  /** the fields that differ: status, fileName, sha1OnlyAllowed, verdict, payload, signatures, members */
  fields: string[];
}

export interface BundleImportSummary extends ImportSummary {
  bundle: BundleCheckReport;
  /** true when the bundle failed its check: nothing was imported */
  refused: boolean;
  /** when refused, the one code and line that say why (the audit log keeps the same) */
  refusal: { code: BundleRefusalCode; reason: string } | null;
  mismatches: RecordMismatch[];
}

export type SourcesImportSummary = ({ kind: 'payloads' } & ImportSummary) | ({ kind: 'bundle' } & BundleImportSummary);

/**
 * What `cabferry import PATH…` does: a transfer bundle is imported as one (and alone: its
 * all-or-nothing check would mean nothing mixed with loose files), anything else as payloads.
 */
export async function importSources(catalog: Catalog, paths: string[], options: BundleImportOptions): Promise<SourcesImportSummary> {
  const bundles: string[] = [];
  for (const p of paths) if (await isTransferBundle(p)) bundles.push(p);
  if (bundles.length === 0) return { kind: 'payloads', ...(await importPayloads(catalog, paths, options)) };
  if (paths.length > 1) {
    throw usageError('BUNDLE_NOT_ALONE', `${bundles[0]} is a transfer bundle: import it on its own (one bundle per command, no other paths)`);
  }
  return { kind: 'bundle', ...(await importTransferBundle(catalog, bundles[0], options)) };
}

interface Spooled {
  payload: BundlePayload;
  record: TransferRecord;
  origin: PayloadOrigin;
  ingested: IngestedPayload;
}

export async function importTransferBundle(catalog: Catalog, bundlePath: string, options: BundleImportOptions): Promise<BundleImportSummary> {
  const summary: BundleImportSummary = {
    catalog: catalog.dir, imported: 0, duplicates: 0, restored: 0, quarantined: 0, rejected: 0, skipped: 0, bytes: 0, results: [],
    bundle: emptyReport(bundlePath, 'folder'), refused: false, refusal: null, mismatches: [],
  };
  const bundle = await openBundle(bundlePath).catch((e: unknown) => refuseUnreadable(catalog, bundlePath, e));
  const spooled: Spooled[] = [];
  try {
    summary.bundle = await checkBundle(catalog, bundle, options, spooled).catch((e: unknown) => refuseUnreadable(catalog, bundlePath, e));
    if (!summary.bundle.ok) {
      summary.refused = true;
      summary.refusal = { code: refusalCode(summary.bundle), reason: refusalReason(summary.bundle) };
      recordRefusal(catalog, bundlePath, summary.refusal);
      return summary;
    }
    const actor = importActor();
    const decisions = spooled.map((s) => ({ spooled: s, decision: decideIngested(catalog, s.ingested, s.origin, options, actor) }));
    summary.mismatches = decisions.flatMap(({ spooled: s, decision }) => {
      const fields = differingFields(s.record, decision);
      return fields.length === 0 ? [] : [{ sha256: s.payload.sha256, label: s.origin.label, fields }];
    });
    const results = catalog.withWriteLock(() => decisions.map(({ decision }) => commitDecision(catalog, decision)));
    for (const result of results) {
      tally(summary, result);
      options.onProgress?.({ type: 'result', result });
    }
    return summary;
  } finally {
    for (const s of spooled) s.ingested.temp.discard();
    bundle.close();
  }
}

function emptyReport(p: string, kind: 'zip' | 'folder'): BundleCheckReport {
  return { path: p, kind, ok: false, signature: { status: 'absent', reason: 'not checked' }, manifest: null, missing: [], altered: [], unexpected: [], problems: [], earlierMissing: [] };
}

/**
 * The all-or-nothing check. Cheap refusals come first (signature, file list, sizes, the bundles it follows); only a
 * bundle that passes them is read in full. Payloads that pass are left spooled in `spooled`.
 */
async function checkBundle(catalog: Catalog, bundle: BundleSource, options: BundleImportOptions, spooled: Spooled[]): Promise<BundleCheckReport> {
  const report = emptyReport(bundle.path, bundle.kind);
  report.problems = bundle.problems.map(describeEntryProblem);
  const { bytes: manifestBytes, signature } = await readSignedManifest(bundle, options.signatureTrust, options.now);
  if (signature === null) {
    report.signature = { status: 'absent', reason: `${BUNDLE.signature} is missing: an unsigned bundle is never imported` };
    return report;
  }
  report.signature = signature;
  if (signature.status !== 'valid') return report;

  const manifest = parseTransferManifest(manifestBytes, labelOf(bundle, BUNDLE.manifest));
  report.manifest = {
    cabferryVersion: manifest.cabferryVersion, createdAt: manifest.createdAt, sourceCatalog: manifest.sourceCatalog, since: manifest.since,
    follows: manifest.follows, payloads: manifest.payloads.length, sha256: sha256Hex(manifestBytes),
  };
  options.onProgress?.({ type: 'total', items: manifest.payloads.length });
  const listed = new Map(manifest.files.map((f) => [f.path, f]));
  for (const f of manifest.files) {
    const present = bundle.files.get(f.path);
    if (present === undefined) report.missing.push(f.path);
    else if (present.size !== f.size) report.altered.push({ path: f.path, reason: `size ${present.size}, expected ${f.size}` });
  }
  report.unexpected = [...bundle.files.keys()].filter((n) => n !== BUNDLE.manifest && n !== BUNDLE.signature && !listed.has(n)).sort();
  report.earlierMissing = catalog.neverMet(manifest.carriedBefore);
  if (!isWhole(report)) return report;

  const records = new Map<string, TransferRecord>();
  for (const p of manifest.payloads) {
    const bytes = await readCovered(bundle, p.record, MAX_RECORD_BYTES);
    if ('reason' in bytes) report.altered.push({ path: p.record, reason: bytes.reason });
    else if (sha256Hex(bytes) !== listed.get(p.record)!.sha256) report.altered.push({ path: p.record, reason: 'content differs from the signed manifest' });
    else records.set(p.sha256, parseTransferRecord(bytes, labelOf(bundle, p.record), p));
  }
  if (!isWhole(report)) return report;

  catalog.blobs.assertRoomFor(manifest.payloads.reduce((n, p) => n + p.size, 0));
  for (const p of manifest.payloads) {
    const origin: PayloadOrigin = { label: labelOf(bundle, p.path), source: bundle.path, entry: p.path, fileName: p.fileName };
    const ingested = await spool(catalog, bundle, p, origin.label, options);
    if ('reason' in ingested) {
      report.altered.push({ path: p.path, reason: ingested.reason });
      continue;
    }
    spooled.push({ payload: p, record: records.get(p.sha256)!, origin, ingested });
    if (ingested.sha256 !== p.sha256 || ingested.size !== p.size) report.altered.push({ path: p.path, reason: 'content differs from the signed manifest' });
  }
  report.ok = isWhole(report);
  return report;
}

function isWhole(r: BundleCheckReport): boolean {
  return r.missing.length === 0 && r.altered.length === 0 && r.unexpected.length === 0 && r.problems.length === 0 && r.earlierMissing.length === 0;
}

/**
 * A file the signed manifest covers, read whole. One that cannot be read (a changed byte in a
 * deflated record breaks its stream) differs from what was signed as surely as one that reads
 * otherwise: the bundle is refused for it (exit 1, one line in the audit log), as for a payload.
 */
async function readCovered(bundle: BundleSource, name: string, maxBytes: number): Promise<Buffer | { reason: string }> {
  try {
    return await bundle.read(name, maxBytes);
  } catch (e) {
    // a record over the size limit is what was signed, only more than this side reads: exit 3, not altered
    if (!isCabferryError(e) || e.kind === 'internal' || e.code === 'BUNDLE_FILE_TOO_LARGE') throw e;
    return { reason: `unreadable: ${e.message} [${e.code}]` };
  }
}

/** One payload into the store's temp area, hashed on the way; an unreadable entry is why the bundle is refused. */
async function spool(catalog: Catalog, bundle: BundleSource, p: BundlePayload, label: string, options: BundleImportOptions): Promise<IngestedPayload | { reason: string }> {
  options.onProgress?.({ type: 'start', label, size: p.size });
  const onBytes = (bytes: number): void => options.onProgress?.({ type: 'bytes', bytes });
  const disk = bundle.diskPath(p.path);
  try {
    // keepNonCabinets: the bytes are checked against the manifest first; whether they are a
    // payload at all is the ordinary import's judgement afterwards
    return disk !== null
      ? ingestFile(disk, catalog.blobs, { onBytes, keepNonCabinets: true })
      : await ingestStream(await bundle.openStream(p.path), label, catalog.blobs, onBytes);
  } catch (e) {
    if (!isCabferryError(e) || e.kind === 'internal') throw e;
    return { reason: `unreadable: ${e.message} [${e.code}]` };
  }
}

function labelOf(bundle: BundleSource, name: string): string {
  return bundle.kind === 'zip' ? `${bundle.path}!${name}` : path.join(bundle.path, ...name.split('/'));
}

/** The audit log keeps one line for a refused bundle: nothing of it entered the catalog. */
function recordRefusal(catalog: Catalog, bundlePath: string, refusal: { code: string; reason: string }): void {
  const { who, host } = importActor();
  catalog.recordEvent({
    at: isoTime(new Date()), who, host, pid: process.pid, source: bundlePath, entry: null, sha256: null, size: null,
    outcome: 'rejected', verdict: null, code: refusal.code, reason: refusal.reason, cabferryVersion: version,
  });
}

/**
 * A bundle that cannot be read as one (a damaged zip, a malformed manifest or record, a marker that
 * is not a file) is refused as well, exit 3 by its error: the audit log keeps its one line too, with
 * that error's code. Rethrows.
 */
function refuseUnreadable(catalog: Catalog, bundlePath: string, e: unknown): never {
  if (isCabferryError(e) && e.kind === 'input') recordRefusal(catalog, bundlePath, { code: e.code, reason: e.message });
  throw e;
}

function refusalCode(r: BundleCheckReport): BundleRefusalCode {
  if (r.signature.status !== 'valid') return r.signature.status === 'absent' ? 'BUNDLE_UNSIGNED' : 'BUNDLE_SIGNATURE_INVALID';
  return differences(r).length > 0 ? 'BUNDLE_ALTERED' : 'BUNDLE_EARLIER_MISSING';
}

/** The one-line why of a refused bundle (reports and the audit log). */
function refusalReason(r: BundleCheckReport): string {
  const s = r.signature;
  if (s.status === 'absent') return s.reason;
  if (s.status === 'invalid') return `bundle signature invalid: ${s.reason ?? ''} [${s.code ?? ''}]`;
  const why: string[] = [];
  const parts = differences(r);
  if (parts.length > 0) why.push(`the bundle differs from what was signed: ${parts.join('; ')}`);
  if (r.earlierMissing.length > 0) {
    const follows = r.manifest?.follows;
    why.push(
      `${follows ? `it follows the bundle of ${follows.createdAt} and carries only what that one and those before it did not, ` : 'it carries only what earlier bundles did not, '}` +
        `but ${r.earlierMissing.length} payload(s) they carried never came into this catalog (${r.earlierMissing[0]}…): ` +
        'import the earlier bundles first, oldest first, or a full export from the low side (cabferry export without --since-bundle)',
    );
  }
  return `${why.join('; ')}; nothing imported`;
}

/** What of the bundle differs from its signed manifest, one phrase per kind. */
function differences(r: BundleCheckReport): string[] {
  const parts: string[] = [];
  if (r.missing.length > 0) parts.push(`${r.missing.length} file(s) missing (${r.missing[0]}…)`);
  if (r.altered.length > 0) parts.push(`${r.altered.length} file(s) altered (${r.altered[0].path}: ${r.altered[0].reason}…)`);
  if (r.unexpected.length > 0) parts.push(`${r.unexpected.length} file(s) not in the manifest (${r.unexpected[0]}…)`);
  if (r.problems.length > 0) parts.push(`${r.problems.length} entr(ies) no bundle can hold (${r.problems[0]}…)`);
  return parts;
}

function tally(s: ImportSummary, result: ImportResult): void {
  s.results.push(result);
  if (result.size !== null) s.bytes += result.size;
  switch (result.outcome) {
    case 'imported': s.imported++; break;
    case 'duplicate': s.duplicates++; break;
    case 'restored': s.restored++; break;
    case 'quarantined': s.quarantined++; break;
    case 'rejected': s.rejected++; break;
    case 'skipped': s.skipped++; break;
  }
}

// ---- the low side's record against the high side's own -------------------------------------

type ComparableRecord = Pick<CatalogEntry, 'fileName' | 'sha1OnlyAllowed' | 'verdict' | 'payload' | 'signatures' | 'members'> & { status: string };

/** Which fields of the low side's record the high side's verification does not reproduce. */
function differingFields(low: TransferRecord, decision: ImportDecision): string[] {
  const high: ComparableRecord | null = decision.known ?? decision.store;
  if (high === null || (decision.known === null && decision.result.outcome !== 'imported')) return ['status'];
  const fields: string[] = [];
  const compare = (name: string, a: unknown, b: unknown): void => {
    if (canonicalJson(a) !== canonicalJson(b)) fields.push(name);
  };
  compare('status', low.status, high.status);
  compare('fileName', low.fileName, high.fileName);
  compare('sha1OnlyAllowed', low.sha1OnlyAllowed, high.sha1OnlyAllowed);
  compare('verdict', low.verdict, high.verdict);
  compare('payload', low.payload, high.payload);
  compare('signatures', low.signatures.map(signatureFacts), high.signatures.map(signatureFacts));
  compare('members', sortedMembers(low.members), sortedMembers(high.members));
  return fields;
}

/** A signature's facts without its reason text (wording may change between versions; facts may not). */
function signatureFacts(s: SignatureRecord): Omit<SignatureRecord, 'reason'> {
  return { position: s.position, nested: s.nested, digestAlgorithm: s.digestAlgorithm, signer: s.signer, issuer: s.issuer, timestamp: s.timestamp, valid: s.valid, code: s.code };
}

function sortedMembers(members: MemberRecord[]): MemberRecord[] {
  return [...members].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
