/**
 * Crash points: runs the cabferry CLI in this process and, just before its N-th file-system
 * mutation (open for writing, write, fsync, rename, remove, mkdir …), either SIGKILLs itself or
 * fills the disk under it — so a test can crash a command, or run it out of space, at every step
 * where it changes the disk: deterministically, unlike a timer.
 *
 *   node dist/scripts/lib/fault-crash-child.js N <cabferry args…>            SIGKILL before change N
 *   node dist/scripts/lib/fault-crash-child.js fill:N:DIR <cabferry args…>   fill DIR's file system before change N
 *   node dist/scripts/lib/fault-crash-child.js count:FILE <cabferry args…>   no fault; write the number of changes to FILE
 *
 * Only node:fs calls are counted: SQLite writes from native code are not, which is why the
 * catalog's database is crashed with timers (test/importer/crash.test.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fillFileSystem } from './fault';

type AnyFn = (...args: unknown[]) => unknown;

const [mode, ...cliArgs] = process.argv.slice(2);
if (mode === undefined) {
  process.stderr.write('usage: fault-crash-child <N|count:FILE> <cabferry args…>\n');
  process.exit(2);
}
const countFile = mode.startsWith('count:') ? mode.slice('count:'.length) : null;
const fill = /^fill:(\d+):(.+)$/.exec(mode);
const faultAt = countFile !== null ? Infinity : Number(fill ? fill[1] : mode);
if (countFile === null && !(Number.isSafeInteger(faultAt) && faultAt >= 1)) {
  process.stderr.write(`fault-crash-child: bad fault point ${JSON.stringify(mode)}\n`);
  process.exit(2);
}

let mutations = 0;
let injecting = false;
function mutation(): void {
  if (injecting) return; // the filler's own writes are not the command's
  mutations++;
  if (mutations !== faultAt) return;
  if (fill === null) {
    process.kill(process.pid, 'SIGKILL');
    return;
  }
  injecting = true;
  try {
    fillFileSystem(fill[2]); // DIR/filler: the test removes it to make room again
  } finally {
    injecting = false;
  }
}

const writeFlags = fs.constants.O_WRONLY | fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_TRUNC | fs.constants.O_APPEND;
function opensForWriting(flags: unknown): boolean {
  if (flags === undefined) return false;
  if (typeof flags === 'number') return (flags & writeFlags) !== 0;
  return typeof flags === 'string' && /[wa+]/.test(flags);
}

// the module object itself (an `import *` namespace is a read-only view of it, which the code
// under test reads through, so patching the original reaches every caller)
// eslint-disable-next-line @typescript-eslint/no-require-imports
const fsAny = require('node:fs') as Record<string, AnyFn>;
function wrap(name: string, isMutation: (args: unknown[]) => boolean = () => true): void {
  const original = fsAny[name];
  fsAny[name] = function (this: unknown, ...args: unknown[]) {
    if (isMutation(args)) mutation();
    return original.apply(this, args);
  };
}
wrap('openSync', (args) => opensForWriting(args[1]));
for (const name of ['writeSync', 'fsyncSync', 'renameSync', 'rmSync', 'unlinkSync', 'rmdirSync', 'mkdirSync', 'mkdtempSync', 'copyFileSync', 'writeFileSync', 'appendFileSync', 'truncateSync', 'ftruncateSync']) {
  wrap(name);
}

if (countFile !== null) process.on('exit', () => fs.writeFileSync(countFile, String(mutations)));

const mainPath = path.join(__dirname, '..', '..', 'src', 'cli', 'main.js');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const cli = require(mainPath) as typeof import('../../src/cli/main');
void cli.main([process.argv[0], mainPath, ...cliArgs]).catch((e: unknown) => {
  process.stderr.write(`cabferry: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 4;
});
