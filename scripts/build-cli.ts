/**
 * The second step of `npm run build`, after tsc: the installed CLI as one bundled program and
 * the code cache it starts from (see src/cli/bundled-program.ts for why), in dist/cli/:
 *
 *   cabferry.js               the launcher, package.json's bin (src/cli/launch.ts)
 *   cabferry-program.js       src/cli/main and everything it requires, but better-sqlite3
 *                             (a native addon, required from node_modules as before)
 *   cabferry-program.js.map   back to the TypeScript (node --enable-source-maps)
 *   cabferry-program.cache    V8's bytecode of the program after a training run (below)
 *   cabferry-cabinet-program.*  the same for list, extract, test and verify: main with every
 *                             other command's module left out (CABINET_COMMANDS; a left-out
 *                             module, if it were ever required there, throws)
 *   digest-worker.js          the parallel digest's worker (src/authenticode/parallel-digest
 *                             starts it from the folder of the code that runs it)
 *
 *   node dist/scripts/build-cli.js        (npm run build runs it)
 *
 * esbuild links the JavaScript tsc wrote (dist/src), so what runs is what tsc compiled and
 * type-checked. Whitespace and comments are left out and non-ASCII text escaped: V8 scans the
 * 1.3 MB as one-byte text, and reads it only for functions the cache does not hold.
 *
 * The cache holds the bytecode of every function compiled by the time it is made: the program's
 * start-up and `cabferry verify` of the small fixture below, which also covers commander, option
 * parsing, reading a cabinet's header and the error paths every command shares. A command the
 * training did not run compiles its own functions from the source as before. Training on more
 * commands made verify and test slower (a larger cache to load; on a trial bundle without the npm
 * dependencies, trained on loading every command: 618 against 598 M instructions for verify, 598
 * against 588 M for test), and `cabferry test` sets a V8 flag, which would make V8
 * refuse the cache in every later process.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { build, buildSync, type BuildOptions, type Plugin } from 'esbuild';
import { buildIdLine, CABINET_COMMANDS, CABINET_PROGRAM_FILE, codeCacheFile, codeCacheFileOf, loadBundledProgram, PROGRAM_FILE, PROGRAM_WRAPPER } from '../src/cli/bundled-program';
import { COMMAND_NAMES } from '../src/cli/main';

const root = path.join(__dirname, '..', '..');
const compiled = path.join(root, 'dist', 'src');
const out = path.join(root, 'dist', 'cli');

/** What the training run verifies: committed fixtures, a dual-signed cabinet as Microsoft signs them. */
const TRAINING_ARGS = ['verify', path.join(root, 'fixtures', 'signed', 'dual-microsoft-style.cab'), '--trust', path.join(root, 'fixtures', 'pki', 'root.pem')];

const common: BuildOptions = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  external: ['better-sqlite3'],
  minifyWhitespace: true,
  charset: 'ascii',
  logLevel: 'warning',
};

async function main(): Promise<void> {
  fs.rmSync(out, { recursive: true, force: true });
  buildSync({ ...common, entryPoints: [path.join(compiled, 'authenticode', 'digest-worker.js')], outfile: path.join(out, 'digest-worker.js') });
  const launcher = path.join(out, 'cabferry.js');
  buildSync({ ...common, entryPoints: [path.join(compiled, 'cli', 'launch.js')], outfile: launcher });
  fs.chmodSync(launcher, 0o755);
  await buildProgramFile(PROGRAM_FILE, []);
  await buildProgramFile(CABINET_PROGRAM_FILE, COMMAND_NAMES.filter((name) => !CABINET_COMMANDS.includes(name)));
}

