/**
 * Review h/sigreview: inputs that `verify` calls VALID although the signature does not bind the
 * file to a certificate that may sign code. Each test fails now and passes once the defect is fixed.
 *
 * The files are made here: an unsigned sample cabinet, signed by osslsigncode with a fixture (or
 * purpose-made) certificate, and, where needed, its SignerInfo rebuilt byte by byte.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { verifyCab } from '../../src/authenticode/cab';
import { loadTrustAnchors } from '../../src/authenticode/trust';
import { sampleCabinet } from '../../scripts/lib/authenticode-sign-fixtures';
import { fixturePath, hasTool, tempDir } from '../common.helpers';

const skip = hasTool('osslsigncode') && hasTool('openssl') ? false : 'osslsigncode or openssl not installed';
const pki = (name: string): string => fixturePath('pki', name);

function unsignedCab(dir: string): string {
  const file = path.join(dir, 'unsigned.cab');
  fs.writeFileSync(file, sampleCabinet('sigreview'));
  return file;
}

function osslsign(dir: string, certs: string, key: string, out: string): string {
  const file = path.join(dir, out);
  execFileSync('osslsigncode', ['sign', '-certs', certs, '-key', key, '-h', 'sha256', '-in', unsignedCab(dir), '-out', file], { stdio: 'ignore' });
  return file;
}

test('a timestamping certificate the operator trusts (TSA anchor) cannot sign code', { skip }, () => {
  const dir = tempDir('cabferry-sigreview-');
  // what an operator does when --tsa-trust defaults to --trust: one bundle with the root and the TSA
  const anchors = path.join(dir, 'root-and-tsa.pem');
  fs.writeFileSync(anchors, fs.readFileSync(pki('root.pem'), 'utf8') + fs.readFileSync(pki('tsa.pem'), 'utf8'));
  const chain = path.join(dir, 'tsa-chain.pem');
  fs.writeFileSync(chain, fs.readFileSync(pki('tsa.pem'), 'utf8') + fs.readFileSync(pki('intermediate.pem'), 'utf8'));
  // the TSA's key signs a cabinet; its certificate's only EKU is timeStamping (critical)
  const file = osslsign(dir, chain, pki('tsa.key'), 'tsa-signed.cab');
  const ossl = spawnSync('osslsigncode', ['verify', '-in', file, '-CAfile', anchors], { encoding: 'utf8' });
  assert.notEqual(ossl.status, 0, 'osslsigncode accepted the file');
  // with the root alone cabferry says EKU_MISSING; the same file must not become valid because the TSA is also trusted
  assert.equal(verifyCab(file, { trust: loadTrustAnchors([pki('root.pem')]) }).code, 'EKU_MISSING');
  const verdict = verifyCab(file, { trust: loadTrustAnchors([anchors]) });
  assert.notEqual(verdict.verdict, 'valid', 'a timeStamping-only certificate signed code because it is also a trust anchor');
});

test("a CA certificate the operator trusts (keyUsage keyCertSign, cRLSign) cannot sign code with its own key", { skip }, () => {
  const dir = tempDir('cabferry-sigreview-');
  const file = osslsign(dir, pki('intermediate.pem'), pki('intermediate.key'), 'ca-signed.cab');
  const verdict = verifyCab(file, { trust: loadTrustAnchors([pki('intermediate.pem')]) });
  assert.notEqual(verdict.verdict, 'valid', 'a CA key without digitalSignature/codeSigning signed code because its certificate is an anchor');
});

test('a signer with a 512-bit RSA key is not valid (Windows blocks RSA keys under 1024 bits, MS advisory 2661254)', { skip }, () => {
  const dir = tempDir('cabferry-sigreview-');
  const ext = path.join(dir, 'ext.cnf');
  fs.writeFileSync(ext, '[cs]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n');
  const run = (args: string[]): void => {
    const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
    assert.equal(r.status, 0, `openssl ${args.join(' ')}\n${r.stderr}`);
  };
  run(['req', '-new', '-newkey', 'rsa:512', '-nodes', '-keyout', 'weak.key', '-subj', '/CN=RSA-512 code signer', '-out', 'weak.csr']);
  run(['x509', '-req', '-in', 'weak.csr', '-CA', pki('intermediate.pem'), '-CAkey', pki('intermediate.key'), '-set_serial', '0x5151', '-days', '3650', '-sha256', '-extfile', ext, '-extensions', 'cs', '-out', 'weak.pem']);
  const chain = path.join(dir, 'weak-chain.pem');
  fs.writeFileSync(chain, fs.readFileSync(path.join(dir, 'weak.pem'), 'utf8') + fs.readFileSync(pki('intermediate.pem'), 'utf8'));
  const file = osslsign(dir, chain, path.join(dir, 'weak.key'), 'weak-signed.cab');
  const verdict = verifyCab(file, { trust: loadTrustAnchors([pki('root.pem')]) });
  assert.notEqual(verdict.verdict, 'valid', 'a 512-bit RSA signer (factorable) was accepted');
});
