import fs = require('node:fs');
import { createRequire } from 'node:module';
import path = require('node:path');
import vm = require('node:vm');
import { requestedCommand } from './requested-command';

/**
 * The installed CLI is one bundled file (scripts/build-cli builds it into dist/cli/) run through
 * V8's code cache: `cabferry` (./launch, bundled as dist/cli/cabferry.js) compiles
 * cabferry-program.js — every module of the program and its dependencies but better-sqlite3 —
 * with the bytecode that the build stored in cabferry-program.cache, instead of resolving,
 * reading and compiling some forty modules one by one. Start-up was most of a small command's
 * cost (issue #18).
 *
 * Node 20 has no compile cache of its own for require (module.enableCompileCache is Node 22), so
 * the program is compiled here the way node's CommonJS loader compiles a module — the same
 * wrapper function and arguments — but through vm.Script, which takes cachedData.
 *
 * V8 refuses a cache made by another V8 version or under other V8 flags (node --cpu-prof,
 * --max-old-space-size, …) and checks the source's length, not its text: the program file ends
 * with its build id (the SHA-256 of the rest) and the cache starts with the id it was made for, so
 * a cache left from another build is never given to V8. A refused or missing cache costs time
 * (V8 compiles from source), never correctness.
 *
 * The commands that read cabinets and signatures and nothing else (CABINET_COMMANDS) run from a
 * second, smaller program file: the same main, with the other commands' modules left out. On a
 * small file start-up was most of their cost, and most of start-up was reading the program: V8
 * needs its whole text even when the cache holds the code, and the 1.4 MB were read into a buffer
 * and copied into a string, every page of both touched for the first time (about 700 page faults,
 * 11 ms of a 108 ms `cabferry verify` on the AMD EPYC of issue #18; the cabinet program is about a
 * fifth of the size).
 */

/** The whole program, the cache of its bytecode and the launcher, all in one folder. */
export const PROGRAM_FILE = 'cabferry-program.js';
export const CODE_CACHE_FILE = codeCacheFileOf(PROGRAM_FILE);

/** The program of the commands that only read cabinets and signatures: main and their modules. */
export const CABINET_PROGRAM_FILE = 'cabferry-cabinet-program.js';
export const CABINET_COMMANDS: readonly string[] = ['list', 'extract', 'test', 'verify'];

/** The program file that serves a command line: the cabinet program for its commands, else the whole program. */
export function programFileFor(argv: readonly string[]): string {
  const command = requestedCommand(argv);
  return command !== undefined && CABINET_COMMANDS.includes(command) ? CABINET_PROGRAM_FILE : PROGRAM_FILE;
}

/** The code cache beside a program file: `cabferry-program.js` → `cabferry-program.cache`. */
export function codeCacheFileOf(programFile: string): string {
  return programFile.replace(/\.js$/, '.cache');
}

/** What the build puts around the bundled program: node's CommonJS module wrapper, as text. */
export const PROGRAM_WRAPPER = { start: '(function (exports, require, module, __filename, __dirname) {', end: '\n})' } as const;

/** The last line of the program file: `//# cabferry-build <64 hex digits>`. */
const BUILD_ID_LINE = /\/\/# cabferry-build ([0-9a-f]{64})\n$/;
const BUILD_ID_BYTES = 64;

/** What the program exports: src/cli/main. */
export type ProgramExports = typeof import('./main');

export interface LoadedProgram {
  exports: ProgramExports;
  /** kept so that the build can make the code cache from it after a training run */
  script: vm.Script;
  buildId: string;
  /** whether V8 took the cache: null when there was none (or none for this build) */
  cacheAccepted: boolean | null;
}

/** Load a program file (the whole program unless told) from `dir`, with its code cache unless `useCache` is false. */
export function loadBundledProgram(dir: string, useCache = true, programFile = PROGRAM_FILE): LoadedProgram {
  const file = path.resolve(dir, programFile);
  // latin1, not utf8: the build writes the program in ASCII only (scripts/build-cli's asciiOnly),
  // where the two read the same text, and decoding 1.3 MB as UTF-8 costs a start ~4 ms more
  const source = fs.readFileSync(file, 'latin1');
  const buildId = BUILD_ID_LINE.exec(source.slice(-100))?.[1];
  if (buildId === undefined) throw new Error(`${file} has no build id: rebuild it (npm run build)`);
  const cachedData = useCache ? cacheFor(path.join(dir, codeCacheFileOf(programFile)), buildId) : undefined;
  // the file is one function expression, node's CommonJS wrapper (PROGRAM_WRAPPER): compiled as it
  // was read, not copied into a wrapper here (1.3 MB)
  const script = new vm.Script(source, { filename: file, cachedData });
  const module = { exports: {} as ProgramExports, id: file, filename: file, loaded: false };
  const wrapper = script.runInThisContext() as (exports: unknown, require: NodeRequire, module: unknown, filename: string, dirname: string) => void;
  wrapper.call(module.exports, module.exports, createRequire(file), module, file, path.dirname(file));
  module.loaded = true;
  return { exports: module.exports, script, buildId, cacheAccepted: cachedData === undefined ? null : !script.cachedDataRejected };
}

/** The cache's V8 data when it was made for this build of the program; else none. */
function cacheFor(file: string, buildId: string): Buffer | undefined {
  let data: Buffer;
  try {
    data = fs.readFileSync(file);
  } catch {
    return undefined; // a build without a cache still runs, compiled from source
  }
  return data.length > BUILD_ID_BYTES && data.toString('latin1', 0, BUILD_ID_BYTES) === buildId ? data.subarray(BUILD_ID_BYTES) : undefined;
}

/** The cache file's content for a program run in this process: its build id, then V8's data. */
export function codeCacheFile(program: LoadedProgram): Buffer {
  return Buffer.concat([Buffer.from(program.buildId, 'latin1'), program.script.createCachedData()]);
}

/** The build id line the build appends to the bundled program, `id` being the SHA-256 of the text before it. */
export function buildIdLine(id: string): string {
  return `//# cabferry-build ${id}\n`;
}
