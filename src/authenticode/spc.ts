import { children, expectChildren, readOctets, readOid, Tag, value, type Der } from './der';
import { VerificationError } from './errors';
import { digestAlgorithmName, Oid } from './oids';
import { singleAttribute, type SignerInfo } from './signed-data';

/**
 * SpcIndirectDataContent: what an Authenticode signature actually signs — the digest of the
 * file (§3.2) and its algorithm.
 *   SpcIndirectDataContent ::= SEQUENCE { data SpcAttributeTypeAndOptionalValue, messageDigest DigestInfo }
 * The `data` part (SPC_CAB_DATA_OBJID with an obsolete link, or whatever a signing tool wrote)
 * carries nothing verifiable for a cabinet and is only reported.
 */
export interface SpcIndirectData {
  dataType: string;
  /** the optional value of `data` (for a PE: SpcPeImageData, which may carry page hashes) */
  dataValue: Der | null;
  digestAlgorithm: string;
  digest: Buffer;
}

export function parseSpcIndirectData(content: Der): SpcIndirectData {
  const [data, digestInfo] = expectChildren(content, Tag.sequence, 'SpcIndirectDataContent', 2);
  const dataParts = expectChildren(data, Tag.sequence, 'SpcAttributeTypeAndOptionalValue', 1);
  const dataType = readOid(dataParts[0], 'SpcIndirectDataContent.data.type');
  const [algId, digest] = expectChildren(digestInfo, Tag.sequence, 'DigestInfo', 2);
  const digestAlgorithm = digestAlgorithmName(readOid(expectChildren(algId, Tag.sequence, 'DigestInfo.digestAlgorithm', 1)[0], 'digestAlgorithm'));
  return { dataType, dataValue: dataParts[1] ?? null, digestAlgorithm, digest: readOctets(digest, 'DigestInfo.digest') };
}

/** The stored file digest must equal the one computed over the §3.2 ranges. */
export function checkFileDigest(spc: SpcIndirectData, computed: Map<string, Buffer>): void {
  const actual = computed.get(spc.digestAlgorithm);
  if (actual === undefined) {
    throw new VerificationError('SIG_UNSUPPORTED_ALGORITHM', `no ${spc.digestAlgorithm} digest of the file was computed`);
  }
  if (!actual.equals(spc.digest)) {
    throw new VerificationError(
      'SIG_DIGEST_MISMATCH',
      `the file's ${spc.digestAlgorithm} digest ${actual.toString('hex')} does not match the signed digest ${spc.digest.toString('hex')}: the file was modified after signing`,
    );
  }
}

/**
 * SpcSpOpusInfo.programName, the description a signer gives ("Windows7 Hotfix MSU Package").
 * Informational only; a malformed one is ignored rather than failing the signature.
 */
export function programName(si: SignerInfo): string | null {
  try {
    const opus = singleAttribute(si.authenticated, Oid.spcSpOpusInfo, 'SpcSpOpusInfo');
    if (opus === null) return null;
    const name = children(opus).find((d) => d.tag === Tag.context(0));
    if (name === undefined) return null;
    const [str] = children(name);
    if (str === undefined) return null;
    const bytes = value(str);
    if (str.tag === Tag.contextPrimitive(0)) {
      const swapped = Buffer.from(bytes.subarray(0, bytes.length & ~1));
      swapped.swap16();
      return swapped.toString('utf16le');
    }
    return bytes.toString('latin1');
  } catch {
    return null;
  }
}
