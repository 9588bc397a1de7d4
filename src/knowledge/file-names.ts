import type { KbFamily } from './knowledge-base';

/**
 * The name Microsoft publishes an update under (Windows6.0-KB4493730-x64.msu,
 * Windows6.0-KB4474419-v4-x64.msu), built from facts cabferry has verified or sourced: the
 * family's file prefix, the KB and architecture from the payload's signed metadata, its format,
 * and the re-release suffix (-vN) where the knowledge base records one for that KB. This is the
 * name a payload carries on the media; the name it arrived under is only history, because a
 * bundle's entry names are whatever whoever made the bundle wrote.
 */
export function publishedFileName(family: KbFamily, kb: string, fileArchitecture: string, format: 'msu' | 'cab' | 'exe'): string {
  return `${family.filePrefix}-${kb}${revisionSuffix(family, kb, format)}-${fileArchitecture}.${format}`;
}

/** The file name to fetch for a KB the knowledge base knows of (its own format, else .msu). */
export function fetchFileName(family: KbFamily, kb: string, fileArchitecture: string): string {
  return publishedFileName(family, kb, fileArchitecture, hintFormat(family, kb) ?? 'msu');
}

/** "-v4" when the knowledge base's file name for this KB and format carries one, else "". */
function revisionSuffix(family: KbFamily, kb: string, format: string): string {
  const hint = family.updates.get(kb)?.fileHint ?? null;
  if (hint === null || hintFormat(family, kb) !== format) return '';
  const m = /-KB\d+-(v\d{1,3})-/i.exec(hint);
  return m ? `-${m[1].toLowerCase()}` : '';
}

function hintFormat(family: KbFamily, kb: string): 'msu' | 'cab' | 'exe' | null {
  const m = /\.(msu|cab|exe)$/i.exec(family.updates.get(kb)?.fileHint ?? '');
  return m ? (m[1].toLowerCase() as 'msu' | 'cab' | 'exe') : null;
}
