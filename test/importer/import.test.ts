import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { loadTrustAnchors } from '../../src/authenticode/trust';
import { openCatalog } from '../../src/catalog/catalog';
import { checkCatalog } from '../../src/catalog/check';
import { importPayloads, type ImportSummary } from '../../src/importer/import';
import { buildZip } from '../../scripts/lib/zip-writer';
import { corpusPath, fixturePath, loadOracle, tempDir } from '../common.helpers';
import { loadKnowledgeBase } from '../../src/knowledge/knowledge-base';

const knowledgeBase = loadKnowledgeBase();

const microsoftRoots = () => loadTrustAnchors([corpusPath('trust-anchors', 'microsoft-roots-bundle.pem')]);
const testRoot = () => loadTrustAnchors([fixturePath('pki', 'root.pem')]);
const rel = (p: string) => path.relative(corpusPath(), p);

describe('import of the real corpus with the Microsoft roots', () => {
  it('takes exactly the real MSUs and Windows payload cabs, rejects every other cabinet with a one-line reason, then sees only duplicates', async () => {
    const catalog = openCatalog({ dir: path.join(tempDir(), 'cat') });
    try {
      const first = await importPayloads(catalog, [corpusPath()], { knowledgeBase, trust: microsoftRoots() });
      const imported = first.results.filter((r) => r.outcome === 'imported').map((r) => rel(r.label)).sort();
      const expected = fs.readdirSync(corpusPath('msu')).map((f) => `msu/${f}`)
        .concat(fs.readdirSync(corpusPath('ms-signed', 'kb2999226-inner')).map((d) => `ms-signed/kb2999226-inner/${d}/${d}.cab`))
        .sort();
      assert.equal(expected.length, 12);
      assert.deepEqual(imported, expected);

      // every cabinet-type file of the oracle is accounted for: imported or rejected, never skipped
      const oracle = loadOracle();
      const byPath = new Map(first.results.map((r) => [rel(r.label), r]));
      for (const o of oracle) {
        const r = byPath.get(o.path);
        assert.ok(r, `${o.path} was not judged`);
        assert.notEqual(r.outcome, 'skipped', o.path);
        if (r.outcome === 'imported') assert.ok(o.verified_signatures >= 1, `${o.path} imported although osslsigncode verified no signature`);
        if (r.outcome === 'rejected') {
          assert.match(r.code ?? '', /^[A-Z0-9_]+$/, o.path);
          assert.ok(r.reason && !r.reason.includes('\n'), `${o.path}: one-line reason`);
        }
        // an unsigned cabinet must be rejected as unsigned or unreadable, never for metadata
        if (o.no_signature && r.outcome === 'rejected') assert.doesNotMatch(r.code ?? '', /^(PKG_|METADATA_)/, o.path);
      }
      assert.equal(first.imported, 12);
      // the .exe files of the PE corpus are judged too (executables are payloads now): every one is
      // refused — none is an update installer the knowledge base knows, or it is not validly signed
      const executables = first.results.filter((r) => rel(r.label).startsWith('pe/') && /\.exe$/i.test(r.label));
      assert.equal(executables.length, fs.readdirSync(corpusPath('pe'), { recursive: true }).filter((f) => /\.exe$/i.test(String(f))).length);
      for (const r of executables) assert.equal(r.outcome, 'rejected', `${rel(r.label)}: ${r.reason}`);
      assert.equal(first.rejected, oracle.length - 12 + executables.length);
      // the WSUSSCAN.cab of KB958830 is SHA-1 signed only: refused for that reason, naming the flag
      const sha1 = byPath.get('ms-signed/kb958830-inner/WSUSSCAN.cab');
      assert.equal(sha1?.code, 'SIG_SHA1_ONLY');
      assert.match(sha1?.reason ?? '', /--allow-sha1-only/);

      const second = await importPayloads(catalog, [corpusPath()], { knowledgeBase, trust: microsoftRoots() });
      assert.equal(second.imported, 0);
      assert.equal(second.duplicates, 12);
      assert.equal(second.rejected, first.rejected);
      assert.equal(catalog.payloads().length, 12);
      assert.equal(checkCatalog(catalog).ok, true);
      const msu = catalog.payloads({ kb: 'KB3118401' });
      assert.equal(msu.length, 1);
      assert.equal(msu[0].sha256, '145623e0b85037b90e1ef5c45aee1aaa4120c4d12a388d94c48cfbb083e914e4');
      assert.deepEqual(fs.readFileSync(catalog.blobPath(msu[0].sha256)), fs.readFileSync(corpusPath('msu', 'Windows6.1-KB3118401-x64.msu')));
      const entry = catalog.entry(msu[0].sha256)!;
      assert.deepEqual(entry.signatures.map((s) => [s.nested, s.digestAlgorithm, s.valid]), [[false, 'sha1', true], [true, 'sha256', true]]);
      assert.ok(entry.members.some((m) => m.role === 'payload-cab'), 'the payload cab is recorded as a member of interest');
      assert.ok(entry.members.some((m) => m.role === 'update.mum'));
    } finally {
      catalog.close();
    }
  });

  it('--allow-sha1-only lets a SHA-1-only file past the signing policy (it then stands or falls on its metadata)', async () => {
    const catalog = openCatalog({ dir: path.join(tempDir(), 'cat') });
    try {
      const file = corpusPath('ms-signed', 'kb958830-inner', 'WSUSSCAN.cab');
      const strict = await importPayloads(catalog, [file], { knowledgeBase, trust: microsoftRoots() });
      assert.equal(strict.results[0].code, 'SIG_SHA1_ONLY');
      const lenient = await importPayloads(catalog, [file], { knowledgeBase, trust: microsoftRoots(), allowSha1Only: true });
      assert.equal(lenient.results[0].code, 'PKG_NOT_A_PAYLOAD', 'a WSUS scan cab is not an update payload');

      // SP2 (KB948465) was only ever SHA-1 signed: refused by default, imported and marked with the flag
      const sp2 = fixturePath('payloads', 'Windows6.0-KB948465-x64.msu');
      const refused = await importPayloads(catalog, [sp2], { knowledgeBase, trust: testRoot() });
      assert.equal(refused.results[0].code, 'SIG_SHA1_ONLY');
      const allowed = await importPayloads(catalog, [sp2], { knowledgeBase, trust: testRoot(), allowSha1Only: true });
      assert.equal(allowed.results[0].outcome, 'imported');
      assert.equal(allowed.results[0].sha1OnlyAllowed, true);
      const entry = catalog.entry(allowed.results[0].sha256!)!;
      assert.equal(entry.sha1OnlyAllowed, true);
      assert.equal(entry.payload?.signatures, 'sha1-only');
      assert.equal(catalog.payloads({ kb: 'KB948465' }).length, 1);
    } finally {
      catalog.close();
    }
  });
});

