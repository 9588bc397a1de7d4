import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildZip } from '../../scripts/lib/zip-writer';
import { openBundle } from '../../src/transfer/bundle-source';
import { fixturePath, runCli, tempDir } from '../common.helpers';
import { knowledgeBaseAsOf } from '../planner/knowledge-as-of.helpers';

/**
 * Names on media come from verified metadata (#17 item 2): whatever name a payload arrived under
 * (a bundle entry naming another KB, a name with "&"), stage names it after its signed identity,
 * and the catalog keeps the names it arrived under as history.
 */

const work = tempDir('cabferry-payload-names-');
const catalog = path.join(work, 'catalog');
const root = fixturePath('pki', 'root.pem');
const hostX64 = fixturePath('hosts', 'srv-fresh-x64.systeminfo.txt');
const hostX86 = fixturePath('hosts', 'srv-x86.systeminfo.txt');
const knowledgeBase = knowledgeBaseAsOf('2019-10-31');
const ssuX64 = fixturePath('payloads', 'Windows6.0-KB4493730-x64.msu');
const ssuX86 = fixturePath('payloads', 'Windows6.0-KB4493730-x86.msu');

interface ImportJson { results: { outcome: string; sha256: string | null; kb: string | null; entry: string | null; label: string }[] }
interface StageJson { payloads: { file: string; sha256: string }[]; hosts: { name: string; installScript: string }[] }

function importJson(paths: string[]): ImportJson {
  const r = runCli(['import', '--catalog', catalog, '--trust', root, ...paths, '--json']);
  assert.ok(r.status === 0 || r.status === 1, r.stderr);
  return JSON.parse(r.stdout) as ImportJson;
}