/** One program file from src/cli/main without the modules of the commands `leftOut`, with its trained code cache. */
async function buildProgramFile(file: string, leftOut: readonly string[]): Promise<void> {
  const program = path.join(out, file);
  await build({ ...common, entryPoints: [path.join(compiled, 'cli', 'main.js')], outfile: program, sourcemap: 'linked', banner: { js: PROGRAM_WRAPPER.start }, footer: { js: PROGRAM_WRAPPER.end }, plugins: [leaveOutCommands(leftOut), childProcessWhenUsed()] });
  // main.ts's hashbang (for running it unbundled) would be a syntax error inside the wrapper function
  const text = asciiOnly(fs.readFileSync(program, 'utf8').replace(/^#!.*/, '')); // the line stays, empty: the source map's lines are the file's
  fs.writeFileSync(program, text + buildIdLine(createHash('sha256').update(text).digest('hex')));
  fs.writeFileSync(path.join(out, codeCacheFileOf(file)), codeCacheFile(await trainedProgram(file)));
  checkCacheAccepted(file);
}

/**
 * commander requires node:child_process when it loads, for the subcommands it runs as programs of
 * their own, which cabferry has none of: loading child_process (node compiles it and the modules
 * under it) was 3.7 ms of a small `cabferry verify`. commander gets an object that requires the real
 * module the first time one of its functions is asked for.
 */
function childProcessWhenUsed(): Plugin {
  return {
    name: 'child-process-when-used',
    setup(b) {
      b.onResolve({ filter: /^(node:)?child_process$/ }, (args) => (/[\\/]node_modules[\\/]commander[\\/]/.test(args.importer) ? { path: 'child_process', namespace: 'child-process-when-used' } : undefined));
      b.onLoad({ filter: /.*/, namespace: 'child-process-when-used' }, () => ({
        contents: "module.exports = new Proxy({}, { get: (_target, key) => require('node:child_process')[key] });",
        loader: 'js',
      }));
    },
  };
}

/**
 * main requires each command's module as `./<name>`, lazily: those of `names` become a module that
 * throws. The launcher runs a program only for the commands it keeps (programFileFor), and main
 * then loads only that command's module, so the throw would mean the two disagree.
 */
function leaveOutCommands(names: readonly string[]): Plugin {
  return {
    name: 'leave-out-commands',
    setup(b) {
      b.onResolve({ filter: /^\.\/[a-z-]+$/ }, (args) => {
        const name = args.path.slice(2);
        if (!names.includes(name) || !/[\\/]cli[\\/]main\.js$/.test(args.importer)) return undefined;
        return { path: name, namespace: 'left-out-command' };
      });
      b.onLoad({ filter: /.*/, namespace: 'left-out-command' }, (args) => ({
        contents: `throw new Error(${JSON.stringify(`the ${args.path} command is not in this program file (scripts/build-cli): the launcher chose the wrong one`)});`,
        loader: 'js',
      }));
    },
  };
}

/**
 * The text with every character outside ASCII written as a \u escape. esbuild escapes them in
 * strings and names but not in regular expression literals (`[:：]` in the localised systeminfo
 * parser): one such character made V8 hold and scan all 1.3 MB as two-byte text. In a string,
 * template or regular expression literal the escape means the same character; the bundle has no
 * String.raw, where it would not (checked here) and comments are gone.
 */
function asciiOnly(text: string): string {
  if (text.includes('String.raw')) throw new Error('build-cli: the bundle uses String.raw, where a \\u escape is not the character it stands for');
  return text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The program, loaded without a cache, after one run of TRAINING_ARGS (its report not printed). */
async function trainedProgram(file: string): Promise<ReturnType<typeof loadBundledProgram>> {
  const loaded = loadBundledProgram(out, false, file);
  const write = process.stdout.write;
  process.stdout.write = () => true;
  try {
    await loaded.exports.main(['node', 'cabferry', ...TRAINING_ARGS]);
  } finally {
    process.stdout.write = write;
  }
  if (process.exitCode !== 0 && process.exitCode !== undefined) throw new Error(`build-cli: the training run (cabferry ${TRAINING_ARGS.join(' ')}) exited ${process.exitCode}`);
  process.exitCode = undefined; // the verdict was the training's, not the build's
  return loaded;
}

/**
 * A fresh node, without NODE_OPTIONS, must take the cache: one made under other V8 flags (given to
 * the build, or set by the training run) would be refused in every run.
 */
function checkCacheAccepted(file: string): void {
  const probe = `process.stdout.write(String(require(${JSON.stringify(path.join(compiled, 'cli', 'bundled-program.js'))}).loadBundledProgram(${JSON.stringify(out)}, true, ${JSON.stringify(file)}).cacheAccepted))`;
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const r = spawnSync(process.execPath, ['-e', probe], { encoding: 'utf8', env });
  if (r.status !== 0 || r.stdout !== 'true') throw new Error(`build-cli: a fresh node does not take ${codeCacheFileOf(file)} (${r.stdout}${r.stderr})`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
