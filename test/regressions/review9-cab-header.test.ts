import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { verifyCab, type FileVerdict } from '../../src/authenticode/cab';
import { isCabferryError } from '../../src/errors';
import { corpusPath, runCli, tempDir } from '../common.helpers';
import { kb2999226Inner, microsoftTrust } from '../package/package.helpers';

/**
 * Review 9 (h/review9), finding R9-1: bytes of a signed cabinet's header that no signature
 * covers can be changed after signing, and cabferry still calls the file VALID and imports it
 * as a new payload under a SHA-256 nobody signed.
 *
 * The CAB Authenticode digest (FORMATS.md §3.2) skips reserved1 (offset 4..8) and the 8-byte
 * filler of the signature reserve (0x34..0x3C). It can skip them only because a signed cabinet
 * has them zero: osslsigncode refuses a cabinet whose reserved1 is not zero ("Reserved1: 0x…",
 * unsupported input), and it hashes the last 4 filler bytes (0x38..0x3C), so a changed filler
 * is "MISMATCH!!!" there. cabferry reads a non-zero reserved1 as a header *warning* and never
 * looks at the filler (src/cab/header.ts authenticodeLayoutProblem), so both edits keep the
 * verdict VALID — where the PE verifier refuses the same class of unsigned bytes riding along
 * (bytes after the certificate table, non-zero padding: src/authenticode/pe.ts).
 *
 * What an attacker or an accident gets: any number of byte-different copies of one Microsoft
 * file, each "VALID — 2 valid signatures", each imported as its own catalog row and blob with a
 * SHA-256 that matches no published hash; the catalog's record of "these bytes were verified" is
 * true only of bytes Microsoft did not produce. Expected: such a file is not VALID (invalid, as
 * a changed signed file is), and import refuses it.
 *
 * Checked against the real corpus (Windows6.0-KB2999226-x64.cab, dual SHA-1 + SHA-256, Microsoft
 * roots): the unaltered file verifies, and osslsigncode 2.9 rejects both altered copies.
 */

const original = kb2999226Inner('Windows6.0-KB2999226-x64');

function altered(dir: string, name: string, offset: number, bytes: number[]): string {
  const data = fs.readFileSync(original);
  assert.ok(data.subarray(offset, offset + bytes.length).every((b) => b === 0), `the original has zeros at ${offset}`);
  Buffer.from(bytes).copy(data, offset);
  const file = path.join(dir, name);
  fs.writeFileSync(file, data);
  return file;
}

/** The verdict, or a refusal of the file as unreadable (an input error is a fix as good as a verdict). */
function verdictOrRefusal(file: string): Pick<FileVerdict, 'verdict' | 'reason' | 'sha256'> {
  try {
    return verifyCab(file, { trust: microsoftTrust(), fileSha256: true });
  } catch (e) {
    if (isCabferryError(e) && e.kind === 'input') return { verdict: 'invalid', reason: `refused: ${e.message}`, sha256: null };
    throw e;
  }
}

describe('review9 R9-1: header bytes no signature covers, changed after signing', () => {
  it('the unaltered Microsoft cabinet is valid (control)', () => {
    assert.equal(verifyCab(original, { trust: microsoftTrust() }).verdict, 'valid');
  });

  it('a cabinet whose reserved1 (offset 4) was changed after signing is not called valid', () => {
    const file = altered(tempDir('cabferry-review9-hdr-'), 'reserved1.cab', 4, [0x41, 0x42, 0x43, 0x44]);
    const v = verdictOrRefusal(file);
    // fails today: "valid — 2 valid signatures (sha1 + sha256)", with a SHA-256 that is not the signed file's
    assert.notEqual(v.verdict, 'valid', `${v.verdict}: ${v.reason} (sha256 ${v.sha256})`);
  });

  it('a cabinet whose signature-reserve filler (0x34..0x3C) was changed after signing is not called valid', () => {
    const file = altered(tempDir('cabferry-review9-hdr-'), 'filler.cab', 0x34, [1, 2, 3, 4, 5, 6, 7, 8]);
    const v = verdictOrRefusal(file);
    // fails today: valid; osslsigncode (which hashes 0x38..0x3C) reports a digest MISMATCH on both signatures
    assert.notEqual(v.verdict, 'valid', `${v.verdict}: ${v.reason} (sha256 ${v.sha256})`);
  });

  it('import refuses the altered copies instead of recording them as more verified payloads', () => {
    const dir = tempDir('cabferry-review9-hdr-');
    const src = path.join(dir, 'src');
    fs.mkdirSync(src);
    altered(src, 'Windows6.0-KB2999226-x64.cab', 4, [0x41, 0x42, 0x43, 0x44]);
    const filler = altered(dir, 'filler.cab', 0x34, [1, 2, 3, 4, 5, 6, 7, 8]);
    fs.renameSync(filler, path.join(src, 'Windows6.0-KB2999226-x64-copy.cab'));
    const r = runCli(['import', src, '--trust', corpusPath('trust-anchors', 'microsoft-roots-bundle.pem'), '--catalog', path.join(dir, 'catalog'), '--json']);
    const doc = JSON.parse(r.stdout) as { imported: number; rejected: number; results: { label: string; outcome: string; sha256: string }[] };
    // fails today: imported 2, rejected 0 — two rows for one Microsoft file, neither with the bytes Microsoft signed
    assert.equal(doc.imported, 0, JSON.stringify(doc.results.map((x) => [path.basename(x.label), x.outcome, x.sha256.slice(0, 12)])));
    assert.equal(doc.rejected, 2);
  });
});
