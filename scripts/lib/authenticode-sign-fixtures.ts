/**
 * fixtures/signed/: one small cabinet per way a CAB can be (or fail to be) Authenticode-signed,
 * with the verdict each must get when fixtures/pki/root.pem is the only trust anchor.
 * Written together with README.md (for people) and expected.json (for tests), from the same table.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildCab, mszipFolderEncoder } from './cab-writer';
import { cabextractTest, signCab, verifyWithOsslsigncode, type CabSignature } from './authenticode-sign';
import { buildPackageCab, packageCabSignatures } from './msu-builder';
import { payloadDefinitions } from './msu-builder-fixtures';
import { testPkiSpec, type TestPki } from './pki';

export type ExpectedVerdict = 'valid' | 'invalid' | 'untrusted' | 'unsigned';

export interface ExpectedSignature {
  digestAlgorithm: 'sha1' | 'sha256' | 'sha384';
  signer: string;
  issuer: string;
  nested: boolean;
  /** ISO time of the timestamp, or null */
  timestamp: string | null;
  /** 'rfc3161' token or 'authenticode' (legacy PKCS#9 countersignature), or null */
  timestampKind: 'rfc3161' | 'authenticode' | null;
  valid: boolean;
}

export interface SignedFixture {
  file: string;
  what: string;
  /** verdict with --trust fixtures/pki/root.pem */
  verdict: ExpectedVerdict;
  /** verdict with --trust fixtures/pki/root.pem --require-sha2 */
  verdictRequireSha2: ExpectedVerdict;
  /** verdict with --trust fixtures/pki/other-root.pem (a root that issued nothing here) */
  verdictOtherRoot: ExpectedVerdict;
  reason: string;
  /** further expectations beyond the Authenticode verdict */
  note?: string;
  signatures: ExpectedSignature[];
  /**
   * what `osslsigncode verify -CAfile root.pem -TSA-CAfile root.pem -ignore-crl` says: success, and its
   * "Number of verified signatures" line (which counts signatures it examined, failed ones included)
   */
  osslsigncode: { ok: boolean; verifiedSignatures: number };
  size: number;
  sha256: string;
}

const SIGNING_TIME = new Date('2024-03-01T12:00:00Z');
const TIMESTAMP_TIME = new Date('2024-03-01T12:00:05Z');
/** inside leaf-expired's validity (2018-01-01 .. 2019-12-31) */
const EXPIRED_LEAF_SIGNING_TIME = new Date('2019-06-01T09:00:00Z');
const EXPIRED_LEAF_TIMESTAMP_TIME = new Date('2019-06-01T09:00:07Z');
/** after leaf-expired's validity */
const LATE_SIGNING_TIME = new Date('2021-01-01T00:00:00Z');
const LATE_TIMESTAMP_TIME = new Date('2021-01-01T00:00:05Z');

/** CN of a test PKI certificate, from its spec (what a verifier reports as signer / issuer) */
function commonName(id: string): string {
  const spec = testPkiSpec.find((c) => c.id === id);
  const cn = spec && /\/CN=([^/]+)$/.exec(spec.subject)?.[1];
  if (!cn) throw new Error(`no CN for pki entity ${id}`);
  return cn;
}

/** The content every signed fixture carries: a text file and 40 KiB of text (two CFDATA blocks, compresses well). */
export function sampleCabinet(label: string): Buffer {
  const readme = Buffer.from(`cabferry test cabinet: ${label}\r\nContent is fake; only the signature matters.\r\n`, 'latin1');
  const lines: string[] = [];
  for (let i = 0; lines.length * 40 < 40 * 1024; i++) lines.push(`payload line ${String(i).padStart(6, '0')} of a test cabinet`.padEnd(38) + '\r\n');
  const data = Buffer.from(lines.join(''), 'latin1').subarray(0, 40 * 1024);
  return buildCab([{ encoder: mszipFolderEncoder({ withHistory: true }), files: [
    { name: 'readme.txt', data: readme },
    { name: 'data\\payload.bin', data },
  ] }]);
}

interface Recipe {
  file: string;
  what: string;
  /** the unsigned cabinet; default sampleCabinet(file) */
  content?: (pki: TestPki) => Buffer;
  /** extra expectation for the README: what `cabferry inspect` must say */
  note?: string;
  signatures: CabSignature[];
  /** post-processing of the signed file (tampering) */
  mutate?: (bytes: Buffer) => void;
  verdict: ExpectedVerdict;
  verdictRequireSha2?: ExpectedVerdict;
  reason: string;
  /** per signature: is it valid on its own */
  signatureValid?: boolean[];
  osslsigncode: { ok: boolean; verifiedSignatures: number };
}

