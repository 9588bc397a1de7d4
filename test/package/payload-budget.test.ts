/**
 * Issue 17, item 1: what a payload makes inspect and import decode and write is bounded by its
 * budget (src/io/payload-budget.ts); an .msu's payload cab is chosen from the member names
 * before anything is decoded, so decoy .cab members are never written or decoded; a quarantine
 * record reads only the identity. Small budgets here; test/cli/payload-budget.test.ts runs the
 * real defaults against the issue's file and measures TMPDIR.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { loadTrustAnchors } from '../../src/authenticode';
import { openCatalog } from '../../src/catalog/catalog';
import { importPayloads } from '../../src/importer/import';
import { PayloadBudget, defaultPayloadBudgetLimits, type PayloadBudgetLimits } from '../../src/io/payload-budget';
import { loadKnowledgeBase } from '../../src/knowledge/knowledge-base';
import { inspectPayload, inspectPayloadReport } from '../../src/package/inspect';
import { buildZeroBombCab, issue17Msu } from '../../scripts/lib/zero-bomb-cab';
import { assertThrowsCode, fixturePath, tempDir } from '../common.helpers';
import { readAllMembers, withMember } from './package.helpers';

const knowledgeBase = loadKnowledgeBase();
const trust = loadTrustAnchors([fixturePath('pki', 'root.pem')]);
const ssu = fixturePath('payloads', 'Windows6.0-KB4493730-x64.msu');
const payloadCabName = 'Windows6.0-KB4493730-x64.cab';
const dir = tempDir('cabferry-payload-budget-');
const MiB = 1024 * 1024;
const limits = (over: Partial<PayloadBudgetLimits>): PayloadBudgetLimits => ({ ...defaultPayloadBudgetLimits, floorBytes: 0, ...over });

/** The fixture MSU's own members (payload cab, WSUSSCAN.cab, pkgProperties.txt, unattend .xml) beside `decoys` .cab members of 64 MiB, all one run of MSZIP zeros. */
function msuWithDecoys(name: string, decoys: number, files = readAllMembers(ssu)): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, buildZeroBombCab({
    zeroBytes: 64 * MiB,
    zeroMembers: Array.from({ length: decoys }, (_, i) => ({ name: `decoy-${i}.cab`, at: 0, size: 64 * MiB })),
    files,
  }));
  return file;
}

test('an MSU with 15 decoy cabs of 64 MiB zeros beside its payload: refused before the decoys are decoded or written', () => {
  // Every inner cabinet of an .msu is verified on its own signature, as verify --deep does
  // (review 9, R9-2): a decoy is read, so these decoys, which share their bytes, are refused as
  // such before a byte is decoded; decoys that do not share bytes are refused by the budget
  // (next test). Before R9-2 the decoys were never read and the payload reported verified.
  const file = msuWithDecoys('Windows6.0-KB4493730-x64.msu', 15);
  const size = fs.statSync(file).size;
  assert.ok(size < 200_000, `a small file (${size} bytes)`);
  const scratch = fs.mkdtempSync(path.join(dir, 'scratch-'));
  assertThrowsCode(() => inspectPayloadReport(file, { knowledgeBase, trust, tempDir: scratch, budgetLimits: limits({ decodeRatio: 4, tempRatio: 1 }) }), 'CAB_MEMBER_OVERLAP', 'input');
  assert.deepEqual(fs.readdirSync(scratch), [], 'no temp folder was even created');
});

test('an MSU with a 64 MiB decoy cab of zeros beside its payload: the budget refuses the decoy before its temp file exists', () => {
  const file = msuWithDecoys('Windows6.0-KB4493730-x64.msu', 1);
  const scratch = fs.mkdtempSync(path.join(dir, 'scratch-'));
  assertThrowsCode(() => inspectPayloadReport(file, { knowledgeBase, trust, tempDir: scratch, budgetLimits: limits({ decodeRatio: 4, tempRatio: 1 }) }), 'PAYLOAD_BUDGET_EXCEEDED', 'input', /decoy-0\.cab|would reach/);
  assert.deepEqual(fs.readdirSync(scratch), [], 'no temp folder was even created');
});

