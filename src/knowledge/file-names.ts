import type { Architecture, Payload, PayloadFormat } from '../package/types';
import { familyForNtVersion, type KbFamily, type KnowledgeBase } from './knowledge-base';

/** How an architecture is written in Microsoft's file names. */
export const ARCH_FILE: Record<Architecture, string> = { x86: 'x86', amd64: 'x64', ia64: 'ia64', arm64: 'arm64', neutral: 'neutral' };

/**
 * The name Microsoft publishes a KB under (Windows6.0-KB4493730-x64.msu,
 * Windows6.0-KB4474419-v4-x64.msu), from the knowledge base: the family's file prefix and, where
 * the knowledge base records one for that KB and format, its current re-release suffix. This is
 * what to fetch; it says nothing about which release a file in hand is (mediaFileNames does).
 */
export function fetchFileName(family: KbFamily, kb: string, fileArchitecture: string): string {
  const hint = family.updates.get(kb)?.fileHint ?? null;
  const format = hintFormat(hint) ?? 'msu';
  const m = hint === null ? null : /-KB\d+-(v\d{1,3})-/i.exec(hint);
  return `${family.filePrefix}-${kb}${m ? `-${m[1]!.toLowerCase()}` : ''}-${fileArchitecture}.${format}`;
}

function hintFormat(hint: string | null): PayloadFormat | null {
  const m = /\.(msu|cab|exe)$/i.exec(hint ?? '');
  return m ? (m[1]!.toLowerCase() as PayloadFormat) : null;
}

/**
 * The re-release (the N of "-vN") that the payload's own signed data proves, else null. An .msu's
 * signature covers its member names, and Microsoft names the payload cab inside after the release
 * (Windows6.0-KB4474419-v4-x64.msu holds Windows6.0-KB4474419-v4-x64.cab; the first release's cab
 * has no suffix). The name the file arrived under proves nothing, nor does the knowledge base's
 * record of the current release: an older release of the same KB is not that release. A bare cab
 * or an .exe carries no such name, so nothing is proven for it.
 */
export function provenRevision(p: Payload): number | null {
  if (p.format !== 'msu' || p.payloadCab === undefined || p.signatures === 'invalid' || p.signatures === 'unsigned') return null;
  const m = /-KB(\d{4,8})(?:-v(\d{1,3}))?-/i.exec(p.payloadCab);
  if (m === null || `KB${m[1]}` !== p.kb.toUpperCase() || m[2] === undefined) return null;
  return Number(m[2]);
}

/**
 * The published-style name of a payload from its verified metadata alone: file prefix (the
 * family's, else Windows<NT version>), KB and architecture from its signed metadata, its format, and
 * the re-release suffix only where provenRevision proves it.
 */
export function verifiedFileName(family: Pick<KbFamily, 'filePrefix'> | null, p: Payload): string {
  return fileNameMaker()(family, p);
}

/**
 * verifiedFileName for many payloads: the pieces every name of a family repeats ("Windows6.0-",
 * "-x64.msu") made once, so that a payload's name is two joins, not six (planning names every
 * payload of a family on every run)
 */
function fileNameMaker(): (family: Pick<KbFamily, 'filePrefix'> | null, p: Payload) => string {
  const heads = new Map<string, string>();
  const tails = new Map<Architecture, Map<PayloadFormat, string>>();
  return (family, p) => {
    const prefix = family?.filePrefix ?? `Windows${p.ntVersion}`;
    let head = heads.get(prefix);
    if (head === undefined) heads.set(prefix, (head = `${prefix}-`));
    let byFormat = tails.get(p.architecture);
    if (byFormat === undefined) tails.set(p.architecture, (byFormat = new Map()));
    let tail = byFormat.get(p.format);
    if (tail === undefined) byFormat.set(p.format, (tail = `-${ARCH_FILE[p.architecture]}.${p.format}`));
    const revision = provenRevision(p);
    return revision === null ? head + p.kb + tail : `${head}${p.kb}-v${revision}${tail}`;
  };
}

/**
 * The name each payload carries on media, in `catalog list` and in transfer bundles, by SHA-256:
 * its verifiedFileName, unless another payload of the set would carry the same name (two releases
 * of one KB that the metadata cannot tell apart, or files of one KB built for different products).
 * Then every payload of that name gets "_" and the start of its SHA-256 (as the Microsoft Update
 * Catalog's own download names do with a hash), as many hex digits as it takes to keep them apart.
 * Deterministic: the same set of payloads always gives the same names, whichever hosts need them.
 */
