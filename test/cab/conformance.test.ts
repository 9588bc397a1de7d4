/**
 * Conformance with cabextract 1.9 over the whole real-world corpus (../shared/corpus/oracle.json).
 *
 * For every corpus file:
 *  (a) where cabextract extracted members, we produce the same names with the same SHA-256;
 *  (b) where cabextract failed, we fail too: a typed input error (exit 3) when opening, or a
 *      test report that is not ok;
 *  (c) nothing crashes (any non-CabferryError fails the test) or hangs (the test's timeout).
 *      huge-lzx15/21.cab each decode 2 GiB, so this test takes ~10-20 s.
 * Parts of multi-cabinet sets are read with their sibling parts (openCabOrSet), as cabextract does.
 * Files where we deliberately differ are listed in EXPECTED_DIFFERENCES with the reason; for
 * each, the test checks that the difference is exactly the documented one. Files that agree
 * only with `--search` (cabinets embedded after other bytes) are refused without it and must
 * then agree member for member.
 *
 * Salvage: wherever our test finds damage, the same file is read again with salvage, which must
 * never call a member intact with bytes cabextract did not produce, and must keep every member
 * the normal pass found intact. The corpus files where cabextract extracted some members and
 * failed others are checked against SALVAGE_EXPECTED below.
 *
 * Name mapping: the oracle's names are the file names cabextract wrote, decoded by Python with
 * surrogateescape (a raw byte 0xXY that is not valid UTF-8 appears as U+DCXY). We turn them back
 * into raw bytes, and compare with our names (`\` and `/` alike): a UTF-8-flagged name decodes
 * as UTF-8, any other as latin-1 (cabextract writes such names' bytes unchanged; we transcode
 * them to UTF-8 on disk, which is a documented difference in spelling, not in identity).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { createHash } from 'node:crypto';
import { openCab, type CabinetTestReport } from '../../src/cab/cabinet';
import { openCabOrSet } from '../../src/cab/cabinet-set';
import type { CabMember } from '../../src/cab/types';
import { extractCabinets, extractMembers, type ExtractReport } from '../../src/cab/extract';
import { searchCabinets } from '../../src/cab/search';
import { CabferryError } from '../../src/errors';
import { corpusPath, loadOracle, runCli, tempDir, type OracleFile } from '../common.helpers';

type Difference =
  /** we refuse to open or extract the file on purpose; `code` is the error we must give */
  | { kind: 'refuse'; code: string; reason: string }
  /** names cabextract invents for invalid or unsafe bytes differ from ours; contents must still agree where names match */
  | { kind: 'names'; reason: string; allowTestFailure?: string }
  /** cabextract passes, we report damage it does not look at */
  | { kind: 'stricter'; code: string; reason: string }
  /** refused as a payload (`code`), as an update payload must be a cabinet at offset 0; with --search, the same members and bytes as cabextract */
  | { kind: 'agrees-with-search'; code: string; reason: string };

const SEARCH_REASON =
  'not a cabinet at offset 0: cabextract always scans a file for embedded cabinets (SFX search); we refuse it as a payload and scan only with --search, which then agrees';

