import { CabferryError, inputError } from '../errors';
import { RandomAccessFile } from '../io/random-access-file';
import { CabinetWindow } from './byte-source';
import { Cabinet } from './cabinet';
import { CAB_SIGNATURE } from './header';

/**
 * Cabinets embedded in another file (FORMATS.md §1.6): self-extracting .exe downloads carry
 * their payload as a cabinet somewhere after the program, and cabextract finds it by scanning.
 * Only `--search` does this; an update payload must be a cabinet at offset 0 and is never
 * searched (import and verify read offset 0 only).
 *
 * The scan reads the file in chunks and looks for "MSCF". A candidate becomes a cabinet when
 *  1. its fixed header is plausible (plausibleHeaderProblem: version 1.3, at least one folder
 *     and one file, tables that fit, cbCabinet and coffFiles inside the file), and
 *  2. its whole structure reads as a cabinet of its own (the same reader as offset 0, through
 *     a window starting at the candidate, so every offset it stores is relative to itself).
 * A candidate that fails either is recorded as skipped and the scan goes on from the next byte;
 * a cabinet found is skipped over as a whole (with its Authenticode blob, when it has one), so
 * cabinets stored as members of a found cabinet are not reported a second time.
 *
 * The reserved header fields are deliberately not a criterion: libmspack's search_tricky1.cab
 * fills them in its real cabinet (a decoy "MSCF" four bytes earlier then reads them as its own
 * cbCabinet and coffFiles), and cabextract, like the MS-CAB reader at offset 0, accepts it.
 */

const SIGNATURE = Buffer.from('MSCF', 'latin1');
const FIXED_HEADER_SIZE = 36;
/** Smallest possible CFFOLDER and CFFILE entries (a CFFILE has at least a 1-byte name and its NUL). */
const MIN_FOLDER_ENTRY = 8;
const MIN_FILE_ENTRY = 18;
export const DEFAULT_SEARCH_CHUNK = 64 * 1024;
/**
 * Candidates overlap, so a file built of nested decoys whose tables run almost to its end and then
 * fail would make the scan quadratic. Bytes of structure read by candidates that then failed are
 * counted; past one pass over the file plus this much, the search stops with an error instead of
 * hanging (a real self-extractor has a handful of stray "MSCF" bytes, not megabytes of decoys).
 */
const FAILED_CANDIDATE_BUDGET = 32 * 1024 * 1024;

export interface SearchOptions {
  /** bytes read per step of the scan (default 64 KiB); tests make it small to put the signature across reads */
  chunkSize?: number;
  /** bytes of reading that failed candidates may cost in all (default: the file's size + 32 MiB) */
  failedCandidateBudget?: number;
}

/** A cabinet found inside the file: `length` bytes from `offset`, readable as `cabinet`. */
export interface EmbeddedCabinet {
  offset: number;
  length: number;
  cabinet: Cabinet;
}

/** An "MSCF" that did not begin a cabinet, and why. */
export interface SkippedCandidate {
  offset: number;
  code: string;
  message: string;
}

export interface CabinetSearchResult {
  cabinets: EmbeddedCabinet[];
  skipped: SkippedCandidate[];
}

/** Every cabinet embedded in `file`, in file order. Cabinets read through `file`: keep it open while they are used. */
export function findEmbeddedCabinets(file: RandomAccessFile, options: SearchOptions = {}): CabinetSearchResult {
  const chunkSize = Math.max(SIGNATURE.length, options.chunkSize ?? DEFAULT_SEARCH_CHUNK);
  const cabinets: EmbeddedCabinet[] = [];
  const skipped: SkippedCandidate[] = [];
  const allowed = options.failedCandidateBudget ?? file.size + FAILED_CANDIDATE_BUDGET;
  let budget = allowed;
  let from = 0;
  for (;;) {
    const offset = nextSignature(file, from, chunkSize);
    if (offset < 0) break;
    try {
      const found = readEmbeddedCabinet(file, offset);
      cabinets.push(found);
      from = offset + found.length;
    } catch (e) {
      if (!(e instanceof CabferryError) || e.kind !== 'input') throw e;
      skipped.push({ offset, code: e.code, message: e.message });
      from = offset + 1;
      // how far into the candidate its reading got before failing (offsets in its errors are its own)
      budget -= e.offset ?? 0;
      if (budget < 0) {
        throw inputError('CAB_SEARCH_TOO_MANY_DECOYS', `gave up after ${skipped.length} MSCF signatures that began no valid cabinet but cost more than ${allowed} bytes of reading`, {
          file: file.path,
          offset,
        });
      }
    }
  }
  return { cabinets, skipped };
}

/**
 * The offset of the next "MSCF" at or after `from`, or -1. Reads `chunkSize` bytes at a time and
 * steps on by all but the last three, so a signature split across two reads is still seen.
 */
function nextSignature(file: RandomAccessFile, from: number, chunkSize: number): number {
  let at = from;
  while (at + SIGNATURE.length <= file.size) {
    const chunk = file.readUpTo(at, chunkSize);
    const hit = chunk.indexOf(SIGNATURE);
    if (hit >= 0) return at + hit;
    at += chunk.length - (SIGNATURE.length - 1);
  }
  return -1;
}

