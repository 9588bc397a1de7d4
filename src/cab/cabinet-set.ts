import fs = require('node:fs');
import path = require('node:path');
import { CabferryError, inputError } from '../errors';
import { Cabinet } from './cabinet';
import { MemberReader, type LogicalFolder } from './member-reader';
import type { CabMember } from './types';

/**
 * A multi-cabinet set (FORMATS.md §1.5) read as one: the parts are found through the
 * prev/next names in their headers, in the same directory as the named part; the last folder of
 * each part and the first folder of the next are joined into one stream when the file table
 * says they continue; members listed again by a later part (continued from the previous one)
 * are dropped. Windows update payloads are single cabinets; sets matter for old media.
 */

/** More parts than any real set has; a loop in the names is caught earlier, this bounds a hostile chain. */
const MAX_SET_PARTS = 1000;

export class CabinetSet extends MemberReader {
  /** the part the user named */
  readonly path: string;
  readonly parts: readonly Cabinet[];
  readonly members: readonly CabMember[];
  readonly logicalFolders: readonly LogicalFolder[];
  readonly warnings: readonly string[];

  private constructor(named: string, parts: Cabinet[]) {
    super();
    this.path = named;
    this.parts = parts;
    const warnings: string[] = [];
    for (const p of parts) for (const w of p.warnings) warnings.push(`${path.basename(p.path)}: ${w}`);
    const { logicalFolders, folderOf } = joinFolders(parts);
    this.logicalFolders = logicalFolders;
    this.members = joinMembers(parts, folderOf, warnings);
    this.warnings = warnings;
  }

  /** Open the set `named` belongs to; CAB_SET_PART_MISSING when a part is not next to it. */
  static open(named: string): CabinetSet {
    const parts: Cabinet[] = [];
    try {
      const start = Cabinet.open(named);
      parts.push(start);
      const seen = new Set([fs.realpathSync(named)]);
      for (let cur = start; cur.header.prevCabinet !== null; ) {
        cur = openNeighbour(cur, cur.header.prevCabinet, 'previous', seen);
        parts.unshift(cur);
      }
      for (let cur = start; cur.header.nextCabinet !== null; ) {
        cur = openNeighbour(cur, cur.header.nextCabinet, 'next', seen);
        parts.push(cur);
      }
      checkSetConsistency(parts);
      return new CabinetSet(named, parts);
    } catch (e) {
      for (const p of parts) p.close();
      throw e;
    }
  }

  close(): void {
    for (const p of this.parts) p.close();
  }
}

export function openCabSet(named: string): CabinetSet {
  return CabinetSet.open(named);
}

/**
 * What `extract` and `test` read: the set when FILE is part of one and all its parts are at
 * hand, else FILE alone (whose spanned members then fail naming the missing part).
 */
export function openCabOrSet(file: string, onWarning: (message: string) => void = () => {}): MemberReader & { close(): void } {
  const cab = Cabinet.open(file);
  if (!cab.isSetPart) return cab;
  cab.close();
  try {
    return CabinetSet.open(file);
  } catch (e) {
    // FILE itself is readable: a missing, foreign or damaged sibling spoils only the spanned members
    if (!(e instanceof CabferryError) || e.kind !== 'input') throw e;
    const where = e.file !== undefined && e.file !== file ? ` (${path.basename(e.file)})` : '';
    onWarning(`cannot read the rest of the set: ${e.message}${where}; reading ${path.basename(file)} on its own`);
    return Cabinet.open(file);
  }
}

function openNeighbour(from: Cabinet, name: string, which: 'previous' | 'next', seen: Set<string>): Cabinet {
  if (seen.size >= MAX_SET_PARTS) throw inputError('CAB_SET_BROKEN', `set has more than ${MAX_SET_PARTS} parts`, { file: from.path });
  const found = locatePart(path.dirname(from.path), name);
  if (found === null) {
    throw inputError('CAB_SET_PART_MISSING', `${which} cabinet of the set "${name}" is not in ${path.dirname(from.path)}`, { file: from.path });
  }
  const real = fs.realpathSync(found);
  if (seen.has(real)) throw inputError('CAB_SET_BROKEN', `set parts name each other in a loop (${name})`, { file: from.path });
  seen.add(real);
  return Cabinet.open(found);
}