const rsa = (digest: CabSignature['digest'], timestamped: boolean): CabSignature => ({
  signer: 'leaf-rsa', digest, signingTime: SIGNING_TIME,
  timestampTime: timestamped ? TIMESTAMP_TIME : undefined,
  description: 'Cabferry test cabinet', url: 'https://example.invalid/cabferry',
});

/** offset of the first CFDATA payload byte of a cabinet built by sampleCabinet and then signed */
function firstDataByte(bytes: Buffer): number {
  const folderTable = 0x24 + 4 + bytes.readUInt16LE(0x24);
  return bytes.readUInt32LE(folderTable) + 8 + 10;
}

/** the Windows Server 2008 x64 SSU of the payload set, for the bare-package-cab fixture */
const ssuX64 = { ...payloadDefinitions.find((d) => d.kb === 4493730)!, arch: 'x64' as const };

function neverRestart(mum: Buffer): Buffer {
  const text = mum.toString('utf8');
  if (!text.includes('restart="possible"')) throw new Error('payload-mum-altered: update.mum has no restart="possible" to alter');
  return Buffer.from(text.replace('restart="possible"', 'restart="never"'), 'utf8');
}

const recipes: Recipe[] = [
  {
    file: 'unsigned.cab', what: 'MSZIP cabinet, no signature, no header reserve', signatures: [],
    verdict: 'unsigned', reason: 'no Authenticode signature', osslsigncode: { ok: false, verifiedSignatures: 0 },
  },
  {
    file: 'sha256-rsa.cab', what: 'SHA-256, RSA-2048 leaf, RFC 3161 timestamp', signatures: [rsa('sha256', true)],
    verdict: 'valid', reason: 'chain to root.pem, digest matches', osslsigncode: { ok: true, verifiedSignatures: 1 },
  },
  {
    file: 'sha256-rsa-no-timestamp.cab', what: 'SHA-256, RSA-2048 leaf, no timestamp (chain checked at the current time)',
    signatures: [rsa('sha256', false)],
    verdict: 'valid', reason: 'chain to root.pem valid now', osslsigncode: { ok: true, verifiedSignatures: 1 },
  },
  {
    file: 'sha384-ecdsa.cab', what: 'SHA-384, ECDSA P-384 leaf (ecdsa-with-SHA384), RFC 3161 timestamp',
    signatures: [{ ...rsa('sha384', true), signer: 'leaf-ecdsa' }],
    verdict: 'valid', reason: 'chain to root.pem, ECDSA signature verifies', osslsigncode: { ok: true, verifiedSignatures: 1 },
  },
  {
    file: 'sha1-only.cab', what: 'SHA-1 only, RSA-2048 leaf, RFC 3161 timestamp', signatures: [rsa('sha1', true)],
    verdict: 'valid', verdictRequireSha2: 'invalid', reason: 'valid, but its only signature uses SHA-1',
    osslsigncode: { ok: true, verifiedSignatures: 1 },
  },
  {
    file: 'dual-sha1-sha256.cab',
    what: 'Microsoft-style dual signing: SHA-1 primary + nested SHA-256 (1.3.6.1.4.1.311.2.4.1), RFC 3161 timestamp on both',
    signatures: [rsa('sha1', true), { ...rsa('sha256', true), timestampTime: new Date(TIMESTAMP_TIME.getTime() + 1000) }],
    verdict: 'valid', reason: 'both signatures valid', osslsigncode: { ok: true, verifiedSignatures: 2 },
  },
  {
    file: 'sha256-rsa-legacy-countersig.cab',
    what: 'SHA-256, RSA-2048 leaf, legacy PKCS#9 countersignature (1.2.840.113549.1.9.6) by the TSA instead of RFC 3161',
    signatures: [{ ...rsa('sha256', true), timestampKind: 'legacy' }],
    verdict: 'valid', reason: 'chain to root.pem; countersignature over the signature value verifies', osslsigncode: { ok: true, verifiedSignatures: 1 },
  },
  {
    file: 'dual-microsoft-style.cab',
    what: 'exactly how Microsoft dual-signed 2009-2019: SHA-1 primary with a legacy countersignature + nested SHA-256 with RFC 3161',
    signatures: [{ ...rsa('sha1', true), timestampKind: 'legacy' }, { ...rsa('sha256', true), timestampTime: new Date(TIMESTAMP_TIME.getTime() + 1000) }],
    verdict: 'valid', reason: 'both signatures valid, each with its kind of timestamp', osslsigncode: { ok: true, verifiedSignatures: 2 },
  },
  {
    file: 'expired-leaf-legacy-countersig.cab',
    what: 'SHA-256 by leaf-expired, legacy countersignature dated 2019-06-01T09:00:07Z (inside the leaf validity)',
    signatures: [{ signer: 'leaf-expired', digest: 'sha256', signingTime: EXPIRED_LEAF_SIGNING_TIME, timestampTime: EXPIRED_LEAF_TIMESTAMP_TIME, timestampKind: 'legacy' }],
    verdict: 'valid', reason: 'leaf expired now, but valid at the verified countersignature time', osslsigncode: { ok: true, verifiedSignatures: 1 },
  },
  {
    file: 'expired-leaf-timestamped.cab',
    what: 'SHA-256 by leaf-expired (valid 2018-01-01..2019-12-31), RFC 3161 timestamp 2019-06-01T09:00:07Z',
    signatures: [{ signer: 'leaf-expired', digest: 'sha256', signingTime: EXPIRED_LEAF_SIGNING_TIME, timestampTime: EXPIRED_LEAF_TIMESTAMP_TIME }],
    verdict: 'valid', reason: 'leaf expired now, but valid at the verified timestamp time', osslsigncode: { ok: true, verifiedSignatures: 1 },
  },
  {
    file: 'expired-leaf-late-timestamp.cab',
    what: 'SHA-256 by leaf-expired, signed and RFC 3161-timestamped 2021-01-01, after the leaf expired',
    signatures: [{ signer: 'leaf-expired', digest: 'sha256', signingTime: LATE_SIGNING_TIME, timestampTime: LATE_TIMESTAMP_TIME, outsideValidity: true }],
    verdict: 'invalid', reason: 'the timestamp proves the signature was made after the leaf expired',
    signatureValid: [false], osslsigncode: { ok: false, verifiedSignatures: 1 },
  },
  {
    file: 'expired-leaf-no-timestamp.cab', what: 'SHA-256 by leaf-expired, no timestamp',
    signatures: [{ signer: 'leaf-expired', digest: 'sha256', signingTime: EXPIRED_LEAF_SIGNING_TIME }],
    verdict: 'invalid', reason: 'no timestamp, so the chain is checked now, and the leaf expired 2019-12-31',
    signatureValid: [false], osslsigncode: { ok: false, verifiedSignatures: 1 },
  },
  {
    file: 'tampered-data.cab', what: 'sha256-rsa.cab with one byte of the first CFDATA payload changed after signing',
    signatures: [rsa('sha256', true)],
    mutate: (b) => { b[firstDataByte(b)] ^= 0x01; },
    verdict: 'invalid', reason: 'file digest mismatch (CFDATA is hashed)', signatureValid: [false],
    osslsigncode: { ok: false, verifiedSignatures: 1 },
  },
  {
    file: 'missing-intermediate.cab', what: 'SHA-256 by leaf-rsa, RFC 3161 timestamp, but only the leaf certificate embedded (no intermediate)',
    signatures: [{ ...rsa('sha256', true), embed: 'leaf-only' }],
    verdict: 'untrusted', reason: 'no chain from the leaf to root.pem can be built from the embedded certificates',
    signatureValid: [false], osslsigncode: { ok: false, verifiedSignatures: 1 },
  },
  {
    file: 'wrong-eku.cab', what: 'SHA-256 signed with the TSA certificate (EKU timeStamping only, no codeSigning), RFC 3161 timestamp',
    signatures: [{ ...rsa('sha256', true), signer: 'tsa' }],
    verdict: 'invalid', reason: 'the signer certificate is not allowed to sign code (no codeSigning EKU)',
    signatureValid: [false], osslsigncode: { ok: false, verifiedSignatures: 1 },
  },
  {
    file: 'dual-rsa-sha1-ecdsa-sha384.cab',
    what: 'SHA-1 primary by leaf-rsa + nested SHA-384 by the ECDSA leaf, RFC 3161 timestamp on both',
    signatures: [rsa('sha1', true), { ...rsa('sha384', true), signer: 'leaf-ecdsa', timestampTime: new Date(TIMESTAMP_TIME.getTime() + 1000) }],
    verdict: 'valid', reason: 'both signatures valid, different signers and key types', osslsigncode: { ok: true, verifiedSignatures: 2 },
  },
  {
    file: 'payload-bare.cab',
    what: 'bare package cab of Windows6.0-KB4493730-x64 (LZX:21, dual-signed), exactly as inside its MSU: a payload pkgmgr installs',
    content: (pki) => buildPackageCab(ssuX64, pki).cab,
    signatures: packageCabSignatures(ssuX64),
    verdict: 'valid', reason: 'both signatures valid',
    note: '`cabferry inspect --trust fixtures/pki/root.pem`: KB4493730, amd64, metadataVerified true',
    osslsigncode: { ok: true, verifiedSignatures: 2 },
  },
  {
    file: 'payload-mum-altered.cab',
    what: 'bare package cab of Windows6.0-KB4493730-x64 (LZX:21, dual-signed like its MSU) whose update.mum was edited '
      + '(restart="possible" → "never") after update.cat was signed, then re-packed (container index updated) and re-signed',
    content: (pki) => buildPackageCab(ssuX64, pki, { alterUpdateMum: neverRestart }).cab,
    signatures: packageCabSignatures(ssuX64),
    verdict: 'valid', reason: 'the Authenticode signature is fine: only the catalog check can catch the edit',
    note: '`cabferry inspect --trust fixtures/pki/root.pem`: metadataVerified false (update.mum not listed in the signed update.cat)',
    osslsigncode: { ok: true, verifiedSignatures: 2 },
  },
];

