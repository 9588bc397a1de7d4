import { inputError } from '../errors';
import type { RandomAccessFile } from '../io/random-access-file';

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
