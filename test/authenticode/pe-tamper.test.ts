/**
 * One flipped byte in each region of a signed PE image: every hashed region must break the file
 * digest (SIG_DIGEST_MISMATCH); every excluded one (CheckSum, the certificate-table entry, the
 * certificate table, the WIN_CERTIFICATE padding) must not — a change there is either harmless
 * (CheckSum) or refused for what it breaks structurally, never reported as a digest mismatch.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { readCertificateTable, verifyPe } from '../../src/authenticode/pe';
import { checkPageHashes, signedPageHashes } from '../../src/authenticode/pe-page-hashes';
import { collectSignatures, spcOf } from '../../src/authenticode/signature';
import { loadTrustAnchors } from '../../src/authenticode/trust';
import { RandomAccessFile } from '../../src/io/random-access-file';
import { readPeHeader } from '../../src/pe/header';
import { fixturePath, tempDir } from '../common.helpers';

const trust = loadTrustAnchors([fixturePath('pki', 'root.pem')]);

function layout(file: string) {
  const raf = RandomAccessFile.open(file);
  try {
    const header = readPeHeader(raf);
    return { header, entries: readCertificateTable(raf, header) };
  } finally {
    raf.close();
  }
}

function flipped(file: string, offset: number): string {
  const bytes = fs.readFileSync(file);
  bytes[offset] ^= 0x5a;
  const out = path.join(tempDir(), path.basename(file));
  fs.writeFileSync(out, bytes);
  return out;
}

for (const name of ['Windows6.0-KB948465-X64.exe', 'IE9-Windows6.0-x86-enu.exe']) {
  describe(`tampering with ${name}`, () => {
    const file = fixturePath('executables', name);
    const { header, entries } = layout(file);
    const table = header.certificateTable!;
    const text = header.sections.find((s) => s.name === '.text')!;
    const rsrc = header.sections.find((s) => s.name === '.rsrc')!;

    it('is valid as generated', () => {
      assert.equal(verifyPe(file, { trust }).verdict, 'valid');
    });

    const hashed: [string, number][] = [
      ['DOS header', 0x10],
      ['COFF header (TimeDateStamp)', header.ntOffset + 8],
      ['optional header (SizeOfStackReserve)', header.checksumOffset + 8],
      ['optional header (data directory before the certificate entry)', header.certificateEntryOffset! - 4],
      ['optional header (data directory after the certificate entry)', header.certificateEntryOffset! + 8],
      ['section table', header.sectionTableEnd - 40],
      ['gap between the headers and the first section', header.sectionTableEnd + 8],
      ['.text', text.rawOffset],
      ['.rsrc (version resource)', rsrc.rawOffset + 120],
      ['file alignment padding after the last section', table.address - 1],
    ];
    for (const [region, offset] of hashed) {
      it(`hashed: ${region} (offset ${offset})`, () => {
        const v = verifyPe(flipped(file, offset), { trust });
        assert.equal(v.verdict, 'invalid');
        assert.equal(v.code, 'SIG_DIGEST_MISMATCH', v.reason);
      });
    }

    it('excluded: CheckSum — still valid', () => {
      const v = verifyPe(flipped(file, header.checksumOffset + 1), { trust });
      assert.equal(v.verdict, 'valid', v.reason);
    });

    it('excluded: the certificate-table entry — refused for where the table now is, not for the digest', () => {
      for (const at of [header.certificateEntryOffset!, header.certificateEntryOffset! + 4]) {
        const v = verifyPe(flipped(file, at), { trust });
        assert.equal(v.verdict, 'invalid');
        assert.ok(v.code === 'PE_CERT_TABLE_LOCATION' || v.code === 'PE_WIN_CERTIFICATE_MALFORMED' || v.code === 'SIG_MALFORMED', `${at}: ${v.code} ${v.reason}`);
      }
    });

    it('excluded: the certificate table — the signature breaks, the file digest still matches', () => {
      // a byte a third into the PKCS#7 (the certificate set), then the WIN_CERTIFICATE revision
      const der = entries[0].der;
      const signerCert = entries[0].offset + 8 + Math.floor(der.length / 3);
      const v = verifyPe(flipped(file, signerCert), { trust });
      assert.notEqual(v.verdict, 'valid');
      assert.notEqual(v.code, 'SIG_DIGEST_MISMATCH', v.reason);
      const rev = verifyPe(flipped(file, entries[0].offset + 5), { trust });
      assert.equal(rev.code, 'PE_WIN_CERTIFICATE_MALFORMED', rev.reason);
    });

    it('excluded: WIN_CERTIFICATE padding — refused as bad padding', (t) => {
      if (entries[0].padding === 0) return t.skip('this signature needs no padding');
      const v = verifyPe(flipped(file, table.address + table.size - 1), { trust });
      assert.equal(v.code, 'SIG_BAD_PADDING', v.reason);
    });

    it('appended bytes after the table are refused', () => {
      const out = path.join(tempDir(), name);
      fs.writeFileSync(out, Buffer.concat([fs.readFileSync(file), Buffer.alloc(8)]));
      assert.equal(verifyPe(out, { trust }).code, 'PE_CERT_TABLE_LOCATION');
    });
  });
}

it('at least one fixture carries WIN_CERTIFICATE padding, so the padding case runs', () => {
  const paddings = ['Windows6.0-KB948465-X64.exe', 'IE9-Windows6.0-x86-enu.exe', 'Windows6.0-KB948465-X86.exe', 'IE9-Windows6.0-x64-enu.exe'].map(
    (n) => layout(fixturePath('executables', n)).entries[0].padding,
  );
  assert.ok(paddings.some((p) => p > 0), JSON.stringify(paddings));
});

it('a page-hash table that disagrees with one page fails with SIG_PAGE_HASH_MISMATCH', () => {
  const file = fixturePath('executables', 'Windows6.0-KB948465-X64.exe');
  const raf = RandomAccessFile.open(file);
  try {
    const header = readPeHeader(raf);
    const [entry] = readCertificateTable(raf, header);
    const signed = signedPageHashes(spcOf(collectSignatures(entry.der)[0]));
    assert.ok(signed !== null);
    assert.equal(checkPageHashes(raf, header, signed, entry.offset).checked, true);
    const altered = { ...signed, table: Buffer.from(signed.table) };
    altered.table[4 + 20 + 4] ^= 1; // the hash of the second page
    assert.throws(() => checkPageHashes(raf, header, altered, entry.offset), (e: unknown) => (e as { code?: string }).code === 'SIG_PAGE_HASH_MISMATCH');
  } finally {
    raf.close();
  }
});