export function makeSignedFixtures(pki: TestPki, dir: string, log: (m: string) => void): SignedFixture[] {
  fs.mkdirSync(dir, { recursive: true });
  const fixtures: SignedFixture[] = [];
  for (const r of recipes) {
    const out = path.join(dir, r.file);
    const unsignedPath = out + '.unsigned.tmp';
    fs.writeFileSync(unsignedPath, r.content ? r.content(pki) : sampleCabinet(r.file));
    if (r.signatures.length === 0) fs.renameSync(unsignedPath, out);
    else {
      signCab(pki, unsignedPath, out, r.signatures);
      fs.rmSync(unsignedPath);
    }
    if (r.mutate) {
      const bytes = fs.readFileSync(out);
      r.mutate(bytes);
      fs.writeFileSync(out, bytes);
    }
    const signatures: ExpectedSignature[] = r.signatures.map((s, i) => ({
      digestAlgorithm: s.digest as ExpectedSignature['digestAlgorithm'],
      signer: commonName(s.signer),
      issuer: commonName(testPkiSpec.find((c) => c.id === s.signer)!.issuer!),
      nested: i > 0,
      timestamp: s.timestampTime ? s.timestampTime.toISOString() : null,
      timestampKind: s.timestampTime === undefined ? null : s.timestampKind === 'legacy' ? 'authenticode' : 'rfc3161',
      valid: r.signatureValid ? r.signatureValid[i]! : true,
    }));
    const signed = r.signatures.length > 0;
    const bytes = fs.readFileSync(out);
    fixtures.push({
      file: r.file, what: r.what, verdict: r.verdict, verdictRequireSha2: r.verdictRequireSha2 ?? r.verdict,
      // 'untrusted' means exactly "the right anchor would make it valid"; anything wrong besides the anchor keeps its verdict
      verdictOtherRoot: signed ? (r.verdict === 'valid' ? 'untrusted' : r.verdict) : 'unsigned',
      reason: r.reason, note: r.note, signatures, osslsigncode: r.osslsigncode,
      size: bytes.length, sha256: crypto.createHash('sha256').update(bytes).digest('hex'),
    });
    log(`signed: ${r.file} (${bytes.length} bytes)`);
  }
  fs.writeFileSync(path.join(dir, 'expected.json'), JSON.stringify({
    trustAnchor: 'fixtures/pki/root.pem', wrongTrustAnchor: 'fixtures/pki/other-root.pem', fixtures,
  }, null, 2) + '\n');
  fs.writeFileSync(path.join(dir, 'README.md'), signedReadme(fixtures));
  return fixtures;
}

