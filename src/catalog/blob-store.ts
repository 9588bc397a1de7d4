import crypto = require('node:crypto');
import fs = require('node:fs');
import path = require('node:path');
import { describeIoError, internalError, usageError } from '../errors';
import { sha256OfOpenFile } from '../io/hash-file';
import { writeFully } from '../io/write-fully';

/**
 * Content-addressed storage next to the SQLite file: blobs/ab/cdef… named by the SHA-256 of
 * the bytes. New bytes go to tmp/ first (same file system, so the rename is atomic), are
 * fsynced, then renamed into place and the directory fsynced — all before the row naming the
 * blob commits. A crash therefore leaves at most a temp file or an unreferenced blob, never a
 * row without its bytes.
 */

const SHA256_HEX = /^[0-9a-f]{64}$/;
/**
 * Everything in tmp/ starts with the pid of the process that made it (<pid>-<random>.part, or
 * the importer's <pid>-inspect-* folders), so `catalog check --repair` leaves a running import's files alone.
 */
const TEMP_NAME = /^(\d+)-/;

export function isSha256Hex(s: string): boolean {
  return SHA256_HEX.test(s);
}

export function assertSha256(s: string): string {
  const lower = s.toLowerCase();
  if (!isSha256Hex(lower)) throw usageError('BAD_SHA256', `not a SHA-256 (64 hex digits): ${JSON.stringify(s)}`);
  return lower;
}

export interface StoredBlob {
  sha256: string;
  path: string;
  size: number;
}

/**
 * What the store holds under a name: the bytes the name says, nothing, or something else: another
 * size, another content (its SHA-256), or a file that cannot be read (the error).
 */
export type StoredBlobState =
  | { state: 'intact' }
  | { state: 'missing' }
  | { state: 'altered'; size: number }
  | { state: 'altered'; sha256: string }
  | { state: 'unreadable'; error: unknown };

/** What is wrong with a blob that is not intact, in words (for a state storedState returned). */
export function describeStoredBlob(state: Exclude<StoredBlobState, { state: 'intact' }>, recordedSize: number): string {
  if (state.state === 'missing') return 'it is missing';
  if (state.state === 'unreadable') return `it cannot be read (${describeIoError(state.error)})`;
  return 'size' in state ? `it is ${state.size} bytes, the catalog recorded ${recordedSize}` : `it hashes to ${state.sha256}`;
}

export interface TempFileInfo {
  path: string;
  pid: number | null;
  /** the writing process still runs (so the file must not be removed) */
  inUse: boolean;
  size: number;
}

export class BlobStore {
  readonly blobsDir: string;
  readonly tmpDir: string;

  constructor(readonly root: string) {
    this.blobsDir = path.join(root, 'blobs');
    this.tmpDir = path.join(root, 'tmp');
  }

  ensureLayout(): void {
    for (const dir of [this.blobsDir, this.tmpDir]) fs.mkdirSync(dir, { recursive: true });
  }

  blobPath(sha256: string): string {
    const sha = assertSha256(sha256);
    return path.join(this.blobsDir, sha.slice(0, 2), sha.slice(2));
  }

  /** Size of the stored blob, or null when it is not there. */
  blobSize(sha256: string): number | null {
    try {
      const st = fs.statSync(this.blobPath(sha256));
      return st.isFile() ? st.size : null;
    } catch {
      return null;
    }
  }

  /**
   * Whether the blob named `sha256` holds `size` bytes that hash to that name. A blob counts as
   * present only when its content proves it: a same-size blob altered on disk (bit rot, a bad
   * copy, a hand edit) is not the payload, and calling it one would keep it for ever. This reads
   * the whole blob; callers hash outside the catalog's write lock. The one judgement of a stored
   * blob: import (a duplicate or a blob to restore) and `catalog check` go by it.
   */
  storedState(sha256: string, size: number): StoredBlobState {
    const actual = this.blobSize(sha256);
    if (actual === null) return { state: 'missing' };
    if (actual !== size) return { state: 'altered', size: actual };
    let fd: number;
    try {
      fd = fs.openSync(this.blobPath(sha256), 'r');
    } catch (error) {
      return { state: 'unreadable', error };
    }
    try {
      const hashed = sha256OfOpenFile(fd);
      // (a blob that changed size while it was read is judged by what was read: its content)
      return hashed.sha256 === sha256 && hashed.size === size ? { state: 'intact' } : { state: 'altered', sha256: hashed.sha256 };
    } catch (error) {
      return { state: 'unreadable', error };
    } finally {
      fs.closeSync(fd);
    }
  }