export function mediaFileNames(payloads: readonly Payload[], familyOf: (p: Payload) => Pick<KbFamily, 'filePrefix'> | null): Map<string, string> {
  const names = mediaFileNameList(payloads, familyOf);
  const bySha256 = new Map<string, string>();
  for (let i = 0; i < payloads.length; i++) bySha256.set(payloads[i]!.sha256, names[i]!);
  return bySha256;
}

/** A KB as the catalog and the knowledge base spell it: "KB" and digits. */
const KB_NUMBER = /^KB\d+$/;

/**
 * mediaFileNames by position: `payloads[i]` carries the i-th name (a payload listed twice, by its
 * SHA-256, carries the name of its first listing). Planning names every payload of a family on
 * every run, so no object, list or lower-cased copy is made per payload: names that are the same
 * but for case can only be names of one KB and one architecture (a name is prefix-KB[-vN]-arch.format,
 * and no part after the KB spells one), so the payloads are grouped by their KB as it is, and a
 * name is compared only with the names of its KB for its architecture (a KB's x86 and x64 files
 * never clash). Should a KB be spelled otherwise, the lower-cased names are the groups.
 */
export function mediaFileNameList(payloads: readonly Payload[], familyOf: (p: Payload) => Pick<KbFamily, 'filePrefix'> | null): string[] {
  const n = payloads.length;
  const names = new Array<string>(n);
  const verifiedName = fileNameMaker();
  const byKb = payloads.every((p) => KB_NUMBER.test(p.kb));
  // the first and the last payload of each group (the last by its group's first); the next of each
  const firstOfGroup = new Map<string, number>();
  const lastOfGroup = new Int32Array(n);
  const nextInGroup = new Int32Array(n).fill(-1);
  // each payload's name: the first payload whose name is the same but for case (itself when none)
  const sameNameAs = new Int32Array(n);
  // the names that clash, by their first payload: its payloads of distinct SHA-256 (rare)
  let clashes: Map<number, Payload[]> | null = null;
  for (let i = 0; i < n; i++) {
    const p = payloads[i]!;
    const name = verifiedName(familyOf(p), p);
    names[i] = name;
    sameNameAs[i] = i;
    const group = byKb ? p.kb : name.toLowerCase();
    const first = firstOfGroup.get(group);
    if (first === undefined) {
      firstOfGroup.set(group, i);
      lastOfGroup[i] = i;
      continue;
    }
    nextInGroup[lastOfGroup[first]!] = i;
    lastOfGroup[first] = i;
    // (grouped by lower-cased names, the group's first payload has the same name)
    let same = first;
    if (byKb) while (same !== i && (sameNameAs[same] !== same || ARCH_FILE[payloads[same]!.architecture] !== ARCH_FILE[p.architecture] || !sameButForCase(names[same]!, name))) same = nextInGroup[same]!;
    if (same === i) continue;
    sameNameAs[i] = same;
    const firstListing = payloads[same]!;
    if (firstListing.sha256 === p.sha256) {
      names[i] = names[same]!;
      continue;
    }
    const clashing = (clashes ??= new Map<number, Payload[]>()).get(same);
    if (clashing === undefined) clashes.set(same, [firstListing, p]);
    else if (!clashing.some((q) => q.sha256 === p.sha256)) clashing.push(p);
  }
  if (clashes === null) return names;
  // every payload of a clashing name, by its SHA-256: the first listing's name with a hash
  const hashed = new Map<number, Map<string, string>>();
  for (const [same, clashing] of clashes) {
    const name = names[same]!;
    let digits = 8;
    while (digits < 64 && new Set(clashing.map((q) => q.sha256.slice(0, digits))).size < clashing.length) digits *= 2;
    const dot = name.lastIndexOf('.');
    const bySha256 = new Map<string, string>();
    for (const q of clashing) bySha256.set(q.sha256, `${name.slice(0, dot)}_${q.sha256.slice(0, digits).toLowerCase()}${name.slice(dot)}`);
    hashed.set(same, bySha256);
  }
  for (let i = 0; i < n; i++) {
    const bySha256 = hashed.get(sameNameAs[i]!);
    if (bySha256 !== undefined) names[i] = bySha256.get(payloads[i]!.sha256)!;
  }
  return names;
}

/** `a` and `b` are the same but for case (as toLowerCase has it) */
function sameButForCase(a: string, b: string): boolean {
  return a === b || a.toLowerCase() === b.toLowerCase();
}

/**
 * mediaFileNames of every imported payload of a catalog (`catalog.payloads()`), each with its
 * family's file prefix: the names stage gives them, for `catalog list` and transfer bundles.
 */
export function catalogFileNames(payloads: readonly Payload[], kb: KnowledgeBase): Map<string, string> {
  return mediaFileNames(payloads, (p) => familyForNtVersion(kb, p.ntVersion));
}
