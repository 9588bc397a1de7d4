/**
 * TEST-ONLY writer of signed Windows catalogs (`update.cat`), built byte by byte like the real
 * ones in ../shared/corpus (ms-signed/kb2999226-inner/…/Windows6.0-KB2999226-x64.cab):
 *
 *   ContentInfo { signedData, [0] SignedData { version 1, digestAlgorithms,
 *     contentInfo { 1.3.6.1.4.1.311.10.1 (szOID_CTL), [0] EXPLICIT CertificateTrustList },   -- PKCS#7 style:
 *                                                   the CTL SEQUENCE itself, not wrapped in an OCTET STRING
 *     certificates [0] IMPLICIT, signerInfos { SignerInfo } } }
 *
 * CertificateTrustList { subjectUsage SEQ { 1.3.6.1.4.1.311.12.1.1 }, listIdentifier OCTET(16),
 *   thisUpdate UTCTime, subjectAlgorithm { 1.3.6.1.4.1.311.12.1.2, NULL },
 *   trustedSubjects SEQ OF { subjectIdentifier OCTET STRING = UTF-16LE upper-case hex of the member hash + NUL,
 *                            attributes SET OF { SPC_INDIRECT_DATA (SpcIndirectDataContent: 1.3.6.1.4.1.311.2.1.25
 *                                                 + DigestInfo of the file), CAT_MEMBERINFO { subject GUID, 512 },
 *                                                 CAT_NAMEVALUE "File" = name (as the real sub-package catalogs do) } },
 *   [0] EXPLICIT extensions { CAT_NAMEVALUE "OSAttr" = "2:6.0" } }
 *
 * As in Authenticode, the messageDigest attribute is the hash of the CTL SEQUENCE's *value* bytes
 * (without its tag and length) — checked against the real update.cat, whose digest matches only that way.
 * The signer info carries contentType = szOID_CTL, SpcStatementType, messageDigest and SpcSpOpusInfo, and
 * optionally a legacy PKCS#9 countersignature (1.2.840.113549.1.9.6) from the TSA, as the real one does.
 * Signatures use node:crypto; the result is confirmed by `osslsigncode verify` (which accepts the real catalogs).
 */
import * as crypto from 'node:crypto';
import {
  algorithmId, attribute, buildSignerInfo, der, legacyCountersignature, Pkcs7Oid, readTlv, tlv,
  type SignerDigest, type SigningIdentity,
} from './authenticode-sign-der';

export type CatalogDigest = 'sha1' | 'sha256';

const CatalogOid = {
  ctl: '1.3.6.1.4.1.311.10.1',
  catalogList: '1.3.6.1.4.1.311.12.1.1',
  catalogListMember: '1.3.6.1.4.1.311.12.1.2',
  catNameValue: '1.3.6.1.4.1.311.12.2.1',
  catMemberInfo: '1.3.6.1.4.1.311.12.2.2',
  spcIndirectData: '1.3.6.1.4.1.311.2.1.4',
  spcCabData: '1.3.6.1.4.1.311.2.1.25',
  spcStatementType: '1.3.6.1.4.1.311.2.1.11',
  spcIndividualSpKeyPurpose: '1.3.6.1.4.1.311.2.1.21',
  spcSpOpusInfo: '1.3.6.1.4.1.311.2.1.12',
} as const;
const OID = { ...Pkcs7Oid, ...CatalogOid };

/** Subject GUID the real catalogs give every flat-file member (CAT_MEMBERINFO). */
const FLAT_FILE_SUBJECT_GUID = '{DE351A42-8E59-11D0-8C47-00C04FC295EE}';
const CAT_MEMBERINFO_VERSION = 512;
/** CRYPTCAT_ATTR_NAMEASCII | CRYPTCAT_ATTR_DATAASCII as in the real "File" and "OSAttr" name/values */
const CAT_NAMEVALUE_FLAGS = 0x10001;

const utf16z = (s: string) => Buffer.from(s + '\0', 'utf16le');
const nameValue = (name: string, value: string) => der.seq(der.bmp(name), der.int(CAT_NAMEVALUE_FLAGS), der.octet(utf16z(value)));

// ---------------------------------------------------------------- the CTL

