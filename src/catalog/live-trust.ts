import type { FileVerdict } from '../authenticode/cab';
import { trustAnchorsFromDer, type TrustAnchor } from '../authenticode/trust';
import { describeIoError, isCabferryError } from '../errors';
import { RandomAccessFile } from '../io/random-access-file';
import type { Catalog, RemovedTrustAnchor } from './catalog';
import type { AnchorRef, Distrust } from './distrust';

export { describeDistrust, distrustRemedy, distrustReport, type AnchorRef, type Distrust, type DistrustKind, type DistrustReport } from './distrust';

/**
 * Trust is live. One question, answered here for every payload a command is about to offer or
 * report: does it chain, now, to an anchor the caller trusts (the catalog's trust set)? A payload
 * imported because it chained to an anchor is offered only while it chains to one trusted now:
 * after `trust remove` it is "untrusted since the anchor was removed" (`trust add` of the anchor
 * makes it fine again); imported with a one-off `import --trust` anchor the catalog does not hold,
 * it is not offered until that anchor is added to the trust set; imported with an anchor the catalog
 * holds for signatures only, it is not offered either, and is said to be so (the anchor is held, for
 * another purpose); with no stored import verdict it
 * is judged from its signatures all the same (and, when they chain to an anchor `trust remove`
 * took out, "untrusted since the anchor was removed" too: the catalog keeps removed anchors'
 * certificates); without its blob nothing proves it.
 *
 * Each payload is judged at most once per judge: `plan` and `stage` judge the payloads their plans
 * would install, `catalog check` every imported one. A payload whose stored import verdict is
 * valid with every chain ending in an anchor still held needs no more than that record and its
 * blob's presence (the verification is the same, at the same times, against the same anchor);
 * every other one is judged again from its blob: only headers and signature blobs are read (the
 * bytes were digested when it was imported and its SHA-256 names them).
 * The answer is data (./distrust.ts Distrust, which also words it).
 */

/** The trust the caller holds now: passed in, never read from anywhere global. */
export interface LiveTrust {
  /** SHA-256 fingerprints (lowercase hex) of the anchors trusted for payloads now: the catalog's payload anchors */
  held: ReadonlySet<string>;
  /** those anchors as certificates: parsed only when a payload must be judged from its signatures */
  anchors: () => TrustAnchor[];
  /** anchors whose payload purpose was taken away (and not given back), by SHA-256 fingerprint, with their certificates where kept */
  removed: Map<string, RemovedTrustAnchor>;
  /** SHA-256 fingerprints of the anchors trusted for signatures only: held, but vouching for no payload */
  signaturesOnly: ReadonlySet<string>;
}

/**
 * The catalog's own trust for payloads and its removals. Only anchors trusted for payloads count:
 * one trusted for signatures only (a bundle or media signer's root) vouches for no update.
 */
export function catalogTrust(catalog: Catalog): LiveTrust {
  let anchors: TrustAnchor[] | undefined;
  const records = catalog.trustAnchorRecords();
  return {
    held: new Set(records.filter((r) => r.purposes.includes('payloads')).map((r) => r.fingerprint)),
    anchors: () => (anchors ??= catalog.trustAnchors('payloads')),
    removed: catalog.removedTrustAnchors(),
    signaturesOnly: new Set(records.filter((r) => !r.purposes.includes('payloads')).map((r) => r.fingerprint)),
  };
}

/**
 * Judges payloads of one catalog against one LiveTrust, each at most once (the catalog and the
 * trust are not expected to change while it lives: one command run).
 */
export class TrustJudge {
  private readonly judged = new Map<string, Distrust | null>();

  constructor(
    private readonly catalog: Catalog,
    readonly trust: LiveTrust,
  ) {}

  /** null when the payload chains now to an anchor of the trust; else why not. */
  distrustOf(sha256: string): Distrust | null {
    let d = this.judged.get(sha256);
    if (d === undefined) this.judged.set(sha256, (d = this.judge(sha256)));
    return d;
  }

