import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { hasUsableOsslsigncode, signCab } from '../../scripts/lib/authenticode-sign';
import { buildPackageCab, packageCabSignatures } from '../../scripts/lib/msu-builder';
import { payloadDefinitions } from '../../scripts/lib/msu-builder-fixtures';
import { loadTrustAnchors } from '../../src/authenticode';
import { CabferryError } from '../../src/errors';
import { inspectPayload } from '../../src/package/inspect';
import { fixturePath, runCli, tempDir } from '../common.helpers';
import { fixturePki } from './review9.helpers';

/**
 * A payload cab's Windows version and architecture decide which hosts it is planned for, and
 * where `report` counts it installed. update.mum (verified against its signed catalog) says them;
 * pkgProperties.txt (a member of the signed .msu) may. When neither does, inspect used to take
 * them from the file name, which anyone can rename, and still call the payload's metadata
 * verified, so import recorded it. Found in review (stop 33, "found, not fixed" 1).
 *
 * Built here: the bare package cab of fixtures/payloads/Windows6.0-KB4493730-x64 with its
 * update.mum written without processorArchitecture before update.cat is signed: the catalog
 * vouches for that update.mum, the cab signs fine, only the file name says x64.
 * Expected: inspect says the architecture comes from the file name only and calls the identity
 * not verified; import refuses it (METADATA_NOT_VERIFIED); under a name that says nothing,
 * PKG_NO_ARCHITECTURE as before.
 */

const root = fixturePath('pki', 'root.pem');
const trust = loadTrustAnchors([root]);
const ssuX64 = { ...payloadDefinitions.find((d) => d.kb === 4493730)!, arch: 'x64' as const };

/** The first assemblyIdentity of update.mum (the package's own) without its processorArchitecture. */
function withoutArchitecture(mum: Buffer): Buffer {
  const text = mum.toString('utf8');
  const edited = text.replace(/(<assemblyIdentity [^>]*?) processorArchitecture="[^"]*"/, '$1');
  assert.notEqual(edited, text, 'the builder wrote a processorArchitecture to remove');
  return Buffer.from(edited, 'utf8');
}

function signedPackageCab(dir: string, name: string): string {
  const pki = fixturePki();
  const unsigned = path.join(dir, `${name}.unsigned`);
  fs.writeFileSync(unsigned, buildPackageCab(ssuX64, pki, { writeUpdateMum: withoutArchitecture }).cab);
  const out = path.join(dir, name);
  signCab(pki, unsigned, out, packageCabSignatures(ssuX64));
  fs.rmSync(unsigned);
  return out;
}

describe('identity facts only the file name says', { skip: !hasUsableOsslsigncode() && 'osslsigncode >= 2.9 not installed' }, () => {
  const dir = tempDir('cabferry-identity-name-');
  const named = signedPackageCab(dir, 'Windows6.0-KB4493730-x64.cab');

  it('control: the same package with its architecture in update.mum is verified', () => {
    const p = inspectPayload(fixturePath('signed', 'payload-bare.cab'), { knowledgeBase: null, trust });
    assert.equal(p.architecture, 'amd64');
    assert.equal(p.metadataVerified, true, p.metadataReason);
  });

  it('inspect: architecture amd64 from the name, identity NOT verified, and it says why', () => {
    const p = inspectPayload(named, { knowledgeBase: null, trust });
    assert.equal(p.kb, 'KB4493730');
    assert.equal(p.architecture, 'amd64');
    assert.equal(p.metadataVerified, false);
    assert.match(p.metadataReason ?? '', /architecture amd64 by its file name only/);
    const cli = runCli(['inspect', named, '--trust', root, '--json']);
    assert.equal(cli.status, 1, cli.stdout);
  });

  it('import refuses it: METADATA_NOT_VERIFIED, no row planned from', () => {
    const catalog = path.join(dir, 'catalog');
    const r = runCli(['import', named, '--trust', root, '--catalog', catalog, '--json']);
    const doc = JSON.parse(r.stdout) as { imported: number; results: { outcome: string; code: string | null; reason: string | null }[] };
    assert.equal(doc.imported, 0, JSON.stringify(doc.results));
    assert.equal(doc.results[0]?.code, 'METADATA_NOT_VERIFIED');
    assert.match(doc.results[0]?.reason ?? '', /file name only/);
    assert.equal(r.status, 1);
  });

  it('under a name that says nothing: PKG_NO_ARCHITECTURE', () => {
    const bare = path.join(dir, 'payload.cab');
    fs.copyFileSync(named, bare);
    assert.throws(() => inspectPayload(bare, { knowledgeBase: null, trust }), (e: unknown) => e instanceof CabferryError && e.code === 'PKG_NO_ARCHITECTURE');
  });
});
