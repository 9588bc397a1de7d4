/**
 * The test PKI behind every signed fixture (dev-time only; tests read the committed PEMs).
 *
 * Keys are generated once and committed under fixtures/pki/; certificates are re-issued from
 * them with `openssl ca` using fixed serials, fixed validity dates and fixed extensions, so
 * re-running the generator reproduces byte-identical certificates (all issuers are RSA, and
 * RSA PKCS#1 v1.5 signatures are deterministic).
 *
 * The hierarchy mirrors Microsoft's: a root, a code-signing PCA (intermediate) that issues the
 * code-signing leaves, the catalog signer ("Windows" signer: EKU 1.3.6.1.4.1.311.10.3.6 +
 * codeSigning) and the time-stamping authority.
 */
import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** OIDs used in certificate extensions and catalogs. */
export const Oid = {
  codeSigning: '1.3.6.1.5.5.7.3.3',
  timeStamping: '1.3.6.1.5.5.7.3.8',
  /** szOID_WHQL_CRYPTO / "Windows System Component Verification": on Microsoft's catalog signers */
  windowsSystemComponentVerification: '1.3.6.1.4.1.311.10.3.6',
} as const;

export type KeyType = 'rsa2048' | 'rsa3072' | 'ec-p384';

export interface CertificateSpec {
  /** file stem under fixtures/pki/: <id>.key, <id>.pem */
  id: string;
  /** issuer id, or null for self-signed */
  issuer: string | null;
  subject: string;
  keyType: KeyType;
  serial: string;
  /** validity as openssl ca dates, YYYYMMDDHHMMSSZ */
  notBefore: string;
  notAfter: string;
  /** openssl extension-section lines */
  extensions: string[];
  /** what the certificate is for, for fixtures/pki/README.md */
  purpose: string;
}

const caExtensions = (pathLen?: number): string[] => [
  `basicConstraints = critical,CA:TRUE${pathLen === undefined ? '' : `,pathlen:${pathLen}`}`,
  'keyUsage = critical,keyCertSign,cRLSign',
  'subjectKeyIdentifier = hash',
  'authorityKeyIdentifier = keyid:always',
];

const codeSigningExtensions = (extraEku: string[] = []): string[] => [
  'basicConstraints = critical,CA:FALSE',
  'keyUsage = critical,digitalSignature',
  `extendedKeyUsage = codeSigning${extraEku.map((e) => ',' + e).join('')}`,
  'subjectKeyIdentifier = hash',
  'authorityKeyIdentifier = keyid:always',
];

/**
 * Every certificate of the test PKI, issuers before the certificates they issue. Validity starts in 2005
 * so that the 2009 SP2 fixture's signing time and timestamp fall inside it (signers check this).
 */