const EXPECTED_DIFFERENCES: Record<string, Difference> = {
  'cabextract/cabs/search.cab': { kind: 'agrees-with-search', code: 'CAB_BAD_SIGNATURE', reason: `${SEARCH_REASON} (24 cabinets after a text line; 12 more sit inside them as members)` },
  'libmspack/cabd/search_basic.cab': { kind: 'agrees-with-search', code: 'CAB_BAD_SIGNATURE', reason: `${SEARCH_REASON} (two cabinets after filler bytes)` },
  'libmspack/cabd/search_tricky1.cab': {
    kind: 'agrees-with-search',
    code: 'CAB_NO_FOLDERS',
    reason: `${SEARCH_REASON} (the MSCF at offset 0 is a decoy with no folders; the real cabinet 4 bytes on)`,
  },
  'libmspack/cabd/hidden-files.cab': {
    kind: 'refuse',
    code: 'CAB_AMBIGUOUS_FILES_OFFSET',
    reason: 'coffFiles leaves a gap after the folder table: cabextract reads the files after the folders, other readers at coffFiles, so the cabinet shows different files to different tools',
  },
  'cabextract/cabs/dirwalk-vulns.cab': { kind: 'refuse', code: 'CAB_UNSAFE_NAME', reason: 'absolute and ../ names: cabextract rewrites them (xx/, stripped slashes); we refuse the extraction and write nothing' },
  'cabextract/historical/dirwalk.cab': { kind: 'refuse', code: 'CAB_UNSAFE_NAME', reason: 'absolute and ../ names: cabextract rewrites them; we refuse the extraction and write nothing' },
  'cabextract/cabs/utf8-stresstest.cab': { kind: 'names', reason: 'invalid UTF-8 names: cabextract substitutes one U+FFFD per byte and "x" for empty results, Node substitutes per maximal invalid subsequence' },
  'cabextract/historical/utf8-tests.cab': {
    kind: 'names',
    reason: 'invalid UTF-8 names (as utf8-stresstest.cab)',
    allowTestFailure: 'its only data block declares 2560 bytes and stores 0; no member uses it, so cabextract never reads it, our test decodes every block',
  },
};

/** The raw bytes of a file name as Python's surrogateescape decoding left it in the oracle. */
function oracleNameBytes(name: string): Buffer {
  const parts: Buffer[] = [];
  for (const ch of name) {
    const cp = ch.codePointAt(0)!;
    if (cp >= 0xdc80 && cp <= 0xdcff) parts.push(Buffer.from([cp - 0xdc00]));
    else parts.push(Buffer.from(ch, 'utf8'));
  }
  return Buffer.concat(parts);
}

const slashes = (s: string): string => s.replace(/\\/g, '/');

interface Outcome {
  report?: CabinetTestReport;
  members?: readonly CabMember[];
  openError?: CabferryError;
  ms: number;
}

function testInProcess(file: string): Outcome {
  const t0 = Date.now();
  try {
    // like cabextract, a part of a multi-cabinet set is read with the other parts next to it
    const cab = openCabOrSet(file);
    try {
      return { report: cab.testCabinet({ digests: true }), members: cab.members, ms: Date.now() - t0 };
    } finally {
      cab.close();
    }
  } catch (e) {
    if (e instanceof CabferryError) {
      assert.equal(e.kind, 'input', `${file}: open failed with a non-input error ${e.code}`);
      return { openError: e, ms: Date.now() - t0 };
    }
    throw e; // (c): anything else is a crash
  }
}

/** Our intact members' SHA-256 by every spelling cabextract could have given the name. */
function ourDigests(outcome: Outcome): Map<string, string[]> {
  const byKey = new Map<string, string[]>();
  for (const r of outcome.report!.members) {
    if (!r.ok) continue;
    const m = outcome.members![r.index]!;
    const key = slashes(m.nameIsUtf8 ? m.nameBytes.toString('utf8') : m.nameBytes.toString('latin1'));
    byKey.set(key, [...(byKey.get(key) ?? []), r.sha256!]);
  }
  return byKey;
}

function oracleKey(name: string, utf8: boolean): string {
  const raw = oracleNameBytes(name);
  return slashes(utf8 ? raw.toString('utf8') : raw.toString('latin1'));
}

interface Tally {
  agree: string[];
  /** of `agree`: those that agree only when searched (--search) */
  agreeWithSearch: string[];
  differ: { path: string; why: string }[];
  disagree: string[];
  /** files our test found damaged, re-read with salvage */
  salvaged: number;
}

