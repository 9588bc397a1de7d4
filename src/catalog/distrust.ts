/**
 * Why a payload of the catalog does not chain, now, to an anchor the caller trusts: the answer of
 * ./live-trust.ts as data, and its words. Nothing here reads anything: the planner, which must
 * not open blobs, takes these as given.
 */

/** An anchor a payload's signatures chained to when it was imported. */
export interface AnchorRef {
  fingerprint: string;
  subject: string;
  /** set for an anchor removed from the catalog's trust set since */
  removedAt?: string;
}

/** Why a payload does not chain, now, to an anchor the caller trusts. */
export type Distrust =
  /**
   * it chained to anchors of the catalog's trust set that were removed since: as the import's
   * record says, or, for a row without one, as its signatures show against the removed certificates
   */
  | { kind: 'anchor-removed'; anchors: AnchorRef[]; code: string | null; detail: string }
  /** imported with a one-off `import --trust` anchor that the catalog's trust set does not hold */
  | { kind: 'one-off-anchor'; anchors: AnchorRef[]; code: string | null; detail: string }
  /**
   * it chained to anchors the catalog holds for signatures only (cabferry's bundles and media), which
   * vouch for no update: given to `import --trust`, typically, when the payload was signed under the
   * root of the bundle and media signers
   */
  | { kind: 'signatures-only-anchor'; anchors: AnchorRef[]; code: string | null; detail: string }
  /**
   * its signatures chain to no anchor trusted now, and nothing names an anchor that explains it:
   * it chained to an anchor still held and fails now, or no verdict was stored and its signatures
   * chain to no removed anchor whose certificate the catalog kept (removals before schema 4 kept none)
   */
  | { kind: 'no-trusted-chain'; code: string | null; detail: string }
  /** the catalog lists it but its blob is missing: its signatures cannot be read, nothing proves it */
  | { kind: 'blob-missing' }
  /** its blob cannot be opened or read (a file-system error; `code` ours, the system's words in `detail`) */
  | { kind: 'blob-unreadable'; code: string; detail: string }
  /**
   * its blob no longer parses as the signed payload that was imported: the cabinet, PE or signature
   * reader refuses it (`code` is the reader's, e.g. CAB_BAD_MAGIC, TRUNCATED)
   */
  | { kind: 'blob-malformed'; code: string; detail: string };

export type DistrustKind = Distrust['kind'];

function anchorList(anchors: AnchorRef[]): string {
  return anchors.map((a) => `"${a.subject}" (${a.fingerprint.slice(0, 16)}…${a.removedAt !== undefined ? `, removed ${a.removedAt}` : ''})`).join(', ');
}

/** The reason in a few words: "untrusted since the anchor was removed", … */
export function distrustHeadline(d: Distrust): string {
  switch (d.kind) {
    case 'anchor-removed': return 'untrusted since the anchor was removed';
    case 'one-off-anchor': return 'imported with a one-off anchor the catalog does not hold';
    case 'signatures-only-anchor': return 'it chains to an anchor the catalog holds for signatures only';
    case 'no-trusted-chain': return 'it chains to no anchor trusted now';
    case 'blob-missing': return 'its blob is missing from the catalog';
    case 'blob-unreadable': return 'its blob cannot be read';
    case 'blob-malformed': return 'its blob no longer reads as a signed payload';
  }
}

/**
 * Why a payload is not trusted now, in words: the one text check, plan and stage print. Without
 * `withDetail` the verifier's own reason (which step fails now) is left out, for a line that
 * names many payloads at once.
 */
export function describeDistrust(d: Distrust, withDetail = true): string {
  const detail = (text: string): string => (withDetail ? ` (${text})` : '');
  switch (d.kind) {
    case 'anchor-removed':
      return `untrusted since the anchor was removed: it chained to ${anchorList(d.anchors)} and chains to no anchor trusted now${detail(d.detail)}`;
    case 'one-off-anchor':
      return `imported with a one-off anchor the catalog does not hold: it chained to ${anchorList(d.anchors)}, given to \`import --trust\`, and chains to no anchor of the catalog's trust set${detail(d.detail)}`;
    case 'signatures-only-anchor':
      return `it chains to an anchor the catalog holds for signatures only: ${anchorList(d.anchors)}, trusted for its bundles and media, not for updates; it chains to no anchor trusted for payloads${detail(d.detail)}`;
    case 'no-trusted-chain':
      return `chains to no anchor trusted now${detail(d.detail)}`;
    case 'blob-missing':
      return 'its blob is missing from the catalog: nothing proves its signatures';
    case 'blob-unreadable':
      return `its blob cannot be read${withDetail ? `: ${d.detail}` : ''} [${d.code}]`;
    case 'blob-malformed':
      return `its blob no longer reads as a signed payload${withDetail ? `: ${d.detail}` : ''} [${d.code}]`;
  }
}

/** What the operator can do about it, in words. */
export function distrustRemedy(d: Distrust): string {
  switch (d.kind) {
    case 'anchor-removed':
      return '`cabferry trust add` the anchor again if it is to be trusted';
    case 'one-off-anchor':
      return `\`cabferry trust add\` the certificate given to \`import --trust\` (${d.anchors.map((a) => `"${a.subject}"`).join(', ')}) if the catalog is to trust it`;
    case 'signatures-only-anchor':
      // a bare `trust add` would do it too, silently: the remedy names the purpose and what it costs
      return (
        `the usual cause is a payload signed under the root of your bundle and media signers, which should not vouch for updates: import a copy signed under an update root instead; ` +
        `only if ${d.anchors.map((a) => `"${a.subject}"`).join(', ')} is really meant to vouch for updates, \`cabferry trust add --for payloads FILE\` (FILE: its certificate) — it then serves both purposes, payloads and signatures`
      );
    case 'no-trusted-chain':
      return '`cabferry trust add` the anchor it chains to, or import a copy signed by an anchor the catalog trusts';
    case 'blob-missing':
    case 'blob-unreadable':
      return 'import the same file again to restore its blob (`cabferry catalog check` lists what is missing)';
    case 'blob-malformed':
      return '`cabferry catalog check` tells a blob altered on disk (`--repair` removes it; import the original file again) from one this cabferry no longer reads as it was imported (`--deep` compares it with its record)';
  }
}

/**
 * A payload not trusted now as a report lists it: the distrust as data, in words (with the
 * verifier's own reason), and what to do. One shape wherever payloads are listed for it: export's
 * `leftOut`, stage's MEDIA_PAYLOAD_UNTRUSTED `data.untrusted`.
 */
export interface DistrustReport {
  distrust: Distrust;
  reason: string;
  remedy: string;
}

export function distrustReport(distrust: Distrust): DistrustReport {
  return { distrust, reason: describeDistrust(distrust), remedy: distrustRemedy(distrust) };
}
