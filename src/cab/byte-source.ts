import { inputError, internalError } from '../errors';
import type { RandomAccessFile } from '../io/random-access-file';

/** what a released ReadAhead holds instead of its buffer */
const EMPTY = Buffer.alloc(0);

/**
 * What the cabinet reader needs from the bytes it parses: bounds-checked reads by offset. A
 * RandomAccessFile is one (a cabinet at offset 0 of its file); a CabinetWindow is another (a
 * cabinet embedded in a larger file, found by ./search), so every offset a cabinet stores —
 * coffFiles, coffCabStart, the signature position — is read relative to its own first byte.
 */
export interface CabByteSource {
  /** how errors name these bytes: the file's path, or `path@offset` for an embedded cabinet */
  readonly path: string;
  readonly size: number;
  read(offset: number, length: number, what?: string): Buffer;
  readInto(target: Buffer, offset: number, what?: string): Buffer;
  readUpTo(offset: number, length: number): Buffer;
}

/**
 * `length` bytes of a file starting at `base`, seen as a file of their own. Reads are checked
 * against the window, so a cabinet found inside a larger file cannot read its neighbours' bytes.
 * The window does not own the file: whoever opened the file closes it.
 */
export class CabinetWindow implements CabByteSource {
  readonly path: string;

  constructor(
    private readonly file: RandomAccessFile,
    readonly base: number,
    readonly size: number,
  ) {
    if (!Number.isSafeInteger(base) || !Number.isSafeInteger(size) || base < 0 || size < 0 || base + size > file.size) {
      throw inputError('BAD_OFFSET', `window ${base}+${size} lies outside the file (${file.size} bytes)`, { file: file.path });
    }
    this.path = `${file.path}@${base}`;
  }

  read(offset: number, length: number, what = 'data'): Buffer {
    this.checkRange(offset, length, what);
    return this.file.read(this.base + offset, length, what);
  }

  readInto(target: Buffer, offset: number, what = 'data'): Buffer {
    this.checkRange(offset, target.length, what);
    return this.file.readInto(target, this.base + offset, what);
  }

  readUpTo(offset: number, length: number): Buffer {
    const n = Math.max(0, Math.min(length, this.size - offset));
    return n === 0 ? Buffer.alloc(0) : this.file.read(this.base + offset, n);
  }

  /** The same checks and wording as RandomAccessFile, against the window's end. */
  private checkRange(offset: number, length: number, what: string): void {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
      throw inputError('BAD_OFFSET', `invalid ${what} range ${offset}+${length}`, { file: this.path });
    }
    if (offset + length > this.size) {
      throw inputError('TRUNCATED', `${what} (${length} bytes at ${offset}) runs past the end of the cabinet (${this.size} bytes)`, { file: this.path, offset });
    }
  }
}

/**
 * Read-ahead buffers handed back by ReadAhead.release(), by size, for the next ReadAhead. Testing an
 * update's cabinets opens a file table and a CFDATA chain per cabinet and folder: a fresh 256 KiB
 * buffer each time is a fresh mapping whose pages the kernel faults in again (about 10,000 page
 * faults over 155 cabinets, a tenth of `cabferry test`'s CPU time).
 */
const spareBuffers = new Map<number, Buffer[]>();
/** more than two are never in use at once (a file table and a CFDATA chain) */
const MAX_SPARE_BUFFERS = 2;

/**
 * Sequential reads in large pieces from a byte source, for the two places the cabinet reader walks
 * many small records in order: the CFFILE table and a folder's CFDATA chain. A returned view is
 * valid until the next call, which may refill the one buffer. Nothing at or past `end` is read
 * ahead; a read that reaches past it goes to the source, which reports it (TRUNCATED).
 */
export class ReadAhead {
  private buffer: Buffer;
  /** source offset of buffer[0], and how many bytes the buffer holds */
  private start = 0;
  private filled = 0;

  constructor(
    private readonly source: CabByteSource,
    private readonly end: number,
    chunk: number,
  ) {
    this.buffer = spareBuffers.get(chunk)?.pop() ?? Buffer.allocUnsafe(chunk);
  }

  /**
   * Done reading: the buffer may serve another ReadAhead, so no view this one returned may be used
   * after this. Reading again afterwards is an internal error (the buffer is gone).
   */
  release(): void {
    const buffer = this.buffer;
    if (buffer.length === 0) return;
    this.buffer = EMPTY;
    this.filled = 0;
    const spares = spareBuffers.get(buffer.length) ?? [];
    if (spares.length < MAX_SPARE_BUFFERS) spares.push(buffer);
    spareBuffers.set(buffer.length, spares);
  }

  get path(): string {
    return this.source.path;
  }

  /** Exactly `length` (≤ the chunk size) bytes at `offset`. */
  bytes(offset: number, length: number, what: string): Buffer {
    if (this.buffer.length === 0) throw internalError('READ_AHEAD_RELEASED', `${this.source.path}: read after the read-ahead buffer was released`);
    if (offset + length > this.end) return this.source.read(offset, length, what);
    if (offset < this.start || offset + length > this.start + this.filled) {
      const want = Math.max(length, Math.min(this.buffer.length, this.end - offset));
      this.source.readInto(this.buffer.subarray(0, want), offset, what);
      this.start = offset;
      this.filled = want;
    }
    return this.buffer.subarray(offset - this.start, offset - this.start + length);
  }

  /** Up to `length` bytes at `offset`, fewer at `end`. */
  readUpTo(offset: number, length: number): Buffer {
    const n = Math.min(length, this.end - offset);
    return n > 0 ? this.bytes(offset, n, 'data') : Buffer.alloc(0);
  }
}
