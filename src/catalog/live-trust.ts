import type { FileVerdict } from '../authenticode/cab';
import type { TrustAnchor } from '../authenticode/trust';
import { verifyTrustOfVerifiedFile } from '../authenticode/verify-file';
import { RandomAccessFile } from '../io/random-access-file';
import type { Catalog } from './catalog';

/**
 * Trust is live: a payload imported because its signatures chained to an anchor the catalog
 * trusted stays offered only while it chains to an anchor trusted now. After `trust remove`,
 * `catalog check` reports the payloads that chained to the removed anchor and chain to no other
 * ("untrusted since the anchor was removed"), and `stage` refuses them; `trust add` of the same
 * anchor makes them fine again. Payloads imported with a one-off `--trust` the catalog never held
 * are not judged against the catalog's set: the catalog neither vouched for them nor revoked them.
 */

/** The trust a catalog holds now: passed in by the caller, never read from anywhere global. */
export interface LiveTrust {
  anchors: TrustAnchor[];
  /** anchors removed from the trust set (and not added back), by SHA-256 fingerprint */
  removed: Map<string, { subject: string; removedAt: string }>;
}

export interface RemovedAnchor {
  fingerprint: string;
  subject: string;
  removedAt: string;
}

export interface UntrustedPayload {
  sha256: string;
  kb: string | null;
  /** the name it first arrived under */
  fileName: string;
  /** the anchors its signatures chained to when it was imported, removed since */
  removedAnchors: RemovedAnchor[];
  /** the verification code of the step that fails now (CHAIN_UNTRUSTED, …) */
  code: string | null;
  reason: string;
}

/** The catalog's own trust set and removals. */
export function catalogTrust(catalog: Catalog): LiveTrust {
  return { anchors: catalog.trustAnchors(), removed: catalog.removedTrustAnchors() };
}

/**
 * The imported payloads (all, or those with the given SHA-256s) that chained to a removed anchor
 * when they were imported and no longer verify against `trust.anchors`. Only those are re-judged
 * (headers and signature blobs, no pass over the bytes). A payload whose blob is missing is left
 * to `catalog check` (missing-blob) and to stage's copy, which refuse it for that reason.
 */
export function untrustedPayloads(catalog: Catalog, trust: LiveTrust, sha256s?: Iterable<string>): UntrustedPayload[] {
  if (trust.removed.size === 0) return [];
  const wanted = sha256s === undefined ? null : new Set(sha256s);
  const untrusted: UntrustedPayload[] = [];
  for (const entry of catalog.entries({}, 'imported')) {
    if (wanted !== null && !wanted.has(entry.sha256)) continue;
    const imported = catalog.importVerdict(entry.sha256);
    if (imported === null) continue; // no evidence of what it chained to
    const removedAnchors = anchorsReliedOn(imported)
      .filter((fingerprint) => trust.removed.has(fingerprint))
      .map((fingerprint) => ({ fingerprint, ...trust.removed.get(fingerprint)! }));
    if (removedAnchors.length === 0) continue;
    const now = trustVerdictOf(catalog, entry.sha256, imported, trust.anchors);
    if (now === null || now.verdict === 'valid') continue;
    untrusted.push({ sha256: entry.sha256, kb: entry.payload?.kb ?? null, fileName: entry.fileName, removedAnchors, code: now.code, reason: now.reason });
  }
  return untrusted;
}

/** Fingerprints of the anchors the import's chains (signers' and timestamp authorities') ended in. */
function anchorsReliedOn(verdict: FileVerdict): string[] {
  const chains = verdict.signatures.flatMap((s) => [s.chain, s.timestamp?.chain ?? []]);
  return [...new Set(chains.flat().filter((link) => link.trustAnchor).map((link) => link.sha256))];
}

/** The payload's signatures against `anchors`, each chain at the time the import checked it; null without a blob. */
function trustVerdictOf(catalog: Catalog, sha256: string, imported: FileVerdict, anchors: TrustAnchor[]): FileVerdict | null {
  let blob: RandomAccessFile;
  try {
    blob = RandomAccessFile.open(catalog.blobPath(sha256));
  } catch {
    return null;
  }
  try {
    const checkedAt = (index: number): Date | undefined => {
      const at = imported.signatures.find((s) => s.index === index)?.verifiedAt ?? null;
      return at === null ? undefined : new Date(at);
    };
    return verifyTrustOfVerifiedFile(sha256, blob, { trust: anchors, checkedAt });
  } finally {
    blob.close();
  }
}

/** "untrusted since the anchor … was removed (date)": the one line check and stage print. */
export function untrustedSince(p: UntrustedPayload): string {
  const anchors = p.removedAnchors.map((a) => `"${a.subject}" (${a.fingerprint.slice(0, 16)}…, removed ${a.removedAt})`).join(', ');
  return `untrusted since the anchor was removed: it chained to ${anchors} and chains to no anchor trusted now (${p.reason})`;
}
