/**
 * Hostile and broken XML never hangs, crashes or expands: every case ends in one input error
 * (exit 3) with a stable code. The documents are small so a regression to exponential entity
 * expansion or unbounded recursion would show as a test timeout, not as a slow pass.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePackageManifest } from '../../src/package/mum';
import { parseUnattend } from '../../src/package/unattend';
import { parseXml } from '../../src/package/xml';
import { assertThrowsCode } from '../common.helpers';


const mum = (body: string, attrs = ''): Buffer =>
  Buffer.from(`<?xml version="1.0" encoding="utf-8"?><assembly xmlns="urn:schemas-microsoft-com:asm.v3" manifestVersion="1.0"${attrs}>${body}</assembly>`);
const identity = '<assemblyIdentity name="Package_for_KB4493730" version="6.0.1.2" processorArchitecture="x86" language="neutral" publicKeyToken="31bf3856ad364e35"/>';
const pkg = '<package identifier="KB4493730" releaseType="Security Update" restart="possible"></package>';

test('billion laughs: a DTD with nested entities is refused before any parsing', () => {
  const lol = ['<?xml version="1.0"?>', '<!DOCTYPE lolz [', '<!ENTITY lol "lol">'];
  for (let i = 1; i < 10; i++) lol.push(`<!ENTITY lol${i} "${`&lol${i === 1 ? '' : i - 1};`.repeat(10)}">`);
  lol.push(']>', '<assembly>&lol9;</assembly>');
  assertThrowsCode(() => parsePackageManifest(Buffer.from(lol.join('\n'))), 'XML_DTD_FORBIDDEN', 'input');
});

test('external entity (XXE) is refused, nothing is read', () => {
  const xxe = '<?xml version="1.0"?><!DOCTYPE a [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><assembly>&xxe;</assembly>';
  assertThrowsCode(() => parsePackageManifest(Buffer.from(xxe)), 'XML_DTD_FORBIDDEN', 'input');
  // lower case / whitespace variants too
  assertThrowsCode(() => parseXml(Buffer.from('<!doctype a><a/>'), 'x'), 'XML_DTD_FORBIDDEN', 'input');
});

test('an undeclared entity reference is left as text, never resolved', () => {
  const root = parseXml(Buffer.from('<a v="&xxe;&amp;&#65;&#x42;"/>'), 'x');
  assert.equal(root.attributes.v, '&xxe;&AB');
});

test('deep nesting → XML_TOO_DEEP, no stack overflow', () => {
  const depth = 50_000;
  const deep = `${'<a>'.repeat(depth)}${'</a>'.repeat(depth)}`;
  const e = assertThrowsCode(() => parseXml(Buffer.from(deep), 'deep.xml', { maxBytes: 1024 * 1024 }), 'XML_TOO_DEEP', 'input');
  assert.match(e.message, /deeper than 64/);
});

test('huge attribute → XML_ATTRIBUTE_TOO_LONG', () => {
  const big = mum(`<assemblyIdentity name="${'A'.repeat(100_000)}"/>${pkg}`);
  assertThrowsCode(() => parsePackageManifest(big), 'XML_ATTRIBUTE_TOO_LONG', 'input');
});

test('oversized document → XML_TOO_LARGE before decoding', () => {
  const huge = Buffer.alloc(5 * 1024 * 1024, 0x20);
  assertThrowsCode(() => parsePackageManifest(huge), 'XML_TOO_LARGE', 'input');
});

test('too many elements → XML_TOO_MANY_ELEMENTS', () => {
  const many = mum(`${identity}${pkg}${'<x/>'.repeat(250_000)}`);
  assertThrowsCode(() => parsePackageManifest(many), 'XML_TOO_MANY_ELEMENTS', 'input');
});

test('wrong encodings: UTF-16BE, invalid UTF-8, odd-length UTF-16, stray NULs, an unsupported declaration', () => {
  const text = mum(`${identity}${pkg}`).toString('utf8');
  const be = Buffer.from(`\ufeff${text}`, 'utf16le').swap16();
  assertThrowsCode(() => parsePackageManifest(be), 'TEXT_UNSUPPORTED_ENCODING', 'input');
  assertThrowsCode(() => parsePackageManifest(Buffer.concat([Buffer.from(text.slice(0, 60)), Buffer.from([0xc3, 0x28]), Buffer.from(text.slice(60))])), 'TEXT_BAD_ENCODING', 'input');
  const le = Buffer.from(`\ufeff${text}`, 'utf16le');
  assertThrowsCode(() => parsePackageManifest(le.subarray(0, le.length - 1)), 'TEXT_BAD_ENCODING', 'input');
  assertThrowsCode(() => parsePackageManifest(Buffer.from(`${text.slice(0, 50)}\0\0\0${text.slice(50)}`)), 'TEXT_BAD_ENCODING', 'input');
  assertThrowsCode(() => parsePackageManifest(Buffer.from(text.replace('utf-8', 'shift_jis'))), 'XML_UNSUPPORTED_ENCODING', 'input');
});

test('UTF-16LE with a BOM and a UTF-8 BOM are fine (Windows writes both)', () => {
  const text = mum(`${identity}${pkg}`).toString('utf8');
  assert.equal(parsePackageManifest(Buffer.from(`\ufeff${text.replace('utf-8', 'utf-16')}`, 'utf16le')).kb, 'KB4493730');
  assert.equal(parsePackageManifest(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)])).kb, 'KB4493730');
});

test('malformed XML: unclosed, mismatched, two roots, truncated, repeated attribute', () => {
  assertThrowsCode(() => parsePackageManifest(Buffer.from('<assembly><assemblyIdentity name="a">')), 'XML_MALFORMED', 'input');
  assertThrowsCode(() => parsePackageManifest(Buffer.from('<assembly></package>')), 'XML_MALFORMED', 'input');
  assertThrowsCode(() => parseXml(Buffer.from('<a/><b/>'), 'x'), 'XML_MALFORMED', 'input');
  const full = mum(`${identity}${pkg}`);
  assertThrowsCode(() => parsePackageManifest(full.subarray(0, full.length - 5)), 'XML_MALFORMED', 'input');
  assertThrowsCode(() => parsePackageManifest(mum('<assemblyIdentity name="a" name="b"/>')), 'XML_MALFORMED', 'input');
  assertThrowsCode(() => parsePackageManifest(Buffer.alloc(0)), 'XML_MALFORMED', 'input');
});

test('missing or wrong elements in update.mum', () => {
  assertThrowsCode(() => parsePackageManifest(Buffer.from('<unattend/>')), 'MUM_NOT_ASSEMBLY', 'input');
  assertThrowsCode(() => parsePackageManifest(mum(pkg)), 'MUM_NO_IDENTITY', 'input');
  assertThrowsCode(() => parsePackageManifest(mum(identity)), 'MUM_NO_PACKAGE', 'input');
  assertThrowsCode(() => parsePackageManifest(mum(`<assemblyIdentity version="6.0.1.2"/>${pkg}`)), 'MUM_IDENTITY_NO_NAME', 'input');
  assertThrowsCode(() => parsePackageManifest(mum(`<assemblyIdentity name="a" version="6.0.x.2"/>${pkg}`)), 'MUM_BAD_VERSION', 'input');
  assertThrowsCode(() => parsePackageManifest(mum(`${identity}<package identifier="KB1234567"><parent disposition="detect"/></package>`)), 'MUM_PARENT_EMPTY', 'input');
});

test('unattend xml: wrong root, no package, no identity', () => {
  assertThrowsCode(() => parseUnattend(Buffer.from('<assembly/>')), 'UNATTEND_BAD_ROOT', 'input');
  assertThrowsCode(() => parseUnattend(Buffer.from('<unattend xmlns="urn:schemas-microsoft-com:unattend"><servicing/></unattend>')), 'UNATTEND_NO_PACKAGE', 'input');
  assertThrowsCode(() => parseUnattend(Buffer.from('<unattend><servicing><package action="install"/></servicing></unattend>')), 'UNATTEND_NO_IDENTITY', 'input');
});

test('attribute names that would pollute prototypes are refused; attribute maps have no prototype', () => {
  assertThrowsCode(() => parseXml(Buffer.from('<a __proto__="x" name="n"/>'), 'x'), 'XML_MALFORMED', 'input');
  assertThrowsCode(() => parseXml(Buffer.from('<a constructor="y"/>'), 'x'), 'XML_MALFORMED', 'input');
  assert.equal(({} as Record<string, unknown>).x, undefined);
  const root = parseXml(Buffer.from('<a name="n"/>'), 'x');
  assert.equal(Object.getPrototypeOf(root.attributes), null);
  assert.equal(root.attributes.name, 'n');
});
