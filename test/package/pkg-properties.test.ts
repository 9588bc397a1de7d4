import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openCab } from '../../src/cab/cabinet';
import { CabferryError } from '../../src/errors';
import { parsePkgProperties } from '../../src/package/pkg-properties';
import { corpusMsu } from './package.helpers';

/** The pkgProperties.txt of a real MSU, read with our own cab reader (never copied out of the corpus). */
function realPkgProperties(msu: string): Buffer {
  const cab = openCab(corpusMsu(msu));
  try {
    const member = cab.members.find((m) => m.name.endsWith('-pkgProperties.txt'));
    assert.ok(member);
    return cab.readMemberToBuffer(member, 64 * 1024);
  } finally {
    cab.close();
  }
}

test('real Windows 7 pkgProperties.txt (ASCII, CRLF)', () => {
  const p = parsePkgProperties(realPkgProperties('Windows6.1-KB2999226-x64.msu'));
  assert.equal(p.encoding, 'utf-8');
  assert.equal(p.kb, 'KB2999226');
  assert.equal(p.ntVersion, '6.1');
  assert.equal(p.processorArchitecture, 'amd64');
  assert.equal(p.packageType, 'Update');
  assert.deepEqual(p.applicability, ['Windows 7.0 Client SP1', 'Windows 7.0 Server SP1']);
  assert.equal(p.entries['Installer Engine'], 'Component Based Servicing - WUSA.exe');
  assert.equal(Object.keys(p.entries).length, 14);
});

test('real Windows 8.1 pkgProperties.txt has no ApplicabilityInfo and says Hotfix', () => {
  const p = parsePkgProperties(realPkgProperties('Windows8.1-KB917607-x86.msu'));
  assert.equal(p.ntVersion, '6.3');
  assert.equal(p.processorArchitecture, 'x86');
  assert.equal(p.packageType, 'Hotfix');
  assert.deepEqual(p.applicability, []);
});

test('the same content in UTF-16LE (with and without BOM) and with LF line ends reads the same', () => {
  const real = realPkgProperties('Windows6.1-KB3118401-x64.msu');
  const expected = parsePkgProperties(real).entries;
  const text = real.toString('latin1');
  for (const variant of [Buffer.from(`\ufeff${text}`, 'utf16le'), Buffer.from(text, 'utf16le'), Buffer.from(text.replace(/\r\n/g, '\n'))]) {
    assert.deepEqual({ ...parsePkgProperties(variant).entries }, { ...expected });
  }
});

test('the Vista example from FORMATS.md §4: ApplicabilityInfo with spaces after ";"', () => {
  const p = parsePkgProperties(Buffer.from('ApplicabilityInfo="Windows Vista SP1; Windows Server 2008;"\r\nApplies to="Windows 6.0"\r\nKB Article Number="955991"\r\n'));
  assert.deepEqual(p.applicability, ['Windows Vista SP1', 'Windows Server 2008']);
  assert.equal(p.ntVersion, '6.0');
  assert.equal(p.kb, 'KB955991');
});

test('broken files: a line that is not Key="Value", a non-numeric KB, nothing at all, too large', () => {
  const code = (c: string) => (e: unknown) => e instanceof CabferryError && e.kind === 'input' && e.code === c;
  assert.throws(() => parsePkgProperties(Buffer.from('Applies to="Windows 6.0"\r\ngarbage\r\n')), code('PKGPROPS_BAD_LINE'));
  assert.throws(() => parsePkgProperties(Buffer.from('KB Article Number="KB12345"\r\n')), code('PKGPROPS_BAD_KB'));
  assert.throws(() => parsePkgProperties(Buffer.from('\r\n\r\n')), code('PKGPROPS_EMPTY'));
  assert.throws(() => parsePkgProperties(Buffer.alloc(100_000, 0x41)), code('PKGPROPS_TOO_LARGE'));
});