test('conformance with cabextract 1.9 over the whole corpus', { timeout: 300_000 }, () => {
  const oracle = loadOracle();
  assert.equal(oracle.length, 207);
  const tally: Tally = { agree: [], agreeWithSearch: [], differ: [], disagree: [], salvaged: 0 };
  const failures: string[] = [];
  // (c) a hang shows up as this test's timeout; durations are printed, never asserted (CI machines vary)
  const slowest: [string, number][] = [];

  for (const entry of oracle) {
    const file = corpusPath(entry.path);
    const outcome = testInProcess(file);
    slowest.push([entry.path, outcome.ms]);
    const expected = EXPECTED_DIFFERENCES[entry.path];
    const damaged = outcome.report !== undefined && !outcome.report.ok;
    if (damaged) tally.salvaged++;
    const problem = (expected === undefined ? checkAgreement(entry, outcome) : checkDocumentedDifference(entry, file, outcome, expected)) ?? (damaged ? checkSalvage(entry, file, outcome) : null);
    if (problem !== null) {
      failures.push(`${entry.path}: ${problem}`);
      tally.disagree.push(entry.path);
    } else if (expected?.kind === 'agrees-with-search') {
      tally.agree.push(entry.path);
      tally.agreeWithSearch.push(entry.path);
    } else if (expected !== undefined) {
      tally.differ.push({ path: entry.path, why: `${expected.kind}: ${expected.reason}` });
    } else {
      tally.agree.push(entry.path);
    }
  }

  process.stderr.write(
    `conformance tally: ${oracle.length} files — ${tally.agree.length} agree with cabextract (${tally.agreeWithSearch.length} of them with --search), ` +
      `${tally.differ.length} differ as documented (${summarizeKinds(tally)}), ${tally.disagree.length} disagree; ` +
      `${tally.salvaged} damaged files re-read with salvage\n`,
  );
  slowest.sort((a, b) => b[1] - a[1]);
  process.stderr.write(`slowest: ${slowest.slice(0, 3).map(([p, ms]) => `${p} ${ms} ms`).join(', ')}\n`);
  assert.deepEqual(failures, []);
});

function summarizeKinds(t: Tally): string {
  const counts = new Map<string, number>();
  for (const d of t.differ) counts.set(d.why.split(':')[0]!, (counts.get(d.why.split(':')[0]!) ?? 0) + 1);
  return [...counts].map(([k, n]) => `${k} ${n}`).join(', ');
}

/** Files with no documented difference: (a) same names and digests, (b) failure where cabextract failed. */
function checkAgreement(entry: OracleFile, outcome: Outcome): string | null {
  const cabextractOk = entry.cabextract_extract_rc === 0 && entry.cabextract_test_rc === 0;
  if (outcome.openError !== undefined) {
    if (cabextractOk) return `cabextract extracts it, we fail to open: ${outcome.openError.code} ${outcome.openError.message}`;
    return null;
  }
  const report = outcome.report!;
  if (cabextractOk && !report.ok) {
    const bad = [...report.members, ...report.folders].find((r) => !r.ok);
    return `cabextract tests it OK, we report damage: ${bad?.error?.code} ${bad?.error?.message}`;
  }
  if (!cabextractOk && report.ok) return 'cabextract fails on it, we report it intact';
  return compareDigests(entry, outcome, cabextractOk);
}

/**
 * Every member cabextract extracted must match one of ours by name and digest. When cabextract
 * failed, it may have left partial files behind: those members must then fail on our side.
 */
function compareDigests(entry: OracleFile, outcome: Outcome, cabextractOk: boolean): string | null {
  const ours = ourDigests(outcome);
  for (const [name, sha] of Object.entries(entry.extracted_sha256)) {
    const candidates = [...(ours.get(oracleKey(name, true)) ?? []), ...(ours.get(oracleKey(name, false)) ?? [])];
    if (candidates.includes(sha)) continue;
    if (!cabextractOk && candidates.length === 0) continue; // cabextract's partial output of a member we reject
    return `member ${JSON.stringify(name)}: ${candidates.length === 0 ? 'not produced by us' : `digest differs (${candidates.join(',')} vs ${sha})`}`;
  }
  return null;
}

