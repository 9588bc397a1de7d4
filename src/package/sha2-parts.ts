import { visibleName } from '../io/visible-text';
import type { Payload, Sha2OnlyPart } from './types';

/**
 * A payload's parts signed with SHA-2 only (Payload.sha2OnlyParts, worked out by inspect's
 * sha2OnlyPartsOf) as a record holds them: what the planner decides SHA-2 support by, and what
 * `catalog show` prints.
 */

const FILE_ONLY: readonly Sha2OnlyPart[] = [{ part: 'file', member: null }];
const NO_PARTS: readonly Sha2OnlyPart[] = [];

/**
 * The parts of a payload signed with SHA-2 only, as its record says; null when the record does
 * not say: an .msu or .cab imported by a cabferry that read only the file's own signature, whose
 * catalogs and inner cabinets may need SHA-2 all the same (an .exe has no other parts).
 */
export function sha2PartsOfRecord(p: Payload): readonly Sha2OnlyPart[] | null {
  if (p.sha2OnlyParts !== undefined) {
    // the file's own signature is in its summary too: a record that says otherwise is not believed
    if (p.signatures === 'sha2-only' && !p.sha2OnlyParts.some((s) => s.part === 'file')) return [...FILE_ONLY, ...p.sha2OnlyParts];
    return p.sha2OnlyParts;
  }
  if (p.signatures === 'sha2-only') return FILE_ONLY;
  return p.format === 'exe' ? NO_PARTS : null;
}

/** "its own signature, inner cabinet WSUSSCAN.cab, catalog update.cat" */
export function describeSha2Parts(parts: readonly Sha2OnlyPart[]): string {
  const words = parts.map((p) => (p.part === 'file' ? 'its own signature' : `${p.part === 'catalog' ? 'catalog' : 'inner cabinet'} ${visibleName(p.member ?? '')}`));
  return words.length <= 4 ? words.join(', ') : `${words.slice(0, 3).join(', ')} and ${words.length - 3} more`;
}

