import fs = require('node:fs');
import path = require('node:path');
import { describeIoError, inputError, isCabferryError } from '../errors';
import { readRegularFile } from '../io/regular-file';
import { certificatesFromFileBytes, parseCertificate, type Certificate } from './certificate';

/**
 * A certificate the operator trusts. Anchors are trusted as they are: their own signature,
 * extensions and validity are not checked (the 1997 "Microsoft Root Authority" is MD5
 * self-signed, not a CA by RFC 5280, and expired in 2020, yet it anchors real Microsoft chains).
 */
export interface TrustAnchor {
  readonly certificate: Certificate;
  /** the file it was loaded from, for reports */
  readonly source: string;
}

/** A bundle of every root anyone trusts is a few hundred KB. */
const MAX_TRUST_FILE_BYTES = 16 * 1024 * 1024;

const certificateExtensions = new Set(['.pem', '.crt', '.cer', '.der', '.cert']);

/**
 * Load anchors from PEM bundles, DER or PEM certificate files, and directories of those
 * (non-recursive; files with other extensions in a directory are ignored). Trust is always
 * passed in explicitly: nothing here reads a system store.
 */
export function loadTrustAnchors(paths: string[]): TrustAnchor[] {
  const anchors: TrustAnchor[] = [];
  const seen = new Set<string>();
  const addFile = (file: string): void => {
    let bytes: Buffer;
    try {
      bytes = readRegularFile(file, { maxBytes: MAX_TRUST_FILE_BYTES, what: 'the trust anchor file' });
    } catch (e) {
      if (isCabferryError(e) && e.code !== 'FILE_UNREADABLE') throw e;
      throw inputError('TRUST_UNREADABLE', `cannot read trust anchors: ${describeIoError((e as { cause?: unknown }).cause ?? e)}`, { file, cause: e });
    }
    if (bytes.length === 0) throw inputError('TRUST_EMPTY', 'the trust anchor file is empty (expected PEM or DER certificates)', { file });
    const pem = bytes.toString('latin1').includes('-----BEGIN');
    const ders = certificatesFromFileBytes(bytes);
    if (ders.length === 0) throw inputError('TRUST_EMPTY', 'no certificate found in trust anchor file', { file });
    ders.forEach((der, i) => {
      let certificate: Certificate;
      try {
        certificate = parseCertificate(der);
      } catch (e) {
        // the parser's words (DER offsets, OpenSSL's "DECODER routines") stay in the cause
        const what = pem ? `certificate #${i + 1} of the PEM file is not a readable X.509 certificate` : 'not a certificate: neither PEM text nor a DER X.509 certificate';
        throw inputError(pem ? 'TRUST_BAD_CERTIFICATE' : 'TRUST_NOT_A_CERTIFICATE', what, { file, cause: e });
      }
      if (seen.has(certificate.sha256Fingerprint)) return;
      seen.add(certificate.sha256Fingerprint);
      anchors.push({ certificate, source: file });
    });
  };

  for (const p of paths) {
    let st: fs.Stats;
    try {
      st = fs.statSync(p);
    } catch (e) {
      throw inputError('TRUST_UNREADABLE', `cannot read trust anchors: ${describeIoError(e)}`, { file: p, cause: e });
    }
    if (st.isDirectory()) {
      const files = fs.readdirSync(p).filter((n) => certificateExtensions.has(path.extname(n).toLowerCase())).sort();
      if (files.length === 0) throw inputError('TRUST_EMPTY', 'no certificate files (.pem, .crt, .cer, .der) in trust anchor directory', { file: p });
      for (const n of files) addFile(path.join(p, n));
    } else {
      addFile(p);
    }
  }
  return anchors;
}

/** Anchors built from certificates already in memory (tests, the catalog's stored trust set). */
export function trustAnchorsFromDer(ders: Buffer[], source: string): TrustAnchor[] {
  return ders.map((der) => ({ certificate: parseCertificate(der), source }));
}
