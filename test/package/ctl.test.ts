import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import { test } from 'node:test';
import * as forge from 'node-forge';
import { parseSignedData } from '../../src/authenticode/signed-data';
import { raw } from '../../src/authenticode/der';
import { openCab } from '../../src/cab/cabinet';
import { CabferryError } from '../../src/errors';
import { catalogIndex, entriesForData, parseCatalogContent } from '../../src/package/ctl';
import { kb2999226Inner } from './package.helpers';

function realMembers(cabPath: string, names: string[]): Buffer[] {
  const cab = openCab(cabPath);
  try {
    return names.map((n) => cab.readMemberToBuffer(cab.findMembers(n)[0]!, 1024 * 1024));
  } finally {
    cab.close();
  }
}

const ctlOf = (cat: Buffer): Buffer => raw(parseSignedData(cat).content!);

test('real v1 catalog (Vista update.cat): one entry, tagged by the SHA-1 in UTF-16 hex, that is update.mum', () => {
  const [cat, mum, other] = realMembers(kb2999226Inner('Windows6.0-KB2999226-x64'), ['update.cat', 'update.mum', 'update-bf.mum']);
  const c = parseCatalogContent(ctlOf(cat), 'update.cat');
  assert.equal(c.subjectAlgorithm, '1.3.6.1.4.1.311.12.1.2');
  assert.equal(c.thisUpdate.toISOString(), '2015-09-10T21:58:39.000Z');
  assert.deepEqual(c.attributes, { OSAttr: '2:5.1,2:5.2,2:6.0' });
  assert.equal(c.entries.length, 1);
  assert.equal(c.entries[0].tag, crypto.createHash('sha1').update(mum).digest('hex').toUpperCase());
  assert.deepEqual(c.entries[0].digests.map((d) => [d.algorithm, d.kind]), [['sha1', 'flat']]);
  const index = catalogIndex([c]);
  assert.equal(entriesForData(index, mum).length, 1);
  assert.equal(entriesForData(index, other).length, 0);
});

test('the same CTL given as its value bytes only (how PKCS#7 v1.5 hashes it) parses the same', () => {
  const [cat] = realMembers(kb2999226Inner('Windows6.0-KB2999226-x86'), ['update.cat']);
  const content = parseSignedData(cat).contentValue!;
  assert.deepEqual(parseCatalogContent(content).entries, parseCatalogContent(ctlOf(cat)).entries);
});

test('real v2 catalog (Windows 8.1): raw-hash identifiers, SHA-1 entries and SHA-256 flat/PE entries', () => {
  const name = 'package_1_for_kb2999226~31bf3856ad364e35~amd64~~6.3.1.9';
  const [cat] = realMembers(kb2999226Inner('Windows8.1-KB2999226-x64'), [`${name}.cat`]);
  const c = parseCatalogContent(ctlOf(cat));
  assert.equal(c.subjectAlgorithm, '1.3.6.1.4.1.311.12.1.3');
  assert.equal(c.entries.length, 76);
  const kinds = new Map<string, number>();
  for (const e of c.entries) for (const d of e.digests) kinds.set(`${d.algorithm}/${d.kind}`, (kinds.get(`${d.algorithm}/${d.kind}`) ?? 0) + 1);
  assert.ok((kinds.get('sha1/flat') ?? 0) > 0 && (kinds.get('sha256/flat') ?? 0) > 0 && (kinds.get('sha256/pe-image') ?? 0) > 0, JSON.stringify([...kinds]));
  assert.equal(c.attributes.PE, 'TRUSTED');
});

// --- a synthetic catalog with named entries (makecat style), built with forge's DER encoder ---
const { asn1 } = forge;
const seq = (...v: forge.asn1.Asn1[]) => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, v);
const set = (...v: forge.asn1.Asn1[]) => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SET, true, v);
const oid = (o: string) => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(o).getBytes());
const octets = (b: Buffer) => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, b.toString('binary'));
// forge encodes a BMPString value given as a JS string as UTF-16BE itself
const bmp = (s: string) => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BMPSTRING, false, s);
const int = (n: number) => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, String.fromCharCode(n));
const utc = (s: string) => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.UTCTIME, false, s);
const nul = () => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.NULL, false, '');
const utf16z = (s: string) => Buffer.from(`${s}\0`, 'utf16le');

function namedEntry(fileName: string, data: Buffer): forge.asn1.Asn1 {
  const sha256 = crypto.createHash('sha256').update(data).digest();
  return seq(
    octets(utf16z(fileName)),
    set(
      seq(oid('1.3.6.1.4.1.311.12.2.1'), set(seq(bmp('File'), int(0x10), octets(utf16z(fileName))))),
      seq(oid('1.3.6.1.4.1.311.2.1.4'), set(seq(seq(oid('1.3.6.1.4.1.311.2.1.25')), seq(seq(oid('2.16.840.1.101.3.4.2.1'), nul()), octets(sha256))))),
    ),
  );
}

function syntheticCtl(entries: forge.asn1.Asn1[], usage = '1.3.6.1.4.1.311.12.1.1'): Buffer {
  const ctl = seq(seq(oid(usage)), octets(Buffer.alloc(16, 7)), utc('190409000000Z'), seq(oid('1.3.6.1.4.1.311.12.1.2'), nul()), seq(...entries));
  return Buffer.from(asn1.toDer(ctl).getBytes(), 'binary');
}

test('named entries (File attribute) map catalog hashes to member names', () => {
  const mum = Buffer.from('<assembly/>');
  const c = parseCatalogContent(syntheticCtl([namedEntry('update.mum', mum)]));
  assert.equal(c.entries[0].tag, 'update.mum');
  assert.equal(c.entries[0].fileName, 'update.mum');
  assert.deepEqual(c.entries[0].attributes, { File: 'update.mum' });
  assert.equal(entriesForData(catalogIndex([c]), mum).length, 1);
  assert.equal(entriesForData(catalogIndex([c]), Buffer.from('<assembly />')).length, 0);
});

test('malformed or foreign CTL content → CATALOG_MALFORMED input errors', () => {
  const code = (e: unknown) => e instanceof CabferryError && e.kind === 'input' && e.code === 'CATALOG_MALFORMED';
  assert.throws(() => parseCatalogContent(syntheticCtl([], '1.3.6.1.4.1.311.10.3.9')), code, 'a root-list CTL is not a catalog');
  const good = syntheticCtl([namedEntry('a', Buffer.from('a'))]);
  assert.throws(() => parseCatalogContent(good.subarray(0, good.length - 3)), code);
  assert.throws(() => parseCatalogContent(Buffer.from([0x30, 0x84, 0xff, 0xff, 0xff, 0xff])), code);
  assert.throws(() => parseCatalogContent(Buffer.from([0x02, 0x01, 0x01])), code);
});
