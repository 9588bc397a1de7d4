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
  const revision = provenRevision(p);
  return `${family?.filePrefix ?? `Windows${p.ntVersion}`}-${p.kb}${revision === null ? '' : `-v${revision}`}-${ARCH_FILE[p.architecture]}.${p.format}`;
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
  const byName = new Map<string, { name: string; group: Payload[] }>();
  for (const p of payloads) {
    const name = verifiedFileName(familyOf(p), p);
    const key = name.toLowerCase();
    const same = byName.get(key);
    if (same === undefined) byName.set(key, { name, group: [p] });
    else if (!same.group.some((q) => q.sha256 === p.sha256)) same.group.push(p);
  }
  const names = new Map<string, string>();
  for (const { name, group } of byName.values()) {
    if (group.length === 1) {
      names.set(group[0]!.sha256, name);
      continue;
    }
    let digits = 8;
    while (digits < 64 && new Set(group.map((p) => p.sha256.slice(0, digits))).size < group.length) digits *= 2;
    const dot = name.lastIndexOf('.');
    for (const p of group) names.set(p.sha256, `${name.slice(0, dot)}_${p.sha256.slice(0, digits).toLowerCase()}${name.slice(dot)}`);
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