function signedReadme(fixtures: SignedFixture[]): string {
  const rows = fixtures.map((f) => {
    const sigs = f.signatures.length === 0 ? '—' : f.signatures
      .map((s) => `${s.nested ? 'nested ' : ''}${s.digestAlgorithm} by "${s.signer}"${s.timestamp ? `, ${s.timestampKind === 'authenticode' ? 'legacy countersignature' : 'RFC 3161 TS'} ${s.timestamp}` : ', no TS'}${s.valid ? '' : ' (fails)'}`)
      .join('; ');
    return `| \`${f.file}\` | ${f.what} | ${sigs} | **${f.verdict}** | ${f.verdictRequireSha2} | ${f.verdictOtherRoot} | ${f.reason}${f.note ? `. ${f.note}` : ''} |`;
  });
  return [
    '# Signed CAB fixtures',
    '',
    'Generated by `scripts/make-fixtures.ts` (do not edit by hand; re-run it). Each file except `payload-*.cab` is the same small MSZIP',
    'cabinet (`readme.txt` + `data\\payload.bin`, 40 KiB of text, two CFDATA blocks, MSZIP with history) signed with',
    'osslsigncode 2.9 by the test PKI in `../pki/` (see its README). Signing time 2024-03-01T12:00:00Z unless noted.',
    'Timestamps (RFC 3161 tokens and legacy PKCS#9 countersignatures, both by the `tsa` certificate) and nesting are',
    'added by `scripts/lib/authenticode-sign.ts` itself, reproducibly (osslsigncode\'s built-in TSA writes random',
    'serials and nonces, and cannot make legacy countersignatures offline); osslsigncode verifies every result.',
    '',
    'Verdicts: column "root.pem" is `cabferry verify FILE --trust fixtures/pki/root.pem`; "--require-sha2" adds that',
    'flag; "other-root.pem" is `--trust fixtures/pki/other-root.pem` (a root that issued nothing here). Exit code 0',
    'only for **valid**, 1 otherwise. With other-root.pem every file that is valid with root.pem is **untrusted** and',
    'every other keeps its verdict: "untrusted" means exactly "the right trust anchor would make it valid".',
    'The same data, machine-readable, is in `expected.json`.',
    '',
    '| file | what | signatures | root.pem | --require-sha2 | other-root.pem | why |',
    '|---|---|---|---|---|---|---|',
    ...rows,
    '',
    'Cross-check: `osslsigncode verify -in FILE -CAfile fixtures/pki/root.pem -TSA-CAfile fixtures/pki/root.pem -ignore-crl`',
    'succeeds exactly for the **valid** rows (its "Number of verified signatures" counts examined signatures, failed',
    'ones included). `cabextract -t` accepts every file except `tampered-data.cab`, whose changed byte also breaks',
    'the CFDATA checksum.',
    'Reproducibility: every file regenerates byte for byte except the two with an ECDSA signature',
    '(`sha384-ecdsa.cab`, `dual-rsa-sha1-ecdsa-sha384.cab`): ECDSA signatures are randomised (their verdicts are not).',
    '',
  ].join('\n');
}

