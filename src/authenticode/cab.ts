import type { CabByteSource } from '../cab/byte-source';
import { readCabHeader } from '../cab/header';
import type { CabHeader } from '../cab/types';
import { RandomAccessFile } from '../io/random-access-file';
import { readDer } from './der';
import { authenticodeDigestRanges, uncoveredHeaderFields, type ByteRange } from './digest';
import { isVerificationError, VerificationCodes, VerificationError } from './errors';
import { digestFileInParallel, type VerifyDigests } from './parallel-digest';
import { collectSignatures, isSha2Signature, requiredDigestAlgorithms, verifyAuthenticodeSignature, type SignatureReport, type SignatureSlot, type TrustOptions } from './signature';

export type Verdict = 'valid' | 'invalid' | 'untrusted' | 'unsigned';

/** The verdict on one file (or one member of an .msu with --deep). */
export interface FileVerdict {
  file: string;
  /** set for a member verified inside a container */
  member?: string;
  verdict: Verdict;
  /** null when valid or unsigned; else the deciding failure's code */
  code: string | null;
  reason: string;
  /** SHA-256 of the file's bytes, naming exactly what the verdict is about (when computed) */
  sha256: string | null;
  signatures: SignatureReport[];
  /** inner cabinets of an .msu, with --deep */
  members?: FileVerdict[];
}

export interface VerifyCabOptions extends TrustOptions {
  /** a file whose only valid signatures use SHA-1 fails */
  requireSha2?: boolean;
  /** also compute the whole-file SHA-256 for the verdict (a third full hash; default false) */
  fileSha256?: boolean;
}

/** Largest signature blob accepted; real ones are 5–20 KB. */
const MAX_SIGNATURE_BYTES = 16 * 1024 * 1024;

/**
 * Read the signature blob where the header reserve says it is (FORMATS.md §3.1). The declared
 * length is padded to a multiple of 8; the DER length inside the blob is the real one, and the
 * padding must be zeros (anything else would be unsigned data riding along). Returns null for
 * an unsigned cabinet.
 */
export function locateSignature(file: CabByteSource, header: CabHeader): Buffer | null {
  const reserve = header.authenticode;
  if (reserve === null) return null;
  if (reserve.problem !== null) throw new VerificationError('SIG_LOCATION_MISMATCH', reserve.problem);
  if (reserve.sigLen > MAX_SIGNATURE_BYTES) throw new VerificationError('SIG_LOCATION_MISMATCH', `signature length ${reserve.sigLen} is implausibly large`);
  const blob = file.read(reserve.sigPos, reserve.sigLen, 'signature');
  const top = readDer(blob);
  const padding = blob.subarray(top.end);
  if (padding.length >= 8 || padding.some((b) => b !== 0)) {
    throw new VerificationError('SIG_BAD_PADDING', `${padding.length} bytes follow the ${top.end}-byte signature; expected fewer than 8 zero bytes of padding`);
  }
  return blob.subarray(0, top.end);
}

/**
 * Header bytes no signature covers must hold what a signer writes (uncoveredHeaderFields): a
 * signed cabinet changed there is a file nobody signed, as a PE image with bytes after its
 * certificate table is (PE_CERT_TABLE_LOCATION).
 */
export function checkUncoveredHeaderBytes(file: CabByteSource, header: CabHeader): void {
  for (const { name, range } of uncoveredHeaderFields(header)) {
    const bytes = file.read(range[0], range[1] - range[0], name);
    if (bytes.some((b) => b !== 0)) {
      throw new VerificationError(
        'CAB_UNCOVERED_HEADER_BYTES',
        `${name} (offset ${range[0]}..${range[1]}) is ${bytes.toString('hex')}, not the zeros a signer writes; no signature covers these bytes, so the file is not the one that was signed`,
      );
    }
  }
}

/**
 * Everything about a cabinet's signatures that can be known before its bytes are hashed: the
 * hashed ranges and the digest algorithms. The importer uses this to run one FileDigester pass
 * that serves both the blob store and verification (DESIGN.md: one pass).
 */
