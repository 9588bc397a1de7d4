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
  // planning works this out for every payload of a family on every run: no object or list per
  // payload, only its name and, by the name's key, its first payload; lists only for the names
  // that clash, which are rare (and then the names are made again, every name in order of its key)
  const names = new Map<string, string>();
  const firstOf = new Map<string, number>();
  let clashes: Map<string, Payload[]> | null = null;
  const verifiedName = fileNameMaker();
  for (let i = 0; i < payloads.length; i++) {
    const p = payloads[i]!;
    const name = verifiedName(familyOf(p), p);
    const key = name.toLowerCase();
    const first = firstOf.get(key);
    if (first === undefined) {
      firstOf.set(key, i);
      names.set(p.sha256, name);
      continue;
    }
    const group = (clashes ??= new Map<string, Payload[]>()).get(key);
    if (group === undefined) {
      if (payloads[first]!.sha256 !== p.sha256) clashes.set(key, [payloads[first]!, p]);
    } else if (!group.some((q) => q.sha256 === p.sha256)) group.push(p);
  }
  if (clashes === null || clashes.size === 0) return names;
  names.clear();
  for (const [key, first] of firstOf) {
    const p = payloads[first]!;
    const name = verifiedName(familyOf(p), p);
    const group = clashes.get(key);
    if (group === undefined) {
      names.set(p.sha256, name);
      continue;
    }
    let digits = 8;
    while (digits < 64 && new Set(group.map((q) => q.sha256.slice(0, digits))).size < group.length) digits *= 2;
    const dot = name.lastIndexOf('.');
    for (const q of group) names.set(q.sha256, `${name.slice(0, dot)}_${q.sha256.slice(0, digits).toLowerCase()}${name.slice(dot)}`);
  }
  return names;
}

/**
 * mediaFileNames of every imported payload of a catalog (`catalog.payloads()`), each with its
 * family's file prefix: the names stage gives them, for `catalog list` and transfer bundles.
 */
export function catalogFileNames(payloads: readonly Payload[], kb: KnowledgeBase): Map<string, string> {
  return mediaFileNames(payloads, (p) => familyForNtVersion(kb, p.ntVersion));
}
