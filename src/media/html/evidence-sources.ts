import { certificatesFromFileBytes, parseCertificate } from '../../authenticode/certificate';
import type { Catalog } from '../../catalog/catalog';
import { usageError } from '../../errors';
import type { SigningMaterial } from '../manifest';
import type { ManifestSigner, PayloadEvidence } from './evidence-pack';
import { isoTime } from '../../iso-time';

/** The catalog's records of a payload, for the evidence pack: its row and the stored verdict. */
export function catalogEvidence(catalog: Catalog): (sha256: string) => PayloadEvidence | null {
  return (sha256) => {
    const entry = catalog.entry(sha256);
    return entry === null ? null : { entry, verdict: catalog.importVerdict(sha256) };
  };
}

/** Who signs manifest.json, read from the certificate file the operator gave (leaf first). */
export function manifestSignerOf(material: SigningMaterial): ManifestSigner {
  const ders = certificatesFromFileBytes(Buffer.from(material.certPem, 'utf8'));
  if (ders.length === 0) throw usageError('MEDIA_SIGN_CERT_UNREADABLE', 'the signing certificate file holds no certificate');
  const certs = ders.map((d) => parseCertificate(d));
  const leaf = certs[0];
  return {
    subject: leaf.subject,
    issuer: leaf.issuer,
    sha256Fingerprint: leaf.sha256Fingerprint,
    notBefore: isoTime(leaf.notBefore),
    notAfter: isoTime(leaf.notAfter),
    chain: certs.map((c) => ({ subject: c.subject, sha256Fingerprint: c.sha256Fingerprint })),
  };
}
