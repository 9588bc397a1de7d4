/**
 * buildChain on purpose-made certificates (issued with `openssl ca` into a temporary
 * folder; skipped without it): CA constraints, path length, EKU on the leaf and on issuers,
 * validity at the chosen time, altered signatures, anchors trusted as they are, RSA key sizes.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { buildChain } from '../../src/authenticode/chain';
import { parseCertificate, type Certificate } from '../../src/authenticode/certificate';
import { isVerificationError } from '../../src/authenticode/errors';
import { Oid } from '../../src/authenticode/oids';
import { trustAnchorsFromDer } from '../../src/authenticode/trust';
import { hasTool, tempDir } from '../common.helpers';

const skip = hasTool('openssl') ? false : 'openssl not installed';

interface Spec {
  name: string;
  issuer: string | null; // null: self-signed
  ext: string[];
  days?: [string, string]; // notBefore, notAfter as YYYYMMDDHHMMSSZ
  rsaBits?: number; // an RSA key of this size instead of EC P-256
  md?: string; // the digest the issuer signs this certificate with (default sha256; md5 needs an RSA issuer)
}

const CA = ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign'];
const CODE = ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=codeSigning'];

function openssl(dir: string, args: string[]): void {
  const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  assert.equal(r.status, 0, `openssl ${args.join(' ')}\n${r.stderr}`);
}

const CA_CONFIG = `[ ca ]
default_ca = test_ca
[ test_ca ]
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = any_name
unique_subject = no
email_in_dn = no
[ any_name ]
commonName = supplied
`;

/**
 * Make the certificates with `openssl ca` (which, unlike `x509 -req` in OpenSSL 3.0, takes
 * explicit validity dates); EC P-256 keys keep it fast. Returns them parsed, by name.
 */
