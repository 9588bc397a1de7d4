import type { Hash } from 'node:crypto';
import type { CompressionMethod } from '../codecs/types';
import { MAX_BLOCK_OUTPUT } from '../codecs/types';
import { CabferryError, inputError, internalError } from '../errors';
import type { PayloadBudget } from '../io/payload-budget';
import { decodeFolder, type FolderItem, type FolderSegment, type LostData } from './folder-reader';
import type { CabMember } from './types';

/**
 * Member data out of folders, shared by a single cabinet (./cabinet) and a multi-cabinet set
 * (./cabinet-set). A folder is one compressed stream, so reaching a member means decoding its
 * folder from the start; passes that serve several members (extract, test) decode each folder
 * once and hand every member its byte range as the blocks go by.
 */

/** A folder as one stream: one segment in a plain cabinet, several when it spans a set. */
export interface LogicalFolder {
  index: number;
  compression: CompressionMethod;
  segments: FolderSegment[];
  /** CFDATA blocks over all segments: the folder can hold at most blockCount × 32 KiB */
  blockCount: number;
  /** why this folder cannot be decoded from the cabinets at hand (a missing set part), or null */
  unavailable: CabferryError | null;
}

export abstract class MemberReader {
  abstract readonly path: string;
  abstract readonly members: readonly CabMember[];
  abstract readonly logicalFolders: readonly LogicalFolder[];
  abstract readonly warnings: readonly string[];
  /**
   * When set, every block decoded from this reader is charged to it (a payload's budget, see
   * ../io/payload-budget): a folder pass stops with PAYLOAD_BUDGET_EXCEEDED once the payload
   * has made us decode more than it may.
   */
  budget: PayloadBudget | null = null;
  private overlapping: Map<CabMember, CabMember> | null = null;

  /**
   * Why a member's data cannot be produced, or null; checked before any decoding. Here: a
   * member claiming more than its folder's blocks can hold (the decompression-bomb bound), and
   * a member whose bytes are also another member's (CAB_MEMBER_OVERLAP, see overlappingMembers).
   */
  memberProblem(member: CabMember): CabferryError | null {
    const folder = this.logicalFolders[member.folderIndex]!;
    const capacity = folder.blockCount * MAX_BLOCK_OUTPUT;
    const where = { file: this.path, member: member.name, offset: member.entryOffset };
    if (member.folderOffset + member.size > capacity) {
      return inputError('CAB_MEMBER_BEYOND_FOLDER', `member (${member.size} bytes at folder offset ${member.folderOffset}) extends past the ${capacity} bytes its folder's ${folder.blockCount} blocks can hold`, where);
    }
    this.overlapping ??= overlappingMembers(this.members);
    const other = this.overlapping.get(member);
    if (other !== undefined) {
      const same = other.folderOffset === member.folderOffset && other.size === member.size;
      const bytes = `member's bytes (${member.size} at folder ${member.folderIndex} offset ${member.folderOffset})`;
      const relation = same ? `are listed again as member ${other.index} ${JSON.stringify(other.name)}` : `overlap those of member ${other.index} ${JSON.stringify(other.name)}`;
      return inputError('CAB_MEMBER_OVERLAP', `${bytes} ${relation}; members sharing bytes are refused`, where);
    }
    return null;
  }

  /**
   * A member's bytes as a sequence of chunks (each a fresh copy, at most 32 KiB), decoding its
   * folder block by block and discarding output before the member's offset.
   */
  *readMemberChunks(member: CabMember): Generator<Buffer> {
    const problem = this.memberProblem(member);
    if (problem !== null) throw problem;
    if (member.size === 0) return;
    const start = member.folderOffset;
    const end = start + member.size;
    let delivered = 0;
    try {
      for (const block of decodeFolder(this.logicalFolders[member.folderIndex]!.segments, { stopAfter: end })) {
        if (block.kind === 'lost') throw block.error; // only salvage passes yield lost data
        this.budget?.chargeDecode(block.data.length, `member ${JSON.stringify(member.name)}`);
        const blockEnd = block.folderOffset + block.data.length;
        if (blockEnd <= start) continue;
        const from = Math.max(start, block.folderOffset) - block.folderOffset;
        const to = Math.min(end, blockEnd) - block.folderOffset;
        delivered += to - from;
        yield Buffer.from(block.data.subarray(from, to));
      }
    } catch (e) {
      throw e instanceof CabferryError ? e.withContext({ member: member.name }) : e;
    }
    if (delivered !== member.size) throw this.memberTruncated(member, delivered);
  }

