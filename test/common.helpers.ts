import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkCliBuilt, cliPath, hasCommand } from '../scripts/lib/bench-run';
import { CabferryError, type ErrorKind } from '../src/errors';

/** The project root (the folder holding package.json), whether run from src or dist. */
export const projectRoot = (() => {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('package.json not found above ' + __dirname);
    dir = up;
  }
  return dir;
})();

/** A path in the shared real-world corpus (read in place, never copied into the project). */
export function corpusPath(...parts: string[]): string {
  return path.join(projectRoot, '..', 'shared', 'corpus', ...parts);
}

/** A path under the committed fixtures/ folder. */
export function fixturePath(...parts: string[]): string {
  return path.join(projectRoot, 'fixtures', ...parts);
}

/** the CLI as installed (dist/cli/cabferry.js), what every CLI test runs */
export { cliPath };

/**
 * No test reads or writes the catalog of the person running it. A CLI run without --catalog
 * resolves $CABFERRY_CATALOG, then $XDG_DATA_HOME/cabferry, then ~/.local/share/cabferry: a real
 * catalog there (of an older schema, say, or left by a stray command) changed what tests saw.
 * Every child a test starts inherits these; a test about the default location passes its own.
 */
const defaultCatalogRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'cabferry-test-home-'));
process.on('exit', () => fs.rmSync(defaultCatalogRoot, { recursive: true, force: true }));
process.env.XDG_DATA_HOME = defaultCatalogRoot;
process.env.CABFERRY_CATALOG = path.join(defaultCatalogRoot, 'cabferry');

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Run the built CLI as a user would; returns exit status and both streams. */
export function runCli(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {}): CliResult {
  checkCliBuilt();
  const r = spawnSync(process.execPath, [cliPath, ...args], {
    cwd: options.cwd ?? projectRoot,
    env: { ...process.env, ...options.env },
    input: options.input,
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** A fresh temporary directory, removed when the process exits. */
export function tempDir(prefix = 'cabferry-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The files under `dir` named `*.ext` whose text includes `text`, as paths under `dir` with `/` (structural tests of src and of what tsc wrote). */
export function filesContaining(dir: string, ext: string, text: string): string[] {
  return (fs.readdirSync(dir, { recursive: true }) as string[])
    .filter((f) => f.endsWith(`.${ext}`) && fs.readFileSync(path.join(dir, f), 'utf8').includes(text))
    .map((f) => f.split(path.sep).join('/'));
}

/** True when an external oracle tool is installed (tests that need it skip with a reason otherwise). */
/** Whether a tool (cabextract, osslsigncode, wine, …) is on PATH: tests that need one skip without it. */
export const hasTool = hasCommand;

export interface OracleFile {
  path: string;
  sha256: string;
  size: number;
  is_mscf: boolean;
  members: { name: string; size: number }[];
  extracted_sha256: Record<string, string>;
  cabextract_list_rc: number;
  cabextract_test_rc: number;
  cabextract_extract_rc: number;
  osslsigncode_rc: number;
  verified_signatures: number;
  digest_algorithms: string[];
  no_signature: boolean;
}

/** ../shared/corpus/oracle.json: what cabextract 1.9 and osslsigncode say about every corpus file. */
export function loadOracle(): OracleFile[] {
  const doc = JSON.parse(fs.readFileSync(corpusPath('oracle.json'), 'utf8')) as { files: OracleFile[] };
  return doc.files;
}

/**
 * The one "throws a CabferryError with this code" assertion of the suite: `fn` must throw our
 * typed error (checked by instanceof) with `code` (or one of several, where either is right), of `kind` when given, with a one-line message
 * (matching `message` when given). Returns the error for further checks.
 */
export function assertThrowsCode(fn: () => unknown, code: string | readonly string[], kind?: ErrorKind, message?: RegExp): CabferryError {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  assert.ok(thrown instanceof CabferryError, `expected a CabferryError ${String(code)}, got ${thrown === undefined ? 'no error' : String(thrown)}`);
  if (typeof code === 'string') assert.equal(thrown.code, code, thrown.message);
  else assert.ok(code.includes(thrown.code), `${thrown.code} is not one of ${code.join(', ')}: ${thrown.message}`);
  if (kind !== undefined) assert.equal(thrown.kind, kind, `${code}: kind`);
  assert.ok(!thrown.message.includes('\n'), `${code}: one line`);
  if (message !== undefined) assert.match(thrown.message, message);
  return thrown;
}

/** A CLI run's result with the most bytes `watched` held at any one time while it ran. */
export interface WatchedCliResult extends CliResult {
  peakBytes: number;
}

/**
 * Run the built CLI while measuring how much a folder holds (TMPDIR, a catalog's tmp/): its
 * files' sizes are summed every few milliseconds until the CLI exits, and the largest sum is
 * returned. A sample can miss a file that lives for less than the interval, so a test asserting
 * a small peak should use a payload whose writes, if they happened, would take far longer.
 */
export async function runCliWatchingDir(args: string[], watched: string, options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<WatchedCliResult> {
  checkCliBuilt();
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, [cliPath, ...args], { cwd: options.cwd ?? projectRoot, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  let peakBytes = 0;
  const sample = (): void => {
    peakBytes = Math.max(peakBytes, bytesUnder(watched));
  };
  const timer = setInterval(sample, 2);
  const status = await new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? -1));
  });
  clearInterval(timer);
  sample();
  return { status, stdout, stderr, peakBytes };
}

/** The sizes of the files under `dir` (0 when it does not exist; files vanishing meanwhile count 0). */
function bytesUnder(dir: string): number {
  let total = 0;
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) total += bytesUnder(p);
    else {
      try {
        total += fs.lstatSync(p).size;
      } catch {
        // removed between the listing and the stat
      }
    }
  }
  return total;
}

/**
 * What a failed run with --json printed on stdout: the one `{ "error": … }` document and nothing
 * else (never a success document), with the code its stderr line names.
 */
export function assertErrorDocument(stdout: string, code: string | RegExp): { code: string; message: string; detail?: string } {
  const doc = JSON.parse(stdout) as Record<string, unknown>;
  assert.deepEqual(Object.keys(doc), ['error'], `only an error document on stdout: ${stdout}`);
  const error = doc.error as { code: string; message: string; detail?: string };
  if (typeof code === 'string') assert.equal(error.code, code);
  else assert.match(error.code, code);
  return error;
}