export const testPkiSpec: CertificateSpec[] = [
  {
    id: 'root',
    issuer: null,
    subject: '/C=US/O=Cabferry Test/CN=Cabferry Test Root CA',
    keyType: 'rsa3072',
    serial: '0A00000000000001',
    notBefore: '20050101000000Z',
    notAfter: '20491231235959Z',
    extensions: ['basicConstraints = critical,CA:TRUE', 'keyUsage = critical,keyCertSign,cRLSign', 'subjectKeyIdentifier = hash'],
    purpose: 'trust anchor for every signed fixture (pass it as --trust)',
  },
  {
    id: 'intermediate',
    issuer: 'root',
    subject: '/C=US/O=Cabferry Test/CN=Cabferry Test Code Signing PCA',
    keyType: 'rsa2048',
    serial: '0B00000000000001',
    notBefore: '20050101000000Z',
    notAfter: '20451231235959Z',
    extensions: caExtensions(0),
    purpose: 'intermediate CA; issues every leaf below',
  },
  {
    id: 'leaf-rsa',
    issuer: 'intermediate',
    subject: '/C=US/O=Cabferry Test Corporation/CN=Cabferry Test Code Signer',
    keyType: 'rsa2048',
    serial: '0C00000000000001',
    notBefore: '20050601000000Z',
    notAfter: '20401231235959Z',
    extensions: codeSigningExtensions(),
    purpose: 'RSA-2048 code-signing leaf (EKU codeSigning, keyUsage digitalSignature)',
  },
  {
    id: 'leaf-ecdsa',
    issuer: 'intermediate',
    subject: '/C=US/O=Cabferry Test Corporation/CN=Cabferry Test ECDSA Code Signer',
    keyType: 'ec-p384',
    serial: '0C00000000000002',
    notBefore: '20120101000000Z',
    notAfter: '20401231235959Z',
    extensions: codeSigningExtensions(),
    purpose: 'ECDSA P-384 code-signing leaf',
  },
  {
    id: 'leaf-expired',
    issuer: 'intermediate',
    subject: '/C=US/O=Cabferry Test Corporation/CN=Cabferry Test Expired Code Signer',
    keyType: 'rsa2048',
    serial: '0C00000000000003',
    notBefore: '20180101000000Z',
    notAfter: '20191231235959Z',
    extensions: codeSigningExtensions(),
    purpose: 'code-signing leaf whose validity ended 2019-12-31; signatures made with it carry a 2019-06 timestamp',
  },
  {
    id: 'catalog-signer',
    issuer: 'intermediate',
    subject: '/C=US/O=Cabferry Test Corporation/OU=MOPR/CN=Cabferry Test Windows',
    keyType: 'rsa2048',
    serial: '0C00000000000004',
    notBefore: '20050601000000Z',
    notAfter: '20401231235959Z',
    extensions: codeSigningExtensions([Oid.windowsSystemComponentVerification]),
    purpose: 'catalog (update.cat) signer like "Microsoft Windows": EKU codeSigning + 1.3.6.1.4.1.311.10.3.6',
  },
  {
    id: 'tsa',
    issuer: 'intermediate',
    subject: '/C=US/O=Cabferry Test Corporation/CN=Cabferry Test Time-Stamp Service',
    keyType: 'rsa2048',
    serial: '0D00000000000001',
    notBefore: '20050101000000Z',
    notAfter: '20451231235959Z',
    extensions: [
      'basicConstraints = critical,CA:FALSE',
      'keyUsage = critical,digitalSignature',
      'extendedKeyUsage = critical,timeStamping',
      'subjectKeyIdentifier = hash',
      'authorityKeyIdentifier = keyid:always',
    ],
    purpose: 'time-stamping authority (EKU timeStamping, critical) for RFC 3161 tokens and legacy countersignatures',
  },
  {
    id: 'other-root',
    issuer: null,
    subject: '/C=US/O=Cabferry Unrelated/CN=Cabferry Unrelated Root CA',
    keyType: 'rsa2048',
    serial: '0E00000000000001',
    notBefore: '20100101000000Z',
    notAfter: '20491231235959Z',
    extensions: ['basicConstraints = critical,CA:TRUE', 'keyUsage = critical,keyCertSign,cRLSign', 'subjectKeyIdentifier = hash'],
    purpose: 'a root that issued nothing here: the wrong trust anchor (fixtures verified against it are "untrusted")',
  },
];

/** Paths of one issued certificate and its key. */
export interface PkiEntity {
  id: string;
  certPath: string;
  keyPath: string;
  spec: CertificateSpec;
}

export interface TestPki {
  dir: string;
  /** throws unless `at` is inside the validity of certificate `id` (a fixture signed outside it would be wrong) */
  assertValidAt(id: string, at: Date, what: string): void;
  entities: Record<string, PkiEntity>;
  /** leaf + intermediate PEM, what a signer embeds */
  chainPath(id: string): string;
  get(id: string): PkiEntity;
}

