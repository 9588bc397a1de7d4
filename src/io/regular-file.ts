import fs = require('node:fs');
import { describeIoError, inputError } from '../errors';

/**
 * Opening a file that should hold data, for reading. A FIFO, device or socket is refused by
 * type before a byte is read: the open uses O_NONBLOCK (so opening a FIFO with no writer returns
 * at once instead of hanging) and the type is judged on the open descriptor (fstat), so what is
 * judged is what is read.
 */

export interface OpenRegularOptions {
  /** refuse a symbolic link as the last path component (O_NOFOLLOW): media files are never links */
  noFollow?: boolean;
}

export interface RegularFileHandle {
  fd: number;
  size: number;
}

/** What kind of thing a non-regular file is, in words. */
export function fileTypeName(st: fs.Stats): string {
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a named pipe (FIFO)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  if (st.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

export function openRegularFile(file: string, options: OpenRegularOptions = {}): RegularFileHandle {
  const flags = fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0) | (options.noFollow ? (fs.constants.O_NOFOLLOW ?? 0) : 0);
  let fd: number;
  try {
    fd = fs.openSync(file, flags);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ELOOP' && options.noFollow) throw inputError('FILE_IS_SYMLINK', 'is a symbolic link; not followed', { file, cause: e });
    throw inputError('FILE_UNREADABLE', `cannot open: ${describeIoError(e)}`, { file, cause: e });
  }
  let st: fs.Stats;
  try {
    st = fs.fstatSync(fd);
  } catch (e) {
    fs.closeSync(fd);
    throw inputError('FILE_UNREADABLE', `cannot examine: ${describeIoError(e)}`, { file, cause: e });
  }
  if (!st.isFile()) {
    fs.closeSync(fd);
    throw inputError('FILE_NOT_REGULAR', `is ${fileTypeName(st)}, not a regular file; only regular files are read`, { file });
  }
  return { fd, size: st.size };
}

/**
 * A whole small file (a plan, a log, a manifest, a certificate), refused with FILE_TOO_LARGE
 * when it holds more than `maxBytes`: a file read back from media or named by an operator is
 * bounded before it is held in memory or decoded into a string.
 */
export function readRegularFile(file: string, options: OpenRegularOptions & { maxBytes: number; what?: string }): Buffer {
  const { fd, size } = openRegularFile(file, options);
  try {
    if (size > options.maxBytes) {
      throw inputError('FILE_TOO_LARGE', `${options.what ?? 'the file'} holds ${size} bytes, over the ${options.maxBytes}-byte limit for it`, { file });
    }
    const buf = Buffer.allocUnsafe(size);
    let done = 0;
    while (done < size) {
      let n: number;
      try {
        n = fs.readSync(fd, buf, done, size - done, done);
      } catch (e) {
        throw inputError('FILE_UNREADABLE', `cannot read: ${describeIoError(e)}`, { file, cause: e });
      }
      if (n === 0) break; // shrank while being read: what is there
      done += n;
    }
    return buf.subarray(0, done);
  } finally {
    fs.closeSync(fd);
  }
}
