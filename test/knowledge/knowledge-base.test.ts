import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isCabferryError } from '../../src/errors';
import {
  esuActivationIdsFor,
  esuYearOf,
  familyForNtVersion,
  knownOnlyTo,
  loadKnowledgeBase,
  normaliseKb,
  parseKbFamily,
  secondTuesday,
  sourceLocators,
  type KbFamily,
} from '../../src/knowledge/knowledge-base';
import { projectRoot, tempDir } from '../common.helpers';

const kbDir = path.join(projectRoot, 'catalog', 'kb');

function rejects(doc: unknown, pattern: RegExp): void {
  assert.throws(
    () => parseKbFamily(doc, 'x.json'),
    (e: unknown) => isCabferryError(e) && e.code === 'KB_BAD_FACT' && e.kind === 'input' && pattern.test(e.message),
  );
}

type Doc = Record<string, unknown> & { updates: Record<string, unknown>[]; esu: Record<string, unknown> };

function nt60Doc(): Doc {
  return JSON.parse(fs.readFileSync(path.join(kbDir, 'nt6.0.json'), 'utf8')) as Doc;
}

/** The shipped NT 6.0 document with one update changed. */
function withUpdate(kb: string, patch: (u: Record<string, unknown>, all: Record<string, unknown>[]) => void): Doc {
  const d = nt60Doc();
  const u = d.updates.find((x) => x.kb === kb);
  assert.ok(u, `${kb} is in nt6.0.json`);
  patch(u, d.updates);
  return d;
}

const isDay = (s: string): boolean => /^\d{4}-\d{2}-\d{2}$/.test(s) && new Date(`${s}T00:00:00Z`).toISOString().slice(0, 10) === s;

