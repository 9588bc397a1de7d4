import { createHash } from 'node:crypto';
import type { CabByteSource } from '../cab/byte-source';
import type { PeHeader } from '../pe/header';
import { children, readDer, readOctets, readOid, Tag, type Der } from './der';
import { VerificationError } from './errors';
import type { SpcIndirectData } from './spc';

/**
 * Page hashes (Authenticode PE, "SpcSerializedObject"): a signer may put into the signed
 * SpcPeImageData a table of (file offset, hash) pairs, one per page of the headers and of each
 * section's raw data, so a loader can check pages as they are mapped. The table is signed (it
 * is part of SpcIndirectDataContent), so once the file digest matches, a table that disagrees
 * with the file is a false statement by the signer and fails the signature, as osslsigncode
 * fails it.
 *
 * The table as signtool and osslsigncode build it: entry 0 is offset 0 and the hash of the
 * headers up to SizeOfHeaders without the CheckSum and the certificate-table entry, padded with
 * zeros to a page; then, for each section with raw data, in section-table order, one entry per
 * page of its raw data (the last page zero-padded); then a final entry holding the end of the
 * last section and an all-zero hash. A page is SectionAlignment bytes.
 */

export const Oid = {
  peImageData: '1.3.6.1.4.1.311.2.1.15',
  pageHashesSha1: '1.3.6.1.4.1.311.2.3.1',
  pageHashesSha256: '1.3.6.1.4.1.311.2.3.2',
} as const;

/** SpcSerializedObject.classId that marks a page-hash table. */
const PAGE_HASH_CLASS_ID = Buffer.from('a6b586d5b4a12466ae05a217da8e60d6', 'hex');
/** Larger pages than this are not a page size (osslsigncode's limit too). */
const MAX_PAGE_SIZE = 4 * 1024 * 1024;

export interface SignedPageHashes {
  algorithm: 'sha1' | 'sha256';
  /** the table exactly as signed: (uint32 offset, digest) entries */
  table: Buffer;
}

export interface PageHashReport {
  algorithm: string;
  /** entries in the signed table, the final zero entry included */
  pages: number;
  /** true: every page agreed with the file (a disagreement fails the signature instead) */
  checked: boolean;
}

function malformed(what: string): VerificationError {
  return new VerificationError('SIG_MALFORMED', `page hashes: ${what}`);
}

/**
 * The page-hash table a signature carries, or null when it has none (no SpcPeImageData value,
 * or a link that is not the page-hash serialized object). A page-hash object that is there but
 * unreadable is SIG_MALFORMED: it is signed content we cannot read.
 */
export function signedPageHashes(spc: SpcIndirectData): SignedPageHashes | null {
  if (spc.dataType !== Oid.peImageData || spc.dataValue === null || spc.dataValue.tag !== Tag.sequence) return null;
  // SpcPeImageData ::= SEQUENCE { flags BIT STRING, file [0] EXPLICIT SpcLink OPTIONAL }
  const file = children(spc.dataValue).find((d) => d.tag === Tag.context(0));
  if (file === undefined) return null;
  const [link] = children(file);
  // SpcLink: moniker [1] IMPLICIT SpcSerializedObject { classId OCTET STRING, serializedData OCTET STRING }
  if (link === undefined || link.tag !== Tag.context(1)) return null;
  const [classId, serialized] = children(link);
  if (!readOctets(classId, 'SpcSerializedObject.classId').equals(PAGE_HASH_CLASS_ID)) throw malformed('serialized object of an unknown class');
  const bytes = readOctets(serialized, 'SpcSerializedObject.serializedData');
  // serializedData: SET { SpcAttributeTypeAndOptionalValue { type OID, value SET { OCTET STRING table } } }
  const set = readDer(bytes);
  if (set.tag !== Tag.set) throw malformed('serialized data is not a SET');
  const [attribute] = children(set);
  if (attribute === undefined || attribute.tag !== Tag.sequence) throw malformed('no page-hash attribute');
  const [type, values] = children(attribute);
  const oid = readOid(type, 'page-hash type');
  const algorithm = oid === Oid.pageHashesSha1 ? 'sha1' : oid === Oid.pageHashesSha256 ? 'sha256' : null;
  if (algorithm === null) throw malformed(`unknown page-hash type ${oid}`);
  if (values === undefined || values.tag !== Tag.set) throw malformed('page-hash value is not a SET');
  const [table] = children(values);
  return { algorithm, table: Buffer.from(readOctets(table as Der | undefined, 'page-hash table')) };
}