function checkDocumentedDifference(entry: OracleFile, file: string, outcome: Outcome, expected: Difference): string | null {
  switch (expected.kind) {
    case 'refuse': {
      if (outcome.openError !== undefined) return outcome.openError.code === expected.code ? null : `expected ${expected.code}, got ${outcome.openError.code}`;
      // Opens fine but must refuse to extract: nothing may be written.
      const dir = tempDir('cabferry-conf-');
      const cab = openCab(file);
      try {
        extractMembers(cab, dir);
        return `expected extraction to be refused with ${expected.code}`;
      } catch (e) {
        if (!(e instanceof CabferryError) || e.code !== expected.code) return `expected ${expected.code}, got ${String(e)}`;
        return fs.readdirSync(dir).length === 0 ? null : 'refused extraction left files behind';
      } finally {
        cab.close();
      }
    }
    case 'names': {
      if (outcome.report === undefined) return `expected to open, got ${outcome.openError!.code}`;
      if (!outcome.report.ok && expected.allowTestFailure === undefined) return 'expected test to pass';
      // Every member cabextract named the way we do has the same digest, and at least most do.
      const ours = ourDigests(outcome);
      let matched = 0;
      for (const [name, sha] of Object.entries(entry.extracted_sha256)) {
        const c = [...(ours.get(oracleKey(name, true)) ?? []), ...(ours.get(oracleKey(name, false)) ?? [])];
        if (c.length === 0) continue;
        if (!c.includes(sha)) return `member ${JSON.stringify(name)} digest differs`;
        matched++;
      }
      return matched >= Object.keys(entry.extracted_sha256).length / 2 ? null : `only ${matched} names matched`;
    }
    case 'stricter':
      return null;
    case 'agrees-with-search': {
      if (outcome.openError?.code !== expected.code) return `without --search, expected ${expected.code}, got ${outcome.openError?.code ?? 'a cabinet'}`;
      return checkSearchAgreement(entry, file);
    }
  }
}

/**
 * With --search: the members of all cabinets found, in order, are cabextract's listing (names
 * and sizes, duplicates included); every one tests intact; and extracting them all writes
 * exactly the files cabextract wrote, byte for byte.
 */
function checkSearchAgreement(entry: OracleFile, file: string): string | null {
  const search = searchCabinets(file);
  try {
    const listed = search.cabinets.flatMap((c) => c.cabinet.members.map((m) => ({ name: slashes(m.name), size: m.size })));
    const want = entry.members.map((m) => ({ name: slashes(m.name), size: m.size }));
    if (JSON.stringify(listed) !== JSON.stringify(want)) return `--search lists ${JSON.stringify(listed)}, cabextract ${JSON.stringify(want)}`;
    for (const { offset, cabinet } of search.cabinets) {
      const report = cabinet.testCabinet();
      if (!report.ok) return `--search: cabinet at ${offset} does not test intact`;
    }
    const dir = tempDir('cabferry-conf-search-');
    const reports = extractCabinets(search.cabinets.map((c) => ({ cab: c.cabinet })), dir);
    if (!reports.every((r) => r.ok)) return `--search extraction failed: ${JSON.stringify(reports.flatMap((r) => r.members.filter((m) => !m.ok)))}`;
    const written = Object.fromEntries(walkFiles(dir).map((rel) => [rel, createHash('sha256').update(fs.readFileSync(path.join(dir, rel))).digest('hex')]));
    return JSON.stringify(sortKeys(written)) === JSON.stringify(sortKeys(entry.extracted_sha256)) ? null : `--search wrote ${JSON.stringify(written)}, cabextract ${JSON.stringify(entry.extracted_sha256)}`;
  } finally {
    search.close();
  }
}

function walkFiles(root: string, rel = ''): string[] {
  return fs.readdirSync(path.join(root, rel), { withFileTypes: true }).flatMap((d) => {
    const r = rel === '' ? d.name : `${rel}/${d.name}`;
    return d.isDirectory() ? walkFiles(root, r) : [r];
  });
}