  /** A small member (update.mum, pkgProperties.txt, …) in memory; refuses members over `maxBytes`. */
  readMemberToBuffer(member: CabMember, maxBytes: number): Buffer {
    if (member.size > maxBytes) {
      throw inputError('CAB_MEMBER_TOO_LARGE', `member is ${member.size} bytes, more than the ${maxBytes} allowed here`, { file: this.path, member: member.name });
    }
    return Buffer.concat([...this.readMemberChunks(member)], member.size);
  }

  /** Members whose stored name equals `name`, compared with `\` and `/` treated alike. */
  findMembers(name: string): CabMember[] {
    const wanted = name.replace(/\\/g, '/');
    return this.members.filter((m) => m.name.replace(/\\/g, '/') === wanted);
  }

  /**
   * One pass over each folder holding any of `members`, calling `sink` for every byte range that
   * belongs to a member, in folder order. Each member ends with exactly one `done` call, carrying
   * the error that stopped it (its own problem, or the folder's) or null. With `salvage`, a lost
   * block ends only the members it touches (done with the block's error and where it was lost),
   * and the pass goes on where decoding can resume (./folder-reader decodeFolder).
   * Chunks passed to `onData` are only valid during the call.
   */
  forEachMemberData(members: readonly CabMember[], sink: MemberSink, options: MemberPassOptions = {}): FolderPassResult[] {
    const byFolder = new Map<number, CabMember[]>();
    for (const m of members) {
      const problem = this.memberProblem(m);
      if (problem !== null) {
        sink.done(m, problem);
        continue;
      }
      if (m.size === 0) {
        sink.done(m, null);
        continue;
      }
      const list = byFolder.get(m.folderIndex) ?? [];
      list.push(m);
      byFolder.set(m.folderIndex, list);
    }
    const results: FolderPassResult[] = [];
    for (const folder of this.logicalFolders) {
      const list = byFolder.get(folder.index);
      if (list === undefined && !options.wholeFolders) continue;
      results.push(this.passFolder(folder, list ?? [], sink, options));
    }
    return results;
  }

  private passFolder(folder: LogicalFolder, members: CabMember[], sink: MemberSink, options: MemberPassOptions): FolderPassResult {
    // Members sorted by start; `open` holds those whose range has begun but not ended.
    const pending = [...members].sort((a, b) => a.folderOffset - b.folderOffset || a.index - b.index);
    const delivered = new Map<CabMember, number>();
    const stopAfter = options.wholeFolders ? Infinity : pending.reduce((end, m) => Math.max(end, m.folderOffset + m.size), 0);
    const result: FolderPassResult = { index: folder.index, compression: folder.compression.label, blocks: 0, bytes: 0, error: null, lost: [] };
    if (folder.unavailable !== null) {
      result.error = folder.unavailable;
      for (const m of pending) sink.done(m, cloneWithMember(folder.unavailable, m.name));
      return result;
    }
    let next = 0;
    let open: CabMember[] = [];
    const admitUpTo = (end: number): void => {
      while (next < pending.length && pending[next]!.folderOffset < end) open.push(pending[next++]!);
    };
    const items = decodeFolder(folder.segments, { stopAfter, verifyChecksums: options.verifyChecksums ?? true, salvage: options.salvage ?? false });
    for (;;) {
      // Only the decoder's errors are the folder's; errors the sink raises are the caller's.
      let step: IteratorResult<FolderItem>;
      try {
        step = items.next();
      } catch (e) {
        if (!(e instanceof CabferryError)) throw e;
        result.error = e;
        for (const m of [...open, ...pending.slice(next)]) sink.done(m, cloneWithMember(e, m.name));
        return result;
      }
      if (step.done) break;
      const item = step.value;
      if (item.kind === 'lost') {
        result.lost.push(item);
        // every member with a byte in the lost stretch is damaged; the first loss is the one reported
        const lostEnd = item.folderOffset + item.length;
        admitUpTo(lostEnd);
        const location: DamageLocation = { folder: folder.index, block: item.index };
        open = open.filter((m) => {
          if (m.folderOffset + m.size <= item.folderOffset) return true;
          sink.done(m, cloneWithMember(item.error, m.name), location);
          return false;
        });
        continue;
      }
      // the budget's refusal ends the pass like a decoder error would, but it is the payload's, not the folder's
      this.budget?.chargeDecode(item.data.length, `folder ${folder.index}`);
      result.blocks++;
      result.bytes += item.data.length;
      const blockStart = item.folderOffset;
      const blockEnd = blockStart + item.data.length;
      admitUpTo(blockEnd);
      const stillOpen: CabMember[] = [];
      for (const m of open) {
        const start = m.folderOffset;
        const end = start + m.size;
        const from = Math.max(start, blockStart);
        const to = Math.min(end, blockEnd);
        if (to > from) {
          sink.onData(m, item.data.subarray(from - blockStart, to - blockStart));
          delivered.set(m, (delivered.get(m) ?? 0) + (to - from));
        }
        if (end <= blockEnd) sink.done(m, null);
        else stillOpen.push(m);
      }
      open = stillOpen;
    }
    // The folder ran out of blocks before these members ended.
    for (const m of [...open, ...pending.slice(next)]) sink.done(m, this.memberTruncated(m, delivered.get(m) ?? 0));
    return result;
  }

