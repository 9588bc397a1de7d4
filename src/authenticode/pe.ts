import type { CabByteSource } from '../cab/byte-source';
import { RandomAccessFile } from '../io/random-access-file';
import { readPeHeader, type PeHeader } from '../pe/header';
import { decideVerdict, type FileVerdict, type VerifyCabOptions } from './cab';
import { readDer } from './der';
import type { ByteRange } from './digest';
import { isVerificationError, VerificationError } from './errors';
import { digestFileInParallel, type VerifyDigests } from './parallel-digest';
import { checkPageHashes, signedPageHashes } from './pe-page-hashes';
import { collectSignatures, requiredDigestAlgorithms, verifyAuthenticodeSignature, type SignatureSlot } from './signature';

/**
 * Authenticode on PE32 / PE32+ images (Microsoft's "Windows Authenticode Portable Executable
 * Signature Format"). The signatures live in the attribute certificate table, which the
 * certificate-table data directory entry locates by *file offset*; each WIN_CERTIFICATE entry
 * (dwLength, wRevision 0x0200, wCertificateType 2 = PKCS_SIGNED_DATA) holds one PKCS#7
 * SignedData, padded to a multiple of 8 bytes. From there on a signature is verified exactly like
 * a cabinet's (./signature): only where the blob sits and which bytes are hashed differ.
 *
 * Bytes hashed: the whole file except the 4-byte CheckSum, the 8-byte certificate-table entry and
 * the certificate table itself. The specification describes the same bytes as "headers, then each
 * section in file order, then whatever follows the last section", which is identical for every
 * image whose sections tile the file; hashing the whole file also covers gaps between sections
 * that the section walk would skip, so a change there is caught rather than excused.
 *
 * Placement policy (stricter than the specification allows, never looser than Windows):
 * - the table must end at the end of the file. Bytes after it would be covered by the digest
 *   only in some implementations (osslsigncode refuses the file as unsigned; uthenticode and
 *   this verifier refuse it as invalid), so a file carrying them is invalid.
 * - the table must start after the headers and after every section's raw data: a table that
 *   overlaps the image would take image bytes out of the digest.
 * - every entry must be revision 2.0, type PKCS_SIGNED_DATA, fit the table, and be followed by
 *   fewer than 8 zero bytes of padding (what Windows enforces with EnableCertPaddingCheck).
 * - several entries are allowed (UEFI signing tools such as sbsign append one per signature);
 *   each entry's signatures are verified and all must hold. osslsigncode refuses such files
 *   ("Corrupted attribute certificate table"); see test/authenticode/pe-oracle.test.ts.
 */

/** Largest certificate table accepted; real ones are 5–30 KB. */
const MAX_CERTIFICATE_TABLE_BYTES = 16 * 1024 * 1024;
/** More entries than this are not a signing tool's output. */
const MAX_WIN_CERTIFICATES = 16;
const WIN_CERTIFICATE_HEADER = 8;
export const WIN_CERT_REVISION_2_0 = 0x0200;
export const WIN_CERT_TYPE_PKCS_SIGNED_DATA = 0x0002;

/** One WIN_CERTIFICATE entry of the attribute certificate table. */
export interface WinCertificate {
  /** file offset of the entry's header */
  offset: number;
  dwLength: number;
  /** the PKCS#7 SignedData, exactly its DER length (padding excluded) */
  der: Buffer;
  /** zero bytes between the DER and the next entry (or the end of the table) */
  padding: number;
}

function tableError(message: string, offset: number): VerificationError {
  return new VerificationError('PE_CERT_TABLE_LOCATION', `${message} (certificate table at offset ${offset})`, { offset });
}

function entryError(message: string, offset: number): VerificationError {
  return new VerificationError('PE_WIN_CERTIFICATE_MALFORMED', `${message} (WIN_CERTIFICATE at offset ${offset})`, { offset });
}

