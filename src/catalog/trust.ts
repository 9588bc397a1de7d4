import * as path from 'node:path';
import { loadTrustAnchors, type TrustAnchor } from '../authenticode/trust';
import { usageError } from '../errors';
import type { Catalog } from './catalog';
import type { TrustAnchorRecord } from './types';

/**
 * The catalog's trust set (`cabferry trust add/list/remove`). Certificates are parsed by the
 * Authenticode module's loader, so what the catalog stores is exactly what verification accepts.
 */

export function trustAnchorRecord(anchor: TrustAnchor, addedAt = new Date()): TrustAnchorRecord {
  const c = anchor.certificate;
  return {
    fingerprint: c.sha256Fingerprint.toLowerCase().replace(/[^0-9a-f]/g, ''),
    subject: c.subject,
    issuer: c.issuer,
    notBefore: c.notBefore.toISOString(),
    notAfter: c.notAfter.toISOString(),
    source: path.resolve(anchor.source),
    addedAt: addedAt.toISOString(),
    der: c.der,
  };
}

export interface AddedAnchor {
  anchor: TrustAnchorRecord;
  /** false when the catalog already trusted this certificate */
  added: boolean;
  /**
   * The certificate does not say it is a CA (no basicConstraints cA=TRUE): trusting a leaf as an
   * anchor trusts exactly what it signed. Accepted (old Microsoft roots lack the extension), but
   * said: a warning the CLI prints.
   */
  notCa: boolean;
}

export function addTrustAnchorFiles(catalog: Catalog, paths: string[]): AddedAnchor[] {
  if (paths.length === 0) throw usageError('TRUST_NO_FILES', 'name at least one certificate file or directory');
  const anchors = loadTrustAnchors(paths);
  const records = anchors.map((a) => trustAnchorRecord(a));
  const added = catalog.addTrustAnchors(records);
  return records.map((anchor, i) => ({ anchor, added: added.get(anchor.fingerprint) ?? false, notCa: anchors[i]!.certificate.basicConstraints?.ca !== true }));
}

/**
 * The anchors a command verifies against: those named with --trust when any, else the
 * catalog's configured set. Never empty: verifying against nothing would reject everything
 * for a reason the operator would not guess.
 */
export function resolveTrust(catalog: Catalog, trustPaths: string[] | undefined): TrustAnchor[] {
  if (trustPaths !== undefined && trustPaths.length > 0) return loadTrustAnchors(trustPaths);
  const anchors = catalog.trustAnchors();
  if (anchors.length === 0) {
    throw usageError('NO_TRUST_ANCHORS', `no trust anchors: pass --trust FILE|DIR, or add some to the catalog with \`cabferry trust add FILE\` (catalog ${catalog.dir})`);
  }
  return anchors;
}