function makePki(specs: Spec[]): Record<string, Certificate> {
  const dir = tempDir('cabferry-chain-');
  fs.writeFileSync(path.join(dir, 'ca.cnf'), CA_CONFIG);
  fs.writeFileSync(path.join(dir, 'index.txt'), '');
  fs.writeFileSync(path.join(dir, 'serial'), '1000\n');
  const out: Record<string, Certificate> = {};
  for (const s of specs) {
    if (s.rsaBits !== undefined) openssl(dir, ['genpkey', '-algorithm', 'RSA', '-pkeyopt', `rsa_keygen_bits:${s.rsaBits}`, '-out', `${s.name}.key`]);
    else openssl(dir, ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${s.name}.key`]);
    openssl(dir, ['req', '-new', '-key', `${s.name}.key`, '-subj', `/CN=${s.name}`, '-out', `${s.name}.csr`]);
    fs.writeFileSync(path.join(dir, `${s.name}.ext`), [...s.ext, 'subjectKeyIdentifier=hash'].join('\n') + '\n');
    const [from, to] = s.days ?? ['20100101000000Z', '20491231235959Z'];
    const signer = s.issuer === null ? ['-selfsign', '-keyfile', `${s.name}.key`] : ['-cert', `${s.issuer}.pem`, '-keyfile', `${s.issuer}.key`];
    openssl(dir, ['ca', '-batch', '-notext', '-config', 'ca.cnf', ...signer, '-in', `${s.name}.csr`, '-out', `${s.name}.pem`,
      '-startdate', from, '-enddate', to, '-extfile', `${s.name}.ext`, ...(s.md === undefined ? [] : ['-md', s.md])]);
    openssl(dir, ['x509', '-in', `${s.name}.pem`, '-outform', 'DER', '-out', `${s.name}.der`]);
    out[s.name] = parseCertificate(fs.readFileSync(path.join(dir, `${s.name}.der`)));
  }
  return out;
}

/** The verification error `fn` throws, or null when it throws none (any other error is rethrown). */
function verificationErrorOf(fn: () => unknown): { code: string; message: string } | null {
  try {
    fn();
  } catch (e) {
    if (isVerificationError(e)) return e;
    throw e;
  }
  return null;
}

const code = (fn: () => unknown): string => verificationErrorOf(fn)?.code ?? 'ok';
const reason = (fn: () => unknown): string => verificationErrorOf(fn)?.message ?? '';

test('chain rules on purpose-made certificates', { skip }, () => {
  const c = makePki([
    { name: 'root', issuer: null, ext: CA },
    { name: 'pca', issuer: 'root', ext: [...CA.slice(0, 1).map((x) => `${x},pathlen:0`), CA[1]] },
    { name: 'leaf', issuer: 'pca', ext: CODE },
    { name: 'sub', issuer: 'pca', ext: CA }, // a CA below a pathlen:0 CA
    { name: 'leafUnderSub', issuer: 'sub', ext: CODE },
    { name: 'notCa', issuer: 'root', ext: CODE }, // an end entity posing as an issuer
    { name: 'leafUnderNotCa', issuer: 'notCa', ext: CODE },
    { name: 'tsOnlyCa', issuer: 'root', ext: [...CA, 'extendedKeyUsage=timeStamping'] },
    { name: 'leafUnderTsOnly', issuer: 'tsOnlyCa', ext: CODE },
    { name: 'noEku', issuer: 'pca', ext: CODE.slice(0, 2) },
    { name: 'expired', issuer: 'pca', ext: CODE, days: ['20180101000000Z', '20191231235959Z'] },
    { name: 'expiredRoot', issuer: null, ext: CA, days: ['20000101000000Z', '20051231235959Z'] },
    { name: 'leafUnderExpiredRoot', issuer: 'expiredRoot', ext: CODE, days: ['20000101000000Z', '20491231235959Z'] },
  ]);
  const anchors = trustAnchorsFromDer([c.root.der, c.expiredRoot.der], 'test');
  const pool = Object.values(c).filter((x) => x !== c.root && x !== c.expiredRoot);
  const policy = { at: new Date('2024-01-01T00:00:00Z'), ekus: [Oid.codeSigning] };

  const chain = buildChain(c.leaf, pool, anchors, policy);
  assert.deepEqual(chain.map((l) => [l.certificate.subject, l.anchor !== null]), [['leaf', false], ['pca', false], ['root', true]]);

  assert.equal(code(() => buildChain(c.leafUnderSub, pool, anchors, policy)), 'CHAIN_PATH_LENGTH');
  assert.equal(code(() => buildChain(c.leafUnderNotCa, pool, anchors, policy)), 'CHAIN_NOT_CA');
  assert.equal(code(() => buildChain(c.leafUnderTsOnly, pool, anchors, policy)), 'EKU_MISSING');
  assert.equal(code(() => buildChain(c.noEku, pool, anchors, policy)), 'EKU_MISSING');
  assert.equal(code(() => buildChain(c.leaf, pool, anchors, { ...policy, ekus: [Oid.timeStamping] })), 'EKU_MISSING');
  assert.equal(code(() => buildChain(c.expired, pool, anchors, policy)), 'CHAIN_EXPIRED');
  assert.equal(code(() => buildChain(c.expired, pool, anchors, { ...policy, at: new Date('2019-06-01T00:00:00Z') })), 'ok');
  // an intermediate missing from the pool: nothing reaches an anchor
  assert.equal(code(() => buildChain(c.leaf, [], anchors, policy)), 'CHAIN_UNTRUSTED');
  assert.equal(code(() => buildChain(c.leaf, pool, trustAnchorsFromDer([c.expiredRoot.der], 'other'), policy)), 'CHAIN_UNTRUSTED');
  // an anchor is trusted as it is: expired 2005, it still anchors a leaf valid now
  assert.equal(code(() => buildChain(c.leafUnderExpiredRoot, pool, anchors, policy)), 'ok');
  // the leaf's signature altered (last byte of the certificate is in its signature value)
  const altered = Buffer.from(c.leaf.der);
  altered[altered.length - 1] ^= 0x01;
  assert.equal(code(() => buildChain(parseCertificate(altered), pool, anchors, policy)), 'CHAIN_BAD_SIGNATURE');
});

test("an anchor as signer: trusting a certificate does not widen what its own key may sign (review h/sigreview F2/F3)", { skip }, () => {
  const c = makePki([
    { name: 'root', issuer: null, ext: CA },
    { name: 'leaf', issuer: 'root', ext: CODE },
    { name: 'tsa', issuer: 'root', ext: ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=critical,timeStamping'] },
    { name: 'selfSigned', issuer: null, ext: CODE },
    { name: 'selfSignedNoKeyUsage', issuer: null, ext: ['extendedKeyUsage=codeSigning'] },
    { name: 'selfSignedCertSignOnly', issuer: null, ext: ['keyUsage=critical,keyCertSign', 'extendedKeyUsage=codeSigning'] },
  ]);
  const pool = Object.values(c);
  const policy = { at: new Date('2024-01-01T00:00:00Z'), ekus: [Oid.codeSigning] };
  const trusting = (...names: string[]) => trustAnchorsFromDer(names.map((n) => c[n].der), 'test');
  // a TSA certificate in the trust (as --tsa-trust defaulting to --trust invites) signs no code …
  assert.equal(code(() => buildChain(c.tsa, pool, trusting('root', 'tsa'), policy)), 'EKU_MISSING');
  // … a CA certificate trusted directly (keyCertSign, cRLSign; no EKU) neither …
  assert.equal(code(() => buildChain(c.root, pool, trusting('root'), policy)), 'EKU_MISSING');
  assert.equal(code(() => buildChain(c.root, pool, trusting('root'), { ...policy, ekus: [] })), 'KEY_USAGE_MISSING');
  assert.equal(code(() => buildChain(c.selfSignedCertSignOnly, pool, trusting('selfSignedCertSignOnly'), policy)), 'KEY_USAGE_MISSING');
  // … and a code signer trusted directly stamps no time
  assert.equal(code(() => buildChain(c.leaf, pool, trusting('leaf'), { ...policy, ekus: [Oid.timeStamping] })), 'EKU_MISSING');
  // what the certificate allows stays allowed: a self-signed code signer trusted directly, with or without keyUsage
  assert.deepEqual(buildChain(c.selfSigned, pool, trusting('selfSigned'), policy).map((l) => [l.certificate.subject, l.anchor !== null]), [['selfSigned', true]]);
  assert.equal(code(() => buildChain(c.selfSignedNoKeyUsage, pool, trusting('selfSignedNoKeyUsage'), policy)), 'ok');
  assert.equal(code(() => buildChain(c.tsa, pool, trusting('tsa'), { ...policy, ekus: [Oid.timeStamping] })), 'ok');
  assert.equal(code(() => buildChain(c.leaf, pool, trusting('root', 'leaf'), policy)), 'ok');
});

test('RSA keys under 1024 bits are refused anywhere in the chain (MS advisory 2661254; review h/sigreview F4)', { skip }, () => {
  const c = makePki([
    { name: 'root', issuer: null, ext: CA },
    { name: 'pca', issuer: 'root', ext: CA },
    { name: 'weakLeaf', issuer: 'pca', ext: CODE, rsaBits: 512 },
    { name: 'leaf1024', issuer: 'pca', ext: CODE, rsaBits: 1024 },
    { name: 'weakPca', issuer: 'root', ext: CA, rsaBits: 512 },
    { name: 'leafUnderWeakPca', issuer: 'weakPca', ext: CODE },
    { name: 'weakRoot', issuer: null, ext: CA, rsaBits: 1000 },
    { name: 'leafUnderWeakRoot', issuer: 'weakRoot', ext: CODE },
    { name: 'weakTsa', issuer: 'pca', ext: ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=critical,timeStamping'], rsaBits: 512 },
  ]);
  const anchors = trustAnchorsFromDer([c.root.der, c.weakRoot.der], 'test');
  const pool = Object.values(c);
  const policy = { at: new Date('2024-01-01T00:00:00Z'), ekus: [Oid.codeSigning] };
  assert.equal(code(() => buildChain(c.weakLeaf, pool, anchors, policy)), 'CHAIN_WEAK_KEY');
  assert.equal(code(() => buildChain(c.leafUnderWeakPca, pool, anchors, policy)), 'CHAIN_WEAK_KEY');
  // an anchor's key is judged too: a 1000-bit root is trusted for nothing
  assert.equal(code(() => buildChain(c.leafUnderWeakRoot, pool, anchors, policy)), 'CHAIN_WEAK_KEY');
  // whatever the trust: a weak signer trusted directly, or with no anchor at all
  assert.equal(code(() => buildChain(c.weakLeaf, pool, trustAnchorsFromDer([c.weakLeaf.der], 'test'), policy)), 'CHAIN_WEAK_KEY');
  assert.equal(code(() => buildChain(c.weakLeaf, pool, [], policy)), 'CHAIN_WEAK_KEY');
  // a timestamp authority's chain is built by the same steps
  assert.equal(code(() => buildChain(c.weakTsa, pool, anchors, { ...policy, ekus: [Oid.timeStamping] })), 'CHAIN_WEAK_KEY');
  // 1024 bits stay accepted, as Windows accepts them (old Microsoft and VeriSign timestamping chains)
  assert.equal(code(() => buildChain(c.leaf1024, pool, anchors, policy)), 'ok');
  assert.match(reason(() => buildChain(c.weakLeaf, pool, anchors, policy)), /"weakLeaf" has a 512-bit RSA key/);
});

test('a certificate signed over MD5 is refused wherever the chain relies on its signature (the Flame pattern; review9 R9-7)', { skip }, () => {
  const rsa = 2048;
  const c = makePki([
    // an anchor's own MD5 self-signature is not relied on: the 1997 Microsoft Root Authority is one
    { name: 'root', issuer: null, ext: CA, rsaBits: rsa, md: 'md5' },
    { name: 'md5Pca', issuer: 'root', ext: CA, rsaBits: rsa, md: 'md5' },
    { name: 'leafUnderMd5Pca', issuer: 'md5Pca', ext: CODE },
    { name: 'sha1Pca', issuer: 'root', ext: CA, rsaBits: rsa, md: 'sha1' },
    { name: 'leafUnderSha1Pca', issuer: 'sha1Pca', ext: CODE, md: 'sha1' },
    { name: 'md5Leaf', issuer: 'sha1Pca', ext: CODE, md: 'md5' },
    { name: 'md5Tsa', issuer: 'sha1Pca', ext: ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=critical,timeStamping'], md: 'md5' },
  ]);
  const anchors = trustAnchorsFromDer([c.root.der], 'test');
  const pool = Object.values(c);
  const policy = { at: new Date('2024-01-01T00:00:00Z'), ekus: [Oid.codeSigning] };
  assert.equal(code(() => buildChain(c.md5Leaf, pool, anchors, policy)), 'CHAIN_WEAK_ALGORITHM');
  assert.match(reason(() => buildChain(c.md5Leaf, pool, anchors, policy)), /"md5Leaf" is signed by "sha1Pca" over MD5/);
  assert.equal(code(() => buildChain(c.leafUnderMd5Pca, pool, anchors, policy)), 'CHAIN_WEAK_ALGORITHM');
  assert.equal(code(() => buildChain(c.md5Tsa, pool, anchors, { ...policy, ekus: [Oid.timeStamping] })), 'CHAIN_WEAK_ALGORITHM');
  // SHA-1 certificate signatures stay accepted (Microsoft's older roots and PCAs), under an MD5 self-signed anchor
  assert.equal(code(() => buildChain(c.leafUnderSha1Pca, pool, anchors, policy)), 'ok');
  // an MD5-signed certificate the operator trusts itself: its own signature is not what trust rests on
  assert.equal(code(() => buildChain(c.leafUnderMd5Pca, pool, trustAnchorsFromDer([c.md5Pca.der], 'test'), policy)), 'ok');
});

test('a critical extension the verifier does not process is refused on any certificate of the chain (RFC 5280 §4.2; review9 R9-8)', { skip }, () => {
  const unknown = '1.3.6.1.4.1.55555.1.1=critical,DER:3000';
  const c = makePki([
    { name: 'root', issuer: null, ext: CA },
    { name: 'pca', issuer: 'root', ext: CA },
    { name: 'unknownLeaf', issuer: 'pca', ext: [...CODE, unknown] },
    { name: 'nonCriticalLeaf', issuer: 'pca', ext: [...CODE, '1.3.6.1.4.1.55555.1.1=DER:3000'] },
    // what Microsoft Time-Stamp PCA 2010 carries: processed with any policy acceptable, it constrains nothing
    { name: 'policyPca', issuer: 'root', ext: [...CA, 'certificatePolicies=critical,1.3.6.1.4.1.311.42.1'] },
    { name: 'leafUnderPolicyPca', issuer: 'policyPca', ext: CODE },
    { name: 'constrainedPca', issuer: 'root', ext: [...CA, 'nameConstraints=critical,permitted;DNS:example.com'] },
    { name: 'leafUnderConstrainedPca', issuer: 'constrainedPca', ext: CODE },
    { name: 'policyRoot', issuer: null, ext: [...CA, 'policyConstraints=critical,requireExplicitPolicy:0'] },
    { name: 'leafUnderPolicyRoot', issuer: 'policyRoot', ext: CODE },
    { name: 'unknownTsa', issuer: 'pca', ext: ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=critical,timeStamping', unknown] },
  ]);
  const anchors = trustAnchorsFromDer([c.root.der, c.policyRoot.der], 'test');
  const pool = Object.values(c);
  const policy = { at: new Date('2024-01-01T00:00:00Z'), ekus: [Oid.codeSigning] };
  assert.equal(code(() => buildChain(c.unknownLeaf, pool, anchors, policy)), 'CHAIN_CRITICAL_EXTENSION');
  assert.match(reason(() => buildChain(c.unknownLeaf, pool, anchors, policy)), /"unknownLeaf" carries a critical extension cabferry does not process \(1\.3\.6\.1\.4\.1\.55555\.1\.1\)/);
  // trusted directly, or with no anchor at all: the certificate that signs is refused whatever the trust
  assert.equal(code(() => buildChain(c.unknownLeaf, pool, trustAnchorsFromDer([c.unknownLeaf.der], 'test'), policy)), 'CHAIN_CRITICAL_EXTENSION');
  assert.equal(code(() => buildChain(c.leafUnderConstrainedPca, pool, anchors, policy)), 'CHAIN_CRITICAL_EXTENSION');
  // the anchor too: a constraint on it limits what it vouches for
  assert.equal(code(() => buildChain(c.leafUnderPolicyRoot, pool, anchors, policy)), 'CHAIN_CRITICAL_EXTENSION');
  assert.equal(code(() => buildChain(c.unknownTsa, pool, anchors, { ...policy, ekus: [Oid.timeStamping] })), 'CHAIN_CRITICAL_EXTENSION');
  assert.equal(code(() => buildChain(c.nonCriticalLeaf, pool, anchors, policy)), 'ok');
  assert.equal(code(() => buildChain(c.leafUnderPolicyPca, pool, anchors, policy)), 'ok');
  assert.deepEqual([...c.policyPca.criticalExtensions].sort(), [Oid.keyUsage, Oid.basicConstraints, Oid.certificatePolicies].sort());
});