test("the issue's MSU (16 overlapping 64 MiB cabs, no name that decides): refused by its layout before a byte is decoded", () => {
  const file = path.join(dir, 'bomb.msu');
  fs.writeFileSync(file, issue17Msu());
  const scratch = fs.mkdtempSync(path.join(dir, 'scratch-'));
  assertThrowsCode(() => inspectPayload(file, { knowledgeBase, trust, tempDir: scratch, budgetLimits: limits({ decodeRatio: 0, tempRatio: 0 }) }), 'MSU_AMBIGUOUS_LAYOUT', 'input');
  // named like one of its cabs: the file's name is not signed, so it does not choose (review 9, R9-3): the same refusal
  const named = path.join(dir, 'payload-03.msu');
  fs.writeFileSync(named, issue17Msu());
  assertThrowsCode(() => inspectPayload(named, { knowledgeBase, trust, tempDir: scratch, budgetLimits: limits({ decodeRatio: 0, tempRatio: 0 }) }), 'MSU_AMBIGUOUS_LAYOUT', 'input');
  assert.deepEqual(fs.readdirSync(scratch), [], 'no temp folder was even created');
});

test('a 64 MiB payload cab of zeros named like its MSU: PAYLOAD_BUDGET_EXCEEDED with the numbers, before its temp file exists', () => {
  const file = path.join(dir, 'Windows6.1-KB4999998-x64.msu');
  fs.writeFileSync(file, buildZeroBombCab({
    zeroBytes: 64 * MiB,
    zeroMembers: [{ name: 'Windows6.1-KB4999998-x64.cab', at: 0, size: 64 * MiB }],
    files: [{ name: 'WSUSSCAN.cab', data: Buffer.from('x') }],
  }));
  const size = fs.statSync(file).size;
  const scratch = fs.mkdtempSync(path.join(dir, 'scratch-'));
  // the real default budget
  const budget = new PayloadBudget(file, size);
  const e = assertThrowsCode(() => inspectPayload(file, { knowledgeBase, trust, tempDir: scratch }), 'PAYLOAD_BUDGET_EXCEEDED', 'input');
  // the pass decodes WSUSSCAN.cab (1 byte) too: every inner cabinet is verified on its own signature
  assert.match(e.message, new RegExp(`^unpacking payload cab Windows6\\.1-KB4999998-x64\\.cab: decoding would reach ${64 * MiB + 1} bytes, over the ${budget.decodeLimit}-byte budget for a ${size}-byte payload \\(32× its size \\+ ${16 * MiB}, at most \\d+\\)$`));
  assert.equal(e.file, file);
  // a budget that allows the decoding refuses the temp file
  const t = assertThrowsCode(() => inspectPayload(file, { knowledgeBase, trust, tempDir: scratch, budgetLimits: limits({ decodeRatio: 1000, tempRatio: 2, floorBytes: 16 * MiB }) }), 'PAYLOAD_BUDGET_EXCEEDED', 'input');
  assert.match(t.message, /writing to temp would reach 67108864 bytes, over the \d+-byte budget/);
  assert.deepEqual(fs.readdirSync(scratch), [], 'nothing written');
});

test("a real payload's costs are well inside the default budget, and small budgets refuse it at each step", () => {
  const size = fs.statSync(ssu).size;
  assert.equal(inspectPayload(ssu, { knowledgeBase, trust }).kb, 'KB4493730');
  // temp: the payload cab (about 0.7× the .msu) does not fit in 0.5×
  assertThrowsCode(() => inspectPayload(ssu, { knowledgeBase, trust, budgetLimits: limits({ tempRatio: 0.5 }) }), 'PAYLOAD_BUDGET_EXCEEDED', 'input', /writing to temp/);
  // decoding: the outer pass fits in 1.5×, the payload cab's metadata pass (charged to the same budget) does not
  const e = assertThrowsCode(() => inspectPayload(ssu, { knowledgeBase, trust, budgetLimits: limits({ decodeRatio: 1.5 }) }), 'PAYLOAD_BUDGET_EXCEEDED', 'input', /decoding would reach/);
  assert.match(e.message, new RegExp(`budget for a ${size}-byte payload`));
});

