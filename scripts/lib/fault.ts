import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * Fault injection for tests of the catalog and the media: run the CLI as a separate process and
 * kill it at a chosen moment, give it a small (or inode-starved) file system of its own, fill
 * that file system while it works, or make it read-only — all with the real kernel, no seam in
 * the library. Every helper that needs privileges says why it cannot run instead of failing, so
 * a test can skip with that reason.
 */

/** The seed of a fault test: $CABFERRY_FAULT_SEED to replay one, else a fresh one (tests print it in every message). */
export function faultSeed(): number {
  const fixed = process.env.CABFERRY_FAULT_SEED;
  return fixed !== undefined && fixed !== '' ? Number(fixed) : Date.now() % 1_000_000;
}

export interface ChildRun {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** from spawn to exit */
  ms: number;
}

export interface ChildOptions {
  /** SIGKILL the child this many ms after it was spawned */
  killAfterMs?: number;
  /** called (once) this many ms after spawn, while the child runs — e.g. to fill its disk */
  atMs?: { ms: number; fn: () => void };
  /** run as this uid/gid (setpriv), so permission bits apply although the tests run as root */
  runAs?: { uid: number; gid: number };
  env?: NodeJS.ProcessEnv;
}

/** Run `node <script> args…` and resolve with what it did, however it ended. */
export function runChild(script: string, args: string[], options: ChildOptions = {}): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const [cmd, argv] = options.runAs
      ? ['setpriv', [`--reuid=${options.runAs.uid}`, `--regid=${options.runAs.gid}`, '--clear-groups', process.execPath, script, ...args]]
      : [process.execPath, [script, ...args]];
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...options.env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timers: NodeJS.Timeout[] = [];
    if (options.killAfterMs !== undefined) timers.push(setTimeout(() => child.kill('SIGKILL'), options.killAfterMs));
    if (options.atMs !== undefined) {
      const { ms, fn } = options.atMs;
      timers.push(setTimeout(fn, ms));
    }
    child.on('error', reject);
    child.on('close', (status, signal) => {
      for (const t of timers) clearTimeout(t);
      resolve({ status, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/**
 * Run a reference child and note when `watch` first appears (polled every millisecond): the
 * start of the window in which it writes, so faults can be aimed at that window rather than at
 * node's start-up. firstWriteMs is null when it never appeared.
 */
export async function timeWriteWindow(watch: string, run: () => Promise<ChildRun>): Promise<{ run: ChildRun; firstWriteMs: number | null }> {
  const started = Date.now();
  let firstWriteMs: number | null = null;
  const poll = setInterval(() => {
    if (firstWriteMs === null && fs.existsSync(watch)) firstWriteMs = Date.now() - started;
  }, 1);
  try {
    return { run: await run(), firstWriteMs };
  } finally {
    clearInterval(poll);
  }
}

/** The non-empty lines a run wrote to stderr. */
export function stderrLines(run: { stderr: string }): string[] {
  return run.stderr.split('\n').filter((l) => l.trim() !== '');
}

// ---- small file systems ------------------------------------------------------------------------

export interface MountedFs {
  dir: string;
  /** unmount (idempotent); also done at process exit */
  unmount(): void;
}

const mounted = new Set<string>();
process.on('exit', () => {
  for (const dir of mounted) spawnSync('umount', ['-l', dir]);
});

/**
 * A tmpfs of `sizeBytes` (and at most `inodes` files and folders, when given) mounted on a new
 * folder under `parent`; null with the reason when this environment cannot mount one (not root,
 * no CAP_SYS_ADMIN, a container that forbids it).
 */
export function mountTmpfs(parent: string, options: { sizeBytes: number; inodes?: number; mode?: string }): MountedFs | { unavailable: string } {
  const dir = fs.mkdtempSync(path.join(parent, 'tmpfs-'));
  const opts = [`size=${options.sizeBytes}`, `mode=${options.mode ?? '0755'}`, ...(options.inodes !== undefined ? [`nr_inodes=${options.inodes}`] : [])];
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', opts.join(','), 'cabferry-fault', dir], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    return { unavailable: `cannot mount a tmpfs here (${(r.error?.message ?? r.stderr.trim()) || `mount exited ${r.status}`})` };
  }
  mounted.add(dir);
  return { dir, unmount: () => unmount(dir) };
}

/** `dir` seen again, read-only, through a bind mount (so even root cannot write through it). */
export function bindReadonly(source: string, parent: string): MountedFs | { unavailable: string } {
  const dir = fs.mkdtempSync(path.join(parent, 'ro-'));
  const bind = spawnSync('mount', ['--bind', source, dir], { encoding: 'utf8' });
  if (bind.error || bind.status !== 0) return { unavailable: `cannot bind-mount here (${(bind.error?.message ?? bind.stderr.trim()) || `mount exited ${bind.status}`})` };
  mounted.add(dir);
  const ro = spawnSync('mount', ['-o', 'remount,bind,ro', dir], { encoding: 'utf8' });
  if (ro.error || ro.status !== 0) {
    unmount(dir);
    return { unavailable: `cannot remount read-only here (${(ro.error?.message ?? ro.stderr.trim()) || `mount exited ${ro.status}`})` };
  }
  return { dir, unmount: () => unmount(dir) };
}

function unmount(dir: string): void {
  if (!mounted.delete(dir)) return;
  spawnSync('umount', [dir]);
}

/**
 * Take every free byte of the file system holding `dir` with one file (`name`), the way another
 * program filling the disk would; returns its path. fallocate is instant on tmpfs and ext4; a
 * write loop is the fallback.
 */
export function fillFileSystem(dir: string, name = 'filler'): string {
  const file = path.join(dir, name);
  const st = fs.statfsSync(dir);
  const free = Number(st.bavail) * Number(st.bsize);
  const r = spawnSync('fallocate', ['-l', String(free), file]);
  if (r.error || r.status !== 0) {
    const fd = fs.openSync(file, 'a');
    const block = Buffer.alloc(1 << 16);
    try {
      for (;;) fs.writeSync(fd, block);
    } catch {
      /* ENOSPC: full */
    } finally {
      fs.closeSync(fd);
    }
  }
  // whatever is left (e.g. fallocate rounded down) goes too
  try {
    const fd = fs.openSync(file, 'a');
    try {
      for (;;) fs.writeSync(fd, Buffer.alloc(4096));
    } catch {
      /* full */
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    /* no inode left for it: full in the other sense */
  }
  return file;
}

// ---- another user -------------------------------------------------------------------------------

/**
 * An unprivileged uid/gid to run a child as (permission bits mean nothing to root), or the
 * reason there is none: not root, or no setpriv.
 */
export function unprivilegedUser(): { uid: number; gid: number } | { unavailable: string } {
  if (process.getuid?.() !== 0) return { unavailable: 'the tests do not run as root, so they cannot switch to another user' };
  const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'true']);
  if (r.error || r.status !== 0) return { unavailable: 'setpriv cannot switch to uid 65534 here' };
  return { uid: 65534, gid: 65534 };
}

/**
 * The first of `paths` that `user` cannot read (a checkout inside a private 0700 folder, where
 * the CLI and the fixtures are out of another user's reach), or null when it can read them all.
 */
export function unreadableBy(user: { uid: number; gid: number }, paths: readonly string[]): string | null {
  for (const p of paths) {
    const r = spawnSync('setpriv', [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', 'test', '-r', p]);
    if (r.error || r.status !== 0) return p;
  }
  return null;
}

/** Let another user reach and read `dir` (test temp folders are 0700): o+rx on it and each parent below the temp root. */
export function openUpForReading(dir: string): void {
  const stop = path.resolve(os.tmpdir());
  for (let d = path.resolve(dir); d !== stop && d !== path.dirname(d); d = path.dirname(d)) {
    fs.chmodSync(d, (fs.statSync(d).mode & 0o7777) | 0o005);
  }
}

/** Every file and folder under `dir` with size, mode and content hash: "nothing changed on disk". */
export function snapshotTree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const visit = (rel: string): void => {
    const abs = path.join(dir, rel);
    const st = fs.lstatSync(abs);
    if (st.isDirectory()) {
      out.set(rel + '/', `dir ${(st.mode & 0o7777).toString(8)}`);
      for (const name of fs.readdirSync(abs).sort()) visit(path.join(rel, name));
    } else {
      const hash = st.isFile() ? createHash('sha256').update(fs.readFileSync(abs)).digest('hex') : 'special';
      out.set(rel, `${st.size} ${(st.mode & 0o7777).toString(8)} ${st.mtimeMs} ${hash}`);
    }
  };
  visit('');
  return out;
}