  private memberTruncated(member: CabMember, delivered: number): CabferryError {
    return inputError('CAB_MEMBER_TRUNCATED', `folder ${member.folderIndex} ends after ${delivered} of the member's ${member.size} bytes`, {
      file: this.path,
      member: member.name,
    });
  }

  /**
   * Decompress every member, checking CFDATA checksums, block sizes and member extents; with
   * `digests`, also the SHA-256 of each intact member. Never throws for damaged data: damage is
   * the report's content. With `salvage`, a damaged block costs only the members it touches (and
   * those decoding cannot reach after it); `damaged` lists every member that failed, with the
   * folder and block where its data was lost when a block is to blame.
   */
  testCabinet(options: { digests?: boolean; salvage?: boolean } = {}): CabinetTestReport {
    const results = new Map<CabMember, MemberTestResult>();
    const hashes = new Map<CabMember, Hash>();
    // node:crypto only when digests are asked for: a plain test pass would load it for nothing
    const createHash = options.digests ? (require('node:crypto') as typeof import('node:crypto')).createHash : null;
    const folderResults = this.forEachMemberData(
      this.members,
      {
        onData: (m, chunk) => {
          if (createHash === null) return;
          let h = hashes.get(m);
          if (h === undefined) hashes.set(m, (h = createHash('sha256')));
          h.update(chunk);
        },
        done: (m, error, damage) => {
          const r: MemberTestResult = { index: m.index, name: m.name, size: m.size, ok: error === null };
          if (error !== null) r.error = describeError(error);
          else if (createHash !== null) r.sha256 = (hashes.get(m) ?? createHash('sha256')).digest('hex');
          if (damage !== undefined) r.damage = damage;
          hashes.delete(m);
          results.set(m, r);
        },
      },
      { wholeFolders: true, salvage: options.salvage ?? false },
    );
    const members = this.members.map((m) => results.get(m) ?? failInternal(m));
    const folders = folderResults.map((f): FolderTestResult => ({
      index: f.index,
      compression: f.compression,
      blocks: f.blocks,
      bytes: f.bytes,
      ok: f.error === null && f.lost.length === 0,
      ...(f.error !== null ? { error: describeError(f.error) } : {}),
      ...(f.lost.length > 0 ? { lost: f.lost.map(describeLost) } : {}),
    }));
    return {
      file: this.path,
      ok: members.every((r) => r.ok) && folders.every((f) => f.ok),
      salvage: options.salvage ?? false,
      members,
      folders,
      damaged: damagedMembers(this.members.map((m, i) => [m, members[i]!] as const)),
      warnings: [...this.warnings],
    };
  }
}

/**
 * Members whose data ranges overlap another member's in the same folder (or repeat one), each
 * mapped to one member it overlaps. Decision: these are refused, all of them, rather than
 * produced once and counted once. No cabinet writer (makecab, cabarc, gcab, lcab, Microsoft's
 * update builders) shares bytes between entries, none of the corpus does, and the only thing
 * sharing buys is amplification: 16 entries over one 64 MiB run of MSZIP zeros make a 115 KB
 * file that unpacks to 1 GiB (issue #17). Which of two overlapping entries is the real one
 * cannot be told, so neither is trusted; the listing still shows both, as cabextract does.
 * Empty members overlap nothing.
 */
