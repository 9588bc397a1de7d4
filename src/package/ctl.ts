import crypto = require('node:crypto');
import { CabferryError, inputError } from '../errors';
import { Tag, children, readDer, readOctets, readOid, readString, readTime, value, type Der } from '../authenticode/der';
import { digestAlgorithmName } from '../authenticode/oids';

/**
 * The content of a Windows security catalog (.cat): a Certificate Trust List
 * (szOID_CTL 1.3.6.1.4.1.311.10.1) inside PKCS#7 SignedData. The signature is checked by
 * src/authenticode (`verifySignedData`); this module reads only the signed *content*, i.e. which
 * member hashes the catalog vouches for.
 *
 *   CertificateTrustList ::= SEQUENCE {
 *     version INTEGER OPTIONAL, subjectUsage SEQUENCE OF OID, listIdentifier OCTET STRING OPTIONAL,
 *     sequenceNumber INTEGER OPTIONAL, thisUpdate Time, nextUpdate Time OPTIONAL,
 *     subjectAlgorithm AlgorithmIdentifier, trustedSubjects SEQUENCE OF TrustedSubject OPTIONAL,
 *     extensions [0] EXPLICIT Extensions OPTIONAL }
 *   TrustedSubject ::= SEQUENCE { subjectIdentifier OCTET STRING, subjectAttributes SET OF Attribute OPTIONAL }
 *
 * How members are listed (seen in the real update.cat files of the corpus):
 * - subject algorithm 1.3.6.1.4.1.311.12.1.2 (catalog list member, v1): the identifier is a UTF-16LE,
 *   NUL-terminated tag — the member's SHA-1 as 40 hex digits, or (makecat without hashing) a name;
 * - 1.3.6.1.4.1.311.12.1.3 (member v2): the identifier is the raw hash (20 or 32 bytes);
 * - the hash itself is in the SPC_INDIRECT_DATA attribute (1.3.6.1.4.1.311.2.1.4) as a DigestInfo,
 *   whose data type says flat file (SPC_CAB_DATA 1.3.6.1.4.1.311.2.1.25) or PE image (…2.1.15, an
 *   Authenticode PE hash that a flat hash never matches); v2 SHA-1 entries may carry no indirect data;
 * - a name-value attribute (1.3.6.1.4.1.311.12.2.1) with name "File" names the member, when present.
 */

export const CtlOid = {
  ctl: '1.3.6.1.4.1.311.10.1',
  catalogList: '1.3.6.1.4.1.311.12.1.1',
  catalogListMember: '1.3.6.1.4.1.311.12.1.2',
  catalogListMember2: '1.3.6.1.4.1.311.12.1.3',
  spcIndirectData: '1.3.6.1.4.1.311.2.1.4',
  spcCabData: '1.3.6.1.4.1.311.2.1.25',
  spcPeImageData: '1.3.6.1.4.1.311.2.1.15',
  nameValue: '1.3.6.1.4.1.311.12.2.1',
  memberInfo: '1.3.6.1.4.1.311.12.2.2',
} as const;

export type CatalogHashKind = 'flat' | 'pe-image' | 'other';

export interface CatalogDigest {
  /** node:crypto name: sha1, sha256, … */
  algorithm: string;
  digest: Buffer;
  kind: CatalogHashKind;
}

export interface CatalogEntry {
  /** the subject identifier: decoded tag text (v1) or uppercase hex of the raw identifier (v2) */
  tag: string;
  /** value of the "File" name-value attribute, when the catalog names the member */
  fileName: string | null;
  digests: CatalogDigest[];
  /** every name-value attribute of the entry (File, OSAttr, …) */
  attributes: Record<string, string>;
}

export interface CatalogContent {
  subjectAlgorithm: string;
  listIdentifier: string | null;
  thisUpdate: Date;
  entries: CatalogEntry[];
  /** catalog-level name-value attributes (e.g. OSAttr "2:6.0") */
  attributes: Record<string, string>;
}

/** Hard limits: the largest real catalog here has a few hundred entries. */
const maxCatalogBytes = 32 * 1024 * 1024;
const maxEntries = 200_000;

function malformed(message: string, what: string): CabferryError {
  return inputError('CATALOG_MALFORMED', `${what}: ${message}`);
}

/** Parse the CTL bytes (the eContent value that verifySignedData returns). */
export function parseCatalogContent(ctlDer: Buffer, what = 'catalog'): CatalogContent {
  if (ctlDer.length > maxCatalogBytes) throw malformed(`CTL of ${ctlDer.length} bytes is too large`, what);
  try {
    return readCtl(ctlDer, what);
  } catch (e) {
    // the DER walker throws its own SIG_MALFORMED; for a catalog's content that is malformed input
    if (e instanceof CabferryError && e.code === 'SIG_MALFORMED') throw malformed(e.message, what);
    throw e;
  }
}

