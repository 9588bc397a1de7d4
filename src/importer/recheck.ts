import type { TrustAnchor } from '../authenticode/trust';
import { canonicalJson } from '../canonical-json';
import type { Catalog } from '../catalog/catalog';
import type { CatalogEntry } from '../catalog/types';
import { isCabferryError } from '../errors';
import type { KnowledgeBase } from '../knowledge/knowledge-base';
import { inspectPayloadReport } from '../package/inspect';
import type { Payload } from '../package/types';

/**
 * `catalog check --deep`: does each imported payload's record still say what its blob says?
 *
 * plan and stage believe the catalog's rows: a row whose KB, architecture or parents were edited
 * in the database (or written by a buggy older version) would be planned and staged under the
 * wrong identity while the blob's hash still matches. Here the blob is read again the way import
 * read it — signatures verified, metadata read and checked against its signed catalog — and
 * the facts that come from the blob alone are compared with the row. Facts the knowledge base
 * contributes (kind, title) may change with a newer knowledge base and are not compared; whether
 * the signer is still trusted is live trust's question (../catalog/live-trust.ts), not this one.
 */

/** The facts of a payload record that its bytes alone decide. */
const BLOB_FACTS = [
  'kb', 'product', 'products', 'ntVersion', 'architecture', 'releaseType', 'restart', 'applicabilityEvaluation',
  'parents', 'identity', 'installerAssembly', 'subPackages', 'servicingStackVersion', 'format', 'payloadCab',
  'size', 'unpackedSize', 'sha256', 'executable',
] as const satisfies readonly (keyof Payload)[];

/**
 * Facts of the blob alone that cabferry began recording after catalogs existed: a record made
 * before lacks them. Absent is "not recorded", which `catalog check --deep --repair` fills in from
 * the blob; present, they are compared like the others.
 */
const LATER_FACTS = ['sha2OnlyParts'] as const satisfies readonly (keyof Payload)[];
type LaterFact = (typeof LATER_FACTS)[number];

export type RecordFact = (typeof BLOB_FACTS)[number] | LaterFact | 'signature' | 'metadataVerified' | 'readable';

export interface RecordDifference {
  /** differs: the record contradicts its blob; incomplete: it agrees, but lacks facts the blob gives (`values`) */
  kind: 'differs' | 'incomplete';
  sha256: string;
  kb: string | null;
  fileName: string;
  /** what differs or is missing, as data; `detail` says it in words */
  facts: RecordFact[];
  detail: string;
  /** incomplete: the missing facts as the blob gives them, for the record */
  values?: Partial<Pick<Payload, LaterFact>>;
}

export interface RecheckOptions {
  /** the anchors the signatures are checked against (the catalog's set) */
  trust: TrustAnchor[];
  knowledgeBase: KnowledgeBase | null;
}

/**
 * The record of one imported payload against its blob, read again; null when they agree. The
 * blob must already be known to hash to `sha256` (catalog check re-hashes it first).
 */
export function recheckRecord(catalog: Catalog, sha256: string, options: RecheckOptions): RecordDifference | null {
  const entry = catalog.entry(sha256);
  // quarantined rows are claims, never believed; rejected rows have no blob
  if (entry === null || entry.status !== 'imported' || entry.payload === null) return null;
  const differ = (facts: RecordFact[], detail: string): RecordDifference => ({ kind: 'differs', sha256, kb: entry.payload?.kb ?? null, fileName: entry.fileName, facts, detail });

  let report;
  try {
    report = inspectPayloadReport(catalog.blobPath(sha256), { trust: options.trust, knowledgeBase: options.knowledgeBase, fileName: entry.fileName });
  } catch (e) {
    if (!isCabferryError(e) || e.kind === 'internal') throw e;
    return differ(['readable'], `the record describes a payload, but its blob no longer reads as one: ${e.message} [${e.code}]`);
  }
  // the verdict import records: the file's own with its inner cabinets' (an .msu's payload cab and WSUSSCAN.cab)
  const verdict = report.deepVerdict ?? report.verdict;
  if (verdict.verdict === 'invalid' || verdict.verdict === 'unsigned') {
    return differ(['signature'], `the record says its signature was valid, but read again it is ${verdict.verdict}: ${verdict.reason}`);
  }
  const record = entry.payload;
  const facts: RecordFact[] = BLOB_FACTS.filter((f) => canonicalJson(record[f] ?? null) !== canonicalJson(report.payload[f] ?? null));
  // known only of a blob whose signed parts hold under the catalog's trust (inspect leaves them out otherwise)
  for (const f of LATER_FACTS) if (record[f] !== undefined && report.payload[f] !== undefined && canonicalJson(record[f]) !== canonicalJson(report.payload[f])) facts.push(f);
  // only comparable under the same trust: a payload imported with a one-off anchor reads as untrusted here
  if (verdict.verdict === 'valid' && record.metadataVerified !== report.payload.metadataVerified) facts.push('metadataVerified');
  if (facts.length > 0) return differ(facts, describeDifferences(entry, report.payload, facts));
  const missing = LATER_FACTS.filter((f) => record[f] === undefined && report.payload[f] !== undefined);
  if (missing.length === 0) return null;
  const values: Partial<Pick<Payload, LaterFact>> = {};
  for (const f of missing) values[f] = report.payload[f];
  return {
    kind: 'incomplete', sha256, kb: record.kb, fileName: entry.fileName, facts: missing, values,
    detail: `the record agrees with its blob but lacks what cabferry records now (${missing.join(', ')}); until it is recorded, plan assumes the worst of it`,
  };
}

function describeDifferences(entry: CatalogEntry, read: Payload, facts: RecordFact[]): string {
  const parts = facts.map((f) => {
    if (f === 'metadataVerified') return `metadata verified: record ${entry.payload!.metadataVerified}, blob ${read.metadataVerified}`;
    if (f === 'signature' || f === 'readable') return f;
    return `${f}: record ${shortValue(entry.payload![f])}, blob ${shortValue(read[f])}`;
  });
  return `the record does not say what its blob says (${parts.join('; ')}): the catalog was altered, or written by a faulty version: do not stage from it; restore it from a good copy, or import the files again into a new catalog`;
}

function shortValue(v: unknown): string {
  const text = v === undefined ? 'absent' : JSON.stringify(v);
  return text.length > 80 ? `${text.slice(0, 77)}…` : text;
}
