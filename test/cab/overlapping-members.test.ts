/**
 * Issue 17: CFFILE entries that share bytes (overlapping ranges in one folder, or one range
 * listed twice) are refused, every one of them, with CAB_MEMBER_OVERLAP; the listing still shows
 * them and the other members read as usual (decision and why: overlappingMembers in
 * src/cab/member-reader.ts).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { openCab } from '../../src/cab/cabinet';
import { extractMembers } from '../../src/cab/extract';
import { overlappingMembers } from '../../src/cab/member-reader';
import { PayloadBudget } from '../../src/io/payload-budget';
import { buildZeroBombCab } from '../../scripts/lib/zero-bomb-cab';
import { assertThrowsCode, runCli, tempDir } from '../common.helpers';

const work = tempDir('cabferry-overlap-');
const KiB = 1024;

function writeBomb(name: string, spec: Parameters<typeof buildZeroBombCab>[0]): string {
  const file = path.join(work, name);
  fs.writeFileSync(file, buildZeroBombCab(spec));
  return file;
}

// one folder of 256 KiB zeros: a twice-listed range, a partial overlap, two neighbours that only touch, an empty member
const overlapping = writeBomb('overlapping.cab', {
  zeroBytes: 256 * KiB,
  zeroMembers: [
    { name: 'twice-a.bin', at: 0, size: 64 * KiB },
    { name: 'twice-b.bin', at: 0, size: 64 * KiB },
    { name: 'partial-a.bin', at: 64 * KiB, size: 40 * KiB },
    { name: 'partial-b.bin', at: 100 * KiB, size: 28 * KiB },
    { name: 'left.bin', at: 128 * KiB, size: 64 * KiB },
    { name: 'right.bin', at: 192 * KiB, size: 64 * KiB },
    { name: 'empty.bin', at: 10 * KiB, size: 0 },
  ],
  files: [{ name: 'readme.txt', data: Buffer.from('a member in another folder') }],
});
const refused = ['twice-a.bin', 'twice-b.bin', 'partial-a.bin', 'partial-b.bin'];
const readable = ['left.bin', 'right.bin', 'empty.bin', 'readme.txt'];

test('overlapping CFFILE entries: every member sharing bytes is found; neighbours that touch and empty members are not', () => {
  const cab = openCab(overlapping);
  try {
    const found = overlappingMembers(cab.members);
    assert.deepEqual([...found.keys()].map((m) => m.name).sort(), [...refused].sort());
    assert.equal(found.get(cab.members[1]!)?.name, 'twice-a.bin');
  } finally {
    cab.close();
  }
});

test('overlapping CFFILE entries are listed, refused with CAB_MEMBER_OVERLAP when read, and the others read as usual', () => {
  const cab = openCab(overlapping);
  try {
    assert.equal(cab.members.length, 8, 'the listing shows every entry');
    const byName = (n: string) => cab.members.find((m) => m.name === n)!;
    assertThrowsCode(() => [...cab.readMemberChunks(byName('twice-b.bin'))], 'CAB_MEMBER_OVERLAP', 'input', /listed again as member 0 "twice-a\.bin"/);
    assertThrowsCode(() => [...cab.readMemberChunks(byName('partial-a.bin'))], 'CAB_MEMBER_OVERLAP', 'input', /overlap those of member 3 "partial-b\.bin"/);
    assert.equal(Buffer.concat([...cab.readMemberChunks(byName('right.bin'))]).length, 64 * KiB);
    const report = cab.testCabinet();
    for (const r of report.members) {
      assert.equal(r.ok, readable.includes(r.name), r.name);
      if (!r.ok) assert.equal(r.error?.code, 'CAB_MEMBER_OVERLAP', r.name);
    }
  } finally {
    cab.close();
  }
});

test('extract of a cabinet with overlapping entries writes only the members that own their bytes', () => {
  const cab = openCab(overlapping);
  const out = path.join(work, 'out');
  try {
    const report = extractMembers(cab, out);
    assert.equal(report.ok, false);
    assert.deepEqual(fs.readdirSync(out).sort(), [...readable].sort());
    assert.deepEqual(report.damaged.map((d) => [d.name, d.code]).sort(), refused.map((n) => [n, 'CAB_MEMBER_OVERLAP']).sort());
  } finally {
    cab.close();
  }
});

test('cabferry test on a cabinet whose 16 entries are one 4 MiB run of zeros: exit 3 with 16 CAB_MEMBER_OVERLAP failures', () => {
  const file = writeBomb('sixteen.cab', {
    zeroBytes: 4096 * KiB,
    zeroMembers: Array.from({ length: 16 }, (_, i) => ({ name: `m${i}.bin`, at: 0, size: 4096 * KiB })),
  });
  const r = runCli(['test', '--json', file]);
  assert.equal(r.status, 3, r.stderr);
  const doc = JSON.parse(r.stdout) as { files: { members: { ok: boolean; error?: { code: string } }[] }[] };
  const members = doc.files[0]!.members;
  assert.equal(members.length, 16);
  assert.ok(members.every((m) => !m.ok && m.error?.code === 'CAB_MEMBER_OVERLAP'), r.stdout);
});

test('a budget on a cabinet stops a folder pass with PAYLOAD_BUDGET_EXCEEDED once the blocks decoded pass it', () => {
  const file = writeBomb('budgeted.cab', { zeroBytes: 1024 * KiB, zeroMembers: [{ name: 'zeros.bin', at: 0, size: 1024 * KiB }] });
  const cab = openCab(file);
  try {
    cab.budget = new PayloadBudget(file, fs.statSync(file).size, { decodeRatio: 1, tempRatio: 1, floorBytes: 256 * KiB, maxDecodeBytes: 1 << 30, maxTempBytes: 1 << 30 });
    const e = assertThrowsCode(() => [...cab.readMemberChunks(cab.members[0]!)], 'PAYLOAD_BUDGET_EXCEEDED', 'input');
    assert.match(e.message, /decoding would reach \d+ bytes, over the \d+-byte budget for a \d+-byte payload/);
    assert.ok(cab.budget.decoded <= cab.budget.decodeLimit + 32 * KiB, 'stopped within one block of the limit');
  } finally {
    cab.close();
  }
});
