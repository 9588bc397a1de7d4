/**
 * Regenerates the committed fixtures:
 *   fixtures/pki/       the test PKI (keys are kept once generated; certificates re-issued with fixed dates)
 *   fixtures/signed/    small cabinets signed every way the verifier must handle, with a README of verdicts
 *   fixtures/payloads/  MSUs that look like the real Windows Server 2008 SP2 / Windows 7 SP1 servicing story
 *   fixtures/payloads-esu/  the same for the ESU years (licensing preparation package, 2022 SSU, January 2023 rollup)
 *   fixtures/executables/  signed .exe updates (SP2 standalone installer, IE9) as small runnable PE images
 * and then checks every file with cabextract and osslsigncode, failing loudly on any surprise.
 *
 * Run: npx tsc -p . && node dist/scripts/make-fixtures.js [--only pki|signed|payloads|payloads-esu|payloads-releases|executables] [--no-check] [--out DIR]
 * --out DIR writes into DIR instead of fixtures/, reusing the committed keys: since everything but the
 * ECDSA signatures is reproducible, test/fixtures compares such a regeneration with the committed files.
 * Needs (dev time only): openssl, osslsigncode >= 2.9 (offline TSA since 2.7, .cat verify 2.8, -ignore-crl 2.9), cabextract.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildTestPki, type TestPki } from './lib/pki';
import { hasUsableOsslsigncode, OSSLSIGNCODE_MIN_VERSION } from './lib/authenticode-sign';
import { makeSignedFixtures, checkSignedFixtures } from './lib/authenticode-sign-fixtures';
import { makePayloadFixtures, checkPayloadFixtures, esuPayloads, releasePayloads } from './lib/msu-builder-fixtures';
import { makeExecutableFixtures, checkExecutableFixtures } from './lib/pe-fixtures';

const projectRoot = path.join(__dirname, '..', '..');
const committedFixtures = path.join(projectRoot, 'fixtures');

function log(msg: string): void {
  process.stderr.write(msg + '\n');
}

function main(): void {
  const args = process.argv.slice(2);
  const onlyIndex = args.indexOf('--only');
  const only = onlyIndex >= 0 ? args[onlyIndex + 1] : undefined;
  const check = !args.includes('--no-check');
  const outIndex = args.indexOf('--out');
  const fixturesDir = outIndex >= 0 ? path.resolve(args[outIndex + 1] ?? '') : committedFixtures;
  if (outIndex >= 0 && args[outIndex + 1] === undefined) {
    log('make-fixtures: --out takes a directory');
    process.exit(2);
  }
  if (only !== undefined && !['pki', 'signed', 'payloads', 'payloads-esu', 'payloads-releases', 'executables'].includes(only)) {
    log(`make-fixtures: --only takes pki, signed, payloads, payloads-esu, payloads-releases or executables, not ${String(only)}`);
    process.exit(2);
  }

  if (!hasUsableOsslsigncode()) {
    log(`make-fixtures: needs osslsigncode >= ${OSSLSIGNCODE_MIN_VERSION.join('.')} (offline TSA, -ignore-crl, .cat verification)`);
    process.exit(2);
  }
  if (fixturesDir !== committedFixtures) copyKeys(path.join(committedFixtures, 'pki'), path.join(fixturesDir, 'pki'));
  const pki: TestPki = buildTestPki(path.join(fixturesDir, 'pki'), log);
  log(`pki: ${Object.keys(pki.entities).length} certificates in fixtures/pki`);

  const problems: string[] = [];
  if (only === undefined || only === 'signed') {
    const signed = makeSignedFixtures(pki, path.join(fixturesDir, 'signed'), log);
    if (check) problems.push(...checkSignedFixtures(pki, path.join(fixturesDir, 'signed'), signed, log));
  }
  if (only === undefined || only === 'payloads') {
    const payloads = makePayloadFixtures(pki, path.join(fixturesDir, 'payloads'), log);
    if (check) problems.push(...checkPayloadFixtures(pki, path.join(fixturesDir, 'payloads'), payloads, log));
  }
  if (only === undefined || only === 'payloads-esu') {
    const esu = makePayloadFixtures(pki, path.join(fixturesDir, 'payloads-esu'), log, esuPayloads);
    if (check) problems.push(...checkPayloadFixtures(pki, path.join(fixturesDir, 'payloads-esu'), esu, log));
  }
  if (only === undefined || only === 'payloads-releases') {
    const releases = makePayloadFixtures(pki, path.join(fixturesDir, 'payloads-releases'), log, releasePayloads);
    if (check) problems.push(...checkPayloadFixtures(pki, path.join(fixturesDir, 'payloads-releases'), releases, log));
  }
  if (only === undefined || only === 'executables') {
    const executables = makeExecutableFixtures(pki, path.join(fixturesDir, 'executables'), log);
    if (check) problems.push(...checkExecutableFixtures(pki, path.join(fixturesDir, 'executables'), executables, log));
  }

  if (problems.length > 0) {
    log(`\nmake-fixtures: ${problems.length} problem(s):`);
    for (const p of problems) log('  FAIL ' + p);
    process.exit(1);
  }
  const total = dirSize(fixturesDir);
  log(`make-fixtures: all fixtures generated and checked (${(total / 1024).toFixed(0)} KiB under ${path.relative(process.cwd(), fixturesDir) || '.'})`);
}

/** The committed private keys, so a regeneration elsewhere issues the same certificates. */
function copyKeys(from: string, to: string): void {
  fs.mkdirSync(to, { recursive: true });
  for (const name of fs.readdirSync(from).filter((n) => n.endsWith('.key'))) fs.copyFileSync(path.join(from, name), path.join(to, name));
}

function dirSize(dir: string): number {
  let n = 0;
  for (const ent of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, ent.name);
    n += ent.isDirectory() ? dirSize(p) : fs.statSync(p).size;
  }
  return n;
}

main();
