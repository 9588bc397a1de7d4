/**
 * Crash points: runs the cabferry CLI in this process and SIGKILLs it just before its N-th
 * file-system mutation (open for writing, write, fsync, rename, remove, mkdir …), so a test can
 * crash a command at every step where it changes the disk — deterministically, unlike a timer.
 *
 *   node dist/scripts/lib/fault-crash-child.js <N|count:FILE> <cabferry args…>
 *
 * `count:FILE` crashes nowhere and writes the number of mutations the run made to FILE (the
 * range of N). Only node:fs calls are counted: SQLite writes from native code are not, which is
 * why the catalog is crashed with timers (test/importer/crash.test.ts) and this is for staging.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

type AnyFn = (...args: unknown[]) => unknown;

const [mode, ...cliArgs] = process.argv.slice(2);
if (mode === undefined) {
  process.stderr.write('usage: fault-crash-child <N|count:FILE> <cabferry args…>\n');
  process.exit(2);
}
const countFile = mode.startsWith('count:') ? mode.slice('count:'.length) : null;
const crashAt = countFile === null ? Number(mode) : Infinity;
if (countFile === null && !(Number.isSafeInteger(crashAt) && crashAt >= 1)) {
  process.stderr.write(`fault-crash-child: bad crash point ${JSON.stringify(mode)}\n`);
  process.exit(2);
}

let mutations = 0;
function mutation(): void {
  mutations++;
  if (mutations === crashAt) process.kill(process.pid, 'SIGKILL');
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