function readCtl(ctlDer: Buffer, what: string): CatalogContent {
  const fields = children(ctlSequence(ctlDer));
  let i = 0;
  if (fields[i]?.tag === Tag.integer) i++; // version
  const usage = fields[i++];
  if (usage?.tag !== Tag.sequence) throw malformed('subjectUsage missing', what);
  const usages = children(usage).map((u) => readOid(u, 'subjectUsage'));
  if (!usages.includes(CtlOid.catalogList)) {
    throw malformed(`subject usage ${usages.join(', ') || '(none)'} is not a catalog list (${CtlOid.catalogList})`, what);
  }
  let listIdentifier: string | null = null;
  if (fields[i]?.tag === Tag.octetString) listIdentifier = value(fields[i++]).toString('hex').toUpperCase();
  if (fields[i]?.tag === Tag.integer) i++; // sequenceNumber
  const thisUpdate = readTime(fields[i++], 'thisUpdate');
  if (fields[i]?.tag === Tag.utcTime || fields[i]?.tag === Tag.generalizedTime) i++; // nextUpdate
  const algorithm = fields[i++];
  if (algorithm?.tag !== Tag.sequence) throw malformed('subjectAlgorithm missing', what);
  const subjectAlgorithm = readOid(children(algorithm)[0], 'subjectAlgorithm');

  const entries: CatalogEntry[] = [];
  if (fields[i]?.tag === Tag.sequence) {
    const subjects = children(fields[i++]);
    if (subjects.length > maxEntries) throw malformed(`${subjects.length} entries (limit ${maxEntries})`, what);
    for (const subject of subjects) entries.push(readTrustedSubject(subject, subjectAlgorithm, what));
  }
  let attributes: Record<string, string> = {};
  if (fields[i]?.tag === Tag.context(0)) attributes = readCatalogExtensions(fields[i++], what);
  if (i !== fields.length) throw malformed(`unexpected element with tag 0x${fields[i].tag.toString(16)} in the CTL`, what);
  return { subjectAlgorithm, listIdentifier, thisUpdate, entries, attributes };
}

/**
 * The CTL SEQUENCE, whether given whole or (as PKCS#7 v1.5 signers hash it) as its value bytes
 * only: a whole CTL is one SEQUENCE spanning the buffer, while value bytes start with the
 * subjectUsage SEQUENCE, which never spans all of them.
 */
function ctlSequence(bytes: Buffer): Der {
  const first = readDer(bytes, 0);
  if (first.tag === Tag.sequence && first.end === bytes.length) {
    const inner = readDer(bytes, first.valueStart, first.end);
    // a whole CTL's first child is subjectUsage (or version); a bare subjectUsage's first child is an OID
    if (inner.tag === Tag.sequence || inner.tag === Tag.integer) return first;
  }
  return { buf: bytes, tag: Tag.sequence, start: 0, valueStart: 0, end: bytes.length };
}

function readTrustedSubject(subject: Der, subjectAlgorithm: string, what: string): CatalogEntry {
  if (subject.tag !== Tag.sequence) throw malformed('trusted subject is not a SEQUENCE', what);
  const [idDer, attrsDer, ...rest] = children(subject);
  if (rest.length > 0) throw malformed('trusted subject has extra elements', what);
  const identifier = readOctets(idDer, 'subject identifier');
  const tag = subjectAlgorithm === CtlOid.catalogListMember2 ? identifier.toString('hex').toUpperCase() : decodeUtf16Tag(identifier);
  const entry: CatalogEntry = { tag, fileName: null, digests: [], attributes: {} };

  if (attrsDer !== undefined) {
    if (attrsDer.tag !== Tag.set) throw malformed('subject attributes are not a SET', what);
    for (const attr of children(attrsDer)) {
      const [oidDer, valuesDer] = children(attr);
      const oid = readOid(oidDer, 'subject attribute type');
      if (valuesDer?.tag !== Tag.set) throw malformed(`attribute ${oid} has no value SET`, what);
      for (const v of children(valuesDer)) {
        if (oid === CtlOid.spcIndirectData) entry.digests.push(readIndirectDigest(v, what));
        else if (oid === CtlOid.nameValue) {
          const { name, text } = readNameValue(v, what);
          entry.attributes[name] = text;
          if (name.toLowerCase() === 'file') entry.fileName = text;
        }
      }
    }
  }
  // a v2 SHA-1 entry, or a v1 entry tagged by its SHA-1 in hex, is its own flat digest
  if (entry.digests.length === 0) {
    if (subjectAlgorithm === CtlOid.catalogListMember2 && identifier.length === 20) {
      entry.digests.push({ algorithm: 'sha1', digest: identifier, kind: 'flat' });
    } else if (/^[0-9A-Fa-f]{40}$/.test(tag)) {
      entry.digests.push({ algorithm: 'sha1', digest: Buffer.from(tag, 'hex'), kind: 'flat' });
    }
  }
  return entry;
}

