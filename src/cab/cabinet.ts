import { CabferryError, inputError } from '../errors';
import { RandomAccessFile } from '../io/random-access-file';
import type { CabByteSource } from './byte-source';
import { dataAreaOf, type DataArea } from './folder-reader';
import { readCabFolders, readCabHeader, readCabMembers } from './header';
import { MemberReader, type LogicalFolder } from './member-reader';
import type { CabFolder, CabHeader, CabMember } from './types';

export type { CabinetTestReport, MemberSink, MemberTestResult, FolderTestResult, MemberPassOptions, FolderPassResult, ErrorSummary } from './member-reader';

/**
 * One open cabinet: its validated structure (header, folders, members) and streaming access to
 * member data (inherited from MemberReader). Usually a whole file; with ./search, a cabinet
 * embedded in a larger file, read through a window so its stored offsets stay its own. Members
 * that continue into another cabinet of a set are listed but not readable here; ./cabinet-set
 * joins the parts.
 */
export class Cabinet extends MemberReader {
  readonly path: string;
  readonly header: CabHeader;
  readonly folders: readonly CabFolder[];
  readonly members: readonly CabMember[];
  readonly logicalFolders: readonly LogicalFolder[];
  readonly file: CabByteSource;
  /** where CFDATA may lie: after the file table, before the signature */
  readonly area: DataArea;
  private readonly release: () => void;

  private constructor(file: CabByteSource, release: () => void) {
    super();
    this.file = file;
    this.release = release;
    this.path = file.path;
    this.header = readCabHeader(file);
    const folders = readCabFolders(file, this.header);
    this.members = readCabMembers(file, this.header, folders);
    this.folders = folders;
    const last = this.members[this.members.length - 1]!; // readCabHeader guarantees cFiles > 0
    this.area = dataAreaOf(this.header, last.entryOffset + 16 + last.nameBytes.length + 1);
    this.logicalFolders = folders.map((folder) => ({
      index: folder.index,
      compression: folder.compression,
      segments: [{ file, header: this.header, folder, area: this.area }],
      blockCount: folder.cCFData,
      unavailable: folder.continuedFromPrevious
        ? inputError('CAB_SPANNED_FOLDER', `folder ${folder.index} begins in the previous cabinet of a multi-cabinet set${this.header.prevCabinet !== null ? ` ("${this.header.prevCabinet}")` : ''}`, {
            file: this.path,
            offset: folder.entryOffset,
          })
        : null,
    }));
  }

  static open(path: string): Cabinet {
    const file = RandomAccessFile.open(path);
    try {
      return new Cabinet(file, () => file.close());
    } catch (e) {
      file.close();
      throw e;
    }
  }

  /**
   * A cabinet read from bytes someone else owns (an embedded cabinet's window): closing it
   * releases nothing, the owner of the underlying file closes that.
   */
  static fromSource(source: CabByteSource): Cabinet {
    return new Cabinet(source, () => {});
  }

  close(): void {
    this.release();
  }

  get warnings(): readonly string[] {
    return this.header.warnings;
  }

  /** True when the header reserve holds a usable Authenticode signature location (FORMATS.md §3.1). */
  get signed(): boolean {
    return this.header.authenticode !== null && this.header.authenticode.problem === null;
  }

  /** True when this cabinet is one part of a multi-cabinet set. */
  get isSetPart(): boolean {
    return this.header.prevCabinet !== null || this.header.nextCabinet !== null;
  }

  /** Adds to the base checks: a member split across cabinets needs the other parts. */
  override memberProblem(member: CabMember): CabferryError | null {
    const h = this.header;
    const folder = this.folders[member.folderIndex]!;
    const needsPrev = member.continuation === 'from-prev' || member.continuation === 'prev-and-next' || folder.continuedFromPrevious;
    const needsNext = member.continuation === 'to-next' || member.continuation === 'prev-and-next';
    if (needsPrev || needsNext) {
      const needs: string[] = [];
      if (needsPrev) needs.push(`the previous cabinet${h.prevCabinet !== null ? ` "${h.prevCabinet}"` : ''}${h.prevDisk ? ` (disk "${h.prevDisk}")` : ''}`);
      if (needsNext) needs.push(`the next cabinet${h.nextCabinet !== null ? ` "${h.nextCabinet}"` : ''}${h.nextDisk ? ` (disk "${h.nextDisk}")` : ''}`);
      return inputError('CAB_SPANNED_MEMBER', `member is split across a multi-cabinet set; extracting it needs ${needs.join(' and ')}`, {
        file: this.path,
        member: member.name,
        offset: member.entryOffset,
      });
    }
    return super.memberProblem(member);
  }
}

export function openCab(path: string): Cabinet {
  return Cabinet.open(path);
}