export interface CatalogMember {
  /** file name as it appears in the package (the "File" name/value) */
  name: string;
  data: Buffer;
}

export interface CatalogContent {
  /** 16 bytes; real catalogs use a random GUID, fixtures derive it from the package so it is reproducible */
  listIdentifier: Buffer;
  thisUpdate: Date;
  digest: CatalogDigest;
  members: CatalogMember[];
  /** CAT_NAMEVALUE "OSAttr" of the whole catalog, e.g. "2:6.0" */
  osAttr: string;
}

export function buildCatalogCtl(content: CatalogContent): Buffer {
  if (content.listIdentifier.length !== 16) throw new Error('catalog listIdentifier must be 16 bytes');
  const entries = content.members.map((m) => {
    const hash = crypto.createHash(content.digest).update(m.data).digest();
    const indirectData = der.seq(
      der.seq(der.oid(OID.spcCabData), tlv(0xa2, der.implicitPrim(0, Buffer.from('<<<Obsolete>>>', 'utf16le').swap16()))),
      der.seq(algorithmId(content.digest), der.octet(hash)),
    );
    const tag = hash.toString('hex').toUpperCase();
    return {
      tag,
      der: der.seq(
        der.octet(utf16z(tag)),
        der.set(
          attribute(OID.spcIndirectData, indirectData),
          attribute(OID.catMemberInfo, der.seq(der.bmp(FLAT_FILE_SUBJECT_GUID), der.int(CAT_MEMBERINFO_VERSION))),
          attribute(OID.catNameValue, nameValue('File', m.name)),
        ),
      ),
    };
  });
  entries.sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
  return der.seq(
    der.seq(der.oid(OID.catalogList)),
    der.octet(content.listIdentifier),
    der.utcTime(content.thisUpdate),
    der.seq(der.oid(OID.catalogListMember), der.null()),
    der.seq(...entries.map((e) => e.der)),
    der.explicit(0, der.seq(der.seq(der.oid(OID.catNameValue), der.octet(nameValue('OSAttr', content.osAttr))))),
  );
}

export interface CatalogSignOptions {
  signer: SigningIdentity;
  digest: SignerDigest;
  /** SpcSpOpusInfo programName */
  description?: string;
  /** legacy PKCS#9 countersignature by this TSA at this time (what the real update.cat carries) */
  countersignature?: { tsa: SigningIdentity; time: Date; digest: SignerDigest };
}

/** Sign a CTL (from buildCatalogCtl) into a complete DER `.cat` file. */
export function signCatalog(ctl: Buffer, options: CatalogSignOptions): Buffer {
  const ctlTlv = readTlv(ctl, 0);
  if (ctlTlv.tag !== 0x30 || ctlTlv.end !== ctl.length) throw new Error('signCatalog: the CTL must be one DER SEQUENCE');
  const contentDigest = crypto.createHash(options.digest).update(ctl.subarray(ctlTlv.headerLength)).digest();
  const opus = der.seq(...(options.description === undefined ? [] : [der.explicit(0, der.implicitPrim(0, Buffer.from(options.description, 'utf16le').swap16()))]));
  const authAttrs = [
    attribute(OID.contentType, der.oid(OID.ctl)),
    attribute(OID.spcStatementType, der.seq(der.oid(OID.spcIndividualSpKeyPurpose))),
    attribute(OID.messageDigest, der.octet(contentDigest)),
    attribute(OID.spcSpOpusInfo, opus),
  ];

  const primary = buildSignerInfo(options.signer, options.digest, authAttrs);
  const certificates = [...options.signer.chain];
  const unauthAttrs: Buffer[] = [];
  if (options.countersignature !== undefined) {
    const cs = options.countersignature;
    unauthAttrs.push(legacyCountersignature(cs.tsa, cs.digest, cs.time, primary.signature));
    for (const c of cs.tsa.chain) if (!certificates.some((x) => x.equals(c))) certificates.push(c);
  }

  const signedData = der.seq(
    der.int(1),
    der.set(algorithmId(options.digest)),
    der.seq(der.oid(OID.ctl), der.explicit(0, ctl)),
    tlv(0xa0, ...certificates),
    der.set(primary.encode(unauthAttrs)),
  );
  return der.seq(der.oid(OID.signedData), der.explicit(0, signedData));
}