describe('zip bundles', () => {
  const fixtureFiles = () => fs.readdirSync(fixturePath('payloads')).filter((f) => f.endsWith('.msu')).sort();

  it('a bundle of the fixture payloads imports the same as the folder', async () => {
    const dir = tempDir();
    const zipPath = path.join(dir, 'bundle.zip');
    fs.writeFileSync(zipPath, buildZip([
      { name: 'README.md', data: fs.readFileSync(fixturePath('payloads', 'README.md')) },
      ...fixtureFiles().map((f) => ({ name: `payloads/${f}`, data: fs.readFileSync(fixturePath('payloads', f)) })),
    ]));
    const fromFolder = openCatalog({ dir: path.join(dir, 'a') });
    const fromZip = openCatalog({ dir: path.join(dir, 'b') });
    try {
      const folder = await importPayloads(fromFolder, [fixturePath('payloads')], { knowledgeBase, trust: testRoot() });
      const zip = await importPayloads(fromZip, [zipPath], { knowledgeBase, trust: testRoot() });
      const key = (s: ImportSummary) => s.results.filter((r) => r.outcome !== 'skipped').map((r) => `${path.basename(r.entry ?? r.label)} ${r.outcome} ${r.code ?? ''} ${r.sha256}`).sort();
      assert.deepEqual(key(zip), key(folder));
      assert.ok(folder.imported >= 16, `most fixture payloads import (got ${folder.imported})`);
      assert.deepEqual(fromZip.payloads().map((p) => p.sha256).sort(), fromFolder.payloads().map((p) => p.sha256).sort());
      // same metadata either way (the file name, which inspect reads, is the entry's base name)
      assert.deepEqual(
        fromZip.payloads().map((p) => `${p.fileName} ${p.kb} ${p.architecture} ${p.kind}`).sort(),
        fromFolder.payloads().map((p) => `${p.fileName} ${p.kb} ${p.architecture} ${p.kind}`).sort(),
      );
      assert.equal(checkCatalog(fromZip).ok, true);
    } finally {
      fromFolder.close();
      fromZip.close();
    }
  });

  it('refuses hostile entry names one by one, never writing outside the store, and imports the good entry', async () => {
    const dir = tempDir();
    const work = path.join(dir, 'work');
    fs.mkdirSync(work);
    const good = fixtureFiles().find((f) => f.includes('KB4493730-x64'))!;
    const bytes = fs.readFileSync(fixturePath('payloads', good));
    const zipPath = path.join(work, 'hostile.zip');
    fs.writeFileSync(zipPath, buildZip([
      { name: '../evil.msu', data: bytes },
      { name: '/tmp/abs.msu', data: bytes },
      { name: 'C:\\Windows\\drive.msu', data: bytes },
      { name: 'a/../../climb.cab', data: bytes },
      { name: 'sub\\..\\..\\backslash.msu', data: bytes },
      { name: 'inner.zip', data: buildZip([{ name: good, data: bytes }]) },
      { name: good, data: bytes },
    ]));
    const catalog = openCatalog({ dir: path.join(work, 'cat') });
    try {
      const s = await importPayloads(catalog, [zipPath], { knowledgeBase, trust: testRoot() });
      const byEntry = new Map(s.results.map((r) => [r.entry, r]));
      for (const name of ['../evil.msu', '/tmp/abs.msu', 'C:\\Windows\\drive.msu', 'a/../../climb.cab', 'sub\\..\\..\\backslash.msu']) {
        assert.equal(byEntry.get(name)?.outcome, 'rejected', name);
        assert.equal(byEntry.get(name)?.code, 'ZIP_UNSAFE_ENTRY_NAME', name);
      }
      assert.equal(byEntry.get('inner.zip')?.code, 'ZIP_NESTED');
      assert.equal(byEntry.get(good)?.outcome, 'imported');
      assert.equal(s.rejected, 6);
      for (const p of [path.join(dir, 'evil.msu'), '/tmp/abs.msu', path.join(dir, 'climb.cab'), path.join(dir, 'backslash.msu')]) {
        assert.equal(fs.existsSync(p), false, `${p} must not exist`);
      }
      assert.deepEqual(fs.readdirSync(work).sort(), ['cat', 'hostile.zip']);
      assert.deepEqual(fs.readdirSync(catalog.blobs.tmpDir), [], 'no temp files left');
      assert.equal(catalog.events().filter((e) => e.code === 'ZIP_UNSAFE_ENTRY_NAME').length, 5, 'each refusal is logged');
    } finally {
      catalog.close();
    }
  });

  it('caps zip bombs by expansion ratio and lying sizes by the stream length', async () => {
    const dir = tempDir();
    const zeros = Buffer.alloc(8 << 20);
    const bombPath = path.join(dir, 'bomb.zip');
    fs.writeFileSync(bombPath, buildZip([{ name: 'a.cab', data: zeros }, { name: 'b.cab', data: zeros }]));
    const liarPath = path.join(dir, 'liar.zip');
    const real = fs.readFileSync(fixturePath('payloads', fixtureFiles()[0]));
    fs.writeFileSync(liarPath, buildZip([{ name: 'liar.msu', data: real, declaredSize: real.length - 100 }]));
    const catalog = openCatalog({ dir: path.join(dir, 'cat') });
    try {
      const s = await importPayloads(catalog, [bombPath, liarPath], {
        knowledgeBase,
        trust: testRoot(),
        limits: { maxEntryBytes: 1 << 30, maxExpansionRatio: 4, maxEntries: 10 },
      });
      const codes = s.results.map((r) => `${r.entry}:${r.code}`);
      assert.ok(codes.includes('a.cab:ZIP_BOMB'), codes.join(' '));
      assert.equal(s.results.filter((r) => r.entry === 'b.cab').length, 0, 'entries after the cap are not read');
      assert.ok(codes.includes('liar.msu:ZIP_ENTRY_CORRUPT'), codes.join(' '));
      assert.equal(catalog.payloads().length, 0);
      assert.deepEqual(fs.readdirSync(catalog.blobs.tmpDir), []);
    } finally {
      catalog.close();
    }
  });
});

