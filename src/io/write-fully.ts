import fs = require('node:fs');

/**
 * Write all of `bytes` at the descriptor's position. writeSync may write fewer bytes than asked
 * (a signal, a pipe, some network file systems); a short write taken for a whole one would leave
 * a file that looks complete and is not. Errors propagate: each caller names its own failure.
 */
export function writeFully(fd: number, bytes: Uint8Array): void {
  for (let done = 0; done < bytes.length; ) done += fs.writeSync(fd, bytes, done, bytes.length - done);
}