describe('names on media come from verified metadata', () => {
  let ssuX64Sha = '';
  let ssuX86Sha = '';

  before(() => {
    // the catalog's trust set vouches for what stage offers, not a one-off import --trust (#17 live trust)
    assert.equal(runCli(['trust', 'add', root, '--catalog', catalog]).status, 0);
    // KB4493730 (the servicing stack) under the entry name of the SHA-2 update, in a zip bundle
    const bundle = path.join(work, 'bundle.zip');
    fs.writeFileSync(bundle, buildZip([{ name: 'Windows6.0-KB4474419-v4-x64.msu', data: fs.readFileSync(ssuX64) }]));
    const misnamed = importJson([bundle]).results;
    assert.deepEqual(misnamed.map((r) => [r.outcome, r.kb]), [['imported', 'KB4493730']]);
    ssuX64Sha = misnamed[0].sha256!;
    // the x86 one under a name install.cmd could never use unquoted
    const odd = path.join(work, 'odd');
    fs.mkdirSync(odd);
    fs.copyFileSync(ssuX86, path.join(odd, 'SSU & x86 (copy).msu'));
    const oddResults = importJson([odd]).results;
    assert.deepEqual(oddResults.map((r) => [r.outcome, r.kb]), [['imported', 'KB4493730']]);
    ssuX86Sha = oddResults[0].sha256!;
    // then every fixture under its right name: the two above are duplicates, the real KB4474419 is new
    const rest = importJson([fixturePath('payloads')]).results;
    assert.deepEqual(rest.filter((r) => r.sha256 === ssuX64Sha || r.sha256 === ssuX86Sha).map((r) => r.outcome), ['duplicate', 'duplicate']);
    assert.ok(rest.some((r) => r.kb === 'KB4474419' && r.outcome === 'imported'));
  });

  test('a bundle holding KB4493730 under the entry name Windows6.0-KB4474419-v4-x64.msu: stage names it Windows6.0-KB4493730-x64.msu and stages x64 hosts', () => {
    const to = path.join(work, 'media-x64');
    const r = runCli(['stage', '--catalog', catalog, '--host', hostX64, '--to', to, '--knowledge-base', knowledgeBase, '--json']);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const doc = JSON.parse(r.stdout) as StageJson;
    const byFile = new Map(doc.payloads.map((p) => [p.file, p.sha256]));
    assert.equal(byFile.get('Windows6.0-KB4493730-x64.msu'), ssuX64Sha);
    const sha2 = byFile.get('Windows6.0-KB4474419-v4-x64.msu');
    assert.ok(sha2 !== undefined && sha2 !== ssuX64Sha, `the SHA-2 update is staged under its own name: ${[...byFile.keys()].join(', ')}`);
    assert.deepEqual(fs.readdirSync(path.join(to, 'payloads')).sort(), [...byFile.keys()].sort());
    const script = fs.readFileSync(path.join(to, doc.hosts[0].installScript), 'latin1');
    assert.ok(script.includes('Windows6.0-KB4493730-x64.msu'), 'install.cmd installs the SSU under its verified name');
  });

  test('a source name with "&" no longer breaks stage', () => {
    const to = path.join(work, 'media-x86');
    const r = runCli(['stage', '--catalog', catalog, '--host', hostX86, '--to', to, '--knowledge-base', knowledgeBase, '--json']);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const doc = JSON.parse(r.stdout) as StageJson;
    assert.equal(doc.payloads.find((p) => p.sha256 === ssuX86Sha)?.file, 'Windows6.0-KB4493730-x86.msu');
    assert.ok(doc.payloads.every((p) => /^Windows6\.0-KB\d+(-v\d+)?-x86\.msu$/.test(p.file)), doc.payloads.map((p) => p.file).join(', '));
  });

  test('re-importing under the right name records the name as history', () => {
    const r = runCli(['catalog', 'show', ssuX64Sha, '--catalog', catalog, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const [entry] = (JSON.parse(r.stdout) as { payloads: { fileName: string; sourceNames: string[] }[] }).payloads;
    assert.equal(entry.fileName, 'Windows6.0-KB4474419-v4-x64.msu', 'the first name stays on record');
    assert.deepEqual(entry.sourceNames, ['Windows6.0-KB4474419-v4-x64.msu', 'Windows6.0-KB4493730-x64.msu']);
    const text = runCli(['catalog', 'show', ssuX86Sha, '--catalog', catalog]);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /arrived as {3}SSU & x86 \(copy\)\.msu, Windows6\.0-KB4493730-x86\.msu/);
  });

  test('catalog list shows the name from the verified metadata in its FILE column, not the name the payload first arrived under', () => {
    const r = runCli(['catalog', 'list', '--catalog', catalog, '--kb', 'KB4493730', '--arch', 'amd64']);
    assert.equal(r.status, 0, r.stderr);
    const row = r.stdout.split('\n').find((l) => l.includes(ssuX64Sha.slice(0, 12)));
    assert.ok(row !== undefined, r.stdout);
    assert.match(row, /\sWindows6\.0-KB4493730-x64\.msu$/);
    assert.doesNotMatch(r.stdout, /KB4474419-v4/);
    const json = runCli(['catalog', 'list', '--catalog', catalog, '--kb', 'KB4493730', '--json']);
    const listed = (JSON.parse(json.stdout) as { payloads: { sha256: string; file: string; fileName: string }[] }).payloads.find((p) => p.sha256 === ssuX64Sha)!;
    assert.deepEqual([listed.file, listed.fileName], ['Windows6.0-KB4493730-x64.msu', 'Windows6.0-KB4474419-v4-x64.msu']);
  });

  test('a transfer bundle carries the payload under the name from its verified metadata', async () => {
    const zip = path.join(work, 'export.zip');
    const r = runCli(['export', '--catalog', catalog, '--to', zip, '--sign-key', fixturePath('pki', 'leaf-rsa.key'), '--sign-cert', fixturePath('pki', 'leaf-rsa-chain.pem'), '--json']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { payloads: { sha256: string; fileName: string }[] }).payloads.find((p) => p.sha256 === ssuX64Sha)?.fileName, 'Windows6.0-KB4493730-x64.msu');
    const bundle = await openBundle(zip);
    try {
      const entries = [...bundle.files.keys()];
      assert.ok(entries.includes(`payloads/${ssuX64Sha}/Windows6.0-KB4493730-x64.msu`), entries.join(', '));
      assert.ok(entries.includes(`payloads/${ssuX86Sha}/Windows6.0-KB4493730-x86.msu`), entries.join(', '));
      assert.ok(!entries.some((e) => e.includes('&')));
    } finally {
      bundle.close();
    }
    // and the other side takes it in whole, under that name
    // its signature against the high side's anchor for signatures, its payloads against --trust
    const high = path.join(work, 'high-catalog');
    assert.equal(runCli(['trust', 'add', '--for', 'signatures', root, '--catalog', high]).status, 0);
    const imported = runCli(['import', '--catalog', high, '--trust', root, zip, '--json']);
    assert.equal(imported.status, 0, imported.stdout + imported.stderr);
    const shown = runCli(['catalog', 'show', ssuX64Sha, '--catalog', high, '--json']);
    assert.deepEqual((JSON.parse(shown.stdout) as { payloads: { sourceNames: string[] }[] }).payloads[0]!.sourceNames, ['Windows6.0-KB4493730-x64.msu']);
  });
});