describe('knowledge base (catalog/kb)', () => {
  const kb = loadKnowledgeBase(kbDir);
  const nt60 = familyForNtVersion(kb, '6.0')!;
  const nt61 = familyForNtVersion(kb, '6.1')!;
  const get = (f: KbFamily, k: string) => {
    const u = f.updates.get(k);
    assert.ok(u, `${f.family} describes ${k}`);
    return u;
  };

  it('ships one family per NT version; every fact names a source that can be opened', () => {
    assert.deepEqual(kb.families.map((f) => f.ntVersion).sort(), ['6.0', '6.1']);
    const locatorsOf = (what: string, text: string | null): void => {
      assert.ok(text !== null && sourceLocators(text).length > 0, `${what}: source ${JSON.stringify(text)} names an owner/repo:path or an address`);
    };
    for (const f of kb.families) {
      for (const u of f.updates.values()) {
        locatorsOf(`${f.family} ${u.kb}`, u.source);
        for (const p of u.prerequisites) locatorsOf(`${f.family} ${u.kb} → ${p.kb}`, p.source);
        if (u.silentSwitches) locatorsOf(`${f.family} ${u.kb} switches`, u.switchesSource);
        if (u.schedulesOwnRestart) locatorsOf(`${f.family} ${u.kb} schedulesOwnRestart`, u.schedulesOwnRestartSource);
        if (u.exitCodes.length > 0) locatorsOf(`${f.family} ${u.kb} exit codes`, u.exitCodesSource);
        for (const d of u.disputed) for (const s of d.sources) locatorsOf(`${f.family} ${u.kb} dispute`, s);
      }
      assert.ok(f.esu, `${f.family} has its ESU facts`);
      locatorsOf(`${f.family} esu`, f.esu.source);
      for (const a of f.esu.activationIds) locatorsOf(`${f.family} ESU year ${a.year}`, a.source);
    }
  });

  it('dates are calendar days; month-only dates are the second Tuesday', () => {
    assert.equal(secondTuesday('2022-03'), '2022-03-08');
    assert.equal(secondTuesday('2020-07'), '2020-07-14');
    assert.equal(secondTuesday('2019-10'), '2019-10-08');
    for (const f of kb.families) {
      assert.ok(isDay(f.esu!.firstUpdate) && isDay(f.esu!.azureOnlyFrom));
      for (const u of f.updates.values()) {
        assert.ok(isDay(u.released), `${u.kb} released ${u.released}`);
        if (u.dateBasis === 'month') assert.equal(u.released, secondTuesday(u.released.slice(0, 7)), u.kb);
      }
    }
  });

  it('dates agree with supersedence, prerequisites and servicing stack versions', () => {
    for (const f of kb.families) {
      const all = [...f.updates.values()];
      for (const u of all) {
        for (const s of u.supersedes) assert.ok(get(f, s).released <= u.released, `${u.kb} is not older than ${s}, which it supersedes`);
        for (const p of u.prerequisites) {
          assert.ok(get(f, p.kb).released <= u.released || p.releasedLaterBecause !== null, `${u.kb}'s prerequisite ${p.kb} is not newer than it`);
        }
      }
      // the SSU chain: each SSU replaces the earlier ones, so its release order is its supersedence order
      const ssus = all.filter((u) => u.role === 'servicing-stack').sort((a, b) => (a.released < b.released ? -1 : 1));
      const versions = ssus.filter((u) => u.servicingStackVersion !== null).map((u) => u.servicingStackVersion!.split('.').map(Number));
      for (let i = 1; i < versions.length; i++) assert.ok(versions[i][3] > versions[i - 1][3], `${f.family} SSU versions grow with their dates`);
      // ESU: the ESU-era rollups need the key; the preparation packages are listed; nothing after the non-Azure end is offered as if it were
      for (const u of all) {
        if (['monthly-rollup', 'security-only', 'rollup-preview'].includes(u.role)) {
          assert.equal(u.requiresEsu, u.released >= f.esu!.firstUpdate, `${f.family} ${u.kb} requiresEsu`);
        }
        assert.equal(u.azureOnly, u.released >= f.esu!.azureOnlyFrom, `${f.family} ${u.kb} azureOnly`);
        if (u.role === 'esu-preparation') assert.ok(f.esu!.licensingPreparationKbs.includes(u.kb), u.kb);
      }
    }
  });

  it('holds the Server 2008 SP2 story through the end of ESU', () => {
    assert.equal(nt60.minimumServicePackKb, 'KB948465');
    const sp2 = get(nt60, 'KB948465');
    assert.equal(sp2.setsBuild, 6002);
    assert.equal(sp2.fileHint, 'Windows6.0-KB948465-{arch}.exe');
    assert.deepEqual(sp2.silentSwitches, ['/unattend', '/nodialog', '/warnrestart:600']);
    // SP2 schedules a restart of its own (/warnrestart), which install.cmd cancels; no other update here does
    assert.deepEqual([...nt60.updates.values()].filter((u) => u.schedulesOwnRestart).map((u) => u.kb), ['KB948465']);
    assert.deepEqual(sp2.exitCodes.filter((c) => c.outcome === 'restart-required').map((c) => c.code), [3010]);
    assert.equal(nt60.sha2SupportKb, 'KB4474419');
    assert.deepEqual(get(nt60, 'KB4474419').prerequisites.map((p) => [p.kb, p.strength]), [['KB4493730', 'recommended']]);
    assert.equal(get(nt60, 'KB4474419').fileHint, 'Windows6.0-KB4474419-v4-{arch}.msu');
    assert.equal(get(nt60, 'KB4493730').servicingStackVersion, '6.0.6003.20484');
    // disputed: the March 2019 preview's 6003 is recorded, not claimed
    assert.equal(get(nt60, 'KB4489887').setsBuild, null);
    assert.deepEqual(get(nt60, 'KB4489887').disputed.map((d) => d.field), ['setsBuild']);
    assert.equal(get(nt60, 'KB4493471').setsBuild, 6003);
    assert.equal(get(nt60, 'KB4499180').role, 'security-only');
    // KB4520002: the SHA-2 update and KB4493730 are required; the SSU of its month only recommended
    assert.deepEqual(get(nt60, 'KB4520002').prerequisites.map((p) => [p.kb, p.strength]), [['KB4474419', 'required'], ['KB4493730', 'required'], ['KB4517134', 'recommended']]);
    // KB4575904 is July 2020 and does not need the August SSU
    assert.equal(get(nt60, 'KB4575904').released.slice(0, 7), '2020-07');
    assert.ok(!get(nt60, 'KB4575904').prerequisites.some((p) => p.kb === 'KB4572374'));
    assert.deepEqual(get(nt60, 'KB4575904').supersedes, ['KB4538484']);
    assert.equal(get(nt60, 'KB5011942').released.slice(0, 7), '2022-03');
    const ssus = [...nt60.updates.values()].filter((u) => u.role === 'servicing-stack' && !u.azureOnly).map((u) => u.kb);
    assert.deepEqual(ssus, ['KB4493730', 'KB4517134', 'KB4526478', 'KB4531787', 'KB4536953', 'KB4537830', 'KB4550737', 'KB4562031', 'KB4565353', 'KB4572374', 'KB4580971', 'KB5006750', 'KB5010452', 'KB5011942', 'KB5016129']);
    assert.deepEqual([...nt60.updates.values()].filter((u) => u.azureOnly).map((u) => u.kb), ['KB5022893', 'KB5023754', 'KB5025273', 'KB5026427', 'KB5027277', 'KB5028226', 'KB5029301', 'KB5033466', 'KB5034173', 'KB5034867', 'KB5039341', 'KB5050682']);
    assert.equal(get(nt60, 'KB4534303').requiresEsu, false, 'January 2020 is before ESU');
    assert.equal(get(nt60, 'KB4537810').requiresEsu, true);
    assert.equal(get(nt60, 'KB5022340').released, '2023-01-10');
    assert.equal(get(nt60, 'KB5022340').requiresEsu, true);
    assert.ok(get(nt60, 'KB5022340').prerequisites.some((p) => p.kb === 'KB4575904' && p.strength === 'required'));
    assert.equal(get(nt60, 'KB5016891').role, 'esu-preparation');
    assert.deepEqual(nt60.esu!.licensingPreparationKbs, ['KB4538484', 'KB4575904', 'KB5016891']);
    assert.deepEqual(nt60.esu!.activationIds.map((a) => [a.year, a.id]), [
      [1, '553673ed-6ddf-419c-a153-b760283472fd'],
      [2, '04fa0286-fa74-401e-bbe9-fbfbb158010d'],
      [3, '16c08c85-0c8b-4009-9b2b-f1f7319e45f9'],
    ]);
    // SHA-2 support never shipped for Vista, and Vista has no ESU
    assert.deepEqual(get(nt60, 'KB4474419').products, ['Windows Server 2008']);
    assert.deepEqual(nt60.esu!.products, ['Windows Server 2008']);
  });

  it('holds the NT 6.1 counterparts', () => {
    assert.equal(nt61.minimumServicePackKb, 'KB976932');
    assert.equal(get(nt61, 'KB976932').setsBuild, 7601);
    // LegacyUpdate installs KB4474419 before KB4490628: the SSU first is an order, not a prerequisite
    assert.deepEqual(get(nt61, 'KB4474419').prerequisites.map((p) => [p.kb, p.strength]), [['KB4490628', 'recommended']]);
    assert.equal(get(nt61, 'KB4474419').fileHint, 'windows6.1-KB4474419-v3-{arch}.msu');
    assert.ok(get(nt61, 'KB4519976').prerequisites.some((p) => p.kb === 'KB4490628' && p.strength === 'required'));
    assert.equal(get(nt61, 'KB4539601').released, '2020-01-31');
    assert.equal(get(nt61, 'KB5022338').requiresEsu, true);
    assert.equal(get(nt61, 'KB5034169').azureOnly, true);
    assert.deepEqual(nt61.esu!.licensingPreparationKbs, ['KB4538483', 'KB4575903', 'KB5016892']);
    assert.deepEqual(nt61.esu!.activationIds.map((a) => [a.year, a.products]), [
      [1, ['Windows 7']], [2, ['Windows 7']], [3, ['Windows 7']], [1, ['Windows Server 2008 R2']], [2, ['Windows Server 2008 R2']], [3, ['Windows Server 2008 R2']],
    ]);
    // Server 2008 R2 shares Server 2008's IDs (Microsoft's table: "Windows Server 2008/R2 (Server)"); Windows 7 has its own
    for (const year of [1, 2, 3]) {
      assert.deepEqual(esuActivationIdsFor(nt61.esu!, 'Windows Server 2008 R2', year), esuActivationIdsFor(nt60.esu!, 'Windows Server 2008', year), `year ${year}`);
      assert.equal(esuActivationIdsFor(nt61.esu!, 'Windows 7', year).length, 1);
      assert.notDeepEqual(esuActivationIdsFor(nt61.esu!, 'Windows 7', year), esuActivationIdsFor(nt61.esu!, 'Windows Server 2008 R2', year));
    }
  });

  it('knows the ESU years by Microsoft\'s dates, and which year an ESU update needs (review h/planreview)', () => {
    // Microsoft's lifecycle FAQ: year 1 ends January 12, 2021, year 2 January 11, 2022, year 3 January 10, 2023;
    // a fourth year, Azure only, to January 9, 2024
    for (const f of [nt60, nt61]) {
      assert.deepEqual(f.esu!.years.map((y) => [y.year, y.from, y.to, y.azureOnly]), [
        [1, '2020-01-15', '2021-01-12', false], [2, '2021-01-13', '2022-01-11', false], [3, '2022-01-12', '2023-01-10', false], [4, '2023-01-11', '2024-01-09', true],
      ], f.family);
      for (const u of f.updates.values()) if (u.requiresEsu) assert.notEqual(esuYearOf(f.esu!, u.released), null, `${f.family} ${u.kb}`);
    }
    assert.equal(esuYearOf(nt60.esu!, get(nt60, 'KB4537810').released), 1, 'February 2020');
    assert.equal(esuYearOf(nt60.esu!, '2021-01-12'), 1, 'January 2021 is the last update of year 1');
    assert.equal(esuYearOf(nt60.esu!, '2021-02-09'), 2);
    assert.equal(esuYearOf(nt60.esu!, get(nt60, 'KB5022340').released), 3, 'January 2023');
    assert.equal(esuYearOf(nt60.esu!, get(nt60, 'KB5034173').released), 4, 'the Azure year');
    assert.equal(esuYearOf(nt60.esu!, '2024-02-13'), null);
    // one activation ID per year for Server 2008, none for the Azure-only year
    assert.deepEqual([1, 2, 3, 4].map((y) => esuActivationIdsFor(nt60.esu!, 'Windows Server 2008', y).length), [1, 1, 1, 0]);
    assert.deepEqual(esuActivationIdsFor(nt60.esu!, 'Windows Server 2008', 1), ['553673ed-6ddf-419c-a153-b760283472fd']);
    // refused: years out of order, with a gap, Azure-only before azureOnlyFrom, an ID of no year or of the Azure year, an ESU update no year covers
    const esuOf = (d: Doc) => d.esu as unknown as { years: Record<string, unknown>[]; activationIds: Record<string, unknown>[] };
    const edit = (patch: (e: ReturnType<typeof esuOf>) => void): Doc => {
      const d = nt60Doc();
      patch(esuOf(d));
      return d;
    };
    rejects(edit((e) => (e.years[1].year = 3)), /must be 2/);
    rejects(edit((e) => (e.years[1].from = '2021-01-20')), /must begin the day after year 1 ends/);
    rejects(edit((e) => (e.years[2].azureOnly = true)), /azureOnly exactly when/);
    rejects(edit((e) => (e.activationIds[0].year = 5)), /year 5 is not one of esu\.years/);
    rejects(edit((e) => (e.activationIds[0].year = 4)), /offered in Azure only/);
    rejects(edit((e) => ((e.years[3].to = '2023-06-30'))), /KB5028226 \(2023-07-11\) .* no esu\.years entry covers/);
    rejects(edit((e) => delete (e as Record<string, unknown>).years), /esu\.years must be a non-empty array/);
  });

  it('rejects broken family documents with one typed error each', () => {
    rejects({ ...nt60Doc(), schema: 1 }, /schema/);
    rejects({ ...nt60Doc(), ntVersion: 'six' }, /major\.minor/);
    rejects(withUpdate('KB4493730', (u) => (u.released = '2019-13-45')), /released/);
    rejects(withUpdate('KB4493730', (u) => (u.released = '2019-02-30')), /not a calendar day/);
    rejects(withUpdate('KB4493730', (u) => (u.role = 'magic')), /unknown role/);
    rejects(withUpdate('KB4493730', (u) => (u.kb = 'KB12')), /not a KB number/);
    rejects(withUpdate('KB4493730', (u, all) => all.push({ ...u })), /listed twice/);
    rejects(withUpdate('KB4474419', (u) => (u.prerequisites as unknown[]).push({ kb: 'KB1234567', strength: 'required', source: 'https://example.org/x' })), /not described/);
    rejects(withUpdate('KB4493730', (u) => (u.prerequisites = [{ kb: 'KB4474419', strength: 'recommended', source: 'https://example.org/x', releasedLaterBecause: 'test' }])), /cycle/);
    rejects(withUpdate('KB4474419', (u) => (u.role = 'other')), /sha2-support/);
    rejects(withUpdate('KB4493730', (u) => (u.products = ['Windows 95'])), /not one of the family's products/);
    rejects(withUpdate('KB4493730', (u) => delete u.source), /source/);
    rejects(withUpdate('KB4493730', (u) => (u.source = 'KB4493730: trust me')), /names no place to open it/);
    rejects(withUpdate('KB4474419', (u) => ((u.prerequisites as Record<string, unknown>[])[0].strength = 'hard')), /strength/);
    rejects(withUpdate('KB4474419', (u) => delete (u.prerequisites as Record<string, unknown>[])[0].strength), /strength/);
    rejects(withUpdate('KB5011942', (u) => (u.released = '2022-03-15')), /second Tuesday/);
    rejects(withUpdate('KB948465', (u) => delete u.switchesSource), /silentSwitches and switchesSource come together/);
    rejects(withUpdate('KB4493730', (u) => ((u.silentSwitches = ['/quiet']), (u.switchesSource = 'https://example.org/x'))), /\.exe-delivered/);
    rejects(withUpdate('KB948465', (u) => delete u.schedulesOwnRestartSource), /schedulesOwnRestart \(true\) and schedulesOwnRestartSource come together/);
    rejects(withUpdate('KB4493730', (u) => ((u.schedulesOwnRestart = true), (u.schedulesOwnRestartSource = 'https://example.org/x'))), /schedulesOwnRestart is for \.exe-delivered/);
    rejects(withUpdate('KB948465', (u) => ((u.exitCodes as Record<string, unknown>[])[0].outcome = 'fine')), /outcome/);
    rejects(withUpdate('KB4489887', (u) => ((u.disputed as Record<string, unknown>[])[0].sources = ['https://example.org/one'])), /at least two sources/);
    rejects(withUpdate('KB4493730', (u) => (u.requiresEsu = 'yes')), /true or false/);
  });

  it('refuses facts that contradict each other', () => {
    // a superseding update older than what it supersedes
    rejects(withUpdate('KB4575904', (u) => (u.supersedes = ['KB5016891'])), /supersedes KB5016891, which is newer/);
    // a prerequisite released after its dependant, unless the fact says why
    const later = { kb: 'KB5016129', strength: 'recommended', source: 'https://example.org/x' };
    rejects(withUpdate('KB4520002', (u) => (u.prerequisites as unknown[]).push(later)), /released later.*releasedLaterBecause/);
    assert.doesNotThrow(() => parseKbFamily(withUpdate('KB4520002', (u) => (u.prerequisites as unknown[]).push({ ...later, releasedLaterBecause: 'a re-released package' })), 'x.json'));
    // servicing stack versions must grow with release dates
    rejects(withUpdate('KB5016129', (u) => (u.servicingStackVersion = '6.0.6003.20000')), /not newer than/);
    // ESU: an ESU-era rollup not marked, a marked update before ESU, Azure-only years
    rejects(withUpdate('KB5022340', (u) => delete u.requiresEsu), /ESU-era monthly-rollup .* not marked requiresEsu/);
    rejects(withUpdate('KB4534303', (u) => (u.requiresEsu = true)), /predates esu\.firstUpdate/);
    rejects(withUpdate('KB5033466', (u) => delete u.azureOnly), /Azure-only years; mark it azureOnly/);
    rejects(withUpdate('KB5016129', (u) => (u.azureOnly = true)), /predates esu\.azureOnlyFrom/);
    const noEsu = nt60Doc();
    delete (noEsu as Record<string, unknown>).esu;
    rejects(noEsu, /no esu block/);
    const badId = nt60Doc();
    (badId.esu.activationIds as Record<string, unknown>[])[0].id = 'not-a-guid';
    rejects(badId, /not a GUID/);
    const badPrep = nt60Doc();
    badPrep.esu.licensingPreparationKbs = ['KB4538484', 'KB4575904'];
    rejects(badPrep, /KB5016891 is an esu-preparation package missing/);
    // when the security-only updates began: a real day, a source, the family's products, none listed before it
    const withStart = (patch: (s: Record<string, unknown>) => void): Doc => {
      const d = nt60Doc();
      patch(d.securityOnlyFrom as Record<string, unknown>);
      return d;
    };
    rejects(withStart((s) => (s.released = '2018-09-31')), /securityOnlyFrom\.released/);
    rejects(withStart((s) => delete s.source), /securityOnlyFrom\.source/);
    rejects(withStart((s) => (s.products = ['Windows 7'])), /securityOnlyFrom\.products: "Windows 7" is not one of the family's products/);
    rejects(withStart((s) => (s.released = '2019-06-11')), /KB4457984 \(2018-09-11\) is a security-only update older than securityOnlyFrom 2019-06-11/);
    // a month with no security-only release: a real month, not before the first one, once, sourced, and not one a fact is listed for
    const src = 'https://example.org/feb (no release that month)';
    rejects(withStart((s) => (s.noRelease = { month: '2023-09', source: src })), /securityOnlyFrom\.noRelease must be an array/);
    rejects(withStart((s) => (s.noRelease = [{ month: '2019-13', source: src }])), /noRelease\[0\]\.month: "2019-13" is not YYYY-MM/);
    rejects(withStart((s) => (s.noRelease = [{ month: '2018-08', source: src }])), /noRelease\[0\]\.month 2018-08 is before securityOnlyFrom 2018-09-11/);
    rejects(withStart((s) => (s.noRelease = [{ month: '2023-09', source: src }, { month: '2023-09', source: src }])), /noRelease\[1\]: 2023-09 is listed twice/);
    rejects(withStart((s) => (s.noRelease = [{ month: '2023-09', source: 'someone said so' }])), /noRelease\[0\]\.source names no place to open it/);
    rejects(withStart((s) => (s.noRelease = [{ month: '2019-05', source: src }])), /KB4499180 \(2019-05-14\) is a security-only update of 2019-05, which securityOnlyFrom\.noRelease says had none/);
    const ok = withStart((s) => (s.noRelease = [{ month: '2023-09', source: src }]));
    assert.deepEqual(parseKbFamily(ok, 'x.json').securityOnlyFrom!.noRelease, [{ month: '2023-09', source: src }]);
  });

  it('says since when each family has had security-only updates (not cumulative: the months it does not list are unknown to the planner)', () => {
    assert.deepEqual(nt60.securityOnlyFrom && { ...nt60.securityOnlyFrom, source: undefined }, { released: '2018-09-11', kb: 'KB4457984', products: ['Windows Server 2008'], source: undefined, noRelease: [] });
    assert.deepEqual(nt61.securityOnlyFrom && { ...nt61.securityOnlyFrom, source: undefined }, { released: '2016-10-11', kb: 'KB3192391', products: null, source: undefined, noRelease: nt61.securityOnlyFrom!.noRelease });
    assert.deepEqual(nt61.securityOnlyFrom!.noRelease.map((n) => n.month), ['2017-02'], 'February 2017: postponed to March');
    for (const f of [nt60, nt61]) assert.ok(sourceLocators(f.securityOnlyFrom!.source).length > 0);
    // a family file without it loads, and says nothing of when they began
    const d = nt60Doc();
    delete (d as Record<string, unknown>).securityOnlyFrom;
    assert.equal(parseKbFamily(d, 'x.json').securityOnlyFrom, null);
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

  it('knows which updates only one family describes (knownOnlyTo), telling families apart by NT version, not by object', () => {
    // KB4493471: an NT 6.0 rollup; KB4474419: the SHA-2 support update both families describe
    assert.equal(knownOnlyTo(kb, nt60, 'KB4493471'), true);
    assert.equal(knownOnlyTo(kb, nt61, 'KB4493471'), false);
    assert.equal(knownOnlyTo(kb, nt60, 'KB4474419'), false);
    assert.equal(knownOnlyTo(kb, nt61, 'KB4474419'), false);
    assert.equal(knownOnlyTo(kb, nt60, 'KB1'), false);
    // a family of another load of the same knowledge base: the same answers (by object, its own
    // family in `kb` would describe every one of its updates, and none would be its own)
    const other = familyForNtVersion(loadKnowledgeBase(kbDir), '6.0')!;
    assert.notEqual(other, nt60);
    assert.equal(knownOnlyTo(kb, other, 'KB4493471'), true);
    assert.equal(knownOnlyTo(kb, other, 'KB4474419'), false);
    // a family `kb` does not hold: every family of `kb` is another
    assert.equal(knownOnlyTo({ families: [nt61] }, nt60, 'KB4493471'), true);
    assert.equal(knownOnlyTo({ families: [nt61] }, nt60, 'KB4474419'), false);
  });

  it('normalises KB numbers and finds source locators', () => {
    assert.equal(normaliseKb('kb4474419'), 'KB4474419');
    assert.equal(normaliseKb('4474419'), 'KB4474419');
    assert.equal(normaliseKb(' KB 4474419 '), 'KB4474419');
    assert.equal(normaliseKb('File 1'), null);
    assert.equal(normaliseKb('KB44744190'), null);
    assert.deepEqual(sourceLocators('LizenzFass78851/wsusoffline:doc/history.txt@esr-11.9 (text); https://example.org/a.'), ['LizenzFass78851/wsusoffline:doc/history.txt@esr-11.9', 'https://example.org/a']);
    assert.deepEqual(sourceLocators('KB4474419: the article says so'), []);
  });
});
