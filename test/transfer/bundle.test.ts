import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import * as yazl from 'yazl';
import { loadTrustAnchors } from '../../src/authenticode/trust';
import { openCatalog } from '../../src/catalog/catalog';
import { checkCatalog, type ProblemKind } from '../../src/catalog/check';
import type { CatalogEntry } from '../../src/catalog/types';
import { importPayloads } from '../../src/importer/import';
import { loadKnowledgeBase } from '../../src/knowledge/knowledge-base';
import { CabferryError } from '../../src/errors';
import { BUNDLE, exportBundle, importTransferBundle, openBundle, type BundleImportSummary, type TransferManifest } from '../../src/transfer';
import { serializeJson, sha256Hex } from '../../src/transfer/bundle-format';
import { isTransferBundle } from '../../src/transfer/bundle-source';
import { signDetached } from '../../src/media/manifest';
import { loadSigningMaterial } from '../../src/media/signing-material';
import { runChild } from '../../scripts/lib/fault';
import { buildZip } from '../../scripts/lib/zip-writer';
import { catalogPayloadKeys } from '../catalog.helpers';
import { issueSigner } from '../media/pki.helpers';
import { assertErrorDocument, fixturePath, projectRoot, runCli, tempDir } from '../common.helpers';

/**
 * Low side → bundle → high side: the same payloads and the same records arrive; an incremental
 * export carries only what is new; a bundle changed after signing is refused whole; a bundle
 * import killed at its file-system steps leaves the catalog as it was, and importing it again
 * completes it.
 */

const rootPem = fixturePath('pki', 'root.pem');
const trust = () => loadTrustAnchors([rootPem]);
/** the high side's anchors for the bundle's signature: the same test root signs the fixture payloads and the bundles */
const signatureTrust = () => ({ anchors: trust(), payloadsOnly: [] });
const knowledgeBase = loadKnowledgeBase();
const signing = () => ({ keyFile: fixturePath('pki', 'leaf-rsa.key'), certFile: fixturePath('pki', 'leaf-rsa-chain.pem') });
const crashChild = path.join(projectRoot, 'dist', 'scripts', 'lib', 'fault-crash-child.js');
const repairable: ProblemKind[] = ['orphan-blob', 'leftover-temp'];

let work = '';
/** the low-side catalog: the fixture payloads except the two SHA-1-only ones, which come later */
let low = '';
let firstZip = '';
let firstFolder = '';

before(async () => {
  work = tempDir('cabferry-transfer-');
  low = path.join(work, 'low');
  const catalog = openCatalog({ dir: low });
  try {
    const summary = await importPayloads(catalog, [fixturePath('payloads')], { knowledgeBase, trust: trust() });
    assert.equal(summary.imported, 18);
  } finally {
    catalog.close();
  }
  // what the low side exports is what its own trust set vouches for now (live trust), not a one-off --trust
  assert.equal(runCli(['trust', 'add', rootPem, '--catalog', low]).status, 0);
  firstZip = path.join(work, 'first.zip');
  firstFolder = path.join(work, 'first');
  await exportBundle({ catalog: low, to: firstZip, signing: signing() });
  await exportBundle({ catalog: low, to: firstFolder, signing: signing() });
});

/**
 * A high-side catalog that trusts the test root for bundle signatures (`trust add --for
 * signatures`): the CLI checks a bundle's signature against the catalog's anchors for signatures
 * only, never against a one-off --trust, which vouches for the payloads alone.
 */
function signatureAnchored(dir: string): string {
  assert.equal(runCli(['trust', 'add', '--for', 'signatures', rootPem, '--catalog', dir]).status, 0);
  return dir;
}

async function importInto(dir: string, bundle: string, options: { allowSha1Only?: boolean } = {}): Promise<BundleImportSummary> {
  const catalog = openCatalog({ dir });
  try {
    return await importTransferBundle(catalog, bundle, { knowledgeBase, trust: trust(), signatureTrust: signatureTrust(), ...options });
  } finally {
    catalog.close();
  }
}

/** What "the same records" means: every field of the catalog entry but when it was first imported here. */
function records(dir: string): Omit<CatalogEntry, 'firstImportedAt'>[] {
  const catalog = openCatalog({ dir, access: 'read' });
  try {
    return catalog.entries().map(({ firstImportedAt: _, ...rest }) => rest);
  } finally {
    catalog.close();
  }
}

/** The audit log of the catalog at `dir`: outcome, code and source of each line. */
function auditLines(dir: string): [string, string | null, string][] {
  const catalog = openCatalog({ dir, access: 'read' });
  try {
    return catalog.events().map((e) => [e.outcome, e.code, e.source]);
  } finally {
    catalog.close();
  }
}

function manifestOf(folder: string): TransferManifest {
  return JSON.parse(fs.readFileSync(path.join(folder, BUNDLE.manifest), 'utf8')) as TransferManifest;
}

function copyBundle(name: string): string {
  const dir = path.join(work, name);
  fs.cpSync(firstFolder, dir, { recursive: true });
  return dir;
}

/**
 * The first bundle zipped by hand: its signed files, then its manifest, under `manifestName`, as
 * `manifestAs` says (a file by default; a folder entry, a folder holding a payload, a Unix
 * symbolic link entry).
 */
async function zipBundle(zip: string, options: { manifestName?: string; manifestAs?: 'file' | 'folder-entry' | 'folder-with-a-payload' | 'symlink-entry' } = {}): Promise<void> {
  const name = options.manifestName ?? BUNDLE.manifest;
  const out = new yazl.ZipFile();
  for (const f of [...manifestOf(firstFolder).files.map((x) => x.path), BUNDLE.signature]) out.addFile(path.join(firstFolder, ...f.split('/')), f);
  switch (options.manifestAs ?? 'file') {
    case 'file': out.addFile(path.join(firstFolder, BUNDLE.manifest), name); break;
    case 'folder-entry': out.addEmptyDirectory(name); break;
    case 'folder-with-a-payload': out.addFile(fixturePath('payloads', 'Windows6.0-KB4493730-x64.msu'), `${name}/Windows6.0-KB4493730-x64.msu`); break;
    case 'symlink-entry': out.addBuffer(Buffer.from('../elsewhere.json'), name, { mode: 0o120777 }); break;
  }
  out.end();
  await new Promise<void>((resolve, reject) => out.outputStream.pipe(fs.createWriteStream(zip)).on('close', resolve).on('error', reject));
}

