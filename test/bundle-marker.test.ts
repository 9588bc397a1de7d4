import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import * as yazl from 'yazl';
import { BUNDLE_MANIFEST_NAME, bundleMarkersIn, bundleRootAmong, isBundleFolder, isBundleLayoutName, isBundleMarkerName } from '../src/bundle-marker';
import { surveySources } from '../src/importer/sources';
import { assertBundleManifest, isTransferBundle, openBundle } from '../src/transfer/bundle-source';
import { assertThrowsCode, fixturePath, tempDir } from './common.helpers';

/**
 * A transfer bundle is recognised by its manifest's name in any letter case (FAT32 sticks, Windows
 * copies and zip tools change it): in a folder's listing and among a zip's entry names, at the
 * root and nested. Recognised, a case-changed bundle is refused by the bundle importer
 * (BUNDLE_MANIFEST_NAME_CASE) or by the import walk (BUNDLE_NESTED), never taken apart into its
 * payloads. The CLI's exit and error codes for these are tested in test/transfer/bundle.test.ts,
 * on real exported bundles.
 */

const CASES = ['CABFERRY-BUNDLE.JSON', 'Cabferry-Bundle.json', 'cabferry-BUNDLE.json', 'cAbFeRrY-bUnDlE.JsOn'];

async function zipOf(file: string, entries: [string, Buffer][]): Promise<void> {
  const out = new yazl.ZipFile();
  for (const [name, bytes] of entries) out.addBuffer(bytes, name);
  out.end();
  await new Promise<void>((resolve, reject) => out.outputStream.pipe(fs.createWriteStream(file)).on('close', resolve).on('error', reject));
}

describe('the bundle marker', () => {
  it('a bundle\'s layout (for a zip whose directory breaks off before its manifest): payloads/SHA256/FILE, records/SHA256.json, the signature; at the root or in a folder, any case', () => {
    const sha = 'ab'.repeat(32);
    for (const name of [`payloads/${sha}/Windows6.0-KB4493730-x64.msu`, `records/${sha}.json`, 'cabferry-bundle.json.p7s', `export/payloads/${sha}/x.msu`, `PAYLOADS\\${sha.toUpperCase()}\\X.MSU`, 'CABFERRY-BUNDLE.JSON.P7S']) {
      assert.equal(isBundleLayoutName(name), true, name);
    }
    for (const name of ['Windows6.0-KB4493730-x64.msu', `payloads/${sha}`, `payloads/${sha.slice(2)}/x.msu`, `payloads/${sha}/a/x.msu`, `records/${sha}.txt`, 'notcabferry-bundle.json.p7s', 'payloads/x.msu']) {
      assert.equal(isBundleLayoutName(name), false, name);
    }
  });

  it('is the manifest name in any letter case, and nothing else', () => {
    for (const name of [BUNDLE_MANIFEST_NAME, ...CASES]) assert.equal(isBundleMarkerName(name), true, name);
    for (const name of ['cabferry-bundle.json.p7s', 'CABFERRY-BUNDLE.JSON.P7S', 'cabferry-bundle.jso', 'xcabferry-bundle.json', 'cabferry-bundle.json ', 'cabferry_bundle.json', 'cabferry-bundle.txt', '']) {
      assert.equal(isBundleMarkerName(name), false, JSON.stringify(name));
    }
  });

  it('marks a folder by its listing: a case-changed manifest (file or folder) is found and named as spelled there', () => {
    const dir = tempDir('cabferry-marker-');
    for (const [i, name] of CASES.entries()) {
      const bundle = path.join(dir, `b${i}`);
      fs.mkdirSync(bundle);
      if (i % 2 === 0) fs.writeFileSync(path.join(bundle, name), '{}');
      else fs.mkdirSync(path.join(bundle, name));
      assert.equal(isBundleFolder(bundle), true, name);
      assert.deepEqual(bundleMarkersIn(bundle), [name]);
    }
    const plain = path.join(dir, 'plain');
    fs.mkdirSync(plain);
    fs.writeFileSync(path.join(plain, 'CABFERRY-BUNDLE.JSON.P7S'), '');
    fs.writeFileSync(path.join(plain, 'cabferry-bundle.txt'), '');
    assert.equal(isBundleFolder(plain), false);
    assert.equal(isBundleFolder(path.join(dir, 'no-such-folder')), false);
  });

  it('marks a zip by its entry names in any case, at the root and nested, "/" or "\\\\" separated', () => {
    assert.equal(bundleRootAmong(['PAYLOADS/x/k.msu', 'CABFERRY-BUNDLE.JSON']), '');
    assert.equal(bundleRootAmong(['export/payloads/x/k.msu', 'export/Cabferry-Bundle.json']), 'export');
    assert.equal(bundleRootAmong(['a\\b\\cabferry-BUNDLE.json']), 'a/b');
    assert.equal(bundleRootAmong(['a/CABFERRY-BUNDLE.JSON/k.msu']), 'a');
    // the shallowest one: the zip itself before a bundle inside it
    assert.equal(bundleRootAmong(['inner/cabferry-bundle.json', 'Cabferry-Bundle.Json']), '');
    assert.equal(bundleRootAmong(['k.msu', 'notes/CABFERRY-BUNDLE.TXT', 'CABFERRY-BUNDLE.JSON.P7S']), null);
  });
});

