import { createHash, randomBytes } from 'node:crypto';
import fs = require('node:fs');
import path = require('node:path');
import { CabferryError, describeIoError, inputError, internalError, usageError, type ErrorKind } from '../errors';
import { damagedMembers, type DamageLocation, type DamagedMember, type MemberReader } from './member-reader';
import type { CabMember } from './types';
import { writeFully } from '../io/write-fully';
import { makeDirectories } from '../io/make-directories';

/**
 * Writing members to disk. A cabinet is hostile until proven otherwise: every name is checked
 * before anything is written (so a refused cabinet writes nothing), every directory on the way
 * is created one level at a time and must be a real directory (not a symlink planted in DIR),
 * and each file is written under a temporary name and renamed into place when complete.
 */

export interface ExtractOptions {
  /** members to write (default: all) */
  members?: readonly CabMember[];
  /**
   * A damaged block costs only the members it touches (MemberPassOptions.salvage). Damaged
   * members are never written: a file on disk is always a whole, checked member.
   */
  salvage?: boolean;
  /**
   * Paths written earlier in the same run by other cabinets (extract --search): such a path is
   * not written again. Identical content is reported as a duplicate of the first; different
   * content is CAB_SEARCH_NAME_CONFLICT and the first stays. Filled in as members are written.
   */
  written?: WrittenPaths;
  /**
   * Replace files that already exist in the output directory (--force). Without it, existing
   * files are refused before anything is written: one overwrite policy for every command that
   * writes a user-named file (extract, collect-script, catalog export-blob).
   */
  overwrite?: boolean;
}

/** Relative path → what was written there in this run and from which cabinet. */
export type WrittenPaths = Map<string, { sha256: string; source: string }>;

export interface ExtractedMember {
  index: number;
  name: string;
  /** path written, relative to the output directory, `/`-separated */
  path: string;
  size: number;
  ok: boolean;
  sha256?: string;
  error?: { code: string; message: string; kind: ErrorKind };
  /** salvage: where the member's data was lost */
  damage?: DamageLocation;
  /** not written again: an earlier cabinet of the run wrote the same path with the same content */
  duplicateOf?: string;
}

interface OpenTarget {
  fd: number;
  tmp: string;
  final: string;
  hash: ReturnType<typeof createHash>;
}

export interface ExtractReport {
  file: string;
  dir: string;
  ok: boolean;
  members: ExtractedMember[];
  /** members not written because their data is damaged or unreadable (not storage failures, not name conflicts) */
  damaged: DamagedMember[];
}

/**
 * The relative path a member name maps to: `\` becomes `/`; empty and `.` segments are dropped.
 * Absolute names, drive letters, `..`, NUL and control characters are refused.
 */
export function safeRelativePath(name: string): string {
  const why = unsafeNameReason(name);
  if (why !== null) throw inputError('CAB_UNSAFE_NAME', `refusing member name ${JSON.stringify(name)}: ${why}`, { member: name });
  return name.replace(/\\/g, '/').split('/').filter((s) => s !== '' && s !== '.').join('/');
}

function unsafeNameReason(name: string): string | null {
  const slashed = name.replace(/\\/g, '/');
  if (slashed.startsWith('/')) return 'absolute path';
  if (/^[A-Za-z]:/.test(slashed)) return 'drive letter';
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f]/.test(slashed)) return 'control character in name';
  const segments = slashed.split('/');
  if (segments.some((s) => s === '..')) return 'parent directory reference (..)';
  if (segments.every((s) => s === '' || s === '.')) return 'no file name';
  if (slashed.endsWith('/')) return 'names a directory, not a file';
  return null;
}