describe('a low-side catalog exported and imported into a fresh high-side catalog', () => {
  for (const kind of ['zip', 'folder'] as const) {
    it(`(${kind}) arrives with the same payloads, blobs and records, each re-verified here`, async () => {
      const high = path.join(work, `high-${kind}`);
      const summary = await importInto(high, kind === 'zip' ? firstZip : firstFolder);
      assert.equal(summary.refused, false, JSON.stringify(summary.bundle));
      assert.equal(summary.bundle.signature.status, 'valid');
      assert.equal(summary.imported, 18);
      assert.deepEqual(summary.mismatches, []);
      assert.deepEqual(catalogPayloadKeys(high), catalogPayloadKeys(low));
      assert.deepEqual(records(high), records(low));
      const catalog = openCatalog({ dir: high, access: 'read' });
      try {
        assert.equal(checkCatalog(catalog).problems.length, 0);
        // the high side's own import events name the bundle, one per payload
        const events = catalog.events().filter((e) => e.outcome === 'imported');
        assert.equal(events.length, 18);
        assert.ok(events.every((e) => e.source === (kind === 'zip' ? firstZip : firstFolder) && e.entry?.startsWith('payloads/')));
      } finally {
        catalog.close();
      }
      // importing it again changes nothing: every payload is a duplicate
      const again = await importInto(high, kind === 'zip' ? firstZip : firstFolder);
      assert.equal(again.imported, 0);
      assert.equal(again.duplicates, 18);
      assert.deepEqual(records(high), records(low));
    });
  }

  it('through the CLI: export, then import BUNDLE exits 0 and prints one JSON document', () => {
    const zip = path.join(work, 'cli.zip');
    const exported = runCli(['export', '--catalog', low, '--to', zip, '--sign-key', fixturePath('pki', 'leaf-rsa.key'), '--sign-cert', fixturePath('pki', 'leaf-rsa-chain.pem'), '--json']);
    assert.equal(exported.status, 0, exported.stderr);
    assert.equal((JSON.parse(exported.stdout) as { payloads: unknown[] }).payloads.length, 18);
    const high = signatureAnchored(path.join(work, 'high-cli'));
    const imported = runCli(['import', '--catalog', high, '--trust', rootPem, '--json', zip]);
    assert.equal(imported.status, 0, imported.stderr);
    const doc = JSON.parse(imported.stdout) as { kind: string; imported: number; refused: boolean };
    assert.deepEqual([doc.kind, doc.imported, doc.refused], ['bundle', 18, false]);
    // a bundle goes alone: mixed with loose files its all-or-nothing check would mean nothing
    const mixed = runCli(['import', '--catalog', high, '--trust', rootPem, zip, fixturePath('payloads')]);
    assert.equal(mixed.status, 2);
    assert.match(mixed.stderr, /BUNDLE_NOT_ALONE/);
    // export refuses to sign without both halves of the signing material
    const unsigned = runCli(['export', '--catalog', low, '--to', path.join(work, 'unsigned.zip')]);
    assert.equal(unsigned.status, 2);
  });
});

