/**
 * Trust anchors load the same from a PEM bundle and from a folder of DER certificates, and
 * bad trust input is a typed input error. The importer's path — prepareCabSignature, its own
 * FileDigester pass, verifyPreparedCab — reaches exactly the verdict verifyCab reaches.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { prepareCabSignature, verifyCab, verifyPreparedCab } from '../../src/authenticode/cab';
import { FileDigester } from '../../src/authenticode/digest';
import { loadTrustAnchors } from '../../src/authenticode/trust';
import { CabferryError } from '../../src/errors';
import { RandomAccessFile } from '../../src/io/random-access-file';
import { corpusPath, fixturePath, tempDir } from '../common.helpers';

const MSU = corpusPath('msu', 'Windows8.1-KB917607-x86.msu');

test('a PEM bundle and a folder of DER .crt files are the same trust', () => {
  const bundle = loadTrustAnchors([corpusPath('trust-anchors', 'microsoft-roots-bundle.pem')]);
  const folder = loadTrustAnchors([corpusPath('trust-anchors', 'microsoft')]);
  assert.equal(bundle.length, 8);
  assert.deepEqual(
    folder.map((a) => a.certificate.sha256Fingerprint).sort(),
    bundle.map((a) => a.certificate.sha256Fingerprint).sort(),
  );
  // duplicates across sources are loaded once
  assert.equal(loadTrustAnchors([corpusPath('trust-anchors', 'microsoft'), corpusPath('trust-anchors', 'microsoft-roots-bundle.pem')]).length, 8);
  assert.equal(verifyCab(MSU, { trust: folder }).verdict, 'valid');
});

test('bad trust input is a typed input error naming the file', () => {
  const dir = tempDir('cabferry-trust-');
  const junk = path.join(dir, 'junk.pem');
  fs.writeFileSync(junk, '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
  const empty = path.join(dir, 'empty');
  fs.mkdirSync(empty);
  for (const [p, code] of [
    [junk, 'TRUST_BAD_CERTIFICATE'],
    [empty, 'TRUST_EMPTY'],
    [path.join(dir, 'missing.pem'), 'TRUST_UNREADABLE'],
  ] as const) {
    assert.throws(() => loadTrustAnchors([p]), (e) => e instanceof CabferryError && e.kind === 'input' && e.code === code && e.file === p, code);
  }
});

test('the importer path (own FileDigester pass) gives the verdict verifyCab gives', () => {
  const trust = loadTrustAnchors([fixturePath('pki', 'root.pem')]);
  for (const file of [MSU, fixturePath('signed', 'dual-sha1-sha256.cab'), fixturePath('signed', 'tampered-data.cab'), fixturePath('signed', 'unsigned.cab')]) {
    const anchors = file === MSU ? loadTrustAnchors([corpusPath('trust-anchors', 'microsoft-roots-bundle.pem')]) : trust;
    const raf = RandomAccessFile.open(file);
    try {
      const prepared = prepareCabSignature(raf);
      const digester = new FileDigester(prepared.ranges, prepared.algorithms);
      // odd chunk sizes, as a zip entry stream would deliver them
      for (let offset = 0; offset < raf.size; offset += 10_007) digester.update(raf.read(offset, Math.min(10_007, raf.size - offset)), offset);
      const digests = digester.digests();
      const viaImporter = verifyPreparedCab(file, prepared, digests, { trust: anchors });
      const direct = verifyCab(file, { trust: anchors, fileSha256: true });
      assert.deepEqual(viaImporter, direct, file);
      assert.equal(viaImporter.sha256, digests.sha256.toString('hex'));
    } finally {
      raf.close();
    }
  }
});