/** The certificate table's entries; [] for an unsigned image. Throws a VerificationError for a table that cannot be trusted. */
export function readCertificateTable(file: CabByteSource, header: PeHeader): WinCertificate[] {
  const table = header.certificateTable;
  if (table === null || table.size === 0) return [];
  const start = table.address;
  const end = start + table.size;
  if (table.size > MAX_CERTIFICATE_TABLE_BYTES) throw tableError(`table of ${table.size} bytes is implausibly large`, start);
  if (end > file.size) throw tableError(`table of ${table.size} bytes runs past the end of the file (${file.size} bytes)`, start);
  const imageEnd = Math.max(header.imageEnd, header.sizeOfHeaders);
  if (start < imageEnd) throw tableError(`table overlaps the headers or section data (image ends at ${imageEnd}): those bytes would escape the digest`, start);
  if (end < file.size) throw tableError(`${file.size - end} bytes follow the table; the table must end the file`, start);

  const bytes = file.read(start, table.size, 'certificate table');
  const entries: WinCertificate[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    const at = start + pos;
    if (bytes.length - pos < WIN_CERTIFICATE_HEADER) {
      if (entries.length > 0 && bytes.subarray(pos).every((b) => b === 0)) break;
      throw entryError(`${bytes.length - pos} bytes left, too few for a WIN_CERTIFICATE header`, at);
    }
    if (entries.length === MAX_WIN_CERTIFICATES) throw entryError(`more than ${MAX_WIN_CERTIFICATES} entries`, at);
    const dwLength = bytes.readUInt32LE(pos);
    const revision = bytes.readUInt16LE(pos + 4);
    const type = bytes.readUInt16LE(pos + 6);
    if (dwLength <= WIN_CERTIFICATE_HEADER || dwLength > bytes.length - pos) {
      throw entryError(`dwLength ${dwLength} does not fit the ${bytes.length - pos} bytes left in the table`, at);
    }
    if (revision !== WIN_CERT_REVISION_2_0) throw entryError(`revision 0x${revision.toString(16).padStart(4, '0')}, expected 0x0200`, at);
    if (type !== WIN_CERT_TYPE_PKCS_SIGNED_DATA) throw entryError(`certificate type 0x${type.toString(16).padStart(4, '0')}, expected PKCS_SIGNED_DATA (0x0002)`, at);
    const body = bytes.subarray(pos + WIN_CERTIFICATE_HEADER, pos + dwLength);
    const derLength = readDer(body).end;
    const next = Math.min(bytes.length, pos + ((dwLength + 7) & ~7));
    const padding = bytes.subarray(pos + WIN_CERTIFICATE_HEADER + derLength, next);
    if (padding.length >= 8 || padding.some((b) => b !== 0)) {
      throw new VerificationError('SIG_BAD_PADDING', `${padding.length} bytes follow the ${derLength}-byte signature; expected fewer than 8 zero bytes of padding (WIN_CERTIFICATE at offset ${at})`, { offset: at });
    }
    entries.push({ offset: at, dwLength, der: body.subarray(0, derLength), padding: padding.length });
    pos = next;
  }
  return entries;
}

/** The hashed ranges of a signed image: everything but CheckSum, the certificate-table entry and the table. */
export function peDigestRanges(header: PeHeader, tableOffset: number): ByteRange[] {
  const entry = header.certificateEntryOffset;
  if (entry === null) throw new VerificationError('SIG_MALFORMED', 'the image has no certificate-table directory entry');
  return [
    [0, header.checksumOffset],
    [header.checksumOffset + 4, entry],
    [entry + 8, tableOffset],
  ];
}

/** A signature slot and the WIN_CERTIFICATE entry it came from. */
export interface PeSignatureSlot {
  slot: SignatureSlot;
  entry: number;
}

/** Everything about an image's signatures that can be known before its bytes are hashed (cf. PreparedCabSignature). */
export interface PreparedPeSignature {
  header: PeHeader;
  entries: WinCertificate[];
  ranges: ByteRange[];
  algorithms: string[];
  slots: PeSignatureSlot[];
  failure: VerificationError | null;
}

export function preparePeSignature(file: CabByteSource, header: PeHeader = readPeHeader(file)): PreparedPeSignature {
  const prepared: PreparedPeSignature = { header, entries: [], ranges: [], algorithms: [], slots: [], failure: null };
  try {
    prepared.entries = readCertificateTable(file, header);
    if (prepared.entries.length === 0) return prepared;
    prepared.slots = prepared.entries.flatMap((e, entry) => collectSignatures(e.der).map((slot) => ({ slot, entry })));
    prepared.algorithms = requiredDigestAlgorithms(prepared.slots.map((s) => s.slot));
    prepared.ranges = peDigestRanges(header, prepared.entries[0].offset);
  } catch (e) {
    if (!isVerificationError(e)) throw e;
    prepared.failure = e;
  }
  return prepared;
}

/**
 * The verdict from a prepared signature and the digests of the caller's pass. `source` is the
 * open file: page hashes, where a signature carries them, are checked by reading its pages.
 */
export function verifyPreparedPe(file: string, source: CabByteSource, prepared: PreparedPeSignature, digests: VerifyDigests, options: VerifyCabOptions): FileVerdict {
  const sha256 = digests.sha256 === null ? null : digests.sha256.toString('hex');
  if (prepared.failure !== null) {
    const f = prepared.failure;
    return { file, verdict: 'invalid', code: f.code, reason: f.message, sha256, signatures: [] };
  }
  if (prepared.slots.length === 0) {
    return { file, verdict: 'unsigned', code: null, reason: 'no Authenticode signature (no certificate table)', sha256, signatures: [] };
  }
  const tableOffset = prepared.entries[0].offset;
  const signatures = prepared.slots.map(({ slot, entry }, i) => {
    const report = verifyAuthenticodeSignature(slot, i, digests.authenticode, options, (spc, r) => {
      const signed = signedPageHashes(spc);
      if (signed !== null) r.pageHashes = checkPageHashes(source, prepared.header, signed, tableOffset);
    });
    report.certificateEntry = entry;
    return report;
  });
  return { file, sha256, signatures, ...decideVerdict(signatures, options.requireSha2 === true) };
}

/**
 * Verify a PE image: headers → certificate table → one digest pass → each signature. A file that
 * is not a readable PE image throws an input error (exit 3).
 */
export function verifyPe(path: string, options: VerifyCabOptions): FileVerdict {
  const file = RandomAccessFile.open(path);
  try {
    const prepared = preparePeSignature(file);
    const digests = digestFileInParallel(file, prepared.ranges, prepared.algorithms, { fileSha256: options.fileSha256 === true });
    return verifyPreparedPe(path, file, prepared, digests, options);
  } finally {
    file.close();
  }
}