export interface PreparedCabSignature {
  header: CabHeader;
  /** empty when there is nothing to hash for (unsigned, or the blob is unusable) */
  ranges: ByteRange[];
  algorithms: string[];
  slots: SignatureSlot[];
  /** set when the blob itself is unusable: the file is invalid whatever its bytes hash to */
  failure: VerificationError | null;
}

export function prepareCabSignature(file: CabByteSource, header: CabHeader = readCabHeader(file)): PreparedCabSignature {
  const prepared: PreparedCabSignature = { header, ranges: [], algorithms: [], slots: [], failure: null };
  try {
    const blob = locateSignature(file, header);
    if (blob === null) return prepared;
    checkUncoveredHeaderBytes(file, header);
    prepared.slots = collectSignatures(blob);
    prepared.algorithms = requiredDigestAlgorithms(prepared.slots);
    prepared.ranges = authenticodeDigestRanges(header);
  } catch (e) {
    if (!isVerificationError(e)) throw e;
    prepared.failure = e;
  }
  return prepared;
}

/** The verdict from a prepared signature and digests computed by the caller's pass over the file. */
export function verifyPreparedCab(file: string, prepared: PreparedCabSignature, digests: VerifyDigests, options: VerifyCabOptions): FileVerdict {
  const sha256 = digests.sha256 === null ? null : digests.sha256.toString('hex');
  if (prepared.failure !== null) {
    const f = prepared.failure;
    return { file, verdict: 'invalid', code: f.code, reason: f.message, sha256, signatures: [] };
  }
  if (prepared.slots.length === 0) {
    return { file, verdict: 'unsigned', code: null, reason: 'no Authenticode signature', sha256, signatures: [] };
  }
  const signatures = prepared.slots.map((slot, i) => verifyAuthenticodeSignature(slot, i, digests.authenticode, options));
  return { file, sha256, signatures, ...decideVerdict(signatures, options.requireSha2 === true) };
}

/**
 * Verify a cabinet (.cab or .msu) file: header → signature blob → one digest pass → each
 * signature. A file that is not a readable cabinet throws an input error (exit 3).
 */
export function verifyCab(path: string, options: VerifyCabOptions): FileVerdict {
  const file = RandomAccessFile.open(path);
  try {
    const prepared = prepareCabSignature(file);
    const digests = digestFileInParallel(file, prepared.ranges, prepared.algorithms, { fileSha256: options.fileSha256 === true });
    return verifyPreparedCab(path, prepared, digests, options);
  } finally {
    file.close();
  }
}

/**
 * File policy: every signature present must verify (a tampered nested signature is not
 * excused by a good primary one); any invalid one makes the file invalid, else any untrusted
 * one makes it untrusted; with requireSha2, at least one valid SHA-2 signature is needed.
 */
export function decideVerdict(signatures: SignatureReport[], requireSha2: boolean): Pick<FileVerdict, 'verdict' | 'code' | 'reason'> {
  const failed = signatures.filter((s) => !s.valid);
  const invalid = failed.find((s) => s.code === null || !(s.code in VerificationCodes) || VerificationCodes[s.code as keyof typeof VerificationCodes] === 'invalid');
  const worst = invalid ?? failed[0];
  if (worst !== undefined) {
    const which = worst.nested ? `nested signature #${worst.index}` : 'primary signature';
    return { verdict: invalid ? 'invalid' : 'untrusted', code: worst.code, reason: `${which} (${worst.digestAlgorithm ?? 'unknown digest'}): ${worst.reason}` };
  }
  if (requireSha2 && !signatures.some(isSha2Signature)) {
    return { verdict: 'invalid', code: 'SIG_SHA1_ONLY', reason: 'every valid signature uses SHA-1, and SHA-2 is required' };
  }
  const algs = signatures.map((s) => s.digestAlgorithm).join(' + ');
  return { verdict: 'valid', code: null, reason: `${signatures.length} valid signature${signatures.length === 1 ? '' : 's'} (${algs})` };
}