/**
 * Recompute the page-hash table from the file and compare it with the signed one. `certificateTableOffset`
 * bounds the image: sections must lie before it.
 */
export function checkPageHashes(file: CabByteSource, header: PeHeader, signed: SignedPageHashes, certificateTableOffset: number): PageHashReport {
  const entrySize = 4 + (signed.algorithm === 'sha1' ? 20 : 32);
  if (signed.table.length % entrySize !== 0) throw malformed(`table of ${signed.table.length} bytes is not a whole number of ${entrySize}-byte entries`);
  const computed = computePageHashes(file, header, signed.algorithm, certificateTableOffset);
  const pages = signed.table.length / entrySize;
  if (!computed.equals(signed.table)) {
    const computedPages = computed.length / entrySize;
    let first = 0;
    while (first < Math.min(pages, computedPages) && computed.subarray(first * entrySize, (first + 1) * entrySize).equals(signed.table.subarray(first * entrySize, (first + 1) * entrySize))) first++;
    const where = first < pages ? `entry ${first} (file offset ${signed.table.readUInt32LE(first * entrySize)})` : `the table length (${pages} signed, ${computedPages} computed)`;
    throw new VerificationError('SIG_PAGE_HASH_MISMATCH', `the signed ${signed.algorithm} page hashes disagree with the file at ${where}`);
  }
  return { algorithm: signed.algorithm, pages, checked: true };
}

function computePageHashes(file: CabByteSource, header: PeHeader, algorithm: string, limit: number): Buffer {
  const page = header.sectionAlignment;
  if (page === 0 || page > MAX_PAGE_SIZE || page < header.fileAlignment) throw malformed(`SectionAlignment ${page} is not a usable page size`);
  if (header.certificateEntryOffset === null) throw malformed('the image has no certificate-table entry');
  if (header.sizeOfHeaders > page || header.sizeOfHeaders < header.certificateEntryOffset + 8 || header.sizeOfHeaders > limit) {
    throw malformed(`SizeOfHeaders ${header.sizeOfHeaders} does not fit one page before the image data`);
  }
  const zeros = Buffer.alloc(page);
  const entries: Buffer[] = [];
  const entry = (offset: number, digest: Buffer): void => {
    const off = Buffer.alloc(4);
    off.writeUInt32LE(offset >>> 0);
    entries.push(off, digest);
  };
  const headers = file.read(0, header.sizeOfHeaders, 'PE headers');
  const first = createHash(algorithm);
  first.update(headers.subarray(0, header.checksumOffset));
  first.update(headers.subarray(header.checksumOffset + 4, header.certificateEntryOffset));
  first.update(headers.subarray(header.certificateEntryOffset + 8));
  first.update(zeros.subarray(0, page - header.sizeOfHeaders));
  entry(0, first.digest());
  let lastEnd = 0;
  const buffer = Buffer.allocUnsafe(page);
  for (const [i, s] of header.sections.entries()) {
    if (s.rawSize === 0) continue;
    if (s.rawOffset + s.rawSize > limit) throw malformed(`section ${i} (${JSON.stringify(s.name)}) at ${s.rawOffset} + ${s.rawSize} runs past the image (${limit})`);
    for (let at = 0; at < s.rawSize; at += page) {
      const n = Math.min(page, s.rawSize - at);
      const h = createHash(algorithm).update(file.readInto(buffer.subarray(0, n), s.rawOffset + at, 'section data'));
      if (n < page) h.update(zeros.subarray(0, page - n));
      entry(s.rawOffset + at, h.digest());
    }
    lastEnd = s.rawOffset + s.rawSize;
  }
  entry(lastEnd, Buffer.alloc(createHash(algorithm).digest().length));
  return Buffer.concat(entries);
}