test('names do not decide: the unattend .xml is read first and names the payload cab; an unattend .xml that disagrees with the names is refused', () => {
  const members = readAllMembers(ssu);
  const xml = members.find((m) => m.name.endsWith('.xml'))!;
  const inner = members.find((m) => m.name === payloadCabName)!;
  const renamed = members.map((m) => {
    if (m === inner) return { ...m, name: 'payload.cab' };
    if (m === xml) return { name: 'unattend.xml', data: Buffer.from(xml.data.toString('utf8').replace(/Windows6\.0-KB4493730-x64\.cab/i, 'payload.cab')) };
    if (m.name.endsWith('-pkgProperties.txt')) return { ...m, name: 'props-pkgProperties.txt' };
    return m;
  });
  // the decoy is a signed cabinet (WSUSSCAN.cab's bytes): every inner cabinet is verified (R9-2), so one that is not a cabinet would be refused
  const wsusScan = members.find((m) => /^wsusscan\.cab$/i.test(m.name))!;
  const file = msuWithDecoys('update.msu', 0, [...renamed, { name: 'decoy.cab', data: wsusScan.data }]);
  assert.equal(inspectPayload(file, { knowledgeBase, trust }).payloadCab, 'payload.cab');
  // the names say Windows6.0-KB4493730-x64.cab, the unattend .xml installs decoy.cab
  const disagreeing = withMember(members, xml.name, Buffer.from(xml.data.toString('utf8').replace(/Windows6\.0-KB4493730-x64\.cab/i, 'decoy.cab')));
  const other = msuWithDecoys('Windows6.0-KB4493730-x64.msu', 0, [...disagreeing, { name: 'decoy.cab', data: Buffer.from('not the payload') }]);
  assertThrowsCode(() => inspectPayload(other, { knowledgeBase, trust }), 'MSU_AMBIGUOUS_LAYOUT', 'input', /the unattend \.xml installs decoy\.cab, but the member names point at Windows6\.0-KB4493730-x64\.cab/);
});

test('identity only (what a quarantine record reads): update.mum and the MSU parts, nothing verified', () => {
  const r = inspectPayloadReport(ssu, { knowledgeBase, trust, identityOnly: true });
  assert.equal(r.payload.kb, 'KB4493730');
  assert.equal(r.payload.metadataVerified, false);
  assert.match(r.payload.metadataReason ?? '', /only the identity was read \(quarantine\)/);
  assert.equal(r.payloadCabVerdict, null, "the payload cab's signature is not checked either");
});

test('import --quarantine of an unsigned MSU with decoys: quarantined with its claimed KB, the decoys never unpacked into the catalog', async () => {
  const file = msuWithDecoys('Windows6.0-KB4493730-x64.msu', 15);
  const catalog = openCatalog({ dir: path.join(dir, 'cat') });
  try {
    const budgetLimits = limits({ decodeRatio: 4, tempRatio: 1 });
    const s = await importPayloads(catalog, [file, path.join(dir, 'bomb.msu')], { knowledgeBase, trust, quarantine: true, budgetLimits });
    assert.deepEqual(s.results.map((r) => [r.outcome, r.code, r.kb]), [['quarantined', 'SIG_UNSIGNED', 'KB4493730'], ['quarantined', 'SIG_UNSIGNED', null]]);
    const entry = catalog.entry(s.results[0]!.sha256!);
    assert.equal(entry?.payload?.metadataVerified, false);
    assert.deepEqual(fs.readdirSync(path.join(dir, 'cat', 'tmp')), [], 'nothing left in the catalog temp area');
  } finally {
    catalog.close();
  }
});
