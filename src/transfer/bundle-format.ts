import { createHash } from 'node:crypto';
import { BUNDLE_MANIFEST_NAME } from '../bundle-marker';
import { inputError } from '../errors';
import { isSafeRelativePath, type ManifestEntry } from '../media/manifest';
import { unsafeEntryNameReason } from '../importer/entry-names';
import type { CatalogEntry, MemberRecord, SignatureRecord } from '../catalog/types';
import type { Payload } from '../package/types';

/**
 * A transfer bundle: what a low-side catalog hands to a high-side catalog, as a zip file or a
 * folder with the same layout (paths relative to the bundle root, always "/"):
 *
 *   cabferry-bundle.json       the bundle manifest: every other file with size and SHA-256,
 *                              and the payloads it carries; written last
 *   cabferry-bundle.json.p7s   detached PKCS#7 signature of the manifest bytes
 *   payloads/SHA256/FILE       each payload, under the file name the low side imported it as
 *                              (the metadata reader takes KB, architecture and version partly
 *                              from the name)
 *   records/SHA256.json        the low side's catalog record of that payload: identity,
 *                              metadata, signature evidence — compared on the high side, never copied
 *
 * The signature covers the manifest, the manifest covers every file by hash: one byte changed
 * anywhere, a file removed or added, and the bundle no longer matches what was signed.
 */

export const BUNDLE_FORMAT = 'cabferry-transfer/1';
export const RECORD_FORMAT = 'cabferry-transfer-record/1';

export const BUNDLE = {
  manifest: BUNDLE_MANIFEST_NAME,
  signature: 'cabferry-bundle.json.p7s',
  payloads: 'payloads',
  records: 'records',
} as const;

/** The manifest is read into memory: anything larger than this is not one we wrote. */
export const MAX_MANIFEST_BYTES = 64 * 1024 * 1024;
export const MAX_SIGNATURE_BYTES = 1024 * 1024;
export const MAX_RECORD_BYTES = 16 * 1024 * 1024;

export interface BundlePayload {
  sha256: string;
  size: number;
  fileName: string;
  /** bundle path of the payload's bytes */
  path: string;
  /** bundle path of the low side's record */
  record: string;
}

export interface TransferManifest {
  format: typeof BUNDLE_FORMAT;
  cabferryVersion: string;
  createdAt: string;
  /** the low-side catalog, as a label for people (never used to decide anything) */
  sourceCatalog: string;
  /** what the export selected: payloads first imported on or after `since`, none carried by `follows` */
  since: string | null;
  /** the bundle this one continues (--since-bundle): its creation time and manifest SHA-256 */
  follows: { createdAt: string; manifestSha256: string } | null;
  /** payloads the bundles this one follows carried already, so the next export can skip them too */
  carriedBefore: string[];
  payloads: BundlePayload[];
  /** every file of the bundle except the manifest and its signature */
  files: ManifestEntry[];
}

/** The low side's catalog record of one payload, as the bundle carries it. */
export interface TransferRecord {
  format: typeof RECORD_FORMAT;
  sha256: string;
  size: number;
  fileName: string;
  status: 'imported';
  sha1OnlyAllowed: boolean;
  firstImportedAt: string;
  verdict: string | null;
  payload: Payload | null;
  signatures: SignatureRecord[];
  members: MemberRecord[];
  /** the full Authenticode verdict document the low side kept, for audits */
  verdictDocument: unknown;
}

export function payloadPath(sha256: string, fileName: string): string {
  return `${BUNDLE.payloads}/${sha256}/${fileName}`;
}

export function recordPath(sha256: string): string {
  return `${BUNDLE.records}/${sha256}.json`;
}

/** A payload's file name becomes one path segment: it must not name a folder or climb out. */
export function isSafeFileName(name: string): boolean {
  return !name.includes('/') && !name.includes('\\') && isSafeRelativePath(name) && unsafeEntryNameReason(name) === null;
}

export function sha256Hex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Stable, readable JSON: the exact bytes are what the signature and the hashes cover. */
export function serializeJson(doc: unknown): Buffer {
  return Buffer.from(JSON.stringify(doc, null, 2) + '\n', 'utf8');
}

