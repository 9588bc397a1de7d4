/**
 * Authenticode verification for cabinets, PE images (./pe) and plain PKCS#7 SignedData (Windows catalogs).
 *
 * Data flow of one file: readCabHeader → locateSignature → collectSignatures (primary + nested)
 * → authenticodeDigestRanges + FileDigester (one pass, every algorithm) → per signature:
 * checkFileDigest → checkContentType → checkMessageDigest → findSignerCertificate →
 * verifySignerSignature → verifyTimestamp → buildChain → decideVerdict.
 */
export { loadTrustAnchors, trustAnchorsFromDer, type TrustAnchor } from './trust';
export { authenticodeDigestRanges, FileDigester, RangeHasher, digestFile, type ByteRange, type FileDigests } from './digest';
export { digestFileInParallel, type VerifyDigests } from './parallel-digest';
export {
  verifyCab,
  prepareCabSignature,
  verifyPreparedCab,
  locateSignature,
  decideVerdict,
  type FileVerdict,
  type Verdict,
  type VerifyCabOptions,
  type PreparedCabSignature,
} from './cab';
export { deepVerdict, innerCabinetMembers, verifyCabDeep, verifyInnerCabinet, verifyInnerCabinets } from './deep';
export { verifyPe, preparePeSignature, verifyPreparedPe, readCertificateTable, peDigestRanges, type PreparedPeSignature, type WinCertificate } from './pe';
export { verifySignedFile, signedContainerOf, containerOf, prepareSignature, verifyPreparedSignature, type SignedContainer, type PreparedSignature } from './verify-file';
export {
  verifySignedData,
  type SignedDataOptions,
  type SignedDataResult,
  type SignatureReport,
  type TimestampReport,
  type ChainEntry,
  type TrustOptions,
} from './signature';
export { VerificationError, VerificationCodes, type VerificationCode } from './errors';
export { Oid } from './oids';
