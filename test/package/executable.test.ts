/**
 * Executable payloads (fixtures/executables, scripts/lib/pe-fixtures.ts): identity from the signed
 * version resource, cross-checked with the file name and the knowledge base; what "verified" means
 * for an .exe; and the import rules (valid signature, SHA-1 only with --allow-sha1-only).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { loadTrustAnchors } from '../../src/authenticode/trust';
import { openCatalog } from '../../src/catalog/catalog';
import { importPayloads } from '../../src/importer/import';
import { inspectPayloadReport } from '../../src/package/inspect';
import { architectureOf } from '../../src/package/executable';
import { loadKnowledgeBase } from '../../src/knowledge/knowledge-base';
import { CabferryError } from '../../src/errors';
import { fixturePath, tempDir } from '../common.helpers';

interface ExpectedExecutable {
  file: string;
  kb: string;
  architecture: string;
  fileVersion: string;
  signatures: string[];
  pageHashes: boolean;
  identityBasis: 'version-resource' | 'file-name-and-build';
  sha256: string;
  strings: Record<string, string>;
}

const expected = (JSON.parse(fs.readFileSync(fixturePath('executables', 'expected.json'), 'utf8')) as { fixtures: ExpectedExecutable[] }).fixtures;
const trust = () => loadTrustAnchors([fixturePath('pki', 'root.pem')]);
const knowledgeBase = loadKnowledgeBase();

/** A copy of a fixture under another name (the name is not signed: a renamed file must not change identity silently). */
function renamed(fixture: string, name: string): string {
  const target = path.join(tempDir(), name);
  fs.copyFileSync(fixturePath('executables', fixture), target);
  return target;
}