  /** The payloads among `sha256s` that do not chain now, with why. */
  untrusted(sha256s: Iterable<string>): Map<string, Distrust> {
    const out = new Map<string, Distrust>();
    for (const sha256 of sha256s) {
      const d = this.distrustOf(sha256);
      if (d !== null) out.set(sha256, d);
    }
    return out;
  }

  private judge(sha256: string): Distrust | null {
    if (this.catalog.blobs.blobSize(sha256) === null) return { kind: 'blob-missing' };
    let evidence: ReturnType<Catalog['trustEvidence']>;
    try {
      evidence = this.catalog.trustEvidence(sha256);
    } catch (e) {
      // a stored verdict that is not JSON is no record: the signatures answer alone
      if (!isCabferryError(e) || e.code !== 'CATALOG_VERDICT_UNREADABLE') throw e;
      evidence = null;
    }
    // a stored verdict that lists no signatures (an empty document) says nothing about what it chained to
    const imported = Array.isArray(evidence?.verdict?.signatures) ? evidence.verdict : null;
    if (imported !== null && vouchedFor(imported, this.trust.held)) return null;
    let blob: RandomAccessFile;
    try {
      blob = RandomAccessFile.open(this.catalog.blobPath(sha256));
    } catch (e) {
      return distrustOfFailure(e, 'open');
    }
    let now: FileVerdict;
    try {
      // each chain at the time the import checked it; a row without a stored verdict at the time it was imported
      const importedAt = evidence === null ? undefined : new Date(evidence.importedAt);
      const checkedAt = (index: number): Date | undefined => {
        if (imported === null) return importedAt;
        const at = imported.signatures.find((s) => s.index === index)?.verifiedAt ?? null;
        return at === null ? undefined : new Date(at);
      };
      now = loadVerifyTrust()(sha256, blob, { trust: this.trust.anchors(), checkedAt });
      if (now.verdict === 'valid') return null;
      // no record names what it chained to: whether it chains to an anchor removed since is
      // asked of its signatures, against the removed anchors' certificates beside those held
      const removedRelied = imported === null ? this.removedAnchorsChainedTo(sha256, blob, checkedAt) : [];
      if (removedRelied.length > 0) return { kind: 'anchor-removed', anchors: removedRelied, code: now.code, detail: now.reason };
    } catch (e) {
      return distrustOfFailure(e, 'verify');
    } finally {
      blob.close();
    }
    return this.why(now, imported);
  }

  private removedAnchors: TrustAnchor[] | undefined;

  /**
   * The removed anchors a payload's signatures chain to when they are added back to the trust
   * (verified again, at the same times): none when it fails for another reason, or when the
   * catalog kept no removed certificate (removals before schema 4).
   */
  private removedAnchorsChainedTo(sha256: string, blob: RandomAccessFile, checkedAt: (index: number) => Date | undefined): AnchorRef[] {
    this.removedAnchors ??= [...this.trust.removed].flatMap(([fingerprint, r]) => (r.der === null ? [] : trustAnchorsFromDer([r.der], `anchor ${fingerprint.slice(0, 16)} removed ${r.removedAt}`)));
    if (this.removedAnchors.length === 0) return [];
    const again = loadVerifyTrust()(sha256, blob, { trust: [...this.trust.anchors(), ...this.removedAnchors], checkedAt });
    if (again.verdict !== 'valid') return [];
    return anchorsReliedOn(again)
      .filter((a) => this.trust.removed.has(a.fingerprint))
      .map((a) => ({ ...a, removedAt: this.trust.removed.get(a.fingerprint)!.removedAt }));
  }

