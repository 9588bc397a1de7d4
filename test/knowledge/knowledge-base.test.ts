import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isCabferryError } from '../../src/errors';
import { familyForNtVersion, loadKnowledgeBase, normaliseKb, parseKbFamily } from '../../src/knowledge/knowledge-base';
import { projectRoot, tempDir } from '../helpers';

const kbDir = path.join(projectRoot, 'catalog', 'kb');

function rejects(doc: unknown, pattern: RegExp): void {
  assert.throws(
    () => parseKbFamily(doc, 'x.json'),
    (e: unknown) => isCabferryError(e) && e.code === 'KB_BAD_FACT' && e.kind === 'input' && pattern.test(e.message),
  );
}

function nt60Doc(): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(path.join(kbDir, 'nt6.0.json'), 'utf8')) as Record<string, unknown>;
}

describe('knowledge base (catalog/kb)', () => {
  const kb = loadKnowledgeBase(kbDir);
  const nt60 = familyForNtVersion(kb, '6.0')!;
  const nt61 = familyForNtVersion(kb, '6.1')!;

  it('ships one family per NT version, each fact with a source naming its KB article', () => {
    assert.deepEqual(kb.families.map((f) => f.ntVersion).sort(), ['6.0', '6.1']);
    for (const f of kb.families) {
      for (const u of f.updates.values()) {
        assert.match(u.source, new RegExp(u.kb), `${u.kb}'s source cites its own KB`);
        for (const p of u.prerequisites) assert.match(p.source, /KB\d+/, `${u.kb} → ${p.kb} has a source`);
      }
    }
  });

  it('holds the Server 2008 SP2 story of issue #6', () => {
    assert.equal(nt60.minimumServicePackKb, 'KB948465');
    assert.equal(nt60.updates.get('KB948465')!.setsBuild, 6002);
    assert.equal(nt60.sha2SupportKb, 'KB4474419');
    assert.deepEqual(nt60.updates.get('KB4474419')!.prerequisites.map((p) => p.kb), ['KB4493730']);
    assert.equal(nt60.updates.get('KB4474419')!.fileHint, 'Windows6.0-KB4474419-v4-{arch}.msu');
    assert.equal(nt60.updates.get('KB4493730')!.servicingStackVersion, '6.0.6003.20484');
    assert.equal(nt60.updates.get('KB4489887')!.setsBuild, 6003);
    assert.equal(nt60.updates.get('KB4493471')!.setsBuild, 6003);
    assert.equal(nt60.updates.get('KB4499180')!.role, 'security-only');
    assert.equal(nt60.updates.get('KB4520002')!.role, 'monthly-rollup');
    for (const esu of ['KB4538484', 'KB4575904']) assert.equal(nt60.updates.get(esu)!.role, 'esu-preparation');
    const ssus = [...nt60.updates.values()].filter((u) => u.role === 'servicing-stack').map((u) => u.kb);
    assert.deepEqual(ssus, ['KB4493730', 'KB4517134', 'KB4526478', 'KB4537830', 'KB4562031', 'KB4572374', 'KB4580971', 'KB5006750', 'KB5010452', 'KB5011942', 'KB5016129']);
    assert.equal(nt60.updates.get('KB5016129')!.released.slice(0, 7), '2022-07');
    // SHA-2 support never shipped for Vista
    assert.deepEqual(nt60.updates.get('KB4474419')!.products, ['Windows Server 2008']);
  });

  it('lists SSUs in release order so each one supersedes the earlier ones', () => {
    for (const f of [nt60, nt61]) {
      const dates = [...f.updates.values()].filter((u) => u.role === 'servicing-stack').map((u) => u.released);
      assert.deepEqual(dates, [...dates].sort(), `${f.family} SSU dates ascend`);
    }
  });

  it('holds the NT 6.1 counterparts', () => {
    assert.equal(nt61.minimumServicePackKb, 'KB976932');
    assert.equal(nt61.updates.get('KB976932')!.setsBuild, 7601);
    assert.deepEqual(nt61.updates.get('KB4474419')!.prerequisites.map((p) => p.kb), ['KB4490628']);
    assert.equal(nt61.updates.get('KB4474419')!.fileHint, 'windows6.1-KB4474419-v3-{arch}.msu');
  });

  it('rejects broken family documents with one typed error each', () => {
    const withUpdate = (patch: (u: Record<string, unknown>[]) => void): Record<string, unknown> => {
      const d = nt60Doc();
      patch(d.updates as Record<string, unknown>[]);
      return d;
    };
    rejects({ ...nt60Doc(), schema: 2 }, /schema/);
    rejects({ ...nt60Doc(), ntVersion: 'six' }, /major\.minor/);
    rejects(withUpdate((u) => (u[1].released = '2019-13-45')), /released/);
    rejects(withUpdate((u) => (u[1].role = 'magic')), /unknown role/);
    rejects(withUpdate((u) => (u[1].kb = 'KB12')), /not a KB number/);
    rejects(withUpdate((u) => u.push({ ...u[1] })), /listed twice/);
    rejects(withUpdate((u) => ((u[2].prerequisites as unknown[]).push({ kb: 'KB1234567', source: 'x KB1234567' }))), /not described/);
    rejects(withUpdate((u) => ((u[1] as Record<string, unknown>).prerequisites = [{ kb: 'KB4474419', source: 'KB4474419' }])), /cycle/);
    rejects(withUpdate((u) => (u[2].role = 'other')), /sha2-support/);
    rejects(withUpdate((u) => (u[1].products = ['Windows 95'])), /not one of the family's products/);
    rejects(withUpdate((u) => delete u[1].source), /source/);
  });

  it('refuses an unreadable folder, bad JSON and two files for one NT version', () => {
    const dir = tempDir();
    assert.throws(() => loadKnowledgeBase(dir), (e: unknown) => isCabferryError(e) && e.code === 'KB_EMPTY');
    fs.writeFileSync(path.join(dir, 'a.json'), '{');
    assert.throws(() => loadKnowledgeBase(dir), (e: unknown) => isCabferryError(e) && e.code === 'KB_BAD_JSON' && e.file === path.join(dir, 'a.json'));
    fs.writeFileSync(path.join(dir, 'a.json'), JSON.stringify(nt60Doc()));
    fs.writeFileSync(path.join(dir, 'b.json'), JSON.stringify(nt60Doc()));
    assert.throws(() => loadKnowledgeBase(dir), (e: unknown) => isCabferryError(e) && e.code === 'KB_DUPLICATE_FAMILY');
    assert.throws(() => loadKnowledgeBase(path.join(dir, 'nope')), (e: unknown) => isCabferryError(e) && e.code === 'KB_DIR_UNREADABLE');
  });

  it('normalises KB numbers', () => {
    assert.equal(normaliseKb('kb4474419'), 'KB4474419');
    assert.equal(normaliseKb('4474419'), 'KB4474419');
    assert.equal(normaliseKb(' KB 4474419 '), 'KB4474419');
    assert.equal(normaliseKb('File 1'), null);
    assert.equal(normaliseKb('KB44744190'), null);
  });
});
