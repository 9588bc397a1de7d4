import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { hasCommand } from '../scripts/lib/bench-run';
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

export const cliPath = path.join(projectRoot, 'dist', 'src', 'cli', 'main.js');

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Run the built CLI as a user would; returns exit status and both streams. */
export function runCli(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {}): CliResult {
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
 * typed error (checked by instanceof) with `code`, of `kind` when given, with a one-line message
 * (matching `message` when given). Returns the error for further checks.
 */
export function assertThrowsCode(fn: () => unknown, code: string, kind?: ErrorKind, message?: RegExp): CabferryError {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  assert.ok(thrown instanceof CabferryError, `expected a CabferryError ${code}, got ${thrown === undefined ? 'no error' : String(thrown)}`);
  assert.equal(thrown.code, code, thrown.message);
  if (kind !== undefined) assert.equal(thrown.kind, kind, `${code}: kind`);
  assert.ok(!thrown.message.includes('\n'), `${code}: one line`);
  if (message !== undefined) assert.match(thrown.message, message);
  return thrown;
}