describe('a bundle whose manifest name changed case', () => {
  it('is a transfer bundle (folder and zip) that the bundle importer refuses as BUNDLE_MANIFEST_NAME_CASE, naming what it found', async () => {
    const dir = tempDir('cabferry-marker-case-');
    const folder = path.join(dir, 'folder');
    fs.mkdirSync(path.join(folder, 'payloads'), { recursive: true });
    fs.writeFileSync(path.join(folder, 'payloads', 'k.msu'), fs.readFileSync(fixturePath('payloads', 'Windows6.0-KB4493730-x64.msu')));
    fs.writeFileSync(path.join(folder, 'CABFERRY-BUNDLE.JSON'), '{}');
    const zip = path.join(dir, 'bundle.zip');
    await zipOf(zip, [['payloads/k.msu', Buffer.from('MSCF')], ['Cabferry-Bundle.json', Buffer.from('{}')]]);
    for (const [bundlePath, found] of [[folder, 'CABFERRY-BUNDLE.JSON'], [zip, 'Cabferry-Bundle.json']] as const) {
      assert.equal(await isTransferBundle(bundlePath), true, bundlePath);
      const bundle = await openBundle(bundlePath);
      try {
        const e = assertThrowsCode(() => assertBundleManifest(bundle), 'BUNDLE_MANIFEST_NAME_CASE', 'input', /rename it back to cabferry-bundle\.json/);
        assert.ok(e.message.includes(`found "${found}"`), e.message);
        assert.equal(e.file, bundlePath);
      } finally {
        bundle.close();
      }
    }
  });

  it('met by the import walk, in a folder or zipped inside a plain zip, is one BUNDLE_NESTED refusal, none of its payloads handed out', async () => {
    const dir = tempDir('cabferry-marker-walk-');
    const msu = fs.readFileSync(fixturePath('payloads', 'Windows6.0-KB4493730-x64.msu'));
    fs.mkdirSync(path.join(dir, 'carried', 'payloads'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'carried', 'payloads', 'k.msu'), msu);
    fs.writeFileSync(path.join(dir, 'carried', 'Cabferry-Bundle.json'), '{}');
    const folderSurvey = await surveySources([dir]);
    assert.equal(folderSurvey.nestedBundle?.label, path.join(dir, 'carried'));
    assert.equal(folderSurvey.items, 1);
    // renaming comes first: the bundle importer refuses the other spelling (BUNDLE_MANIFEST_NAME_CASE)
    assert.match(folderSurvey.nestedBundle?.reason ?? '', /rename its "Cabferry-Bundle\.json" back to cabferry-bundle\.json, then run `cabferry import /);

    const zip = path.join(tempDir('cabferry-marker-walk-'), 'plain.zip');
    await zipOf(zip, [['export/PAYLOADS/x/K.MSU', msu], ['export/CABFERRY-BUNDLE.JSON', Buffer.from('{}')], ['loose.msu', msu]]);
    const zipSurvey = await surveySources([zip]);
    assert.equal(zipSurvey.nestedBundle?.code, 'BUNDLE_NESTED');
    assert.match(zipSurvey.nestedBundle?.reason ?? '', /holds a transfer bundle in export\/ .*extract the zip, rename its "CABFERRY-BUNDLE\.JSON" back to cabferry-bundle\.json and run `cabferry import FOLDER\/export`/);

    // a root marker in another case, the zip met by the walk (given beside other paths)
    const rootZip = path.join(tempDir('cabferry-marker-walk-'), 'carried.zip');
    await zipOf(rootZip, [['payloads/x/k.msu', msu], ['CABFERRY-BUNDLE.JSON', Buffer.from('{}')]]);
    const rootSurvey = await surveySources([rootZip, path.join(dir, 'carried', 'payloads')]);
    assert.match(rootSurvey.nestedBundle?.reason ?? '', /letter case was changed: .*extract the zip, rename its "CABFERRY-BUNDLE\.JSON" back to cabferry-bundle\.json and run `cabferry import FOLDER`/);
    assert.equal(zipSurvey.items, 1);
  });
});