describe('inspect of executable payloads', () => {
  it('identifies every fixture from its signed version resource, the file name and the knowledge base', () => {
    assert.equal(expected.length, 4);
    for (const e of expected) {
      const r = inspectPayloadReport(fixturePath('executables', e.file), { trust: trust(), knowledgeBase });
      const p = r.payload;
      assert.equal(r.verdict.verdict, 'valid', `${e.file}: ${r.verdict.reason}`);
      assert.deepEqual(r.verdict.signatures.map((s) => s.digestAlgorithm), e.signatures);
      assert.equal(r.verdict.signatures[0].pageHashes?.checked ?? false, e.pageHashes, `${e.file}: page hashes`);
      assert.equal(p.kb, e.kb);
      assert.equal(p.format, 'exe');
      assert.equal(p.architecture, e.architecture);
      assert.equal(p.ntVersion, '6.0');
      assert.equal(p.sha256, e.sha256);
      assert.equal(p.signatures, e.signatures.length === 2 ? 'dual' : 'sha1-only');
      assert.equal(p.executable?.versionResource?.fileVersion, e.fileVersion);
      assert.deepEqual(p.executable?.versionResource?.strings, e.strings);
      assert.equal(p.metadataVerified, true, `${e.file}: ${p.metadataReason}`);
      if (e.identityBasis === 'version-resource') assert.match(p.metadataReason ?? '', new RegExp(`version resource names ${e.kb}`));
      else assert.match(p.metadataReason ?? '', /file name names KB948465 and the signed version resource's FileVersion 6\.0\.6002\.18005 is the build the knowledge base records/);
    }
    const sp2 = inspectPayloadReport(fixturePath('executables', 'Windows6.0-KB948465-X64.exe'), { trust: trust(), knowledgeBase }).payload;
    assert.equal(sp2.kind, 'service-pack');
    assert.equal(sp2.restart, 'required');
    assert.deepEqual(sp2.products, ['Windows Server 2008', 'Windows Vista']);
  });

  it('a renamed installer keeps the identity its signed resource gives, or is not verified', () => {
    // IE9 renamed to look like SP2: the signed resource says KB982861, and that wins
    const ie9 = inspectPayloadReport(renamed('IE9-Windows6.0-x64-enu.exe', 'Windows6.0-KB948465-X64.exe'), { trust: trust(), knowledgeBase }).payload;
    assert.equal(ie9.kb, 'KB982861');
    assert.ok(ie9.notes?.some((n) => /KB982861 per the signed version resource .* file name says KB948465/.test(n)), JSON.stringify(ie9.notes));
    // SP2 renamed as the April 2019 rollup (build 6003): its signed FileVersion is build 6002, so the name is not believed
    const preview = inspectPayloadReport(renamed('Windows6.0-KB948465-X64.exe', 'Windows6.0-KB4493471-x64.exe'), { trust: trust(), knowledgeBase }).payload;
    assert.equal(preview.kb, 'KB4493471');
    assert.equal(preview.metadataVerified, false);
    assert.match(preview.metadataReason ?? '', /FileVersion 6\.0\.6002\.18005 is not the build the knowledge base records for it \(6\.0\.6003\.x\)/);
    // a KB the knowledge base records no build for: the file name alone is not enough
    const sha2 = inspectPayloadReport(renamed('Windows6.0-KB948465-X64.exe', 'Windows6.0-KB4474419-v4-x64.exe'), { trust: trust(), knowledgeBase }).payload;
    assert.equal(sha2.metadataVerified, false);
    assert.match(sha2.metadataReason ?? '', /comes from the file name only/);
    // the machine field is signed: an x64 image named x86 is refused
    assert.throws(
      () => inspectPayloadReport(renamed('Windows6.0-KB948465-X64.exe', 'Windows6.0-KB948465-X86.exe'), { trust: trust(), knowledgeBase }),
      (e: unknown) => e instanceof CabferryError && e.code === 'PKG_ARCHITECTURE_CONFLICT',
    );
  });

  it('the Windows version comes from the signed version resource or the knowledge base, never from the file name alone (review9 R9-6)', () => {
    // IE9 for Vista/2008 renamed ...6.1...: its signed OriginalFilename says 6.0, and that wins, with a note
    const ie9 = inspectPayloadReport(renamed('IE9-Windows6.0-x64-enu.exe', 'IE9-Windows6.1-x64-enu.exe'), { trust: trust(), knowledgeBase }).payload;
    assert.deepEqual([ie9.ntVersion, ie9.products, ie9.metadataVerified], ['6.0', ['Windows Server 2008', 'Windows Vista'], true]);
    assert.match(ie9.metadataReason ?? '', /Windows NT 6\.0: the signed version resource \(OriginalFilename "IE9-Windows6\.0-x64-enu\.exe"\) says 6\.0$/);
    assert.ok(ie9.notes?.some((n) => /Windows version is 6\.0 per the signed version resource .* but the file name says 6\.1/.test(n)), JSON.stringify(ie9.notes));
    // a KB the knowledge base lists for two Windows versions, in an image whose resource names none:
    // the file name picks the family, so the identity is not verified (SP2's resource says spinstall.exe)
    const dir = tempDir();
    for (const name of fs.readdirSync(path.join(__dirname, '..', '..', '..', 'catalog', 'kb'))) {
      fs.copyFileSync(path.join(__dirname, '..', '..', '..', 'catalog', 'kb', name), path.join(dir, name));
    }
    const nt61File = path.join(dir, 'nt6.1.json');
    const nt61 = JSON.parse(fs.readFileSync(nt61File, 'utf8')) as { updates: unknown[] };
    nt61.updates.push({ kb: 'KB948465', role: 'other', title: 'the same KB listed for NT 6.1 too (test)', released: '2009-05-26', restart: 'required', source: 'https://support.microsoft.com/help/948465 (test: the KB in a second family)' });
    fs.writeFileSync(nt61File, JSON.stringify(nt61));
    const twice = loadKnowledgeBase(dir);
    const sp2 = inspectPayloadReport(fixturePath('executables', 'Windows6.0-KB948465-X64.exe'), { trust: trust(), knowledgeBase: twice }).payload;
    assert.deepEqual([sp2.ntVersion, sp2.metadataVerified], ['6.0', false]);
    assert.match(sp2.metadataReason ?? '', /^filed under Windows NT 6\.0, but nothing signed says so: only the file name, which is not signed, says 6\.0; .*knows KB948465 for NT 6\.0 and 6\.1/);
  });

  it('a 32-bit installer named x64 is filed as x64, proven only when its signed version resource names x64 and no other architecture (review3 F4)', () => {
    const resource = (strings: Record<string, string>) => ({ fileVersion: '6.0.6002.18005', productVersion: '6.0.6002.18005', stringTable: '040904b0', strings, offset: 0 });
    // the x86 SP2 fixture's own strings name no architecture: the unsigned name alone does not prove x64
    const bare = architectureOf('x86', 'amd64', resource({ OriginalFilename: 'spinstall.exe', InternalName: 'spinstall' }), 'f.exe');
    assert.deepEqual([bare.architecture, bare.proof.signed], ['amd64', false]);
    assert.match(bare.proof.reason, /only the file name, which is not signed, says amd64; the signed version resource names no architecture/);
    // a signed OriginalFilename that names x64 does
    const named = architectureOf('x86', 'amd64', resource({ OriginalFilename: 'Windows6.0-KB948465-X64.exe' }), 'f.exe');
    assert.deepEqual([named.architecture, named.proof.signed], ['amd64', true]);
    // strings naming x86 as well prove neither
    assert.equal(architectureOf('x86', 'amd64', resource({ OriginalFilename: 'Windows6.0-KB948465-X64.exe', FileDescription: 'for x86-based systems' }), 'f.exe').proof.signed, false);
    // no resource at all: not proven; machine and name agreeing: the signed machine field proves it
    assert.equal(architectureOf('x86', 'amd64', null, 'f.exe').proof.signed, false);
    assert.deepEqual(architectureOf('amd64', 'amd64', null, 'f.exe').proof.signed, true);
    // and on a real inspect, the renamed x86 SP2 fixture is refused by import (metadata not verified)
    const x86AsX64 = inspectPayloadReport(renamed('Windows6.0-KB948465-X86.exe', 'Windows6.0-KB948465-X64.exe'), { trust: trust(), knowledgeBase }).payload;
    assert.deepEqual([x86AsX64.architecture, x86AsX64.metadataVerified], ['amd64', false]);
    assert.match(x86AsX64.metadataReason ?? '', /^filed as amd64, but nothing signed says so: the image is a 32-bit \(x86\) program/);
  });

  it('import refuses the x86 SP2 installer renamed -X64.exe: metadata not verified (review3 F4)', async () => {
    const catalog = openCatalog({ dir: path.join(tempDir(), 'cat') });
    try {
      const r = await importPayloads(catalog, [renamed('Windows6.0-KB948465-X86.exe', 'Windows6.0-KB948465-X64.exe')], { trust: trust(), knowledgeBase, allowSha1Only: true });
      assert.deepEqual([r.imported, r.results[0]?.code], [0, 'METADATA_NOT_VERIFIED']);
      assert.deepEqual(catalog.payloads({ kb: 'KB948465' }), []);
    } finally {
      catalog.close();
    }
  });

  it('an executable whose signature does not hold authenticates nothing', () => {
    const bytes = fs.readFileSync(fixturePath('executables', 'Windows6.0-KB948465-X64.exe'));
    bytes[0x200] ^= 0x01; // .text
    const file = path.join(tempDir(), 'Windows6.0-KB948465-X64.exe');
    fs.writeFileSync(file, bytes);
    const r = inspectPayloadReport(file, { trust: trust(), knowledgeBase });
    assert.equal(r.verdict.verdict, 'invalid');
    assert.equal(r.payload.metadataVerified, false);
    assert.match(r.payload.metadataReason ?? '', /signature is invalid, so nothing in the image .* is authenticated/);
  });
});

describe('import of executable payloads', () => {
  it('refuses the SHA-1-only SP2 unless --allow-sha1-only, imports it with the flag and IE9 without', async () => {
    const catalog = openCatalog({ dir: path.join(tempDir(), 'cat') });
    try {
      const dir = fixturePath('executables');
      const first = await importPayloads(catalog, [dir], { trust: trust(), knowledgeBase });
      const outcome = (name: string) => first.results.find((r) => path.basename(r.label) === name);
      assert.equal(outcome('Windows6.0-KB948465-X64.exe')?.code, 'SIG_SHA1_ONLY');
      assert.equal(outcome('IE9-Windows6.0-x64-enu.exe')?.outcome, 'imported');
      assert.equal(first.imported, 2);
      const second = await importPayloads(catalog, [dir], { trust: trust(), knowledgeBase, allowSha1Only: true });
      assert.equal(second.imported, 2);
      assert.equal(second.duplicates, 2);
      const sp2 = catalog.payloads({ kb: 'KB948465' });
      assert.deepEqual(sp2.map((p) => p.architecture).sort(), ["amd64", "x86"]);
      const entry = catalog.entry(sp2[0].sha256)!;
      assert.equal(entry.sha1OnlyAllowed, true);
      assert.equal(entry.payload?.format, 'exe');
      assert.equal(entry.payload?.kind, 'service-pack');
      assert.deepEqual(fs.readFileSync(catalog.blobPath(sp2[0].sha256)), fs.readFileSync(path.join(dir, entry.fileName)));
    } finally {
      catalog.close();
    }
  });
});