describe('a transfer bundle met inside what import walks', () => {
  /** the catalog afterwards: nothing in it, not even a rejected event for a payload of the bundle */
  function assertNothingImported(high: string): void {
    const catalog = openCatalog({ dir: high, access: 'read' });
    try {
      assert.deepEqual(catalog.entries(), []);
    } finally {
      catalog.close();
    }
  }

  for (const kind of ['zip', 'folder'] as const) {
    it(`(${kind}) inside a folder: import FOLDER is refused whole, BUNDLE_NESTED, naming \`cabferry import BUNDLE\`; nothing imported, not even the folder's loose payloads`, () => {
      const usb = path.join(work, `usb-${kind}`);
      fs.mkdirSync(usb);
      const inner = path.join(usb, kind === 'zip' ? 'carried.zip' : 'carried');
      fs.cpSync(kind === 'zip' ? firstZip : firstFolder, inner, { recursive: true });
      fs.copyFileSync(fixturePath('payloads', 'Windows6.0-KB4493730-x64.msu'), path.join(usb, 'a-loose.msu'));
      // an attacker's copy: one record edited, which the bundle's check refuses; walked as a plain source it would pass unseen
      if (kind === 'folder') {
        const record = path.join(inner, manifestOf(firstFolder).payloads[0]!.record);
        fs.writeFileSync(record, fs.readFileSync(record, 'utf8').replace('"sha1OnlyAllowed": false', '"sha1OnlyAllowed": true'));
      }
      const high = path.join(work, `high-usb-${kind}`);
      const text = runCli(['import', '--catalog', high, '--trust', rootPem, usb]);
      assert.equal(text.status, 2, text.stdout + text.stderr);
      assert.match(text.stderr, new RegExp(`is a transfer bundle .*run \`cabferry import ${inner.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\`; nothing was imported \\[BUNDLE_NESTED\\]`));
      const json = runCli(['import', '--catalog', high, '--trust', rootPem, '--json', usb]);
      assert.equal(json.status, 2);
      assertErrorDocument(json.stdout, 'BUNDLE_NESTED');
      assertNothingImported(high);
    });
  }

  it('a bundle folder zipped inside a plain zip is refused the same way (the manifest is the zip\'s last entry)', async () => {
    const zip = path.join(work, 'plain-holding-bundle.zip');
    const out = new yazl.ZipFile();
    const manifest = manifestOf(firstFolder);
    for (const f of [...manifest.files.map((x) => x.path), BUNDLE.signature, BUNDLE.manifest]) out.addFile(path.join(firstFolder, ...f.split('/')), `export/${f}`);
    out.end();
    await new Promise<void>((resolve, reject) => out.outputStream.pipe(fs.createWriteStream(zip)).on('close', resolve).on('error', reject));
    const high = path.join(work, 'high-plain-zip');
    const r = runCli(['import', '--catalog', high, '--trust', rootPem, zip]);
    assert.equal(r.status, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /holds a transfer bundle in export\/ .*cabferry import FOLDER\/export`.*\[BUNDLE_NESTED\]/);
    assertNothingImported(high);
  });

  it('a bundle whose manifest is not a regular file (a link, a folder) is refused as a bundle, BUNDLE_MANIFEST_NOT_A_FILE, never walked as a plain folder or zip; inside a folder, BUNDLE_NESTED', async () => {
    const odd: [string, string, RegExp][] = [];
    for (const how of ['dangling-link', 'empty-folder', 'folder-with-a-payload'] as const) {
      const dir = copyBundle(`odd-manifest-${how}`);
      const at = path.join(dir, BUNDLE.manifest);
      fs.rmSync(at);
      if (how === 'dangling-link') fs.symlinkSync(path.join(work, 'nowhere.json'), at);
      else fs.mkdirSync(at);
      if (how === 'folder-with-a-payload') fs.copyFileSync(fixturePath('payloads', 'Windows6.0-KB4493730-x64.msu'), path.join(at, 'Windows6.0-KB4493730-x64.msu'));
      odd.push([how, dir, how === 'dangling-link' ? /is a symbolic link/ : /is a folder/]);
    }
    for (const how of ['folder-entry', 'folder-with-a-payload', 'symlink-entry'] as const) {
      const zip = path.join(work, `odd-manifest-${how}.zip`);
      await zipBundle(zip, { manifestAs: how });
      odd.push([`zip-${how}`, zip, how === 'symlink-entry' ? /is a symbolic link/ : /is a folder/]);
    }
    for (const [how, bundle, what] of odd) {
      const high = path.join(work, `high-odd-manifest-${how}`);
      const r = runCli(['import', '--catalog', high, '--trust', rootPem, bundle]);
      assert.equal(r.status, 3, how + ': ' + r.stdout + r.stderr);
      assert.match(r.stderr, /cabferry-bundle\.json is .*, not a regular file: .*nothing imported \[BUNDLE_MANIFEST_NOT_A_FILE\]/, how);
      assert.match(r.stderr, what, how);
      const json = runCli(['import', '--catalog', high, '--trust', rootPem, '--json', bundle]);
      assert.equal(json.status, 3, how);
      assertErrorDocument(json.stdout, 'BUNDLE_MANIFEST_NOT_A_FILE');
      // met by the walk of a folder holding it, the same bundle is never walked either
      const usb = path.join(work, `usb-odd-manifest-${how}`);
      fs.mkdirSync(usb);
      fs.renameSync(bundle, path.join(usb, path.basename(bundle)));
      const nested = runCli(['import', '--catalog', high, '--trust', rootPem, usb]);
      assert.equal(nested.status, 2, how + ': ' + nested.stdout + nested.stderr);
      assert.match(nested.stderr, /\[BUNDLE_NESTED\]/, how);
      assertNothingImported(high);
    }
  });

  it('a bundle whose manifest\'s letter case changed on the way (FAT32, a Windows copy, a zip tool) is recognised: on its own BUNDLE_MANIFEST_NAME_CASE (exit 3), met by the walk BUNDLE_NESTED (exit 2), folder and zip, root and nested; renamed back it imports', async () => {
    const folder = copyBundle('case-changed');
    fs.renameSync(path.join(folder, BUNDLE.manifest), path.join(folder, 'CABFERRY-BUNDLE.JSON'));
    const zip = path.join(work, 'case-changed.zip');
    await zipBundle(zip, { manifestName: 'Cabferry-Bundle.json' });
    const plainZip = path.join(work, 'plain-holding-case-changed.zip');
    const out = new yazl.ZipFile();
    for (const f of [...manifestOf(firstFolder).files.map((x) => x.path), BUNDLE.signature]) out.addFile(path.join(firstFolder, ...f.split('/')), `export/${f}`);
    out.addFile(path.join(firstFolder, BUNDLE.manifest), 'export/CABFERRY-BUNDLE.JSON');
    out.end();
    await new Promise<void>((resolve, reject) => out.outputStream.pipe(fs.createWriteStream(plainZip)).on('close', resolve).on('error', reject));

    const high = signatureAnchored(path.join(work, 'high-case-changed'));
    for (const [how, bundle, found] of [['folder', folder, 'CABFERRY-BUNDLE.JSON'], ['zip', zip, 'Cabferry-Bundle.json']] as const) {
      const text = runCli(['import', '--catalog', high, '--trust', rootPem, bundle]);
      assert.equal(text.status, 3, how + ': ' + text.stdout + text.stderr);
      assert.ok(text.stderr.includes(`found "${found}" where the bundle's manifest cabferry-bundle.json belongs`), text.stderr);
      assert.match(text.stderr, /rename it back to cabferry-bundle\.json.*nothing imported \[BUNDLE_MANIFEST_NAME_CASE\]/, how);
      const json = runCli(['import', '--catalog', high, '--trust', rootPem, '--json', bundle]);
      assert.equal(json.status, 3, how);
      assert.equal(assertErrorDocument(json.stdout, 'BUNDLE_MANIFEST_NAME_CASE').message.includes(found), true, how);
      assertNothingImported(high);
    }
    // met by the walk: inside a folder (the bundle folder, the bundle zip) and zipped inside a plain zip
    const usb = path.join(work, 'usb-case-changed');
    fs.mkdirSync(usb);
    for (const bundle of [folder, zip]) {
      const inner = path.join(usb, path.basename(bundle));
      fs.cpSync(bundle, inner, { recursive: true });
      const nested = runCli(['import', '--catalog', high, '--trust', rootPem, '--json', usb]);
      assert.equal(nested.status, 2, bundle + ': ' + nested.stdout + nested.stderr);
      // what to do, in one go: renaming first (the bundle importer refuses the other spelling)
      const todo = bundle === folder
        ? `rename its "CABFERRY-BUNDLE.JSON" back to cabferry-bundle.json, then run \`cabferry import ${inner}\``
        : 'extract the zip, rename its "Cabferry-Bundle.json" back to cabferry-bundle.json and run `cabferry import FOLDER`';
      assert.equal(assertErrorDocument(nested.stdout, 'BUNDLE_NESTED').message.includes(todo), true, nested.stdout);
      assertNothingImported(high);
      fs.rmSync(inner, { recursive: true });
    }
    const zipped = runCli(['import', '--catalog', high, '--trust', rootPem, '--json', plainZip]);
    assert.equal(zipped.status, 2, zipped.stdout + zipped.stderr);
    assert.match(assertErrorDocument(zipped.stdout, 'BUNDLE_NESTED').message, /holds a transfer bundle in export\/ .*extract the zip, rename its "CABFERRY-BUNDLE\.JSON" back to cabferry-bundle\.json and run `cabferry import FOLDER\/export`/);
    assertNothingImported(high);

    // renamed back as the message says, the same folder imports as the signed bundle it is
    fs.renameSync(path.join(folder, 'CABFERRY-BUNDLE.JSON'), path.join(folder, BUNDLE.manifest));
    const renamed = runCli(['import', '--catalog', high, '--trust', rootPem, '--json', folder]);
    assert.equal(renamed.status, 0, renamed.stderr);
    const doc = JSON.parse(renamed.stdout) as { kind: string; imported: number };
    assert.deepEqual([doc.kind, doc.imported], ['bundle', 18]);
  });

  it('imported on its own, the same bundle imports as a bundle (its check and all)', () => {
    const high = signatureAnchored(path.join(work, 'high-usb-alone'));
    const r = runCli(['import', '--catalog', high, '--trust', rootPem, '--json', path.join(work, 'usb-zip', 'carried.zip')]);
    assert.equal(r.status, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { kind: string; imported: number };
    assert.deepEqual([doc.kind, doc.imported], ['bundle', 18]);
  });
});

describe('export of payloads the low side does not trust now', () => {
  const signArgs = ['--sign-key', fixturePath('pki', 'leaf-rsa.key'), '--sign-cert', fixturePath('pki', 'leaf-rsa-chain.pem')];
  interface ExportJson { complete: boolean; payloads: { sha256: string }[]; leftOut: { sha256: string; kb: string; distrust: { kind: string }; reason: string; remedy: string }[] }

  it('after trust remove: every payload is left out of the bundle and named with why (text and --json), exit 1; --allow-incomplete exits 0', async () => {
    const lowCopy = path.join(work, 'low-anchor-removed');
    fs.cpSync(low, lowCopy, { recursive: true });
    const fingerprint = trust()[0]!.certificate.sha256Fingerprint;
    assert.equal(runCli(['trust', 'remove', fingerprint, '--catalog', lowCopy]).status, 0);

    const text = runCli(['export', '--catalog', lowCopy, '--to', path.join(work, 'untrusted.zip'), ...signArgs]);
    assert.equal(text.status, 1, text.stderr);
    assert.match(text.stdout, /^Exported 0 payload\(s\)/m);
    assert.match(text.stdout, /^LEFT OUT 18 payload\(s\) the catalog does not trust now/m);
    const lines = text.stdout.split('\n').filter((l) => /^ {2}KB\d+ +Windows.*: untrusted since the anchor was removed: it chained to "Cabferry Test Root CA".*; `cabferry trust add` the anchor again/.test(l));
    assert.equal(lines.length, 18, text.stdout);
    assert.match(text.stderr, /INCOMPLETE bundle: 18 payload\(s\) left out/);

    const to = path.join(work, 'untrusted-allowed');
    const json = runCli(['export', '--catalog', lowCopy, '--to', to, '--json', '--allow-incomplete', ...signArgs]);
    assert.equal(json.status, 0, json.stderr);
    const doc = JSON.parse(json.stdout) as ExportJson;
    assert.equal(doc.complete, false);
    assert.deepEqual(doc.payloads, []);
    assert.equal(doc.leftOut.length, 18);
    assert.ok(doc.leftOut.every((p) => p.distrust.kind === 'anchor-removed' && /trust add/.test(p.remedy)), JSON.stringify(doc.leftOut[0]));
    // nothing of them is in the bundle: not in the manifest, not as a file
    assert.deepEqual(manifestOf(to).payloads, []);
    assert.ok(!fs.existsSync(path.join(to, 'payloads')));
  });

  it('one payload whose blob is missing is left out with blob-missing; the others are carried, and the bundle imports on the high side', async () => {
    const lowCopy = path.join(work, 'low-missing-blob');
    fs.cpSync(low, lowCopy, { recursive: true });
    const gone = manifestOf(firstFolder).payloads[0]!.sha256;
    fs.rmSync(path.join(lowCopy, 'blobs', gone.slice(0, 2), gone.slice(2)));
    const to = path.join(work, 'missing-blob-bundle');
    const r = await exportBundle({ catalog: lowCopy, to, signing: signing() });
    assert.equal(r.complete, false);
    assert.deepEqual(r.leftOut.map((p) => [p.sha256, p.distrust.kind]), [[gone, 'blob-missing']]);
    assert.equal(r.payloads.length, 17);
    assert.ok(!manifestOf(to).payloads.some((p) => p.sha256 === gone));
    const s = await importInto(path.join(work, 'high-missing-blob'), to);
    assert.deepEqual([s.refused, s.imported], [false, 17]);
  });
});

describe('incremental exports', () => {
  it('--since-bundle carries only what the earlier bundles did not; --since only what was imported since', async () => {
    const lowCopy = path.join(work, 'low-incremental');
    fs.cpSync(low, lowCopy, { recursive: true });
    const cutoff = new Date();
    const catalog = openCatalog({ dir: lowCopy });
    try {
      const added = await importPayloads(catalog, [fixturePath('payloads')], { knowledgeBase, trust: trust(), allowSha1Only: true });
      assert.equal(added.imported, 2);
    } finally {
      catalog.close();
    }
    const second = path.join(work, 'second');
    // the earlier bundles are signed by the signing certificate, which vouches for them: `low` trusts the test root for payloads only
    const r2 = await exportBundle({ catalog: lowCopy, to: second, sinceBundle: firstZip, signing: signing() });
    assert.deepEqual(r2.payloads.map((p) => p.kb), ['KB948465', 'KB948465']);
    assert.equal(r2.carriedBefore, 18);
    assert.equal(manifestOf(second).follows?.manifestSha256, await zipManifestSha256(firstZip));
    const third = path.join(work, 'third');
    const r3 = await exportBundle({ catalog: lowCopy, to: third, sinceBundle: second, signing: signing() });
    assert.equal(r3.payloads.length, 0, 'the chain remembers what the first bundle carried too');
    assert.equal(r3.carriedBefore, 20);
    const bySince = await exportBundle({ catalog: lowCopy, to: path.join(work, 'since'), since: cutoff, signing: signing() });
    assert.deepEqual(bySince.payloads.map((p) => p.fileName).sort(), ['Windows6.0-KB948465-x64.msu', 'Windows6.0-KB948465-x86.msu']);

    // the high side, fed the first bundle and then the second, holds what the low side holds
    const high = path.join(work, 'high-incremental');
    assert.equal((await importInto(high, firstZip)).imported, 18);
    const s2 = await importInto(high, second, { allowSha1Only: true });
    assert.equal(s2.imported, 2);
    assert.deepEqual(s2.mismatches, []);
    assert.deepEqual(records(high), records(lowCopy));
  });

  it('a payload this side refuses is reported with the record that differs, and nothing else of the bundle is held back', async () => {
    const high = path.join(work, 'high-strict');
    const second = path.join(work, 'second');
    assert.equal((await importInto(high, firstZip)).imported, 18); // the bundle `second` follows
    const s = await importInto(high, second); // no --allow-sha1-only here
    assert.equal(s.refused, false);
    assert.equal(s.rejected, 2);
    assert.ok(s.results.every((r) => r.code === 'SIG_SHA1_ONLY'));
    assert.deepEqual(s.mismatches.map((m) => m.fields), [['status'], ['status']]);
  });
});

describe('a bundle that follows earlier ones, on the high side', () => {
  // `second` follows the first bundle (18 payloads), `third` follows `second` (2 more): made by 'incremental exports' above
  const second = () => path.join(work, 'second');
  const third = () => path.join(work, 'third');

  it('is refused whole when what the earlier bundles carried never came into this catalog: BUNDLE_EARLIER_MISSING, nothing imported, one audit line; imported after them, oldest first, it is taken', async () => {
    const high = path.join(work, 'high-gap');
    const s = await importInto(high, second(), { allowSha1Only: true });
    assert.equal(s.refused, true);
    assert.equal(s.refusal?.code, 'BUNDLE_EARLIER_MISSING');
    assert.match(s.refusal?.reason ?? '', /^it follows the bundle of \S+ .*but 18 payload\(s\) they carried never came into this catalog .*full export .*; nothing imported$/);
    assert.equal(s.bundle.signature.status, 'valid');
    assert.deepEqual([s.bundle.missing, s.bundle.altered, s.bundle.unexpected], [[], [], []], 'nothing of the bundle itself is wrong');
    assert.deepEqual(s.bundle.earlierMissing, manifestOf(second()).carriedBefore);
    assert.equal(s.imported + s.rejected, 0);
    assert.deepEqual(catalogPayloadKeys(high), []);
    let catalog = openCatalog({ dir: high, access: 'read' });
    try {
      assert.deepEqual(catalog.events().map((e) => [e.outcome, e.code, e.sha256]), [['rejected', 'BUNDLE_EARLIER_MISSING', null]]);
    } finally {
      catalog.close();
    }
    // one payload of the first bundle, however it came (here a loose file), is no longer missing; the rest still are
    catalog = openCatalog({ dir: high });
    try {
      assert.equal((await importPayloads(catalog, [fixturePath('payloads', 'Windows6.0-KB4493730-x64.msu')], { knowledgeBase, trust: trust() })).imported, 1);
    } finally {
      catalog.close();
    }
    assert.equal((await importInto(high, second(), { allowSha1Only: true })).bundle.earlierMissing.length, 17);
    assert.equal((await importInto(high, firstZip)).imported, 17);
    const taken = await importInto(high, second(), { allowSha1Only: true });
    assert.equal(taken.refused, false, JSON.stringify(taken.refusal));
    assert.equal(taken.imported, 2);
  });

  it('a payload of an earlier bundle that this side rejected was met: the bundle after it is taken (it is not missing, it was judged)', async () => {
    // high-strict imported the first bundle, then `second`, whose two SHA-1-only payloads it rejected ('incremental exports')
    const s = await importInto(path.join(work, 'high-strict'), third());
    assert.equal(s.refused, false, JSON.stringify(s.refusal));
    assert.deepEqual(s.bundle.earlierMissing, []);
    assert.equal(manifestOf(third()).carriedBefore.length, 20);
  });

  it('through the CLI: exit 1, the refusal named with its code and the way out, the payloads never met listed (ten, then a count); --json has refusal.code and every one', () => {
    const high = signatureAnchored(path.join(work, 'high-gap-cli'));
    const text = runCli(['import', '--catalog', high, '--trust', rootPem, '--allow-sha1-only', second()]);
    assert.equal(text.status, 1, text.stdout + text.stderr);
    assert.match(text.stdout, /^REFUSED \[BUNDLE_EARLIER_MISSING\] .*second: it follows the bundle of .*import the earlier bundles first, oldest first, or a full export from the low side \(cabferry export without --since-bundle\); nothing imported$/m);
    const listed = text.stdout.split('\n').filter((l) => l.startsWith('  never came here: '));
    assert.deepEqual(listed.map((l) => l.slice('  never came here: '.length)), manifestOf(second()).carriedBefore.slice(0, 10));
    assert.match(text.stdout, /^ {2}… and 8 more \(earlierMissing in --json\)$/m);
    assert.doesNotMatch(text.stdout, /every file matches/);
    const json = runCli(['import', '--catalog', high, '--trust', rootPem, '--allow-sha1-only', '--json', second()]);
    assert.equal(json.status, 1);
    const doc = JSON.parse(json.stdout) as BundleImportSummary & { kind: string };
    assert.deepEqual([doc.kind, doc.refused, doc.refusal?.code, doc.imported], ['bundle', true, 'BUNDLE_EARLIER_MISSING', 0]);
    assert.equal(doc.bundle.earlierMissing.length, 18);
  });
});

describe('an earlier bundle named by --since-bundle is believed only through its signature', () => {
  /** a copy of the low catalog that trusts the test root for signatures too (`trust add --for signatures`) */
  let lowSigning = '';
  /** a signer issued by the test intermediate: chains to the test root, and is not the fixture signer */
  let colleague = { key: '', cert: '', subject: '' };
  before(() => {
    lowSigning = path.join(work, 'low-for-signatures');
    fs.cpSync(low, lowSigning, { recursive: true });
    signatureAnchored(lowSigning);
    colleague = issueSigner(work, 'Colleague Bundle Signer', { codeSigning: true });
  });

  /** The refusal exportBundle throws for `prev` (nothing written at `to`): its code and the signature's. */
  async function refusal(prev: string, options: { catalog?: string; signing?: { keyFile: string; certFile: string } } = {}): Promise<{ code: string; signature: unknown }> {
    const to = path.join(work, `refused-${path.basename(prev)}-${Math.random().toString(36).slice(2)}.zip`);
    const e = await exportBundle({ catalog: options.catalog ?? low, to, sinceBundle: prev, signing: options.signing ?? signing() }).then(
      () => assert.fail(`the export following ${prev} was not refused`),
      (err: unknown) => err,
    );
    assert.ok(e instanceof CabferryError, String(e));
    assert.equal(e.kind, 'negative', e.message);
    assert.ok(!fs.existsSync(to), 'nothing written at --to');
    assert.deepEqual(fs.readdirSync(work).filter((n) => n.startsWith('.refused-')), [], 'no temp file left beside --to');
    return { code: e.code, signature: (e.data?.signature as { code?: string } | undefined)?.code };
  }

  it('PREV whose manifest was edited after signing (one SHA-256 added to carriedBefore) is refused: exit 1, EARLIER_BUNDLE_SIGNATURE_INVALID naming PREV, nothing written at --to', async () => {
    // the low side holds a payload the first bundle did not carry; the edited list claims it was carried
    const lowCopy = path.join(work, 'low-edited-prev');
    fs.cpSync(low, lowCopy, { recursive: true });
    const catalog = openCatalog({ dir: lowCopy });
    let added: string;
    try {
      const summary = await importPayloads(catalog, [fixturePath('payloads')], { knowledgeBase, trust: trust(), allowSha1Only: true });
      added = summary.results.find((x) => x.outcome === 'imported')!.sha256!;
    } finally {
      catalog.close();
    }
    const prev = copyBundle('prev-edited');
    const file = path.join(prev, BUNDLE.manifest);
    const doc = JSON.parse(fs.readFileSync(file, 'utf8')) as TransferManifest;
    doc.carriedBefore = [...doc.carriedBefore, added].sort();
    fs.writeFileSync(file, serializeJson(doc));
    assert.deepEqual(await refusal(prev, { catalog: lowCopy }), { code: 'EARLIER_BUNDLE_SIGNATURE_INVALID', signature: 'SIG_MESSAGE_DIGEST_MISMATCH' });

    const to = path.join(work, 'after-edited');
    const cli = ['export', '--catalog', lowCopy, '--since-bundle', prev, '--to', to, '--sign-key', signing().keyFile, '--sign-cert', signing().certFile];
    const text = runCli(cli);
    assert.equal(text.status, 1, text.stdout + text.stderr);
    assert.equal(text.stdout, '');
    const line = text.stderr.trim();
    assert.equal(line.split('\n').length, 1, line);
    assert.ok(line.startsWith(`cabferry: ${prev}: `), line);
    assert.match(line, /SIG_MESSAGE_DIGEST_MISMATCH.*nothing was exported.*without --since-bundle.*--since DATE \[EARLIER_BUNDLE_SIGNATURE_INVALID\]$/);
    const json = runCli([...cli, '--json']);
    assert.equal(json.status, 1);
    const error = assertErrorDocument(json.stdout, 'EARLIER_BUNDLE_SIGNATURE_INVALID') as { file?: string; detail?: string; data?: { signature?: { code?: string } } };
    assert.equal(error.file, prev);
    assert.equal(error.data?.signature?.code, 'SIG_MESSAGE_DIGEST_MISMATCH');
    assert.match(error.detail ?? '', /\[SIG_MESSAGE_DIGEST_MISMATCH\]$/);
    assert.ok(!fs.existsSync(to), 'nothing written at --to');
  });

  it('PREV without its signature is refused: EARLIER_BUNDLE_UNSIGNED, nothing written (folder and zip)', async () => {
    const prev = copyBundle('prev-unsigned');
    fs.rmSync(path.join(prev, BUNDLE.signature));
    assert.deepEqual(await refusal(prev), { code: 'EARLIER_BUNDLE_UNSIGNED', signature: undefined });
    const zip = path.join(work, 'prev-unsigned.zip');
    const out = new yazl.ZipFile();
    for (const f of [...manifestOf(prev).files.map((x) => x.path), BUNDLE.manifest]) out.addFile(path.join(prev, ...f.split('/')), f);
    out.end();
    await new Promise<void>((resolve, reject) => out.outputStream.pipe(fs.createWriteStream(zip)).on('close', resolve).on('error', reject));
    assert.deepEqual(await refusal(zip), { code: 'EARLIER_BUNDLE_UNSIGNED', signature: undefined });
  });

  it('PREV signed by a key the catalog does not trust for signatures, not the signing certificate, is refused (an unrelated root; a root trusted for payloads only)', async () => {
    const stranger = issueSigner(work, 'Stranger Bundle Signer', { codeSigning: true }, 'other-root');
    const prev = copyBundle('prev-stranger');
    resignFolder(prev, undefined, { keyFile: stranger.key, certFile: stranger.cert });
    assert.deepEqual(await refusal(prev, { catalog: lowSigning }), { code: 'EARLIER_BUNDLE_SIGNATURE_INVALID', signature: 'CHAIN_UNTRUSTED' });
    // the colleague chains to the test root, which `low` trusts for payloads only
    const byColleague = copyBundle('prev-colleague-payload-root');
    resignFolder(byColleague, undefined, { keyFile: colleague.key, certFile: colleague.cert });
    assert.deepEqual(await refusal(byColleague, { catalog: low }), { code: 'EARLIER_BUNDLE_SIGNATURE_INVALID', signature: 'SIGNER_ANCHOR_PAYLOADS_ONLY' });
  });

  it('PREV signed under an anchor the catalog trusts for signatures is accepted though another certificate signs now', async () => {
    const prev = copyBundle('prev-colleague');
    resignFolder(prev, undefined, { keyFile: colleague.key, certFile: colleague.cert });
    const r = await exportBundle({ catalog: lowSigning, to: path.join(work, 'after-colleague.zip'), sinceBundle: prev, signing: signing() });
    assert.deepEqual([r.payloads.length, r.carriedBefore, r.signer], [0, 18, 'Cabferry Test Code Signer']);
    // the same bundle, for a catalog that trusts that root for payloads only, and signed now by the colleague: its own certificate vouches
    const mine = await exportBundle({ catalog: low, to: path.join(work, 'after-colleague-self.zip'), sinceBundle: prev, signing: { keyFile: colleague.key, certFile: colleague.cert } });
    assert.deepEqual([mine.payloads.length, mine.carriedBefore], [0, 18]);
    // and for that catalog signed by the fixture signer, neither vouches
    assert.deepEqual(await refusal(prev, { catalog: low }), { code: 'EARLIER_BUNDLE_SIGNATURE_INVALID', signature: 'SIGNER_ANCHOR_PAYLOADS_ONLY' });
  });

  it('PREV signed by a certificate expired by now is judged at its createdAt: accepted when it was made while the certificate was valid, refused when it says it was made after (or later than now)', async () => {
    const expired = { keyFile: fixturePath('pki', 'leaf-expired.key'), certFile: fixturePath('pki', 'leaf-expired-chain.pem') };
    const made = (name: string, createdAt: string): string => {
      const prev = copyBundle(name);
      resignFolder(prev, (m) => { m.createdAt = createdAt; }, expired, new Date('2019-06-01T00:00:00Z'));
      return prev;
    };
    const inTime = made('prev-expired-in-time', '2019-06-01T00:00:00.000Z');
    const r = await exportBundle({ catalog: lowSigning, to: path.join(work, 'after-expired.zip'), sinceBundle: inTime, signing: signing() });
    assert.deepEqual([r.payloads.length, r.carriedBefore, r.follows?.createdAt], [0, 18, '2019-06-01T00:00:00.000Z']);
    for (const [name, createdAt] of [['prev-expired-late', '2020-06-01T00:00:00.000Z'], ['prev-expired-future', '2999-01-01T00:00:00.000Z']] as const) {
      assert.deepEqual(await refusal(made(name, createdAt), { catalog: lowSigning }), { code: 'EARLIER_BUNDLE_SIGNATURE_INVALID', signature: 'CHAIN_EXPIRED' }, name);
    }
  });
});

/** The SHA-256 of a zip bundle's manifest, read with the bundle reader. */
async function zipManifestSha256(zip: string): Promise<string> {
  const b = await openBundle(zip);
  try {
    return sha256Hex(await b.read(BUNDLE.manifest, 1 << 26));
  } finally {
    b.close();
  }
}

describe('a bundle altered after signing', () => {
  const firstPayload = () => manifestOf(firstFolder).payloads[0];
  const alterations: [string, (dir: string) => void, (s: BundleImportSummary) => void][] = [
    ['one byte in a payload', (dir) => {
      const file = path.join(dir, ...firstPayload().path.split('/'));
      const bytes = fs.readFileSync(file);
      bytes[Math.floor(bytes.length / 2)] ^= 0x01;
      fs.writeFileSync(file, bytes);
    }, (s) => assert.deepEqual(s.bundle.altered.map((a) => a.path), [firstPayload().path])],
    ['one field in a record', (dir) => {
      const file = path.join(dir, ...firstPayload().record.split('/'));
      const record = JSON.parse(fs.readFileSync(file, 'utf8')) as { payload: { title: string } };
      record.payload.title = `${record.payload.title} (edited)`;
      fs.writeFileSync(file, JSON.stringify(record, null, 2) + '\n');
    }, (s) => assert.deepEqual(s.bundle.altered.map((a) => a.path), [firstPayload().record])],
    ['a removed file', (dir) => fs.rmSync(path.join(dir, ...firstPayload().path.split('/'))),
      (s) => assert.deepEqual(s.bundle.missing, [firstPayload().path])],
    ['an added file', (dir) => fs.copyFileSync(fixturePath('payloads', 'Windows6.0-KB948465-x64.msu'), path.join(dir, 'payloads', 'Windows6.0-KB948465-x64.msu')),
      (s) => assert.deepEqual(s.bundle.unexpected, ['payloads/Windows6.0-KB948465-x64.msu'])],
    ['a removed signature', (dir) => fs.rmSync(path.join(dir, BUNDLE.signature)),
      (s) => assert.equal(s.bundle.signature.status, 'absent')],
    ['an edited manifest', (dir) => {
      const m = manifestOf(dir);
      m.sourceCatalog = 'elsewhere';
      fs.writeFileSync(path.join(dir, BUNDLE.manifest), JSON.stringify(m, null, 2) + '\n');
    }, (s) => {
      assert.equal(s.bundle.signature.status, 'invalid');
      assert.equal((s.bundle.signature as { code: string }).code, 'SIG_MESSAGE_DIGEST_MISMATCH');
    }],
  ];
  for (const [what, alter, expect] of alterations) {
    it(`is refused whole: ${what}; nothing imported, exit 1`, async () => {
      const dir = copyBundle(`altered-${what.replace(/\W+/g, '-')}`);
      alter(dir);
      const high = path.join(work, `high-altered-${what.replace(/\W+/g, '-')}`);
      const s = await importInto(high, dir);
      assert.equal(s.refused, true);
      assert.equal(s.bundle.ok, false);
      expect(s);
      assert.equal(s.imported + s.duplicates + s.rejected, 0);
      assert.deepEqual(catalogPayloadKeys(high), []);
      const catalog = openCatalog({ dir: high, access: 'read' });
      try {
        assert.deepEqual(checkCatalog(catalog).problems, [], 'no temp file or blob left behind');
        const refusal = catalog.events();
        assert.equal(refusal.length, 1);
        assert.match(refusal[0].code ?? '', /^BUNDLE_(ALTERED|UNSIGNED|SIGNATURE_INVALID)$/);
      } finally {
        catalog.close();
      }
      const cli = runCli(['import', '--catalog', path.join(work, `cli-altered-${what.replace(/\W+/g, '-')}`), '--trust', rootPem, dir]);
      assert.equal(cli.status, 1, cli.stderr);
      assert.match(cli.stdout, /REFUSED/);
    });
  }

  it('is refused whole as a zip: one byte flipped inside a stored payload', async () => {
    const bytes = fs.readFileSync(firstZip);
    const payload = fs.readFileSync(path.join(firstFolder, ...firstPayload().path.split('/')));
    const at = bytes.indexOf(payload.subarray(4096, 4160));
    assert.ok(at > 0, 'payloads are stored, not deflated');
    bytes[at + 10] ^= 0x80;
    const zip = path.join(work, 'flipped.zip');
    fs.writeFileSync(zip, bytes);
    const high = path.join(work, 'high-flipped');
    const s = await importInto(high, zip);
    assert.equal(s.refused, true);
    assert.deepEqual(s.bundle.altered.map((a) => a.path), [firstPayload().path]);
    assert.deepEqual(catalogPayloadKeys(high), []);
  });

  it('is refused whole as a zip: one byte changed inside a deflated record (unreadable, not only different): exit 1, one rejected line in the audit log, as for any altered file', async () => {
    const bytes = fs.readFileSync(firstZip);
    const record = firstPayload().record;
    // the record's deflated bytes, found by its directory record (yazl's local headers leave the sizes to a data descriptor): its first byte made to announce a deflate block of the reserved type
    const end = bytes.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
    let cd = bytes.readUInt32LE(end + 16);
    while (bytes.subarray(cd + 46, cd + 46 + bytes.readUInt16LE(cd + 28)).toString('utf8') !== record) cd += 46 + bytes.readUInt16LE(cd + 28) + bytes.readUInt16LE(cd + 30) + bytes.readUInt16LE(cd + 32);
    assert.equal(bytes.readUInt16LE(cd + 10), 8, 'a deflated record');
    const local = bytes.readUInt32LE(cd + 42);
    bytes[local + 30 + bytes.readUInt16LE(local + 26) + bytes.readUInt16LE(local + 28)] = 0xff;
    const zip = path.join(work, 'flipped-record.zip');
    fs.writeFileSync(zip, bytes);
    const high = signatureAnchored(path.join(work, 'high-flipped-record'));
    const s = await importInto(high, zip);
    assert.equal(s.refused, true);
    assert.deepEqual(s.bundle.altered.map((a) => a.path), [record]);
    assert.match(s.bundle.altered[0]!.reason, /^unreadable: cannot read entry: .*\[ZIP_ENTRY_CORRUPT\]$/);
    assert.deepEqual(catalogPayloadKeys(high), []);
    const cli = runCli(['import', '--catalog', high, '--trust', rootPem, zip]);
    assert.equal(cli.status, 1, cli.stdout + cli.stderr);
    assert.match(cli.stdout, /^REFUSED \[BUNDLE_ALTERED\] .*altered/m);
    const catalog = openCatalog({ dir: high, access: 'read' });
    try {
      assert.deepEqual(catalog.events().map((e) => [e.outcome, e.code]), [['rejected', 'BUNDLE_ALTERED'], ['rejected', 'BUNDLE_ALTERED']]);
    } finally {
      catalog.close();
    }
  });

  it('is refused whole as a zip: an entry added beside the signed files', async () => {
    const zip = path.join(work, 'added.zip');
    const out = new yazl.ZipFile();
    const manifest = manifestOf(firstFolder);
    for (const f of [...manifest.files.map((x) => x.path), BUNDLE.manifest, BUNDLE.signature]) out.addFile(path.join(firstFolder, ...f.split('/')), f);
    out.addBuffer(Buffer.from('@echo off\n'), 'payloads/extra.cmd');
    out.end();
    await new Promise<void>((resolve, reject) => out.outputStream.pipe(fs.createWriteStream(zip)).on('close', resolve).on('error', reject));
    const high = path.join(work, 'high-added-zip');
    const s = await importInto(high, zip);
    assert.equal(s.refused, true);
    assert.deepEqual(s.bundle.unexpected, ['payloads/extra.cmd']);
    assert.deepEqual(catalogPayloadKeys(high), []);
  });

  it('is refused when signed by a certificate the high side does not trust', async () => {
    const high = path.join(work, 'high-untrusted');
    const catalog = openCatalog({ dir: high });
    try {
      const s = await importTransferBundle(catalog, firstFolder, { knowledgeBase, trust: trust(), signatureTrust: { anchors: loadTrustAnchors([fixturePath('pki', 'other-root.pem')]), payloadsOnly: [] } });
      assert.equal(s.refused, true);
      assert.equal(s.bundle.signature.status, 'invalid');
      assert.equal(catalog.payloads().length, 0);
    } finally {
      catalog.close();
    }
  });
});

describe('a low-side record that this side does not reproduce', () => {
  it('is reported; the record kept is this side\'s own verification', async () => {
    const lowCopy = path.join(work, 'low-edited');
    fs.cpSync(low, lowCopy, { recursive: true });
    const catalog = openCatalog({ dir: lowCopy });
    let sha = '';
    try {
      sha = catalog.payloads()[0].sha256;
      // the low side's catalog says something the bytes do not (an honest bug, or an edited database)
      catalog.db.prepare(`UPDATE payloads SET payload_json = json_set(payload_json, '$.title', 'Not what the package says') WHERE sha256 = ?`).run(sha);
    } finally {
      catalog.close();
    }
    const bundle = path.join(work, 'edited-records');
    await exportBundle({ catalog: lowCopy, to: bundle, signing: signing() });
    const high = path.join(work, 'high-edited');
    const s = await importInto(high, bundle);
    assert.equal(s.refused, false);
    assert.equal(s.imported, 18);
    assert.deepEqual(s.mismatches.map((m) => [m.sha256, m.fields]), [[sha, ['payload']]]);
    assert.deepEqual(records(high), records(low), 'the high side stored its own reading of the bytes');
  });
});

describe('a bundle import killed at its file-system steps', () => {
  it('leaves the catalog as it was (nothing committed, only what check --repair removes); importing again completes it', async () => {
    const countFile = path.join(work, 'bundle-mutations');
    const probe = await runChild(crashChild, [`count:${countFile}`, 'import', '--catalog', signatureAnchored(path.join(work, 'kill-probe')), '--trust', rootPem, '--json', firstZip]);
    assert.equal(probe.status, 0, probe.stderr);
    const points = Number(fs.readFileSync(countFile, 'utf8'));
    const expected = catalogPayloadKeys(low);
    // every step would take minutes; both ends and an even spread cover spooling and publishing
    // (the last counted step is the last blob's rename: the commit itself is SQLite's, uncounted)
    const chosen = [...new Set([1, points, ...Array.from({ length: 5 }, (_, i) => 1 + Math.floor(((i + 1) * (points - 1)) / 6))])].sort((a, b) => a - b);
    for (const n of chosen) {
      const dir = path.join(work, `kill-${n}`);
      const run = await runChild(crashChild, [String(n), 'import', '--catalog', signatureAnchored(dir), '--trust', rootPem, '--json', firstZip]);
      assert.equal(run.signal, 'SIGKILL', `crash point ${n} of ${points}: ${run.stderr}`);
      const keys = fs.existsSync(path.join(dir, 'catalog.sqlite')) ? catalogPayloadKeys(dir) : [];
      assert.deepEqual(keys, [], `crash point ${n} of ${points}: ${keys.length} payloads committed before the bundle's one transaction`);
      if (fs.existsSync(path.join(dir, 'catalog.sqlite'))) {
        const c = openCatalog({ dir });
        try {
          const bad = checkCatalog(c).problems.filter((p) => !repairable.includes(p.kind));
          assert.deepEqual(bad, [], `crash point ${n}`);
        } finally {
          c.close();
        }
      }
      const again = runCli(['import', '--catalog', dir, '--trust', rootPem, '--json', firstZip]);
      assert.equal(again.status, 0, `crash point ${n}: ${again.stderr}`);
      assert.deepEqual(catalogPayloadKeys(dir), expected);
      const c = openCatalog({ dir });
      try {
        assert.equal(checkCatalog(c, { repair: true }).ok, true);
        assert.deepEqual(checkCatalog(c).problems, []);
      } finally {
        c.close();
      }
    }
  });
});

/**
 * The bundle folder `dir`, after `edit` changed its files or manifest, hashed and signed again with
 * the test signer: what a low side (or whoever holds its key) could sign. The high side checks the
 * signature, then must judge the contents as it would any input.
 */
function resignFolder(dir: string, edit: (manifest: TransferManifest) => void = () => undefined, signer: { keyFile: string; certFile: string } = signing(), at = new Date()): void {
  const manifest = manifestOf(dir);
  edit(manifest);
  for (const f of manifest.files) {
    const file = path.join(dir, ...f.path.split('/'));
    if (!fs.existsSync(file)) continue;
    const bytes = fs.readFileSync(file);
    f.size = bytes.length;
    f.sha256 = sha256Hex(bytes);
  }
  const bytes = serializeJson(manifest);
  fs.writeFileSync(path.join(dir, BUNDLE.manifest), bytes);
  fs.writeFileSync(path.join(dir, BUNDLE.signature), signDetached(bytes, loadSigningMaterial({ ...signer, now: at }), at));
}

/** The zip's bytes with the signature of its `index`-th central directory record broken (no ZIP64 in these small bundles). */
function breakDirectoryRecord(zip: Buffer, index: number): Buffer {
  const bytes = Buffer.from(zip);
  const end = bytes.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  let at = bytes.readUInt32LE(end + 16);
  for (let i = 0; i < index; i++) at += 46 + bytes.readUInt16LE(at + 28) + bytes.readUInt16LE(at + 30) + bytes.readUInt16LE(at + 32);
  assert.equal(bytes.readUInt32LE(at), 0x02014b50, 'a central directory record');
  bytes.writeUInt32LE(0xdeadbeef, at);
  return bytes;
}

/** The zip's bytes with the "encrypted" flag set on the entry `name`, in its directory record and its local header. */
function flagEncrypted(zip: Buffer, name: string): Buffer {
  const bytes = Buffer.from(zip);
  const end = bytes.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  let at = bytes.readUInt32LE(end + 16);
  for (let i = 0; i < bytes.readUInt16LE(end + 10); i++) {
    const length = bytes.readUInt16LE(at + 28);
    if (bytes.subarray(at + 46, at + 46 + length).toString('utf8') === name) {
      bytes.writeUInt16LE(bytes.readUInt16LE(at + 8) | 1, at + 8);
      const local = bytes.readUInt32LE(at + 42);
      bytes.writeUInt16LE(bytes.readUInt16LE(local + 6) | 1, local + 6);
      return bytes;
    }
    at += 46 + length + bytes.readUInt16LE(at + 30) + bytes.readUInt16LE(at + 32);
  }
  throw new Error(`no entry ${name}`);
}

describe('a damaged or hostile bundle', () => {
  it('a bundle zip whose directory is damaged after its first payload is refused whole (exit 3, ZIP_CORRUPT), never walked as a plain zip whose payloads before the damage are imported one by one', async () => {
    const zip = path.join(work, 'damaged-directory.zip');
    // entries 0 and 1 are the first payload and its record; the manifest, written last, is beyond the damage
    fs.writeFileSync(zip, breakDirectoryRecord(fs.readFileSync(firstZip), 2));
    assert.equal(await isTransferBundle(zip), true);
    const high = signatureAnchored(path.join(work, 'high-damaged-directory'));
    const text = runCli(['import', '--catalog', high, '--trust', rootPem, zip]);
    assert.equal(text.status, 3, text.stdout + text.stderr);
    assert.match(text.stderr, /corrupt zip directory: .*after entry 2 "records\/[0-9a-f]{64}\.json".*refused, nothing imported \[ZIP_CORRUPT\]/);
    const json = runCli(['import', '--catalog', high, '--trust', rootPem, '--json', zip]);
    assert.equal(json.status, 3);
    assertErrorDocument(json.stdout, 'ZIP_CORRUPT');
    assert.deepEqual(catalogPayloadKeys(high), []);
    // refused as unreadable, it leaves the one audit line a refused bundle leaves
    assert.deepEqual(auditLines(high), [['rejected', 'ZIP_CORRUPT', zip], ['rejected', 'ZIP_CORRUPT', zip]]);
    // met by the walk of a folder holding it, it is a bundle too: the command is refused, nothing imported
    const usb = path.join(work, 'usb-damaged-directory');
    fs.mkdirSync(usb);
    fs.copyFileSync(zip, path.join(usb, 'carried.zip'));
    fs.copyFileSync(fixturePath('payloads', 'Windows6.0-KB4493730-x64.msu'), path.join(usb, 'a-loose.msu'));
    const nested = runCli(['import', '--catalog', high, '--trust', rootPem, '--json', usb]);
    assert.equal(nested.status, 2, nested.stdout + nested.stderr);
    assert.match(assertErrorDocument(nested.stdout, 'BUNDLE_NESTED').message, /laid out as a transfer bundle.*directory is damaged/);
    assert.deepEqual(catalogPayloadKeys(high), []);
    // a plain zip damaged the same way still imports what precedes the damage, as before
    const plain = path.join(work, 'plain-damaged.zip');
    const out = new yazl.ZipFile();
    for (const f of ['Windows6.0-KB4493730-x64.msu', 'Windows6.0-KB4493730-x86.msu', 'Windows6.0-KB4499180-x64.msu']) out.addFile(fixturePath('payloads', f), f);
    out.end();
    const chunks: Buffer[] = [];
    for await (const chunk of out.outputStream as AsyncIterable<Buffer>) chunks.push(chunk);
    fs.writeFileSync(plain, breakDirectoryRecord(Buffer.concat(chunks), 1));
    assert.equal(await isTransferBundle(plain), false);
    const walked = runCli(['import', '--catalog', path.join(work, 'high-plain-damaged'), '--trust', rootPem, '--json', plain]);
    assert.equal(walked.status, 1, walked.stderr);
    const doc = JSON.parse(walked.stdout) as { kind: string; imported: number; results: { code: string | null }[] };
    assert.deepEqual([doc.kind, doc.imported, doc.results.at(-1)?.code], ['payloads', 1, 'ZIP_CORRUPT']);
  });

  it('a signed bundle whose record is not the shape of one (a signature or member that is not an object) is malformed input naming the record (exit 3), not an internal error; nothing imported', () => {
    for (const field of ['signatures', 'members'] as const) {
      const dir = copyBundle(`record-${field}-null`);
      const record = manifestOf(dir).payloads[0]!.record;
      const file = path.join(dir, ...record.split('/'));
      const doc = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown[]>;
      doc[field] = [...doc[field]!, null];
      fs.writeFileSync(file, JSON.stringify(doc, null, 2) + '\n');
      resignFolder(dir);
      const high = signatureAnchored(path.join(work, `high-record-${field}-null`));
      const text = runCli(['import', '--catalog', high, '--trust', rootPem, dir]);
      assert.equal(text.status, 3, field + ': ' + text.stdout + text.stderr);
      assert.ok(text.stderr.includes(record), text.stderr);
      assert.match(text.stderr, new RegExp(`${field}\\[\\d+\\] is not an object.*\\[BUNDLE_RECORD_MALFORMED\\]`));
      const json = runCli(['import', '--catalog', high, '--trust', rootPem, '--json', dir]);
      assert.equal(json.status, 3, field);
      assertErrorDocument(json.stdout, 'BUNDLE_RECORD_MALFORMED');
      assert.deepEqual(catalogPayloadKeys(high), []);
      assert.deepEqual(auditLines(high), [['rejected', 'BUNDLE_RECORD_MALFORMED', dir], ['rejected', 'BUNDLE_RECORD_MALFORMED', dir]]);
    }
  });

  it('a bundle zip whose manifest entry is encrypted is refused naming the manifest and why (BUNDLE_MANIFEST_UNREADABLE, exit 3), not as "no cabferry-bundle.json"', () => {
    const zip = path.join(work, 'encrypted-manifest.zip');
    fs.writeFileSync(zip, flagEncrypted(fs.readFileSync(firstZip), BUNDLE.manifest));
    const high = signatureAnchored(path.join(work, 'high-encrypted-manifest'));
    const text = runCli(['import', '--catalog', high, '--trust', rootPem, zip]);
    assert.equal(text.status, 3, text.stdout + text.stderr);
    assert.match(text.stderr, /cabferry-bundle\.json: encrypted: .*refused, nothing imported \[BUNDLE_MANIFEST_UNREADABLE\]/);
    assertErrorDocument(runCli(['import', '--catalog', high, '--trust', rootPem, '--json', zip]).stdout, 'BUNDLE_MANIFEST_UNREADABLE');
    assert.deepEqual(catalogPayloadKeys(high), []);
  });

  it('names from a refused bundle reach the text output with their control characters escaped: an entry name cannot print lines that say something was imported', () => {
    const forged = '\nimported    KB4493730 /media/usb/Windows6.0-KB4493730-x64.msu\n18 imported, 0 duplicate(s), 0 rejected\n';
    const zip = path.join(work, 'forged-lines.zip');
    fs.writeFileSync(zip, buildZip([
      { name: BUNDLE.manifest, data: fs.readFileSync(path.join(firstFolder, BUNDLE.manifest)) },
      { name: BUNDLE.signature, data: fs.readFileSync(path.join(firstFolder, BUNDLE.signature)) },
      { name: `../x${forged}`, data: Buffer.from('x') },
      { name: `payloads/extra${forged}`, data: Buffer.from('x') },
    ]));
    const high = signatureAnchored(path.join(work, 'high-forged-lines'));
    const text = runCli(['import', '--catalog', high, '--trust', rootPem, zip]);
    assert.equal(text.status, 1, text.stdout + text.stderr);
    assert.match(text.stdout, /REFUSED/);
    assert.deepEqual(text.stdout.split('\n').filter((l) => /^(imported|18 imported)/.test(l)), [], text.stdout);
    assert.ok(text.stdout.includes('\\x0aimported    KB4493730'), text.stdout);
    // --json carries the names as they are (JSON escapes them)
    const json = JSON.parse(runCli(['import', '--catalog', high, '--trust', rootPem, '--json', zip]).stdout) as BundleImportSummary;
    assert.ok(json.bundle.problems.some((p) => p.startsWith(`../x${forged}`)) && json.bundle.unexpected.includes(`payloads/extra${forged}`), JSON.stringify(json.bundle));
    assert.deepEqual(catalogPayloadKeys(high), []);
  });
});
