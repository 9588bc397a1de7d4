import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CabferryError } from '../../src/errors';
import { decodeMetadataText } from '../../src/package/text';

const sample = 'KB Article Number="4493730"\r\n';

test('BOMs decide: UTF-8 BOM, UTF-16LE BOM', () => {
  assert.deepEqual(decodeMetadataText(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(sample)]), { what: 'x' }), { text: sample, encoding: 'utf-8-bom' });
  assert.deepEqual(decodeMetadataText(Buffer.from(`\ufeff${sample}`, 'utf16le'), { what: 'x' }), { text: sample, encoding: 'utf-16le-bom' });
});

test('UTF-16LE without BOM is recognised by its NULs in odd positions', () => {
  assert.deepEqual(decodeMetadataText(Buffer.from(sample, 'utf16le'), { what: 'x' }), { text: sample, encoding: 'utf-16le' });
});

test('plain ASCII/UTF-8 stays UTF-8; non-UTF-8 bytes are latin-1 only where allowed', () => {
  assert.equal(decodeMetadataText(Buffer.from('Company="Microsoft Corporation"'), { what: 'x' }).encoding, 'utf-8');
  const ansi = Buffer.from('Product Name="Windows Vista\xae"', 'latin1');
  assert.deepEqual(decodeMetadataText(ansi, { what: 'x', allowLatin1: true }), { text: 'Product Name="Windows Vista®"', encoding: 'latin1' });
  assert.throws(() => decodeMetadataText(ansi, { what: 'x' }), (e: unknown) => e instanceof CabferryError && e.code === 'TEXT_BAD_ENCODING');
});

test('UTF-16BE and unpaired surrogates are refused', () => {
  const be = Buffer.from(`\ufeff${sample}`, 'utf16le').swap16();
  assert.throws(() => decodeMetadataText(be, { what: 'x' }), (e: unknown) => e instanceof CabferryError && e.code === 'TEXT_UNSUPPORTED_ENCODING');
  const lone = Buffer.from([0xff, 0xfe, 0x41, 0x00, 0x00, 0xd8, 0x42, 0x00]);
  assert.throws(() => decodeMetadataText(lone, { what: 'x' }), (e: unknown) => e instanceof CabferryError && e.code === 'TEXT_BAD_ENCODING');
});
