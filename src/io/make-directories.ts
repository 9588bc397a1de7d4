import fs = require('node:fs');
import path = require('node:path');

/**
 * `mkdir -p` for a folder the user named (--to, -o, --catalog). Node 20's
 * `fs.mkdirSync(dir, { recursive: true })` never returns for some paths: under /proc, mkdir says
 * EEXIST for a name that stat then says is missing, and Node retries forever (`extract -o
 * /proc/x` hung). Here each missing component is created once, from the deepest one that exists,
 * and any failure is thrown as the system reported it (callers map errno to their wording).
 */
export function makeDirectories(dir: string): void {
  const missing: string[] = [];
  let current = path.resolve(dir);
  for (;;) {
    try {
      if (fs.statSync(current).isDirectory()) break;
      throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${current}'`), { code: 'ENOTDIR', path: current, syscall: 'mkdir' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    missing.push(current);
    const parent = path.dirname(current);
    if (parent === current) break;
    current = parent;
  }
  for (const d of missing.reverse()) {
    try {
      fs.mkdirSync(d);
    } catch (e) {
      // made meanwhile by someone else: fine if it is a folder now; otherwise the system's error stands
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || !isDirectory(d)) throw e;
    }
  }
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}