export function checkSignedFixtures(pki: TestPki, dir: string, fixtures: SignedFixture[], log: (m: string) => void): string[] {
  const problems: string[] = [];
  const root = pki.get('root').certPath;
  const otherRoot = pki.get('other-root').certPath;
  for (const f of fixtures) {
    const file = path.join(dir, f.file);
    const cabOk = cabextractTest(file);
    const cabShouldPass = f.file !== 'tampered-data.cab';
    if (cabOk !== cabShouldPass) problems.push(`signed/${f.file}: cabextract -t ${cabOk ? 'passed' : 'failed'}, expected ${cabShouldPass ? 'pass' : 'fail'}`);
    const v = verifyWithOsslsigncode(file, root);
    if (v.ok !== f.osslsigncode.ok || v.verifiedSignatures !== f.osslsigncode.verifiedSignatures) {
      problems.push(`signed/${f.file}: osslsigncode says ok=${v.ok} verified=${v.verifiedSignatures}, expected ok=${f.osslsigncode.ok} verified=${f.osslsigncode.verifiedSignatures}\n${v.output}`);
    }
    if (f.signatures.length > 0 && verifyWithOsslsigncode(file, otherRoot).ok) problems.push(`signed/${f.file}: verifies against other-root.pem`);
  }
  log(`signed: checked ${fixtures.length} files with cabextract -t and osslsigncode verify`);
  return problems;
}
