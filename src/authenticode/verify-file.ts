import type { CabByteSource } from '../cab/byte-source';
import { RandomAccessFile } from '../io/random-access-file';
import { hasDosSignature } from '../pe/header';
import { decideVerdict, prepareCabSignature, verifyCab, verifyPreparedCab, type FileVerdict, type PreparedCabSignature, type VerifyCabOptions } from './cab';
import type { VerifyDigests } from './parallel-digest';
import { preparePeSignature, verifyPe, verifyPreparedPe, type PreparedPeSignature } from './pe';
import { verifySignatureTrust } from './signature';
import type { TrustAnchor } from './trust';

export type SignedContainer = 'pe' | 'cab';

/**
 * Which container a file is, by its first bytes: "MZ" is a PE image, anything else is read as a
 * cabinet (whose reader names what it found instead of "MSCF"). Never by the file name: an .exe
 * that is really a cabinet, or the reverse, is verified as what it is.
 */
export function containerOf(first: Buffer): SignedContainer {
  return hasDosSignature(first) ? 'pe' : 'cab';
}

export function signedContainerOf(path: string): SignedContainer {
  const file = RandomAccessFile.open(path);
  try {
    return containerOf(file.readUpTo(0, 2));
  } finally {
    file.close();
  }
}

/** `cabferry verify` for one file of either kind; `deep` opens up an .msu's inner cabinets (PE images have none to open). */
export function verifySignedFile(path: string, options: VerifyCabOptions, deep = false): FileVerdict {
  if (signedContainerOf(path) === 'pe') return verifyPe(path, options);
  return deep ? loadVerifyCabDeep()(path, options) : verifyCab(path, options);
}

/**
 * --deep needs the cabinet reader and every codec; plain verification reads only the header and
 * the signature. Required on demand, so that `cabferry verify` of one file starts as fast as it can.
 */
function loadVerifyCabDeep(): typeof import('./deep').verifyCabDeep {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('./deep') as typeof import('./deep')).verifyCabDeep;
}

/**
 * A file's signature layout of either container, for callers that run their own digest pass
 * (the importer, inspect): `ranges` and `algorithms` are what that pass must hash.
 */
export type PreparedSignature = ({ container: 'cab' } & PreparedCabSignature) | ({ container: 'pe' } & PreparedPeSignature);

/** Read the container's headers and signature blobs; throws the reader's input error for a file that is neither. */
export function prepareSignature(file: CabByteSource): PreparedSignature {
  if (containerOf(file.readUpTo(0, 2)) === 'pe') return { container: 'pe', ...preparePeSignature(file) };
  return { container: 'cab', ...prepareCabSignature(file) };
}

/** The verdict from a prepared signature and the digests of the caller's pass over `source` (the same bytes). */
export function verifyPreparedSignature(label: string, source: CabByteSource, prepared: PreparedSignature, digests: VerifyDigests, options: VerifyCabOptions): FileVerdict {
  return prepared.container === 'pe' ? verifyPreparedPe(label, source, prepared, digests, options) : verifyPreparedCab(label, prepared, digests, options);
}

/**
 * The trust of a file verified before (a catalog blob: its digests were checked when it was
 * imported, and its SHA-256 proves the bytes are the same), judged against the anchors given now.
 * Only headers and signature blobs are read. Each chain is built at the time it was checked then
 * (`checkedAt`, by signature index; a verified timestamp still decides for itself), so the verdict
 * changes only with the trust: an anchor removed makes it untrusted, added back makes it valid.
 */
export function verifyTrustOfVerifiedFile(label: string, source: CabByteSource, options: { trust: TrustAnchor[]; checkedAt: (index: number) => Date | undefined }): FileVerdict {
  const prepared = prepareSignature(source);
  if (prepared.failure !== null) return { file: label, verdict: 'invalid', code: prepared.failure.code, reason: prepared.failure.message, sha256: null, signatures: [] };
  const slots = prepared.container === 'pe' ? prepared.slots.map((s) => s.slot) : prepared.slots;
  if (slots.length === 0) return { file: label, verdict: 'unsigned', code: null, reason: 'no Authenticode signature', sha256: null, signatures: [] };
  const signatures = slots.map((slot, i) => verifySignatureTrust(slot, i, { trust: options.trust, at: options.checkedAt(i) }));
  return { file: label, sha256: null, signatures, ...decideVerdict(signatures, false) };
}
