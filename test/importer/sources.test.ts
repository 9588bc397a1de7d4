import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import * as yazl from 'yazl';
import { unsafeEntryNameReason } from '../../src/importer/entry-names';
import { surveySources, walkSources, type SourceItem } from '../../src/importer/sources';
import { fixturePath, tempDir } from '../common.helpers';

async function collect(paths: string[]): Promise<SourceItem[]> {
  const out: SourceItem[] = [];
  for await (const item of walkSources(paths)) out.push(item);
  return out;
}

describe('import sources', () => {
  it('walks folders recursively in name order, follows symlinked files but not symlinked folders (no loops)', async () => {
    const dir = tempDir();
    const msu = fs.readFileSync(fixturePath('payloads', 'Windows6.0-KB4493730-x64.msu'));
    fs.mkdirSync(path.join(dir, 'b', 'deeper'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'b', 'deeper', 'z.msu'), msu);
    fs.writeFileSync(path.join(dir, 'a.cab'), msu);
    fs.writeFileSync(path.join(dir, 'noext'), msu); // a cabinet by its MSCF magic
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'hello');
    fs.symlinkSync(dir, path.join(dir, 'b', 'loop'));
    fs.symlinkSync(path.join(dir, 'a.cab'), path.join(dir, 'c-link.cab'));
    const items = await collect([dir]);
    assert.deepEqual(
      items.map((i) => `${i.kind} ${path.relative(dir, i.label)}`),
      ['file a.cab', 'file b/deeper/z.msu', 'file c-link.cab', 'file noext', 'skipped notes.txt'],
    );
  });

  it('judges a file named on the command line whatever it looks like', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'hello');
    assert.deepEqual((await collect([path.join(dir, 'notes.txt')])).map((i) => i.kind), ['file']);
  });

  it('reports an unreadable zip as one rejection', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'broken.zip'), 'PK\x03\x04 not really');
    const items = await collect([path.join(dir, 'broken.zip')]);
    assert.deepEqual(items.map((i) => (i.kind === 'rejected' ? i.code : i.kind)), ['ZIP_UNREADABLE']);
  });

  it('refuses entry names that climb, are absolute or carry a drive letter', () => {
    for (const bad of ['../x.msu', 'a/../../x.msu', '..\\x.msu', '/etc/x.msu', '\\\\server\\share\\x.msu', 'C:x.msu', 'c:\\x.msu', 'a\0b.msu', '']) {
      assert.notEqual(unsafeEntryNameReason(bad), null, JSON.stringify(bad));
    }
    for (const good of ['x.msu', 'dir/x.msu', 'dir\\x.msu', 'a..b.msu', '..x.msu']) {
      assert.equal(unsafeEntryNameReason(good), null, good);
    }
  });

  it('never walks a transfer bundle: a bundle zip (its manifest the last entry), a bundle folder, or a bundle folder zipped inside a plain zip is one BUNDLE_NESTED rejection, none of its payloads handed out', async () => {
    const dir = tempDir();
    const msu = fs.readFileSync(fixturePath('payloads', 'Windows6.0-KB4493730-x64.msu'));
    const zipOf = async (file: string, entries: [string, Buffer][]): Promise<void> => {
      const out = new yazl.ZipFile();
      for (const [name, bytes] of entries) out.addBuffer(bytes, name);
      out.end();
      await new Promise<void>((resolve, reject) => out.outputStream.pipe(fs.createWriteStream(file)).on('close', resolve).on('error', reject));
    };
    await zipOf(path.join(dir, 'a-bundle.zip'), [['payloads/x/k.msu', msu], ['cabferry-bundle.json', Buffer.from('{}')]]);
    await zipOf(path.join(dir, 'b-plain.zip'), [['export/payloads/x/k.msu', msu], ['export/cabferry-bundle.json', Buffer.from('{}')]]);
    fs.mkdirSync(path.join(dir, 'c-folder', 'payloads'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'c-folder', 'payloads', 'k.msu'), msu);
    fs.writeFileSync(path.join(dir, 'c-folder', 'cabferry-bundle.json'), '{}');
    fs.writeFileSync(path.join(dir, 'd.msu'), msu);
    const items = await collect([dir]);
    assert.deepEqual(
      items.map((i) => `${i.kind} ${i.kind === 'rejected' ? i.code : ''} ${path.relative(dir, i.label)}`),
      ['rejected BUNDLE_NESTED a-bundle.zip', 'rejected BUNDLE_NESTED b-plain.zip', 'rejected BUNDLE_NESTED c-folder', 'file  d.msu'],
    );
    assert.match((items[1] as { reason: string }).reason, /holds a transfer bundle in export\//);
    const survey = await surveySources([dir]);
    assert.equal(survey.items, 4);
    assert.equal(survey.nestedBundle?.label, path.join(dir, 'a-bundle.zip'));
    // a plain zip and a plain folder are still walked
    await zipOf(path.join(dir, 'e.zip'), [['k.msu', msu], ['notes/cabferry-bundle.txt', Buffer.from('x')]]);
    assert.deepEqual((await collect([path.join(dir, 'e.zip')])).map((i) => i.kind), ['zip-entry', 'skipped']);
  });
});
