import crypto = require('node:crypto');
import fs = require('node:fs');
import path = require('node:path');
import { CabferryError, describeIoError, internalError, usageError } from '../errors';
import { assertSha256 } from './blob-store';
import type { Catalog } from './catalog';
import { writeFully } from '../io/write-fully';

export interface ExportedBlob {
  sha256: string;
  size: number;
  path: string;
  status: 'imported' | 'quarantined';
}

/**
 * Copy a blob out of the store, re-hashing it on the way: a blob altered on disk is never
 * handed on. Written to a temp name beside the destination and renamed, so FILE is either
 * the complete verified payload or untouched.
 */
export function exportBlob(catalog: Catalog, sha256: string, dest: string, options: { force?: boolean; onBytes?: (bytes: number) => void } = {}): ExportedBlob {
  const sha = assertSha256(sha256);
  const entry = catalog.entry(sha);
  if (entry === null) throw new CabferryError('negative', 'NOT_IN_CATALOG', `no payload with SHA-256 ${sha} in ${catalog.dir}`);
  const out = path.resolve(dest);
  if (!options.force && fs.existsSync(out)) throw usageError('OUTPUT_EXISTS', `${out} exists (use --force to replace it)`);
  const src = catalog.blobPath(sha);
  let inFd: number;
  try {
    inFd = fs.openSync(src, 'r');
  } catch (e) {
    throw internalError('BLOB_MISSING', `the blob of ${sha} is missing from the store (run \`cabferry catalog check\`)`, { file: src, cause: e });
  }
  const tmp = path.join(path.dirname(out), `.${path.basename(out)}.${process.pid}.part`);
  let outFd: number | null = null;
  try {
    outFd = fs.openSync(tmp, 'wx');
    const hash = crypto.createHash('sha256');
    const buf = Buffer.allocUnsafe(1 << 20);
    let size = 0;
    for (;;) {
      const n = fs.readSync(inFd, buf, 0, buf.length, null);
      if (n === 0) break;
      const chunk = buf.subarray(0, n);
      hash.update(chunk);
      writeFully(outFd, chunk);
      size += n;
      options.onBytes?.(n);
    }
    const actual = hash.digest('hex');
    if (actual !== sha || size !== entry.size) {
      throw internalError('BLOB_CORRUPT', `the stored blob of ${sha} was altered on disk (hashes to ${actual}); nothing exported`, { file: src });
    }
    fs.fsyncSync(outFd);
    fs.closeSync(outFd);
    outFd = null;
    fs.renameSync(tmp, out);
    return { sha256: sha, size, path: out, status: entry.status };
  } catch (e) {
    if (outFd !== null) fs.closeSync(outFd);
    fs.rmSync(tmp, { force: true });
    if (e instanceof CabferryError) throw e;
    throw internalError('EXPORT_FAILED', `cannot write ${out}: ${describeIoError(e)}`, { file: out, cause: e });
  } finally {
    fs.closeSync(inFd);
  }
}