function sortKeys(o: Record<string, string>): [string, string][] {
  return Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * A file our test found damaged, read again with salvage: it may recover more members, but every
 * member it calls intact that cabextract extracted must have cabextract's bytes, and every
 * member the normal pass found intact stays intact with the same digest.
 */
function checkSalvage(entry: OracleFile, file: string, outcome: Outcome): string | null {
  const cab = openCabOrSet(file);
  let salvaged: CabinetTestReport;
  try {
    salvaged = cab.testCabinet({ digests: true, salvage: true });
  } finally {
    cab.close();
  }
  if (salvaged.ok) return 'salvage calls intact a file the normal pass finds damaged';
  for (const normal of outcome.report!.members) {
    const s = salvaged.members[normal.index]!;
    if (normal.ok && (!s.ok || s.sha256 !== normal.sha256)) return `salvage loses intact member ${JSON.stringify(normal.name)}`;
  }
  const ours = ourDigests({ report: salvaged, members: outcome.members, ms: 0 });
  for (const [name, sha] of Object.entries(entry.extracted_sha256)) {
    const c = [...(ours.get(oracleKey(name, true)) ?? []), ...(ours.get(oracleKey(name, false)) ?? [])];
    if (c.length > 0 && !c.includes(sha)) return `salvage: member ${JSON.stringify(name)} intact with other bytes than cabextract's`;
  }
  return null;
}

/**
 * The corpus files where cabextract's extraction failed but left files behind. cabextract writes
 * each member as it decodes and leaves what it has when decoding fails: here always an empty file
 * for a member that is not empty (EMPTY_SHA256), or a whole intact member. With salvage we write
 * the intact members and never a damaged one; each damaged member's reason is listed.
 */
const EMPTY_SHA256 = createHash('sha256').digest('hex');
const SALVAGE_EXPECTED: Record<string, { intact: string[]; damaged: Record<string, string>; why: string }> = {
  'jsign/historical/cabinet-sample-2-disk1-sample.cab': { intact: [], damaged: { 'MORE.exe': 'CAB_SPANNED_MEMBER', 'wineyes.exe': 'CAB_SPANNED_MEMBER' }, why: 'disk 1 of a set whose other disks are not in the corpus' },
  'jsign/historical/temp01-disk1-sample.cab': { intact: [], damaged: { 'MORE.exe': 'CAB_SPANNED_MEMBER', 'wineyes.exe': 'CAB_SPANNED_MEMBER' }, why: 'disk 1 of a set whose other disks are not in the corpus' },
  'libmspack/cabd/multi_basic_pt1.cab': {
    intact: [],
    damaged: { 'test1.txt': 'CAB_SPANNED_MEMBER', 'test2.txt': 'CAB_SPANNED_MEMBER', 'test3.txt': 'CAB_SPANNED_MEMBER' },
    why: 'part 1 of a set; its folder continues into parts that are not in the corpus',
  },
  'libarchive/test_read_format_cab_lzx_invalid_history.cab': { intact: [], damaged: { x: 'LZX_MATCH_BEFORE_START' }, why: 'the only LZX block refers before the start of the stream' },
  'libmspack/cabd/lzx-premature-matches.cab': { intact: [], damaged: { 'file.txt': 'LZX_MATCH_BEFORE_START' }, why: 'a match before any output' },
  'libmspack/cabd/lzx-main-tree-no-lengths.cab': { intact: [], damaged: { 'file.txt': 'LZX_BAD_TREE' }, why: 'an LZX main tree with no code lengths' },
  'libmspack/cabd/cve-2010-2800-mszip-infinite-loop.cab': { intact: [], damaged: { 'file.txt': 'MSZIP_BAD_DATA' }, why: 'the only MSZIP block does not inflate' },
  'libmspack/cabd/cve-2015-4470-mszip-over-read.cab': { intact: [], damaged: { limerick: 'MSZIP_BAD_DATA' }, why: 'the only MSZIP block is cut short' },
  'libmspack/cabd/cve-2018-18584-qtm-max-size-block.cab': { intact: [], damaged: { 'test1.bin': 'QUANTUM_BAD_MATCH' }, why: 'its only Quantum block starts with a match 1.5 MiB back, before any output (cabextract fails on the block too)' },
  'libmspack/cabd/cve-2014-9732-folders-segfault.cab': { intact: ['1', '3'], damaged: { '2': 'CAB_MEMBER_BEYOND_FOLDER' }, why: 'member 2 names a folder its data cannot be in; 1 and 3 are intact, as cabextract has them' },
};

test('where cabextract extracted some members and failed others, salvage writes at least the same intact members', () => {
  const partial = loadOracle().filter((e) => e.cabextract_extract_rc !== 0 && Object.keys(e.extracted_sha256).length > 0);
  assert.deepEqual(partial.map((e) => e.path).sort(), Object.keys(SALVAGE_EXPECTED).sort(), 'SALVAGE_EXPECTED covers exactly these files');
  for (const entry of partial) {
    const expected = SALVAGE_EXPECTED[entry.path]!;
    const dir = tempDir('cabferry-conf-salvage-');
    const cab = openCabOrSet(corpusPath(entry.path));
    let report: ExtractReport;
    try {
      report = extractMembers(cab, dir, { salvage: true });
    } finally {
      cab.close();
    }
    const intact = report.members.filter((m) => m.ok).map((m) => m.path);
    const damaged = Object.fromEntries(report.damaged.map((d) => [d.name, d.code]));
    assert.deepEqual({ intact, damaged }, { intact: expected.intact, damaged: expected.damaged }, `${entry.path} (${expected.why})`);
    assert.deepEqual(walkFiles(dir).sort(), [...expected.intact].sort(), `${entry.path}: only intact members on disk`);
    for (const [name, sha] of Object.entries(entry.extracted_sha256)) {
      const ours = report.members.find((m) => m.path === name);
      if (ours?.ok) assert.equal(ours.sha256, sha, `${entry.path}: ${name}`);
      else {
        // what cabextract left of a member it failed on: an empty file where the member is not empty
        const listed = entry.members.find((m) => m.name === name);
        assert.ok(sha === EMPTY_SHA256 && listed !== undefined && listed.size > 0, `${entry.path}: cabextract has ${name} intact and we do not`);
      }
    }
  }
});

test('a handful of corpus files through the real CLI', { skip: !fs.existsSync(corpusPath('oracle.json')) && 'corpus missing' }, () => {
  const oracle = loadOracle();
  const pick = (p: string) => oracle.find((f) => f.path === p)!;
  // a real LZX:21 update cabinet, a signed MSU (MSZIP), and hostile inputs
  for (const p of ['ms-signed/kb2999226-inner/Windows6.1-KB2999226-x86/Windows6.1-KB2999226-x86.cab', 'msu/Windows6.1-KB2999226-x64.msu']) {
    const entry = pick(p);
    const dir = tempDir();
    const r = runCli(['extract', corpusPath(p), '-o', dir, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { members: { path: string; sha256: string }[] };
    const got = Object.fromEntries(doc.members.map((m) => [m.path, m.sha256]));
    assert.deepEqual(got, entry.extracted_sha256);
    for (const m of doc.members) assert.ok(fs.statSync(path.join(dir, ...m.path.split('/'))).isFile());
    assert.equal(runCli(['test', corpusPath(p)]).status, 0);
  }
  // an embedded cabinet: refused as a payload, found with --search
  const tricky = pick('libmspack/cabd/search_tricky1.cab');
  assert.equal(runCli(['test', corpusPath(tricky.path)]).status, 3);
  const searched = tempDir();
  const found = runCli(['extract', '--search', corpusPath(tricky.path), '-o', searched, '--json']);
  assert.equal(found.status, 0, found.stderr);
  const searchDoc = JSON.parse(found.stdout) as { cabinets: { offset: number; members: { path: string; sha256: string }[] }[] };
  assert.deepEqual(searchDoc.cabinets.map((c) => c.offset), [4]);
  assert.deepEqual(Object.fromEntries(searchDoc.cabinets[0]!.members.map((m) => [m.path, m.sha256])), tricky.extracted_sha256);
  for (const p of ['libmspack/cabd/partial_shortfile2.cab', 'libmspack/cabd/lzx-premature-matches.cab', 'libmspack/cabd/cve-2010-2800-mszip-infinite-loop.cab', 'negative/mimetype-cab.is.cab']) {
    const r = runCli(['test', corpusPath(p)]);
    assert.equal(r.status, 3, `${p}: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    assert.doesNotMatch(r.stderr, /internal error/);
  }
});
