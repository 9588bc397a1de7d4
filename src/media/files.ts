import { createHash } from 'node:crypto';
import fs = require('node:fs');
import path = require('node:path');
import { describeIoError, inputError, internalError, isCabferryError } from '../errors';
import { writeFully } from '../io/write-fully';
import { sha256OfOpenFile, type HashedFile } from '../io/hash-file';
import { openRegularFile } from '../io/regular-file';

/** Streaming file operations the media code needs: hash, copy-while-hashing, atomic writes. */

const BLOCK = 1 << 20;

/** Files are written as NAME + this suffix, then renamed: one left behind belongs to a run that was killed. */
const TEMP_SUFFIX = '.cabferry-tmp';

export function isMediaTempFile(relPath: string): boolean {
  return relPath.endsWith(TEMP_SUFFIX);
}

export type { HashedFile };

/**
 * The work of a long media command (stage, verify-media), in bytes read or copied: the total
 * first, sized to what the command will really read, then each block as it passes. A progress
 * bar is drawn from it; nothing is decided by it.
 */
export type MediaWork = { type: 'total'; bytes: number } | { type: 'bytes'; bytes: number; label: string };

/**
 * SHA-256 and size of a file on the media (an unreadable file is a media error). Opened as a
 * regular file only, never through a link: a FIFO swapped in after the caller's lstat is refused
 * (FILE_NOT_REGULAR) instead of blocking the read for ever.
 */
export function hashFile(file: string, onBytes?: (bytes: number) => void): HashedFile {
  const fd = openRegularOrThrow(file);
  try {
    return sha256OfOpenFile(fd, onBytes);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Copy `from` to `to` through a temp file next to `to`, hashing the bytes as they pass, and
 * publish it (fsync + rename) only when they have `expectedSha256`: a damaged source never
 * lands on the media under a good name.
 */
export function copyVerified(from: string, to: string, expectedSha256: string, onBytes?: (bytes: number) => void): HashedFile {
  const temp = `${to}${TEMP_SUFFIX}`;
  const hash = createHash('sha256');
  const buf = Buffer.allocUnsafe(BLOCK);
  let size = 0;
  const src = openRegularOrThrow(from);
  let dst: number;
  try {
    dst = createTempFile(temp);
  } catch (e) {
    fs.closeSync(src);
    throw e;
  }
  try {
    for (;;) {
      const n = fs.readSync(src, buf, 0, BLOCK, null);
      if (n === 0) break;
      hash.update(buf.subarray(0, n));
      writeToMedia(dst, buf.subarray(0, n), temp);
      size += n;
      onBytes?.(n);
    }
    fs.fsyncSync(dst);
  } catch (e) {
    fs.closeSync(dst);
    fs.rmSync(temp, { force: true });
    throw e;
  } finally {
    fs.closeSync(src);
  }
  fs.closeSync(dst);
  const sha256 = hash.digest('hex');
  if (sha256 !== expectedSha256) {
    fs.rmSync(temp, { force: true });
    throw internalError('MEDIA_SOURCE_CORRUPT', `${from} has SHA-256 ${sha256}, but the catalog says ${expectedSha256}: run cabferry catalog check`, { file: from });
  }
  fs.renameSync(temp, to);
  return { size, sha256 };
}

/** Write a small generated file atomically (temp + fsync + rename) and return its hash. */
export function writeFileAtomic(file: string, content: Buffer | string): HashedFile {
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  const temp = `${file}${TEMP_SUFFIX}`;
  try {
    const fd = createTempFile(temp);
    try {
      writeToMedia(fd, bytes, temp);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temp, file);
  } catch (e) {
    fs.rmSync(temp, { force: true });
    if (isCabferryError(e)) throw e;
    throw internalError('MEDIA_WRITE', `cannot write ${file}: ${describeIoError(e)}`, { file, cause: e });
  }
  return { size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
}

/**
 * A new, empty temp file on the medium, created by this call (O_EXCL). One left by a killed run is
 * removed first; whatever stands at the name (a symbolic link planted on the stick, say) is
 * removed rather than written through.
 */
function createTempFile(temp: string): number {
  try {
    fs.rmSync(temp, { force: true });
    return fs.openSync(temp, 'wx');
  } catch (e) {
    throw internalError('MEDIA_WRITE', `cannot write ${temp}: ${describeIoError(e)}`, { file: temp, cause: e });
  }
}

/** Write to a file on the medium; a full medium or a file too large for FAT32 is said in words. */
function writeToMedia(fd: number, bytes: Buffer, file: string): void {
  try {
    writeFully(fd, bytes);
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOSPC' ? 'the media is full (ENOSPC)' : describeIoError(e);
    throw internalError('MEDIA_WRITE', `cannot write ${file}: ${why}`, { file, cause: e });
  }
}

function openRegularOrThrow(file: string): number {
  try {
    return openRegularFile(file, { noFollow: true }).fd;
  } catch (e) {
    if (isCabferryError(e) && e.code === 'FILE_UNREADABLE') throw inputError('MEDIA_READ', `cannot read ${file}: ${describeIoError(e.cause)}`, { file, cause: e });
    throw e;
  }
}

/**
 * Every regular file under `root`, as "/"-separated relative paths, sorted. Symbolic links and
 * other non-regular entries are returned separately and never followed.
 */
export function walkFiles(root: string): { files: string[]; special: string[] } {
  const files: string[] = [];
  const special: string[] = [];
  const visit = (rel: string): void => {
    const abs = rel === '' ? root : path.join(root, ...rel.split('/'));
    for (const ent of fs.readdirSync(abs, { withFileTypes: true })) {
      const r = rel === '' ? ent.name : `${rel}/${ent.name}`;
      if (ent.isDirectory()) visit(r);
      else if (ent.isFile()) files.push(r);
      else special.push(r);
    }
  };
  visit('');
  return { files: files.sort(), special: special.sort() };
}