export function extractMembers(cab: MemberReader, outDir: string, options: ExtractOptions = {}): ExtractReport {
  const selected = options.members ?? cab.members;
  // 1. Every name checked before any byte is written.
  const targets = targetPaths(cab, selected);
  if (options.overwrite !== true && options.written === undefined) refuseExistingTargets(outDir, targets.values());
  const root = prepareOutputDir(outDir);

  // 2. One decoding pass per folder; each member streams into its own temporary file.
  const results = new Map<CabMember, ExtractedMember>();
  const open = new Map<CabMember, OpenTarget>();
  const failed = new Map<CabMember, CabferryError>();
  /** members whose data could not be read (as opposed to written) */
  const unreadable = new Set<CabMember>();
  const begin = (m: CabMember): OpenTarget => {
    const rel = targets.get(m)!;
    const final = path.join(root, ...rel.split('/'));
    ensureParentDirs(root, rel);
    const tmp = path.join(path.dirname(final), `.cabferry-${process.pid}-${randomBytes(6).toString('hex')}.tmp`); // short: the final name may use the whole 255 bytes
    const fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | (fs.constants.O_NOFOLLOW ?? 0), 0o644);
    return { fd, tmp, final, hash: createHash('sha256') };
  };
  cab.forEachMemberData(selected, {
    onData: (m, chunk) => {
      if (failed.has(m)) return;
      try {
        let entry = open.get(m);
        if (entry === undefined) {
          entry = guardIo(m, cab.path, () => begin(m));
          open.set(m, entry);
        }
        const target = entry;
        target.hash.update(chunk);
        guardIo(m, cab.path, () => writeFully(target.fd, chunk));
      } catch (e) {
        if (!(e instanceof CabferryError)) throw e;
        // this member is lost (unwritable path, disk full); the folder pass goes on for the others
        failed.set(m, e);
        discard(open.get(m));
        open.delete(m);
      }
    },
    done: (m, error, damage) => {
      const rel = targets.get(m)!;
      const result: ExtractedMember = { index: m.index, name: m.name, path: rel, size: m.size, ok: false };
      if (damage !== undefined) result.damage = damage;
      if (error !== null) unreadable.add(m);
      let entry = open.get(m);
      open.delete(m);
      try {
        const failure = error ?? failed.get(m) ?? null;
        if (failure !== null) throw failure;
        entry ??= guardIo(m, cab.path, () => begin(m)); // a zero-length member gets no data calls
        const target = entry;
        const sha256 = target.hash.digest('hex');
        const earlier = options.written?.get(rel);
        if (earlier !== undefined) {
          discard(target);
          if (earlier.sha256 !== sha256) {
            throw inputError('CAB_SEARCH_NAME_CONFLICT', `${rel} was already written from ${earlier.source} with different content (SHA-256 ${earlier.sha256.slice(0, 16)}…, this one ${sha256.slice(0, 16)}…); the first is kept`, {
              file: cab.path,
              member: m.name,
            });
          }
          result.duplicateOf = earlier.source;
        } else {
          guardIo(m, cab.path, () => {
            fs.closeSync(target.fd);
            target.fd = -1;
            setMtime(target.tmp, m);
            refuseNonRegularTarget(target.final, rel);
            fs.renameSync(target.tmp, target.final);
          });
          options.written?.set(rel, { sha256, source: cab.path });
        }
        result.ok = true;
        result.sha256 = sha256;
      } catch (e) {
        discard(entry);
        if (!(e instanceof CabferryError)) throw e;
        result.error = { code: e.code, message: e.message, kind: e.kind };
      }
      results.set(m, result);
    },
  }, { salvage: options.salvage ?? false });
  for (const entry of open.values()) discard(entry);
  const members = selected.map((m) => results.get(m)!);
  // storage failures and name conflicts are not damage: only members whose data could not be read
  const damaged = damagedMembers(selected.flatMap((m, i) => (unreadable.has(m) ? [[m, members[i]!] as const] : [])));
  return { file: cab.path, dir: outDir, ok: members.every((r) => r.ok), members, damaged };
}

/**
 * Several cabinets into one directory (extract --search): every name of every cabinet is checked
 * before anything is written, then each cabinet is extracted in turn. A path is written once per
 * run: a later member with the same path and the same content is a duplicate, with different
 * content a CAB_SEARCH_NAME_CONFLICT (ExtractOptions.written). cabextract instead overwrites,
 * so the last cabinet silently wins; which of two different files is meant cannot be guessed.
 */
export function extractCabinets(sources: readonly { cab: MemberReader; members?: readonly CabMember[] }[], outDir: string, options: { salvage?: boolean; overwrite?: boolean } = {}): ExtractReport[] {
  const all = sources.map(({ cab, members }) => targetPaths(cab, members ?? cab.members));
  if (options.overwrite !== true) refuseExistingTargets(outDir, all.flatMap((t) => [...t.values()]));
  const written: WrittenPaths = new Map();
  return sources.map(({ cab, members }) => extractMembers(cab, outDir, { members, salvage: options.salvage, written, overwrite: true }));
}

