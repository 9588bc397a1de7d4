import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as forge from 'node-forge';
import { signCab } from '../../scripts/lib/authenticode-sign';
import type { CabWriterFile } from '../../scripts/lib/cab-writer';
import type { TestPki } from '../../scripts/lib/pki';
import { fixturePath } from '../common.helpers';
import { writeCab } from '../package/package.helpers';

/** Shared by test/regressions/review9-*: the committed fixture PKI, and an .msu re-wrapped and signed with it. */

/** A signer outside the fixture PKI: its key and its chain (leaf first, the intermediate after it). */
export interface ExtraSigner {
  key: string;
  chain: string;
}

/**
 * The committed fixture PKI, read as it is (scripts/lib/pki buildTestPki would re-issue it in
 * place), plus `extra` signers by id, for signCab.
 */
export function fixturePki(extra: Record<string, ExtraSigner> = {}): TestPki {
  const dir = fixturePath('pki');
  const get = (id: string) =>
    (extra[id] !== undefined
      ? { id, certPath: extra[id].chain, keyPath: extra[id].key }
      : { id, certPath: path.join(dir, `${id}.pem`), keyPath: path.join(dir, `${id}.key`) }) as ReturnType<TestPki['get']>;
  return {
    dir,
    entities: {},
    get,
    chainPath: (id) => extra[id]?.chain ?? path.join(dir, `${id}-chain.pem`),
    assertValidAt(id, at, what) {
      const c = new crypto.X509Certificate(fs.readFileSync(get(id).certPath));
      if (at < new Date(c.validFrom) || at > new Date(c.validTo)) throw new Error(`${what} outside ${id}'s validity`);
    },
  };
}

/**
 * `members` as a new cabinet at `target`, Authenticode-signed (SHA-256, no timestamp) by the fixture
 * code-signing leaf (or `signer`): what anyone holding a trusted signing key makes of a re-packed payload.
 * Needs osslsigncode >= 2.9 (hasUsableOsslsigncode).
 */
export function signedCabinet(target: string, members: CabWriterFile[], signer?: ExtraSigner): string {
  const work = fs.mkdtempSync(path.join(path.dirname(target), '.unsigned-'));
  try {
    const unsigned = writeCab(work, 'unsigned.cab', members);
    const pki = signer === undefined ? fixturePki() : fixturePki({ extra: signer });
    signCab(pki, unsigned, target, [{ signer: signer === undefined ? 'leaf-rsa' : 'extra', digest: 'sha256', signingTime: new Date('2024-01-01T00:00:00Z') }]);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  return target;
}

/**
 * A code-signing leaf under the fixture intermediate whose certificate is signed with `digest`
 * (node-forge: 'md5', 'sha1', 'sha256'), with any `extraExtensions` (value: DER as a binary string),
 * as PEM key + chain (leaf, intermediate) files in `dir`.
 * test/media/pki.helpers issueSigner always signs with SHA-256; this one exists for the digest.
 */
export function leafSignedWith(
  dir: string,
  digest: 'md5' | 'sha1' | 'sha256',
  options: { name?: string; extraExtensions?: { id: string; critical: boolean; value: string }[] } = {},
): { key: string; chain: string; subject: string } {
  const caKey = forge.pki.privateKeyFromPem(fs.readFileSync(fixturePath('pki', 'intermediate.key'), 'utf8'));
  const caPem = fs.readFileSync(fixturePath('pki', 'intermediate.pem'), 'utf8');
  const ca = forge.pki.certificateFromPem(caPem);
  const keys = forge.pki.rsa.generateKeyPair({ bits: 2048, e: 0x10001 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = '09' + crypto.randomBytes(7).toString('hex');
  cert.validity.notBefore = new Date('2020-01-01T00:00:00Z');
  cert.validity.notAfter = new Date('2045-01-01T00:00:00Z');
  const subject = `Cabferry Test ${digest.toUpperCase()}-certified Code Signer`;
  cert.setSubject([{ name: 'organizationName', value: 'Cabferry Test Corporation' }, { name: 'commonName', value: subject }]);
  cert.setIssuer(ca.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, critical: true },
    { name: 'extKeyUsage', codeSigning: true },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: ca.generateSubjectKeyIdentifier().getBytes() },
    ...(options.extraExtensions ?? []),
  ]);
  cert.sign(caKey, forge.md[digest].create());
  const name = options.name ?? `leaf-${digest}`;
  const key = path.join(dir, `${name}.key`);
  const chain = path.join(dir, `${name}-chain.pem`);
  fs.writeFileSync(key, forge.pki.privateKeyToPem(keys.privateKey));
  fs.writeFileSync(chain, forge.pki.certificateToPem(cert) + caPem);
  return { key, chain, subject };
}