  /**
   * Refuse up front a payload the store's file system cannot hold (plus a margin for SQLite),
   * rather than failing with ENOSPC half way through a large copy.
   */
  assertRoomFor(bytes: number): void {
    let free: number;
    try {
      const st = fs.statfsSync(this.tmpDir);
      free = st.bavail * st.bsize;
    } catch {
      return; // no statfs here: the write itself will report a full disk
    }
    const margin = 64 * 1024 * 1024;
    if (bytes + margin > free) {
      throw internalError('CATALOG_NO_SPACE', `${bytes} bytes to store but only ${free} free in ${this.root}`);
    }
  }

  createTemp(): BlobTempFile {
    const name = `${process.pid}-${crypto.randomBytes(8).toString('hex')}.part`;
    const file = path.join(this.tmpDir, name);
    let fd: number;
    try {
      fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o644);
    } catch (e) {
      throw internalError('BLOB_TEMP_CREATE', `cannot create a temp file in ${this.tmpDir}: ${describeIoError(e)}`, { cause: e });
    }
    return new BlobTempFile(file, fd);
  }

  /**
   * Move a finished (fsynced) temp file to its content address and make the rename durable.
   * Callers hold the catalog write lock, so `check --repair` never sees the blob before its row.
   */
  publish(temp: BlobTempFile, sha256: string): string {
    if (!temp.finished) throw internalError('BLOB_NOT_FINISHED', 'temp file published before it was flushed');
    const dest = this.blobPath(sha256);
    const shard = path.dirname(dest);
    try {
      if (!fs.existsSync(shard)) {
        fs.mkdirSync(shard, { recursive: true });
        fsyncDir(this.blobsDir);
      }
      fs.renameSync(temp.path, dest);
      fsyncDir(shard);
    } catch (e) {
      throw internalError('BLOB_PUBLISH', `cannot store blob ${sha256}: ${describeIoError(e)}`, { file: dest, cause: e });
    }
    temp.published = true;
    return dest;
  }

  removeBlob(sha256: string): void {
    const p = this.blobPath(sha256);
    fs.rmSync(p, { force: true });
    fsyncDir(path.dirname(p));
  }

  /** Every file under blobs/ that has a valid content address; anything else is reported as stray. */
  *listBlobs(): Generator<StoredBlob | { stray: string }> {
    let shards: fs.Dirent[];
    try {
      shards = fs.readdirSync(this.blobsDir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const shard of shards.sort((a, b) => a.name.localeCompare(b.name))) {
      const shardPath = path.join(this.blobsDir, shard.name);
      if (!shard.isDirectory() || !/^[0-9a-f]{2}$/.test(shard.name)) {
        yield { stray: shardPath };
        continue;
      }
      for (const ent of fs.readdirSync(shardPath, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
        const p = path.join(shardPath, ent.name);
        const sha = shard.name + ent.name;
        if (!ent.isFile() || !isSha256Hex(sha)) {
          yield { stray: p };
          continue;
        }
        yield { sha256: sha, path: p, size: fs.statSync(p).size };
      }
    }
  }

  listTemps(): TempFileInfo[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.tmpDir);
    } catch {
      return [];
    }
    return names.sort().map((name) => {
      const p = path.join(this.tmpDir, name);
      const m = TEMP_NAME.exec(name);
      const pid = m ? Number(m[1]) : null;
      let size = 0;
      try {
        size = fs.statSync(p).size;
      } catch {
        /* removed meanwhile */
      }
      return { path: p, pid, inUse: pid !== null && pid !== process.pid && processIsAlive(pid), size };
    });
  }
}

/** A temp file being filled with the bytes of one payload. */
export class BlobTempFile {
  private fd: number | null;
  bytesWritten = 0;
  finished = false;
  published = false;

  constructor(readonly path: string, fd: number) {
    this.fd = fd;
  }

  write(chunk: Buffer): void {
    if (this.fd === null) throw internalError('BLOB_TEMP_CLOSED', 'write to a closed temp file');
    try {
      writeFully(this.fd, chunk);
    } catch (e) {
      throw internalError('BLOB_WRITE', `cannot write ${this.path}: ${describeIoError(e)}`, { cause: e });
    }
    this.bytesWritten += chunk.length;
  }

  /** Flush the bytes to stable storage and close; after this the file may be published. */
  finish(): void {
    if (this.fd === null) throw internalError('BLOB_TEMP_CLOSED', 'finish of a closed temp file');
    try {
      fs.fsyncSync(this.fd);
    } catch (e) {
      throw internalError('BLOB_FSYNC', `cannot flush ${this.path}: ${describeIoError(e)}`, { cause: e });
    } finally {
      fs.closeSync(this.fd);
      this.fd = null;
    }
    this.finished = true;
  }

  /** Remove the temp file (it was rejected, a duplicate, or the import failed). Idempotent. */
  discard(): void {
    if (this.fd !== null) {
      fs.closeSync(this.fd);
      this.fd = null;
    }
    if (!this.published) fs.rmSync(this.path, { force: true });
  }
}

export function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
