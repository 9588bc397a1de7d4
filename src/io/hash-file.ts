import { createHash } from 'node:crypto';
import fs = require('node:fs');

export interface HashedFile {
  size: number;
  sha256: string;
}

const BLOCK = 1024 * 1024;

/** SHA-256 and size of what an open descriptor reads from its position to the end, in 1 MiB blocks (each counted to `onBytes`). */
export function sha256OfOpenFile(fd: number, onBytes?: (bytes: number) => void): HashedFile {
  const hash = createHash('sha256');
  const buf = Buffer.allocUnsafe(BLOCK);
  let size = 0;
  for (;;) {
    const n = fs.readSync(fd, buf, 0, BLOCK, null);
    if (n === 0) break;
    hash.update(buf.subarray(0, n));
    size += n;
    onBytes?.(n);
  }
  return { size, sha256: hash.digest('hex') };
}
