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
