import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { hasUsableOsslsigncode } from '../../scripts/lib/authenticode-sign';
import { readCabHeader } from '../../src/cab/header';
import { RandomAccessFile } from '../../src/io/random-access-file';
import { fixturePath, runCli, tempDir } from '../common.helpers';
import { readAllMembers, withMember } from '../package/package.helpers';
import { signedCabinet } from './review9.helpers';

/**
 * Review 9 (h/review9), finding R9-2: import accepts an .msu whose payload cab — the cab wusa
 * hands to CBS, the one whose metadata the record describes — fails its own Authenticode check,
 * while `inspect` exits 1 for the same file and `verify --deep` calls it INVALID.
 *
 * The importer's acceptance chain (src/importer/import.ts judge) asks for a valid verdict on the
 * outer file and verified metadata, and nothing else; inspect computes the payload cab's verdict
 * (src/package/inspect.ts inspectMsu) and buildReport turns a bad one into a *note*. The catalog
 * row then says "imported", signatures "sha2-only", with the payload cab recorded as a member of
 * interest — about a payload cab that was modified after it was signed.
 *
 * Built here: fixtures/payloads/Windows6.0-KB4493730-x64.msu with its payload cab altered after
 * signing (one byte of a CFFILE date: no member's content changes, update.mum and update.cat
 * still verify) and the outer .msu signed again by the fixture code-signing leaf, as anyone who
 * holds a trusted signing key and re-wraps a payload would. Expected: import refuses it, as
 * inspect and verify --deep do (the file is only as good as its worst signed part).
 *
 * Needs osslsigncode >= 2.9 (the outer signature; the fixtures are made with it).
 */

const root = fixturePath('pki', 'root.pem');
const baseName = 'Windows6.0-KB4493730-x64';

/** The payload cab with the date of its first CFFILE changed: covered by its signature, read by nobody. */
function innerAlteredAfterSigning(inner: Buffer, dir: string): Buffer {
  const file = path.join(dir, 'inner.cab');
  fs.writeFileSync(file, inner);
  const raf = RandomAccessFile.open(file);
  const coffFiles = (() => {
    try {
      return readCabHeader(raf).coffFiles;
    } finally {
      raf.close();
    }
  })();
  const out = Buffer.from(inner);
  out[coffFiles + 10] ^= 0x01; // CFFILE.date of the first member
  return out;
}

/** The fixture .msu with `member` altered after its signing, re-wrapped and signed again. */
function rewrappedMsu(dir: string, member: string): string {
  const members = readAllMembers(fixturePath('payloads', `${baseName}.msu`));
  const inner = members.find((m) => m.name === member);
  assert.ok(inner !== undefined);
  const out = fs.mkdtempSync(path.join(dir, 'out-'));
  return signedCabinet(path.join(out, `${baseName}.msu`), withMember(members, inner.name, innerAlteredAfterSigning(inner.data, out)));
}

describe('review9 R9-2: an .msu whose payload cab was altered after signing, re-wrapped and re-signed', { skip: !hasUsableOsslsigncode() && 'osslsigncode >= 2.9 not installed' }, () => {
  const dir = tempDir('cabferry-review9-inner-');
  const msu = rewrappedMsu(dir, `${baseName}.cab`);

  it('verify --deep calls it invalid and inspect exits 1 (as today: the evidence import ignores)', () => {
    const outer = runCli(['verify', msu, '--trust', root, '--json']);
    assert.equal(outer.status, 0, `the outer signature holds: ${outer.stdout}`);
    const deep = runCli(['verify', '--deep', msu, '--trust', root, '--json']);
    assert.equal(deep.status, 1, deep.stdout);
    assert.match(deep.stdout, /SIG_DIGEST_MISMATCH/);
    const inspected = runCli(['inspect', msu, '--trust', root, '--json']);
    assert.equal(inspected.status, 1, inspected.stdout);
    const payload = (JSON.parse(inspected.stdout) as { payloads: { metadataVerified: boolean; verification: { payloadCab: { verdict: string } } }[] }).payloads[0];
    assert.equal(payload.metadataVerified, true, 'update.mum still matches the signed update.cat');
    assert.equal(payload.verification.payloadCab.verdict, 'invalid');
  });

  it('import refuses it rather than recording a verified payload', () => {
    const r = runCli(['import', msu, '--trust', root, '--catalog', path.join(dir, 'catalog'), '--json']);
    const doc = JSON.parse(r.stdout) as { imported: number; rejected: number; results: { outcome: string; code: string | null; reason: string | null }[] };
    // fails today: outcome "imported", code null — the payload cab's SIG_DIGEST_MISMATCH is only a note on the row
    assert.equal(doc.results[0].outcome, 'rejected', JSON.stringify(doc.results[0]));
    assert.equal(r.status, 1);
    const listed = runCli(['catalog', 'list', '--catalog', path.join(dir, 'catalog'), '--json']);
    assert.doesNotMatch(listed.stdout, /KB4493730/, 'no row for it');
  });
});

/**
 * The same for WSUSSCAN.cab, the applicability data wusa evaluates before it installs anything:
 * verify --deep calls the file INVALID, but inspect never looks at WSUSSCAN.cab's signature (exit 0)
 * and import records the payload. Expected: neither calls the file good.
 */
describe('review9 R9-2b: an .msu whose WSUSSCAN.cab was altered after signing, re-wrapped and re-signed', { skip: !hasUsableOsslsigncode() && 'osslsigncode >= 2.9 not installed' }, () => {
  const dir = tempDir('cabferry-review9-inner-');
  const msu = rewrappedMsu(dir, 'WSUSSCAN.cab');

  it('verify --deep calls it invalid (as today)', () => {
    assert.equal(runCli(['verify', msu, '--trust', root]).status, 0, 'the outer signature holds');
    const deep = runCli(['verify', '--deep', msu, '--trust', root, '--json']);
    assert.equal(deep.status, 1, deep.stdout);
    assert.match(deep.stdout, /SIG_DIGEST_MISMATCH/);
  });

  it('inspect exits 1 and import refuses it', () => {
    const inspected = runCli(['inspect', msu, '--trust', root]);
    const r = runCli(['import', msu, '--trust', root, '--catalog', path.join(dir, 'catalog'), '--json']);
    const result = (JSON.parse(r.stdout) as { results: { outcome: string }[] }).results[0];
    // fails today: inspect exit 0 ("valid"), import outcome "imported"
    assert.deepEqual({ inspect: inspected.status, import: result.outcome }, { inspect: 1, import: 'rejected' }, inspected.stdout);
  });
});