/** OUTPUT_EXISTS (a usage error: the operator decides with --force) when any target path exists already. */
function refuseExistingTargets(outDir: string, relPaths: Iterable<string>): void {
  const existing: string[] = [];
  for (const rel of new Set(relPaths)) {
    try {
      fs.lstatSync(path.join(outDir, ...rel.split('/')));
      existing.push(rel);
    } catch {
      /* absent: will be created */
    }
  }
  if (existing.length === 0) return;
  const more = existing.length > 1 ? ` and ${existing.length - 1} more` : '';
  throw usageError('OUTPUT_EXISTS', `${existing[0]}${more} already exist(s) in ${outDir} (use --force to overwrite)`);
}

/** The relative path of every member, or CAB_UNSAFE_NAME for the first that has none. */
function targetPaths(cab: MemberReader, members: readonly CabMember[]): Map<CabMember, string> {
  const targets = new Map<CabMember, string>();
  for (const m of members) {
    try {
      targets.set(m, safeRelativePath(m.name));
    } catch (e) {
      throw e instanceof CabferryError ? e.withContext({ file: cab.path, offset: m.entryOffset }) : e;
    }
  }
  return targets;
}

function prepareOutputDir(outDir: string): string {
  try {
    makeDirectories(outDir);
    const real = fs.realpathSync(outDir);
    if (!fs.statSync(real).isDirectory()) throw usageError('OUTPUT_NOT_DIRECTORY', `output path is not a directory: ${outDir}`);
    return real;
  } catch (e) {
    if (e instanceof CabferryError) throw e;
    throw usageError('OUTPUT_UNUSABLE', `cannot use output directory ${outDir}: ${describeIoError(e)}`, { cause: e });
  }
}

/** Create the directories leading to `rel` under `root`, refusing anything that is not a plain directory. */
function ensureParentDirs(root: string, rel: string): void {
  const parts = rel.split('/').slice(0, -1);
  let dir = root;
  for (const part of parts) {
    dir = path.join(dir, part);
    let st: fs.Stats | undefined;
    try {
      st = fs.lstatSync(dir);
    } catch {
      fs.mkdirSync(dir);
      continue;
    }
    if (st.isSymbolicLink()) throw inputError('CAB_EXTRACT_SYMLINK', `refusing to write through symbolic link ${path.relative(root, dir)} in the output directory`);
    if (!st.isDirectory()) throw inputError('CAB_EXTRACT_NOT_DIRECTORY', `${path.relative(root, dir)} exists in the output directory and is not a directory`);
  }
  // Belt and braces: the resolved parent must still be inside root.
  const parent = fs.realpathSync(path.dirname(path.join(root, ...rel.split('/'))));
  if (parent !== root && !parent.startsWith(root + path.sep)) {
    throw inputError('CAB_UNSAFE_NAME', `member path ${rel} resolves outside the output directory`);
  }
}

function refuseNonRegularTarget(final: string, rel: string): void {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(final);
  } catch {
    return;
  }
  if (!st.isFile()) throw inputError('CAB_EXTRACT_NOT_FILE', `${rel} exists in the output directory and is not a regular file`);
}

/** DOS times are local wall-clock time; files get that as their mtime when the date is valid. */
function setMtime(file: string, m: CabMember): void {
  if (m.dateTime === null) return;
  const [d, t] = m.dateTime.split('T') as [string, string];
  const [y, mo, da] = d.split('-').map(Number) as [number, number, number];
  const [h, mi, s] = t.split(':').map(Number) as [number, number, number];
  const when = new Date(y, mo - 1, da, h, mi, s);
  fs.utimesSync(file, when, when);
}

/** Storage failures (disk full, permissions) are ours to report as exit 4, naming the member. */
function guardIo<T>(m: CabMember, file: string, step: () => T): T {
  try {
    return step();
  } catch (e) {
    if (e instanceof CabferryError) throw e.withContext({ file, member: m.name });
    const code = (e as NodeJS.ErrnoException).code;
    // the name itself is unusable on this file system: the cabinet's problem, not ours
    if (code === 'ENAMETOOLONG' || code === 'EILSEQ') throw inputError('CAB_EXTRACT_BAD_NAME', `member name cannot be used as a file name here (${code})`, { file, member: m.name, cause: e });
    if (code !== undefined) throw internalError('EXTRACT_WRITE_FAILED', `cannot write member: ${code}`, { file, member: m.name, cause: e });
    throw e;
  }
}

function discard(entry: OpenTarget | undefined): void {
  if (entry === undefined) return;
  if (entry.fd >= 0) fs.closeSync(entry.fd);
  entry.fd = -1;
  fs.rmSync(entry.tmp, { force: true });
}
