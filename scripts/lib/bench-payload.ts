/**
 * The large signed cabinet the verify and import benchmarks measure (and the large signed PE image
 * of bench-verify-pe): incompressible filler in
 * stored (NONE) folders, so that the payload bytes dominate as in a real update, signed the way
 * Microsoft dual-signs (SHA-1 primary, SHA-256 nested) by osslsigncode with the test PKI. It is
 * built in a temporary folder of the caller's and never committed.
 */
import { randomBytes, randomFillSync } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildCab, noneFolderEncoder, type CabWriterFile, type CabWriterFolder } from './cab-writer';
import { fixturesDir, runChild } from './bench-run';
import { writePeImage } from './pe-writer';

/** fixtures/pki: the leaf that signs the benchmark cabinets and the root that verifies them. */
export const benchPki = {
  root: path.join(fixturesDir, 'pki', 'root.pem'),
  signerChain: path.join(fixturesDir, 'pki', 'leaf-rsa-chain.pem'),
  signerKey: path.join(fixturesDir, 'pki', 'leaf-rsa.key'),
};

const FILLER_MEMBER_MIB = 25;
// a folder holds at most 65535 blocks of 32 KiB (2 GiB); 40 members of 25 MiB stay far below
const FILLER_MEMBERS_PER_FOLDER = 40;

/**
 * Write a signed cabinet of about `sizeMiB` MiB of random filler to `out` (its folder is
 * created), optionally with `metadata` members (a real package's update.mum, update.cat … from
 * packageMetadataMembers) in a folder of their own ahead of the filler. The unsigned and the
 * SHA-1-only intermediates are written beside `out` and removed. Returns `out`.
 */
export function buildSignedPayloadCab(out: string, sizeMiB: number, metadata: readonly CabWriterFile[] = []): string {
  if (!Number.isInteger(sizeMiB) || sizeMiB < 1) throw new Error(`buildSignedPayloadCab: size ${sizeMiB} MiB is not a whole number of at least 1`);
  const filler: CabWriterFile[] = [];
  for (let left = sizeMiB; left > 0; left -= FILLER_MEMBER_MIB) {
    filler.push({ name: `bench\\filler${filler.length}.bin`, data: randomBytes(Math.min(FILLER_MEMBER_MIB, left) * 1024 * 1024) });
  }
  const folders: CabWriterFolder[] = metadata.length > 0 ? [{ encoder: noneFolderEncoder(), files: [...metadata] }] : [];
  for (let i = 0; i < filler.length; i += FILLER_MEMBERS_PER_FOLDER) {
    folders.push({ encoder: noneFolderEncoder(), files: filler.slice(i, i + FILLER_MEMBERS_PER_FOLDER) });
  }
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const unsigned = `${out}.unsigned`;
  const sha1 = `${out}.sha1`;
  fs.writeFileSync(unsigned, buildCab(folders));
  const signer = ['-certs', benchPki.signerChain, '-key', benchPki.signerKey];
  try {
    runChild('osslsigncode', ['sign', ...signer, '-h', 'sha1', '-in', unsigned, '-out', sha1]);
    runChild('osslsigncode', ['sign', ...signer, '-h', 'sha256', '-nest', '-in', sha1, '-out', out]);
  } finally {
    fs.rmSync(unsigned, { force: true });
    fs.rmSync(sha1, { force: true });
  }
  return out;
}

/**
 * The members of the package cab inside an MSU (update.mum, update.cat, the manifests,
 * _manifest_.cix.xml), extracted with cabextract into `workDir`, read, and the extraction removed.
 */
export function packageMetadataMembers(msu: string, workDir: string): CabWriterFile[] {
  const outer = path.join(workDir, 'outer');
  const inner = path.join(workDir, 'inner');
  try {
    runChild('cabextract', ['-q', '-d', outer, msu]);
    const innerCab = fs.readdirSync(outer).find((n) => /^Windows6\.\d-KB\d+(-v\d+)?-(x86|x64)\.cab$/i.test(n));
    if (innerCab === undefined) throw new Error(`no package cab in ${msu}`);
    runChild('cabextract', ['-q', '-d', inner, path.join(outer, innerCab)]);
    return fs.readdirSync(inner).sort().map((name) => ({ name, data: fs.readFileSync(path.join(inner, name)) }));
  } finally {
    fs.rmSync(outer, { recursive: true, force: true });
    fs.rmSync(inner, { recursive: true, force: true });
  }
}

/**
 * Write a signed PE32+ image of about `sizeMiB` MiB to `out` (shaped like the SP2 standalone
 * installer: a small program whose payload is one large section of incompressible data), signed
 * SHA-1 + nested SHA-256 by osslsigncode with the test PKI. The image is written chunk by chunk.
 */
export function buildSignedPeImage(out: string, sizeMiB: number): string {
  if (!Number.isInteger(sizeMiB) || sizeMiB < 1) throw new Error(`buildSignedPeImage: size ${sizeMiB} MiB is not a whole number of at least 1`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const unsigned = `${out}.unsigned`;
  const sha1 = `${out}.sha1`;
  writePeImage(unsigned, {
    machine: 'x64',
    exitCode: 0,
    fileVersion: '6.0.6002.18005',
    strings: { CompanyName: 'cabferry benchmark', OriginalFilename: path.basename(out) },
    payloadBytes: sizeMiB * 1024 * 1024,
    payloadFill: (chunk) => randomFillSync(chunk),
  });
  const signer = ['-certs', benchPki.signerChain, '-key', benchPki.signerKey];
  try {
    runChild('osslsigncode', ['sign', ...signer, '-h', 'sha1', '-in', unsigned, '-out', sha1]);
    runChild('osslsigncode', ['sign', ...signer, '-h', 'sha256', '-nest', '-in', sha1, '-out', out]);
  } finally {
    fs.rmSync(unsigned, { force: true });
    fs.rmSync(sha1, { force: true });
  }
  return out;
}