  /** What the import's record says about a payload that does not chain now. */
  private why(now: FileVerdict, imported: FileVerdict | null): Distrust {
    const code = now.code;
    const detail = now.reason;
    const reliedOn = imported === null ? [] : anchorsReliedOn(imported);
    const removed = reliedOn.filter((a) => this.trust.removed.has(a.fingerprint)).map((a) => ({ ...a, removedAt: this.trust.removed.get(a.fingerprint)!.removedAt }));
    if (removed.length > 0) return { kind: 'anchor-removed', anchors: removed, code, detail };
    const notForPayloads = reliedOn.filter((a) => !this.trust.held.has(a.fingerprint));
    // an anchor the catalog does not hold at all is said first: trusting it is the remedy meant for
    // updates, while giving a signatures anchor the payload purpose too is the last resort
    const oneOff = notForPayloads.filter((a) => !this.trust.signaturesOnly.has(a.fingerprint));
    if (oneOff.length > 0) return { kind: 'one-off-anchor', anchors: oneOff, code, detail };
    if (notForPayloads.length > 0) return { kind: 'signatures-only-anchor', anchors: notForPayloads, code, detail };
    return { kind: 'no-trusted-chain', code, detail };
  }
}

/**
 * A payload whose blob cannot be judged again is never trusted, but why matters to whoever must
 * act on it: the blob could not be read (a file-system error: blob-unreadable, the system's code),
 * or its bytes no longer parse as the signed payload that was imported (a cabinet, PE or signature
 * format error: blob-malformed, with the reader's code). Anything else is a defect of cabferry, not
 * a fact about the payload: it is thrown on, so the command fails as an internal error (exit 4)
 * instead of calling the payload untrusted — a verdict nobody could believe, with its cause hidden,
 * and the same defect would then quietly "distrust" every payload judged.
 */
function distrustOfFailure(e: unknown, step: 'open' | 'verify'): Distrust {
  if (isCabferryError(e)) {
    // opening: the blob is missing, not a regular file, or the system refuses it
    if (step === 'open' && e.kind !== 'internal') return { kind: 'blob-unreadable', code: e.code, detail: e.message };
    if (step === 'verify' && (e.kind === 'input' || e.kind === 'negative')) return { kind: 'blob-malformed', code: e.code, detail: e.message };
    throw e;
  }
  if (isSystemError(e)) return { kind: 'blob-unreadable', code: 'BLOB_UNREADABLE', detail: `cannot read: ${describeIoError(e)}` };
  throw e;
}

/** An error the operating system reported (errno code and the call that failed), not one of our own. */
function isSystemError(e: unknown): e is NodeJS.ErrnoException {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string' && typeof (e as NodeJS.ErrnoException).syscall === 'string';
}

/**
 * The import's verdict was valid and every chain it built (signers' and timestamp authorities')
 * ended in an anchor held now: judged again at the times it recorded, against a set that still
 * holds those anchors, the same bytes give the same verdict.
 */
function vouchedFor(imported: FileVerdict, held: ReadonlySet<string>): boolean {
  if (imported.verdict !== 'valid' || imported.signatures.length === 0) return false;
  return imported.signatures.every((s) => {
    if (!s.valid) return false;
    const ends = (chain: { sha256: string; trustAnchor: boolean }[]): boolean => chain.some((link) => link.trustAnchor && held.has(link.sha256.toLowerCase()));
    const anchorsHeld = (chain: { sha256: string; trustAnchor: boolean }[]): boolean => chain.every((link) => !link.trustAnchor || held.has(link.sha256.toLowerCase()));
    return ends(s.chain) && anchorsHeld(s.chain) && anchorsHeld(s.timestamp?.chain ?? []);
  });
}

/**
 * The verifier is required when a payload must be judged from its signatures: a plan whose
 * payloads all chain to anchors still held never loads it.
 */
function loadVerifyTrust(): typeof import('../authenticode/verify-file').verifyTrustOfVerifiedFile {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('../authenticode/verify-file') as typeof import('../authenticode/verify-file')).verifyTrustOfVerifiedFile;
}

/** The anchors the import's chains (signers' and timestamp authorities') ended in. */
function anchorsReliedOn(verdict: FileVerdict): AnchorRef[] {
  const chains = verdict.signatures.flatMap((s) => [s.chain, s.timestamp?.chain ?? []]);
  const byFingerprint = new Map(chains.flat().filter((link) => link.trustAnchor).map((link) => [link.sha256.toLowerCase(), link.subject]));
  return [...byFingerprint].map(([fingerprint, subject]) => ({ fingerprint, subject }));
}
