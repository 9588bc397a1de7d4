import fs = require('node:fs');
import { inputError } from '../errors';
import { openRegularFile } from './regular-file';

/**
 * A file read by offset, never loaded whole. Reads are synchronous: the readers built on it are
 * CPU-bound decoders driven block by block, and plain iterators keep them simple and testable.
 * Every read is bounds-checked against the size seen at open, so a truncated file produces a
 * precise error instead of a short buffer.
 */
export class RandomAccessFile {
  readonly path: string;
  readonly size: number;
  private fd: number | null;

  private constructor(path: string, fd: number, size: number) {
    this.path = path;
    this.fd = fd;
    this.size = size;
  }

  /** A regular file (FIFOs, devices and sockets refused by type, without blocking: see openRegularFile). */
  static open(path: string): RandomAccessFile {
    const { fd, size } = openRegularFile(path);
    return new RandomAccessFile(path, fd, size);
  }

  /** Exactly `length` bytes at `offset`, or an input error naming what was being read. */
  read(offset: number, length: number, what = 'data'): Buffer {
    this.checkRange(offset, length, what);
    const buf = Buffer.allocUnsafe(length);
    this.fill(buf, offset);
    return buf;
  }

  /**
   * Fill all of `target` with the bytes at `offset`, checked like `read`. For hot loops that
   * reuse one buffer (a digest pass over hundreds of MB) instead of allocating per read.
   */
  readInto(target: Buffer, offset: number, what = 'data'): Buffer {
    this.checkRange(offset, target.length, what);
    this.fill(target, offset);
    return target;
  }

  /** Up to `length` bytes at `offset` (fewer at end of file). */
  readUpTo(offset: number, length: number): Buffer {
    const n = Math.max(0, Math.min(length, this.size - offset));
    const buf = Buffer.allocUnsafe(n);
    this.fill(buf, offset);
    return buf;
  }

  private checkRange(offset: number, length: number, what: string): void {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
      throw inputError('BAD_OFFSET', `invalid ${what} range ${offset}+${length}`, { file: this.path });
    }
    if (offset + length > this.size) {
      throw inputError('TRUNCATED', `${what} (${length} bytes at ${offset}) runs past the end of the file (${this.size} bytes)`, {
        file: this.path,
        offset,
      });
    }
  }

  private fill(buf: Buffer, offset: number): void {
    if (this.fd === null) throw new Error(`RandomAccessFile ${this.path} used after close`);
    let done = 0;
    while (done < buf.length) {
      const n = fs.readSync(this.fd, buf, done, buf.length - done, offset + done);
      if (n === 0) {
        throw inputError('TRUNCATED', `file shrank while reading (${offset + done} of ${this.size} bytes)`, { file: this.path, offset: offset + done });
      }
      done += n;
    }
  }

  close(): void {
    if (this.fd !== null) {
      fs.closeSync(this.fd);
      this.fd = null;
    }
  }
}