/** SpcIndirectDataContent { data { type OID, value ANY OPTIONAL }, messageDigest DigestInfo }. */
function readIndirectDigest(d: Der, what: string): CatalogDigest {
  if (d.tag !== Tag.sequence) throw malformed('SPC_INDIRECT_DATA value is not a SEQUENCE', what);
  const [data, digestInfo] = children(d);
  if (data?.tag !== Tag.sequence || digestInfo?.tag !== Tag.sequence) throw malformed('SPC_INDIRECT_DATA is incomplete', what);
  const type = readOid(children(data)[0], 'indirect data type');
  const [algorithmId, digestDer] = children(digestInfo);
  if (algorithmId?.tag !== Tag.sequence) throw malformed('DigestInfo without an algorithm', what);
  const algorithmOid = readOid(children(algorithmId)[0], 'digest algorithm');
  const digest = readOctets(digestDer, 'member digest');
  let algorithm: string;
  try {
    algorithm = digestAlgorithmName(algorithmOid);
  } catch {
    // an algorithm we cannot compute proves nothing; keep the entry, never match it
    return { algorithm: `unsupported:${algorithmOid}`, digest: Buffer.from(digest), kind: 'other' };
  }
  if (digest.length !== crypto.createHash(algorithm).digest().length) {
    throw malformed(`${algorithm} member digest of ${digest.length} bytes`, what);
  }
  const kind: CatalogHashKind = type === CtlOid.spcCabData ? 'flat' : type === CtlOid.spcPeImageData ? 'pe-image' : 'other';
  return { algorithm, digest: Buffer.from(digest), kind };
}

/** CAT_NAMEVALUE ::= SEQUENCE { name BMPString, flags INTEGER, value OCTET STRING (UTF-16LE, NUL-terminated) }. */
function readNameValue(d: Der, what: string): { name: string; text: string } {
  if (d.tag !== Tag.sequence) throw malformed('name-value attribute is not a SEQUENCE', what);
  const [nameDer, , valueDer] = children(d);
  if (nameDer?.tag !== Tag.bmpString) throw malformed('name-value attribute without a BMPString name', what);
  return { name: readString(nameDer), text: decodeUtf16Tag(readOctets(valueDer, 'name-value value')) };
}

/** Catalog-level extensions: [0] { SEQUENCE OF Extension { OID, critical?, OCTET STRING } }; name-values kept. */
function readCatalogExtensions(d: Der, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  const [list] = children(d);
  if (list === undefined) return out;
  for (const ext of children(list)) {
    const parts = children(ext);
    const oid = readOid(parts[0], 'catalog extension');
    if (oid !== CtlOid.nameValue) continue;
    const octets = parts[parts.length - 1];
    const inner = readOctets(octets, 'catalog extension value');
    const { name, text } = readNameValue(readDer(inner, 0), what);
    out[name] = text;
  }
  return out;
}

function decodeUtf16Tag(bytes: Buffer): string {
  const even = bytes.subarray(0, bytes.length & ~1);
  return even.toString('utf16le').replace(/\0+$/, '');
}

/** Catalog entries by flat digest ("sha1:hex"), for membership checks. */
export type CatalogIndex = Map<string, CatalogEntry[]>;

function indexKey(algorithm: string, digest: Buffer | string): string {
  return `${algorithm}:${typeof digest === 'string' ? digest.toLowerCase() : digest.toString('hex')}`;
}

/** Index the flat-file digests of one or more catalogs for membership checks. */
export function catalogIndex(catalogs: CatalogContent[]): CatalogIndex {
  const index: CatalogIndex = new Map();
  for (const catalog of catalogs) {
    for (const entry of catalog.entries) {
      for (const d of entry.digests) {
        if (d.kind !== 'flat') continue;
        const key = indexKey(d.algorithm, d.digest);
        const list = index.get(key);
        if (list) list.push(entry);
        else index.set(key, [entry]);
      }
    }
  }
  return index;
}

/** Algorithms whose flat digests count as proof; MD5 entries are never trusted. */
export const acceptedCatalogDigests = ['sha1', 'sha256', 'sha384', 'sha512'] as const;

/** A member's flat digests by algorithm (every one in acceptedCatalogDigests). */
export type FlatDigests = ReadonlyMap<string, Buffer>;

/** Hash objects for every accepted algorithm, fed chunk by chunk while a member streams past. */
export function flatDigester(): { update(chunk: Buffer): void; digests(): FlatDigests } {
  const hashes = acceptedCatalogDigests.map((a) => [a, crypto.createHash(a)] as const);
  return {
    update: (chunk) => hashes.forEach(([, h]) => h.update(chunk)),
    digests: () => new Map(hashes.map(([a, h]) => [a, h.digest()])),
  };
}

export function flatDigests(data: Buffer): FlatDigests {
  const d = flatDigester();
  d.update(data);
  return d.digests();
}

/** The catalog entries that vouch for a member with these flat digests (empty when none does). */
export function entriesForDigests(index: CatalogIndex, digests: FlatDigests): CatalogEntry[] {
  const found: CatalogEntry[] = [];
  for (const [algorithm, digest] of digests) {
    const list = index.get(indexKey(algorithm, digest));
    if (list) found.push(...list);
  }
  return found;
}

/** The catalog entries that vouch for these exact bytes. */
export function entriesForData(index: CatalogIndex, data: Buffer): CatalogEntry[] {
  return entriesForDigests(index, flatDigests(data));
}