export function overlappingMembers(members: readonly CabMember[]): Map<CabMember, CabMember> {
  const out = new Map<CabMember, CabMember>();
  const byFolder = new Map<number, CabMember[]>();
  for (const m of members) {
    if (m.size === 0) continue;
    const list = byFolder.get(m.folderIndex) ?? [];
    list.push(m);
    byFolder.set(m.folderIndex, list);
  }
  for (const list of byFolder.values()) {
    list.sort((a, b) => a.folderOffset - b.folderOffset || a.index - b.index);
    // `reach`: the member reaching furthest among those started so far; anything starting before its end overlaps it
    let reach: CabMember | null = null;
    for (const m of list) {
      if (reach !== null && m.folderOffset < reach.folderOffset + reach.size) {
        out.set(m, reach);
        if (!out.has(reach)) out.set(reach, m);
      }
      if (reach === null || m.folderOffset + m.size > reach.folderOffset + reach.size) reach = m;
    }
  }
  return out;
}

/** Every member of `outcomes` that failed, in the given order, with where its data was lost when a block is to blame. */
export function damagedMembers(outcomes: readonly (readonly [CabMember, { ok: boolean; error?: { code: string; message: string }; damage?: DamageLocation }])[]): DamagedMember[] {
  const out: DamagedMember[] = [];
  for (const [m, r] of outcomes) {
    if (r.ok || r.error === undefined) continue;
    out.push({ index: m.index, name: m.name, folder: m.folderIndex, block: r.damage?.block ?? null, code: r.error.code, reason: r.error.message });
  }
  return out;
}

function describeLost(l: LostData): LostBlockSummary {
  return {
    block: l.index,
    folderOffset: l.folderOffset,
    length: Number.isFinite(l.length) ? l.length : null,
    code: l.error.code,
    message: l.error.message,
    ...(l.error.offset !== undefined ? { offset: l.error.offset } : {}),
  };
}

export interface MemberPassOptions {
  verifyChecksums?: boolean;
  /** decode every block of every folder, not just up to the last requested member byte */
  wholeFolders?: boolean;
  /** a damaged block ends only the members it touches, not the folder (FolderReadOptions.salvage) */
  salvage?: boolean;
}

export interface FolderPassResult {
  index: number;
  compression: string;
  /** blocks decoded and bytes produced before the pass stopped */
  blocks: number;
  bytes: number;
  error: CabferryError | null;
  /** salvage: the stretches of the folder that could not be produced, in order */
  lost: LostData[];
}

export interface ErrorSummary {
  code: string;
  message: string;
  offset?: number;
}

function describeError(e: CabferryError): ErrorSummary {
  return { code: e.code, message: e.message, ...(e.offset !== undefined ? { offset: e.offset } : {}) };
}

/** Where a salvage pass lost a member's data: its folder and the first data block it could not get. */
export interface DamageLocation {
  folder: number;
  block: number;
}

export interface MemberSink {
  onData(member: CabMember, chunk: Buffer): void;
  /** `damage` is given when a salvage pass lost the member's data at a known block */
  done(member: CabMember, error: CabferryError | null, damage?: DamageLocation): void;
}

export interface MemberTestResult {
  index: number;
  name: string;
  size: number;
  ok: boolean;
  error?: ErrorSummary;
  damage?: DamageLocation;
  sha256?: string;
}

/** A stretch of a folder a salvage pass could not produce; `length` null means "the rest of the folder". */
export interface LostBlockSummary {
  block: number;
  folderOffset: number;
  length: number | null;
  code: string;
  message: string;
  offset?: number;
}

export interface FolderTestResult {
  index: number;
  compression: string;
  blocks: number;
  bytes: number;
  ok: boolean;
  error?: ErrorSummary;
  lost?: LostBlockSummary[];
}

/** A member that could not be produced: `block` is where its data was lost, null when no block is to blame (a missing set part, an impossible extent, unsupported compression). */
export interface DamagedMember {
  index: number;
  name: string;
  folder: number;
  block: number | null;
  code: string;
  reason: string;
}

export interface CabinetTestReport {
  file: string;
  ok: boolean;
  /** whether the pass salvaged past damaged blocks */
  salvage: boolean;
  members: MemberTestResult[];
  folders: FolderTestResult[];
  damaged: DamagedMember[];
  warnings: string[];
}

/** The same error for another member of a failed folder (errors are per member in reports). */
function cloneWithMember(e: CabferryError, member: string): CabferryError {
  const copy = new CabferryError(e.kind, e.code, e.message, { file: e.file, offset: e.offset, member, cause: e.cause });
  return copy;
}

function failInternal(m: CabMember): never {
  throw internalError('CAB_TEST_INCOMPLETE', `no result for member ${m.index}`);
}