export function transferRecord(entry: CatalogEntry, verdictDocument: unknown): TransferRecord {
  return {
    format: RECORD_FORMAT,
    sha256: entry.sha256,
    size: entry.size,
    fileName: entry.fileName,
    status: 'imported',
    sha1OnlyAllowed: entry.sha1OnlyAllowed,
    firstImportedAt: entry.firstImportedAt,
    verdict: entry.verdict,
    payload: entry.payload,
    signatures: entry.signatures,
    members: entry.members,
    verdictDocument,
  };
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Parse and check the bundle manifest; anything unexpected is an input error naming the file. */
export function parseTransferManifest(bytes: Buffer, file: string): TransferManifest {
  const bad = (what: string) => inputError('BUNDLE_MANIFEST_MALFORMED', what, { file });
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw bad(`not JSON: ${(e as Error).message}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw bad('not a JSON object');
  const m = doc as Record<string, unknown>;
  if (m.format !== BUNDLE_FORMAT) throw bad(`format is ${JSON.stringify(m.format)}, expected ${BUNDLE_FORMAT}`);
  for (const key of ['cabferryVersion', 'createdAt', 'sourceCatalog'] as const) {
    if (typeof m[key] !== 'string') throw bad(`${key} must be a string`);
  }
  if (Number.isNaN(Date.parse(m.createdAt as string))) throw bad('createdAt is not a date');
  if (m.since !== null && (typeof m.since !== 'string' || Number.isNaN(Date.parse(m.since)))) throw bad('since must be a date or null');
  const follows = parseFollows(m.follows, bad);
  if (!Array.isArray(m.carriedBefore) || !m.carriedBefore.every((s) => typeof s === 'string' && SHA256_HEX.test(s))) {
    throw bad('carriedBefore must be a list of SHA-256 values');
  }
  if (!Array.isArray(m.files) || !Array.isArray(m.payloads)) throw bad('files and payloads must be arrays');

  const files = m.files.map((f: unknown, i: number) => parseFileEntry(f, `files[${i}]`, bad));
  const byPath = new Map<string, ManifestEntry>();
  for (const f of files) {
    if (f.path === BUNDLE.manifest || f.path === BUNDLE.signature) throw bad(`files lists ${f.path}, which cannot cover itself`);
    if (byPath.has(f.path)) throw bad(`files lists ${f.path} twice`);
    byPath.set(f.path, f);
  }
  const seen = new Set<string>();
  const payloads = m.payloads.map((p: unknown, i: number): BundlePayload => {
    const where = `payloads[${i}]`;
    if (typeof p !== 'object' || p === null) throw bad(`${where} is not an object`);
    const e = p as Record<string, unknown>;
    if (typeof e.sha256 !== 'string' || !SHA256_HEX.test(e.sha256)) throw bad(`${where}.sha256 is not 64 lowercase hex digits`);
    if (typeof e.size !== 'number' || !Number.isSafeInteger(e.size) || e.size < 0) throw bad(`${where}.size is not a byte count`);
    if (typeof e.fileName !== 'string' || !isSafeFileName(e.fileName)) throw bad(`${where}.fileName ${JSON.stringify(e.fileName)} is not a plain file name`);
    if (seen.has(e.sha256)) throw bad(`${where}: payload ${e.sha256} is listed twice`);
    seen.add(e.sha256);
    const expected = { path: payloadPath(e.sha256, e.fileName), record: recordPath(e.sha256) };
    if (e.path !== expected.path || e.record !== expected.record) throw bad(`${where}: paths must be ${expected.path} and ${expected.record}`);
    const file = byPath.get(expected.path);
    if (file === undefined || byPath.get(expected.record) === undefined) throw bad(`${where}: ${expected.path} or ${expected.record} is not in files`);
    if (file.sha256 !== e.sha256 || file.size !== e.size) throw bad(`${where}: files gives ${expected.path} another size or SHA-256`);
    return { sha256: e.sha256, size: e.size, fileName: e.fileName, ...expected };
  });
  const carried = new Set(payloads.map((p) => p.path).concat(payloads.map((p) => p.record)));
  const loose = files.find((f) => !carried.has(f.path));
  if (loose !== undefined) throw bad(`files lists ${loose.path}, which belongs to no payload`);
  return {
    format: BUNDLE_FORMAT,
    cabferryVersion: m.cabferryVersion as string,
    createdAt: m.createdAt as string,
    sourceCatalog: m.sourceCatalog as string,
    since: m.since as string | null,
    follows,
    carriedBefore: m.carriedBefore as string[],
    payloads,
    files,
  };
}

function parseFollows(v: unknown, bad: (what: string) => Error): TransferManifest['follows'] {
  if (v === null) return null;
  const f = v as Record<string, unknown>;
  if (typeof v !== 'object' || typeof f.createdAt !== 'string' || typeof f.manifestSha256 !== 'string' || !SHA256_HEX.test(f.manifestSha256)) {
    throw bad('follows must be null or { createdAt, manifestSha256 }');
  }
  return { createdAt: f.createdAt, manifestSha256: f.manifestSha256 };
}

function parseFileEntry(f: unknown, where: string, bad: (what: string) => Error): ManifestEntry {
  const e = f as Record<string, unknown>;
  if (typeof e !== 'object' || e === null || typeof e.path !== 'string' || typeof e.sha256 !== 'string' || typeof e.size !== 'number') {
    throw bad(`${where} must have path, size and sha256`);
  }
  if (!isSafeRelativePath(e.path) || unsafeEntryNameReason(e.path) !== null) throw bad(`${where} path ${JSON.stringify(e.path)} points outside the bundle`);
  if (!SHA256_HEX.test(e.sha256)) throw bad(`${where} sha256 is not 64 lowercase hex digits`);
  if (!Number.isSafeInteger(e.size) || e.size < 0) throw bad(`${where} size is not a byte count`);
  return { path: e.path, size: e.size, sha256: e.sha256 };
}

/** Parse a record the manifest vouched for; it must describe the payload it sits beside. */
export function parseTransferRecord(bytes: Buffer, file: string, expected: BundlePayload): TransferRecord {
  const bad = (what: string) => inputError('BUNDLE_RECORD_MALFORMED', what, { file });
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw bad(`not JSON: ${(e as Error).message}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw bad('not a JSON object');
  const r = doc as Record<string, unknown>;
  if (r.format !== RECORD_FORMAT) throw bad(`format is ${JSON.stringify(r.format)}, expected ${RECORD_FORMAT}`);
  if (r.sha256 !== expected.sha256 || r.size !== expected.size || r.fileName !== expected.fileName) {
    throw bad(`describes ${JSON.stringify(r.fileName)} (${String(r.sha256)}), not the payload ${expected.path}`);
  }
  if (!Array.isArray(r.signatures) || !Array.isArray(r.members)) throw bad('signatures and members must be arrays');
  // the comparison with this side's record reads their fields: another shape is malformed input here, not a crash there
  for (const key of ['signatures', 'members'] as const) {
    const i = (r[key] as unknown[]).findIndex((x) => typeof x !== 'object' || x === null || Array.isArray(x));
    if (i >= 0) throw bad(`${key}[${i}] is not an object`);
  }
  if (r.payload !== null && (typeof r.payload !== 'object' || Array.isArray(r.payload))) throw bad('payload must be an object or null');
  return r as unknown as TransferRecord;
}