function run(cmd: string, args: string[], cwd?: string): string {
  try {
    return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${err.stderr ?? err.message}`);
  }
}

function generateKey(keyType: KeyType, keyPath: string): void {
  const args =
    keyType === 'ec-p384'
      ? ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384', '-pkeyopt', 'ec_param_enc:named_curve']
      : ['genpkey', '-algorithm', 'RSA', '-pkeyopt', `rsa_keygen_bits:${keyType === 'rsa3072' ? 3072 : 2048}`];
  run('openssl', [...args, '-out', keyPath]);
}

/** Issue one certificate with `openssl ca` so that serial and validity dates are fixed. */
function issueCertificate(spec: CertificateSpec, keyPath: string, certPath: string, issuer: PkiEntity | null): void {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cabferry-pki-'));
  try {
    fs.writeFileSync(path.join(work, 'index.txt'), '');
    fs.writeFileSync(path.join(work, 'serial'), spec.serial + '\n');
    fs.mkdirSync(path.join(work, 'newcerts'));
    const config = [
      '[ ca ]',
      'default_ca = test_ca',
      '[ test_ca ]',
      `dir = ${work}`,
      'database = $dir/index.txt',
      'new_certs_dir = $dir/newcerts',
      'serial = $dir/serial',
      'default_md = sha256',
      'policy = policy_any',
      'unique_subject = no',
      'copy_extensions = none',
      'email_in_dn = no',
      '[ policy_any ]',
      'countryName = optional',
      'organizationName = optional',
      'organizationalUnitName = optional',
      'commonName = supplied',
      '[ req ]',
      'distinguished_name = req_dn',
      'prompt = no',
      '[ req_dn ]',
      'CN = placeholder',
      '[ cert_ext ]',
      ...spec.extensions,
      '',
    ].join('\n');
    const configPath = path.join(work, 'openssl.cnf');
    fs.writeFileSync(configPath, config);
    const csrPath = path.join(work, 'req.csr');
    run('openssl', ['req', '-new', '-config', configPath, '-key', keyPath, '-subj', spec.subject, '-out', csrPath]);
    const signing = issuer === null ? ['-selfsign', '-keyfile', keyPath] : ['-cert', issuer.certPath, '-keyfile', issuer.keyPath];
    run('openssl', [
      'ca', '-batch', '-notext', '-preserveDN', '-config', configPath, '-in', csrPath, '-out', certPath,
      '-subj', spec.subject, '-startdate', spec.notBefore, '-enddate', spec.notAfter,
      '-extensions', 'cert_ext', '-md', 'sha256', ...signing,
    ]);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Make sure every key exists (generating missing ones — that changes every fixture, so it only
 * happens on a fresh checkout of the generator) and re-issue every certificate from the keys.
 */
export function buildTestPki(dir: string, log: (msg: string) => void = () => {}): TestPki {
  fs.mkdirSync(dir, { recursive: true });
  const entities: Record<string, PkiEntity> = {};
  for (const spec of testPkiSpec) {
    const keyPath = path.join(dir, `${spec.id}.key`);
    const certPath = path.join(dir, `${spec.id}.pem`);
    if (!fs.existsSync(keyPath)) {
      log(`pki: generating new ${spec.keyType} key ${spec.id}.key`);
      generateKey(spec.keyType, keyPath);
    }
    const issuer = spec.issuer === null ? null : entities[spec.issuer];
    if (spec.issuer !== null && issuer === undefined) throw new Error(`pki: issuer ${spec.issuer} of ${spec.id} not issued yet`);
    issueCertificate(spec, keyPath, certPath, issuer ?? null);
    entities[spec.id] = { id: spec.id, certPath, keyPath, spec };
  }
  // Chains a signer embeds: leaf first, then the intermediate (never the root: trust is explicit).
  for (const spec of testPkiSpec) {
    if (spec.issuer !== 'intermediate') continue;
    const chain = fs.readFileSync(entities[spec.id].certPath, 'utf8') + fs.readFileSync(entities.intermediate.certPath, 'utf8');
    fs.writeFileSync(path.join(dir, `${spec.id}-chain.pem`), chain);
  }
  fs.writeFileSync(path.join(dir, 'README.md'), pkiReadme());
  const validity = (id: string) => {
    const cert = new crypto.X509Certificate(fs.readFileSync(entities[id]!.certPath));
    return { from: new Date(cert.validFrom), to: new Date(cert.validTo) };
  };
  return {
    dir,
    entities,
    assertValidAt(id: string, at: Date, what: string): void {
      const v = validity(id);
      if (at < v.from || at > v.to) throw new Error(`pki: ${what} ${at.toISOString()} is outside ${id}'s validity ${v.from.toISOString()}..${v.to.toISOString()}`);
    },
    chainPath: (id: string) => path.join(dir, `${id}-chain.pem`),
    get(id: string): PkiEntity {
      const e = entities[id];
      if (e === undefined) throw new Error(`pki: no certificate ${id}`);
      return e;
    },
  };
}

function pkiReadme(): string {
  const date = (d: string) => `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}`;
  const rows = testPkiSpec.map((s) =>
    `| \`${s.id}.pem\` / \`${s.id}.key\` | \`${s.subject}\` | ${s.issuer ?? 'self'} | ${s.keyType} | ${s.serial} | ${date(s.notBefore)} .. ${date(s.notAfter)} | ${s.purpose} |`);
  return [
    '# Test PKI',
    '',
    '**TEST KEYS, PUBLISHED ON PURPOSE. Never trust `root.pem` outside this project\'s tests.**',
    '',
    'Generated by `scripts/make-fixtures.ts` (`scripts/lib/pki.ts`). Keys are created once and kept; the',
    'certificates are re-issued from them with `openssl ca` using the fixed serials, dates and extensions below,',
    'so regeneration reproduces them byte for byte. All certificate signatures are sha256WithRSAEncryption.',
    '',
    '| files | subject | issuer | key | serial | validity (UTC) | purpose |',
    '|---|---|---|---|---|---|---|',
    ...rows,
    '',
    '`<leaf>-chain.pem` = that leaf followed by `intermediate.pem`: what a signer embeds in its signature (the root',
    'is never embedded; trust is explicit). Extensions: CAs have critical basicConstraints CA:TRUE (the intermediate',
    'pathlen:0) and keyUsage keyCertSign,cRLSign; code-signing leaves have critical CA:FALSE, critical keyUsage',
    'digitalSignature and EKU codeSigning (1.3.6.1.5.5.7.3.3; the catalog signer also 1.3.6.1.4.1.311.10.3.6);',
    'the TSA has EKU timeStamping (1.3.6.1.5.5.7.3.8) marked critical. All non-roots carry SKI and AKI.',
    '',
  ].join('\n');
}