/**
 * A part named in a header, in `dir`. Names were written on DOS/Windows, so they are compared
 * case-insensitively; only a plain file name is accepted (a path in a header is not followed).
 */
function locatePart(dir: string, name: string): string | null {
  if (name.includes('/') || name.includes('\\') || name === '.' || name === '..') return null;
  const exact = path.join(dir, name);
  if (fs.existsSync(exact)) return exact;
  const lower = name.toLowerCase();
  const match = fs.readdirSync(dir).find((f) => f.toLowerCase() === lower);
  return match === undefined ? null : path.join(dir, match);
}

function checkSetConsistency(parts: Cabinet[]): void {
  const first = parts[0]!;
  for (const p of parts) {
    if (p.header.setID !== first.header.setID) {
      throw inputError('CAB_SET_MISMATCH', `set id ${p.header.setID} differs from ${first.header.setID} in ${path.basename(first.path)}`, { file: p.path });
    }
  }
}

/** Join each part's last folder with the next part's first folder where the file tables say they continue. */
function joinFolders(parts: Cabinet[]): { logicalFolders: LogicalFolder[]; folderOf: Map<Cabinet, LogicalFolder[]> } {
  const logicalFolders: LogicalFolder[] = [];
  const folderOf = new Map<Cabinet, LogicalFolder[]>();
  let continuing: LogicalFolder | null = null;
  for (const part of parts) {
    const mapped: LogicalFolder[] = [];
    part.folders.forEach((folder, j) => {
      const segment = { file: part.file, header: part.header, folder, area: part.area };
      let lf: LogicalFolder;
      if (j === 0 && folder.continuedFromPrevious) {
        if (continuing === null) {
          throw inputError('CAB_SET_BROKEN', 'first folder continues from the previous cabinet, whose last folder does not continue', { file: part.path, offset: folder.entryOffset });
        }
        if (continuing.compression.raw !== folder.compression.raw) {
          throw inputError('CAB_SET_MISMATCH', `continued folder changes compression (${continuing.compression.label} → ${folder.compression.label})`, { file: part.path, offset: folder.entryOffset });
        }
        lf = continuing;
        lf.segments.push(segment);
        lf.blockCount += folder.cCFData;
      } else {
        if (j === 0 && continuing !== null) {
          throw inputError('CAB_SET_BROKEN', 'the previous cabinet continues its last folder here, but no member of this one is marked as continued', { file: part.path, offset: folder.entryOffset });
        }
        lf = { index: logicalFolders.length, compression: folder.compression, segments: [segment], blockCount: folder.cCFData, unavailable: null };
        logicalFolders.push(lf);
      }
      continuing = null;
      if (j === part.folders.length - 1 && folder.continuedToNext) continuing = lf;
      mapped.push(lf);
    });
    folderOf.set(part, mapped);
  }
  if (continuing !== null) throw inputError('CAB_SET_BROKEN', 'the last cabinet of the set continues its last folder into another cabinet', { file: parts[parts.length - 1]!.path });
  return { logicalFolders, folderOf };
}

/**
 * Members of the whole set, each once: an entry continued from the previous part repeats one the
 * previous part listed (same folder, offset and size) and is dropped.
 */
function joinMembers(parts: Cabinet[], folderOf: Map<Cabinet, LogicalFolder[]>, warnings: string[]): CabMember[] {
  const members: CabMember[] = [];
  const key = (folder: number, m: CabMember) => `${folder}:${m.folderOffset}:${m.size}`;
  const listed = new Set<string>();
  for (const part of parts) {
    const folders = folderOf.get(part)!;
    for (const m of part.members) {
      const lf = folders[m.folderIndex]!;
      const k = key(lf.index, m);
      if (m.continuation === 'from-prev' || m.continuation === 'prev-and-next') {
        if (listed.has(k)) continue;
        // not listed before: keep it rather than hide data, but say the set is inconsistent
        warnings.push(`${path.basename(part.path)}: continued member ${JSON.stringify(m.name)} does not match any member of the previous cabinet`);
      }
      listed.add(k);
      members.push({ ...m, index: members.length, folderIndex: lf.index });
    }
  }
  return members;
}