/** The cabinet starting at `offset`, or the input error that shows it is none. */
function readEmbeddedCabinet(file: RandomAccessFile, offset: number): EmbeddedCabinet {
  const available = file.size - offset;
  const fixed = file.readUpTo(offset, FIXED_HEADER_SIZE);
  const problem = plausibleHeaderProblem(fixed, available);
  if (problem !== null) throw inputError(problem.code, problem.message, { file: `${file.path}@${offset}`, offset: 0 });
  const cbCabinet = fixed.readUInt32LE(8);
  let length = cbCabinet;
  let cabinet = Cabinet.fromSource(new CabinetWindow(file, offset, length));
  // A signed cabinet's PKCS#7 blob follows cbCabinet: take it in when it is there, so the
  // cabinet reads as signed and the scan does not wander through the blob.
  const sig = cabinet.header.authenticode;
  if (sig !== null && sig.sigPos === cbCabinet && sig.sigLen > 0 && sig.sigLen <= available - cbCabinet) {
    length = cbCabinet + sig.sigLen;
    cabinet = Cabinet.fromSource(new CabinetWindow(file, offset, length));
  }
  return { offset, length, cabinet };
}

/**
 * Why the 36 bytes at a candidate cannot start a cabinet of at most `available` bytes, or null.
 * Cheap checks on the fixed header only, so random "MSCF" bytes are rejected before any table is read.
 */
export function plausibleHeaderProblem(fixed: Buffer, available: number): { code: string; message: string } | null {
  if (fixed.length < FIXED_HEADER_SIZE) return { code: 'CAB_SEARCH_SHORT', message: `only ${fixed.length} bytes follow the signature, a cabinet header has ${FIXED_HEADER_SIZE}` };
  if (fixed.readUInt32LE(0) !== CAB_SIGNATURE) return { code: 'CAB_BAD_SIGNATURE', message: 'no MSCF signature' };
  const cbCabinet = fixed.readUInt32LE(8);
  const coffFiles = fixed.readUInt32LE(16);
  const versionMinor = fixed.readUInt8(24);
  const versionMajor = fixed.readUInt8(25);
  const cFolders = fixed.readUInt16LE(26);
  const cFiles = fixed.readUInt16LE(28);
  if (versionMajor !== 1 || versionMinor !== 3) return { code: 'CAB_SEARCH_VERSION', message: `format version ${versionMajor}.${versionMinor}, not 1.3` };
  if (cFolders === 0 || cFiles === 0) return { code: 'CAB_SEARCH_EMPTY', message: `declares ${cFolders} folder(s) and ${cFiles} file(s)` };
  if (cbCabinet > available) return { code: 'CAB_SEARCH_BEYOND_FILE', message: `declares ${cbCabinet} bytes, only ${available} remain in the file` };
  const minimumSize = FIXED_HEADER_SIZE + cFolders * MIN_FOLDER_ENTRY + cFiles * MIN_FILE_ENTRY;
  if (cbCabinet < minimumSize) return { code: 'CAB_SEARCH_IMPLAUSIBLE', message: `declares ${cbCabinet} bytes, too few for ${cFolders} folder(s) and ${cFiles} file(s)` };
  if (coffFiles < FIXED_HEADER_SIZE + cFolders * MIN_FOLDER_ENTRY || coffFiles + cFiles * MIN_FILE_ENTRY > cbCabinet) {
    return { code: 'CAB_SEARCH_IMPLAUSIBLE', message: `file table offset ${coffFiles} does not fit a ${cbCabinet}-byte cabinet` };
  }
  return null;
}

/** An open file and the cabinets found in it; close() closes the file (and so every cabinet). */
export class CabinetSearch {
  private constructor(
    readonly path: string,
    private readonly file: RandomAccessFile,
    readonly cabinets: readonly EmbeddedCabinet[],
    readonly skipped: readonly SkippedCandidate[],
  ) {}

  /** Search `path`; CAB_SEARCH_NOT_FOUND when no cabinet is in it. */
  static open(path: string, options: SearchOptions = {}): CabinetSearch {
    const file = RandomAccessFile.open(path);
    try {
      const { cabinets, skipped } = findEmbeddedCabinets(file, options);
      if (cabinets.length === 0) {
        const tried = skipped.length === 0 ? 'no MSCF signature in it' : `${skipped.length} MSCF signature(s) did not begin a valid cabinet (first at offset ${skipped[0]!.offset}: ${skipped[0]!.message})`;
        throw inputError('CAB_SEARCH_NOT_FOUND', `no cabinet found: ${tried}`, { file: path });
      }
      return new CabinetSearch(path, file, cabinets, skipped);
    } catch (e) {
      file.close();
      throw e;
    }
  }

  close(): void {
    this.file.close();
  }
}

export function searchCabinets(path: string, options: SearchOptions = {}): CabinetSearch {
  return CabinetSearch.open(path, options);
}
