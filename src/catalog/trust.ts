import path = require('node:path');
import { loadTrustAnchors, trustAnchorsFromDer, type TrustAnchor } from '../authenticode/trust';
import { usageError } from '../errors';
import type { Catalog } from './catalog';
import type { TrustAnchorRecord } from './types';
import { isoTime } from '../iso-time';

/**
 * The catalog's trust set (`cabferry trust add/list/remove`). Certificates are parsed by the
 * Authenticode module's loader, so what the catalog stores is exactly what verification accepts.
 * Each anchor serves the purposes it was added for (TrustPurpose, below): payload anchors
 * vouch for updates, signature anchors for cabferry's own signed documents, and neither stands in
 * for the other.
 */

/**
 * What a catalog anchor vouches for. `payloads`: Authenticode-signed update payloads (import,
 * verify, live trust). `signatures`: cabferry's own signed documents (a transfer bundle's manifest,
 * a medium's manifest, the check that a --sign-cert chains to the catalog). An anchor serves the
 * purposes it was added for and no other (schema 5).
 */
export type TrustPurpose = 'payloads' | 'signatures';
/** In the order they are listed everywhere. */
export const TRUST_PURPOSES: readonly TrustPurpose[] = ['payloads', 'signatures'];

/** Catalog anchor records as anchors a verifier takes. */
export function trustAnchorsOf(records: TrustAnchorRecord[]): TrustAnchor[] {
  return records.flatMap((r) => trustAnchorsFromDer([r.der], `catalog trust anchor ${r.fingerprint.slice(0, 16)} (from ${r.source})`));
}

export function trustAnchorRecord(anchor: TrustAnchor, addedAt = new Date()): Omit<TrustAnchorRecord, 'purposes'> {
  const c = anchor.certificate;
  return {
    fingerprint: c.sha256Fingerprint.toLowerCase().replace(/[^0-9a-f]/g, ''),
    subject: c.subject,
    issuer: c.issuer,
    notBefore: isoTime(c.notBefore),
    notAfter: isoTime(c.notAfter),
    source: path.resolve(anchor.source),
    addedAt: isoTime(addedAt),
    der: c.der,
  };
}

/** `--for payloads|signatures|both` of `trust add` and `trust remove`. */
export function parsePurposeOption(value: string): TrustPurpose[] {
  if (value === 'both') return [...TRUST_PURPOSES];
  if (value === 'payloads' || value === 'signatures') return [value];
  throw usageError('BAD_TRUST_PURPOSE', `--for ${JSON.stringify(value)}: say payloads (update payloads' Authenticode signatures), signatures (cabferry's signed bundles and media) or both`);
}

export interface AddedAnchor {
  /** the anchor as it is now, with every purpose it serves */
  anchor: TrustAnchorRecord;
  /** false when the catalog already trusted this certificate */
  added: boolean;
  /** the purposes it gained (empty: it already served every one asked for) */
  gained: TrustPurpose[];
  /**
   * The certificate does not say it is a CA (no basicConstraints cA=TRUE): trusting a leaf as an
   * anchor trusts exactly what it signed. Accepted (old Microsoft roots lack the extension), but
   * said: a warning the CLI prints.
   */
  notCa: boolean;
}

export function addTrustAnchorFiles(catalog: Catalog, paths: string[], purposes: readonly TrustPurpose[]): AddedAnchor[] {
  if (paths.length === 0) throw usageError('TRUST_NO_FILES', 'name at least one certificate file or directory');
  const anchors = loadTrustAnchors(paths);
  const records = anchors.map((a) => trustAnchorRecord(a));
  const added = catalog.addTrustAnchors(records, purposes);
  const now = new Map(catalog.trustAnchorRecords().map((r) => [r.fingerprint, r]));
  return records.map((record, i) => {
    const outcome = added.get(record.fingerprint) ?? { added: false, gained: [] };
    return { anchor: now.get(record.fingerprint)!, added: outcome.added, gained: outcome.gained, notCa: anchors[i]!.certificate.basicConstraints?.ca !== true };
  });
}

/** The code of the warning for an anchor that serves both purposes (trust list, catalog check). */
export const BOTH_PURPOSES = 'TRUST_ANCHOR_BOTH_PURPOSES';

/** Whether an anchor serves both purposes: a warning with its remedy (trust add, trust list, catalog check). */
export function servesBoth(r: TrustAnchorRecord): boolean {
  return TRUST_PURPOSES.every((p) => r.purposes.includes(p));
}

/** The warning for an anchor that serves both purposes: what it allows, and how to narrow it. */
export function bothPurposesWarning(r: TrustAnchorRecord): string {
  return (
    `${r.subject} (${r.fingerprint.slice(0, 16)}…) is trusted for payloads and signatures: anything Authenticode-signed under it passes as an update, and it vouches for bundles and media too. ` +
    `Keep only what it is for: \`cabferry trust remove ${r.fingerprint.slice(0, 16)} --for signatures\` (an update root) or \`--for payloads\` (the root of your bundle and media signers)`
  );
}

/**
 * The payload anchors a command verifies updates against: those named with --trust when any,
 * else the catalog's anchors trusted for payloads. Never empty: verifying against nothing would
 * reject everything for a reason the operator would not guess.
 */
export function resolveTrust(catalog: Catalog, trustPaths: string[] | undefined): TrustAnchor[] {
  if (trustPaths !== undefined && trustPaths.length > 0) return loadTrustAnchors(trustPaths);
  const anchors = catalog.trustAnchors('payloads');
  if (anchors.length === 0) {
    const any = catalog.trustAnchorRecords().length > 0;
    throw usageError(
      'NO_TRUST_ANCHORS',
      any
        ? `no anchor of the catalog is trusted for payloads (its anchors are for signatures only): pass --trust FILE|DIR, or \`cabferry trust add --for payloads FILE\` (catalog ${catalog.dir})`
        : `no trust anchors: pass --trust FILE|DIR, or add some to the catalog with \`cabferry trust add FILE\` (catalog ${catalog.dir})`,
    );
  }
  return anchors;
}

/**
 * The catalog's anchors trusted for signatures only, passed beside the payload anchors an update
 * is verified against (TrustOptions.signaturesOnly): never accepted, so that an update whose
 * signer chains to one is refused saying so (CHAIN_ANCHOR_SIGNATURES_ONLY) rather than as a bare
 * "no chain" — the mirror of SignatureTrust.payloadsOnly below.
 */
export function catalogSignaturesOnlyAnchors(catalog: Catalog): TrustAnchor[] {
  return trustAnchorsOf(catalog.trustAnchorRecords().filter((r) => !r.purposes.includes('payloads')));
}

/**
 * What a cabferry signature (a transfer bundle's manifest, a medium's manifest, a --sign-cert) is
 * checked against: the anchors trusted for signatures. Beside them, never accepted, the catalog's
 * anchors trusted for payloads only, so that a signer chaining to one of those is refused saying
 * so (SIGNER_ANCHOR_PAYLOADS_ONLY) rather than as a bare "no chain".
 */
export interface SignatureTrust {
  anchors: TrustAnchor[];
  payloadsOnly: TrustAnchor[];
}

/** The catalog's SignatureTrust. */
export function catalogSignatureTrust(catalog: Catalog): SignatureTrust {
  const records = catalog.trustAnchorRecords();
  return {
    anchors: trustAnchorsOf(records.filter((r) => r.purposes.includes('signatures'))),
    payloadsOnly: trustAnchorsOf(records.filter((r) => !r.purposes.includes('signatures'))),
  };
}