describe('quarantine and trust', () => {
  it('keeps rejected payloads as quarantined (never offered to the planner) and promotes them once they pass', async () => {
    const dir = tempDir();
    const catalog = openCatalog({ dir: path.join(dir, 'cat') });
    const msu = fixturePath('payloads', 'Windows6.0-KB4493730-x64.msu');
    try {
      const wrongTrust = loadTrustAnchors([fixturePath('pki', 'other-root.pem')]);
      const q = await importPayloads(catalog, [msu, fixturePath('signed', 'tampered-data.cab')], { knowledgeBase, trust: wrongTrust, quarantine: true });
      assert.deepEqual(q.results.map((r) => r.outcome), ['quarantined', 'quarantined']);
      assert.match(q.results[0].code ?? '', /^(TS_)?CHAIN_UNTRUSTED$/, 'the signer or its timestamp does not chain to the wrong root');
      assert.equal(catalog.payloads().length, 0, 'quarantined payloads are never offered');
      assert.equal(catalog.entries().length, 2);
      assert.ok(fs.existsSync(catalog.blobPath(q.results[0].sha256!)), 'quarantined bytes are kept');
      const again = await importPayloads(catalog, [msu], { knowledgeBase, trust: testRoot() });
      assert.equal(again.results[0].outcome, 'imported');
      assert.equal(catalog.payloadBySha256(q.results[0].sha256!)?.kb, 'KB4493730');
      assert.equal(checkCatalog(catalog).ok, true);
    } finally {
      catalog.close();
    }
  });

  it('without --quarantine a rejected file leaves no row and no blob, only a log line', async () => {
    const catalog = openCatalog({ dir: path.join(tempDir(), 'cat') });
    try {
      const s = await importPayloads(catalog, [fixturePath('signed', 'unsigned.cab')], { knowledgeBase, trust: testRoot() });
      assert.equal(s.results[0].code, 'SIG_UNSIGNED');
      assert.equal(catalog.entries().length, 0);
      assert.deepEqual([...catalog.blobs.listBlobs()], []);
      assert.deepEqual(catalog.events().map((e) => [e.outcome, e.code, e.sha256 !== null]), [['rejected', 'SIG_UNSIGNED', true]]);
    } finally {
      catalog.close();
    }
  });
});
