/**
 * verifySignedData: plain PKCS#7 SignedData with embedded content, as Windows catalogs
 * (update.cat, content type CTL) use it — the real Microsoft catalog from a corpus package cab
 * and the test-PKI catalog inside a fixture MSU.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { openCab } from '../../src/cab/cabinet';
import { readDer } from '../../src/authenticode/der';
import { isVerificationError } from '../../src/authenticode/errors';
import { Oid } from '../../src/authenticode/oids';
import { verifySignedData } from '../../src/authenticode/signature';
import { loadTrustAnchors } from '../../src/authenticode/trust';
import { corpusPath, fixturePath, tempDir } from '../common.helpers';

function memberBytes(cabPath: string, pattern: RegExp): Buffer {
  const cab = openCab(cabPath);
  try {
    const member = cab.members.find((m) => pattern.test(m.name));
    assert.ok(member !== undefined, `${pattern} in ${cabPath}`);
    return Buffer.concat([...cab.readMemberChunks(member)]);
  } finally {
    cab.close();
  }
}

const microsoft = loadTrustAnchors([corpusPath('trust-anchors', 'microsoft-roots-bundle.pem')]);
const testRoot = loadTrustAnchors([fixturePath('pki', 'root.pem')]);
const realCatalog = memberBytes(corpusPath('ms-signed', 'kb2999226-inner', 'Windows6.1-KB2999226-x64', 'Windows6.1-KB2999226-x64.cab'), /^update\.cat$/i);

test('the real update.cat of KB2999226 verifies against the Microsoft roots', () => {
  const r = verifySignedData(realCatalog, { trust: microsoft });
  assert.equal(r.contentType, Oid.ctl);
  // the content comes back as the CTL structure itself, ready to parse
  assert.equal(readDer(r.content).end, r.content.length);
  assert.equal(r.content[0], 0x30);
  assert.equal(r.signatures.length, 1);
  const [s] = r.signatures;
  assert.equal(s.valid, true, s.reason);
  assert.equal(s.signer, 'Microsoft Windows');
  assert.equal(s.timestamp?.valid, true);
  assert.equal(s.verifiedAt, s.timestamp?.time);
});

test('the EKU policy is a parameter', () => {
  const onlyTimestamping = verifySignedData(realCatalog, { trust: microsoft, ekus: [Oid.timeStamping] });
  assert.equal(onlyTimestamping.signatures[0].code, 'EKU_MISSING');
  const windows = verifySignedData(realCatalog, { trust: microsoft, ekus: [Oid.codeSigning, Oid.windowsSystemComponent] });
  assert.equal(windows.signatures[0].valid, true);
});

test('a catalog signed by the test PKI with the Windows System Component EKU', () => {
  const dir = tempDir('cabferry-cat-');
  const inner = path.join(dir, 'inner.cab');
  fs.writeFileSync(inner, memberBytes(fixturePath('payloads', 'Windows6.0-KB4493730-x64.msu'), /KB4493730-x64\.cab$/i));
  const cat = memberBytes(inner, /\.cat$/i);
  const r = verifySignedData(cat, { trust: testRoot, ekus: [Oid.windowsSystemComponent] });
  assert.equal(r.contentType, Oid.ctl);
  assert.ok(r.signatures.every((s) => s.valid), r.signatures.map((s) => s.reason).join('; '));
  assert.equal(r.signatures[0].signer, 'Cabferry Test Windows');
  assert.equal(verifySignedData(cat, { trust: microsoft, ekus: [Oid.windowsSystemComponent] }).signatures[0].code, 'CHAIN_UNTRUSTED');
});

test('a changed CTL byte breaks the messageDigest', () => {
  const r = verifySignedData(realCatalog, { trust: microsoft });
  const at = realCatalog.indexOf(r.content);
  const altered = Buffer.from(realCatalog);
  altered[at + r.content.length - 1] ^= 0x01;
  assert.equal(verifySignedData(altered, { trust: microsoft }).signatures[0].code, 'SIG_MESSAGE_DIGEST_MISMATCH');
});

test('something that is not SignedData is SIG_MALFORMED', () => {
  for (const junk of [Buffer.alloc(0), Buffer.from('3003020101', 'hex'), realCatalog.subarray(0, 200)]) {
    assert.throws(() => verifySignedData(junk, { trust: microsoft }), (e) => isVerificationError(e) && e.code === 'SIG_MALFORMED');
  }
});
