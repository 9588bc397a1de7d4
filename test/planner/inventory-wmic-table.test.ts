import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { collectScript } from '../../src/planner/collect-script';
import { parseHostInventory } from '../../src/planner/inventory';
import { COLLECT_SECTIONS } from '../../src/planner/inventory/collect';
import type { Payload } from '../../src/package/types';
import { loadKnowledgeBase } from '../../src/knowledge/knowledge-base';
import { planInstall } from '../../src/planner/plan';
import type { HostInventory, PlanGoal } from '../../src/planner/types';
import { fixturePath } from '../common.helpers';
import { laterSsu, nt60Catalog } from './sample-payloads.helpers';

/**
 * collect.cmd on a host whose wmic cannot print `get … /value`: TechNet ("Creating and editing
 * formats in WMIC") says WMIC's formats, its XSL style sheets, are used with GET /VALUE too, and wmic
 * looks for them in the folder of the regional format's language under wbem, which a host whose
 * regional format is not its display language's lacks. wmic then prints "Invalid XSL format (or)
 * file name." instead of the data. Documented, not observed here (no such host). collect.cmd asks
 * each of its wmic queries a second time in wmic's own table form (plain `get`, no style sheet),
 * into a section of its own; the reader takes the table when the /value section says nothing.
 */

const host = (name: string): string => fixturePath('hosts', name);
const parse = (text: string): HostInventory => parseHostInventory(Buffer.from(text, 'latin1'), 'mem.txt').inventory;
const fixture = (name: string): string => fs.readFileSync(host(name), 'latin1');

const V2_FIXTURES = [
  'srv-6003-april.inventory.txt',
  'srv-6003-april.de.inventory.txt',
  'srv-esu-activated.inventory.txt',
  'srv-esu-not-activated.inventory.txt',
];
const WMI_SECTIONS = ['kernel', 'wua', 'boot', 'qfe', 'licence'] as const;

/** What the style-sheet failure leaves in a /value section: the message, then collect.cmd's "echo." */
const XSL_FAILURE = 'Invalid XSL format (or) file name.\r';

const sectionRe = (name: string): RegExp => new RegExp(`(\\[\\[cabferry:begin ${name}\\]\\]\\r\\n)([\\s\\S]*?)(\\[\\[cabferry:end ${name}\\]\\]\\r\\n)`);

/** The instances of a /value section: "Key=value" lines, a key seen again starting the next one. */
function valueRecords(body: string): [string, string][][] {
  const records: [string, string][][] = [];
  let current: [string, string][] = [];
  for (const line of body.split(/\r*\n/)) {
    const m = /^([A-Za-z]+)=(.*?)\r*$/.exec(line);
    if (!m || m[1] === 'EXIT') continue;
    if (current.some(([k]) => k === m[1])) {
      records.push(current);
      current = [];
    }
    current.push([m[1], m[2]]);
  }
  if (current.length > 0) records.push(current);
  return records;
}

/**
 * `wmic … get A,B > file` then `type file`, as wmic lays its own table out: the header names the
 * properties (alphabetically, as wmic orders them), each column as wide as its widest cell or its
 * name and two spaces more, the last one padded too; every line, and the blank one after the table,
 * ends in CR CR LF. Returned as the section's lines, each ending in the CR the "\r\n" join completes.
 */
function wmicTable(records: [string, string][][]): string[] {
  const names = records[0].map(([k]) => k);
  const width = names.map((n, i) => Math.max(n.length, ...records.map((r) => r[i][1].length)) + 2);
  const row = (cells: string[]): string => `${cells.map((c, i) => c.padEnd(width[i])).join('')}\r`;
  return [row(names), ...records.map((r) => row(r.map(([, v]) => v))), '\r'];
}

/**
 * The file collect.cmd writes on a host without the style sheets: each wmic /value section holds
 * only the failure and the exit code `valueExit`, and a "-table" section after it the same query's
 * table (its exit code 0, then the table, then collect.cmd's "echo.").
 */
function withoutStyleSheets(text: string, valueExit: number, only: readonly string[] = WMI_SECTIONS): string {
  let out = text;
  for (const name of only) {
    const m = sectionRe(name).exec(out);
    assert.ok(m, `the fixture has a ${name} section`);
    const records = valueRecords(m[2]);
    assert.ok(records.length > 0, `the fixture's ${name} section has data`);
    const failed = `${m[1]}EXIT=${valueExit}\r\n${XSL_FAILURE}\r\n\r\n${m[3]}`;
    const table = [`[[cabferry:begin ${name}-table]]`, 'EXIT=0', ...wmicTable(records), '', `[[cabferry:end ${name}-table]]`, ''].join('\r\n');
    out = out.replace(m[0], failed + table);
  }
  return out;
}

describe('collect file: wmic\'s own table when get /value printed no data (no style sheets for the regional format)', () => {
  it('the table written here is laid out as wmic lays it out', () => {
    assert.equal(wmicTable([[['HotFixID', 'KB4493730'], ['InstalledOn', '4/20/2019']], [['HotFixID', 'KB955430'], ['InstalledOn', '']]]).join('\r\n'),
      'HotFixID   InstalledOn  \r\r\nKB4493730  4/20/2019    \r\r\nKB955430                \r\r\n\r');
    const licences = wmicTable(valueRecords(sectionRe('licence').exec(fixture('srv-esu-activated.inventory.txt'))![2]));
    assert.deepEqual(licences.slice(0, 3), [
      'ID                                    LicenseStatus  Name                                                                    \r',
      '00000000-0000-4000-8000-000000000001  1              Windows Server(R), ServerEnterprise edition                             \r',
      '00000000-0000-4000-8000-00000000e501  1              Windows(R), Server-ESU-Year1 add-on for Standard,Enterprise,Datacenter  \r',
    ]);
  });

  for (const exit of [0, 1]) {
    it(`every version 2 fixture reads the same facts from the tables as from /value (the /value sections failed, EXIT=${exit})`, () => {
      for (const name of V2_FIXTURES) {
        const text = fixture(name);
        const tables = withoutStyleSheets(text, exit);
        assert.ok(tables.includes(XSL_FAILURE) && !/^Version=/m.test(tables) && !/^HotFixID=/m.test(tables) && !/^LicenseStatus=/m.test(tables), `${name}: no /value data left`);
        assert.deepEqual(parse(tables), parse(text), name);
      }
    });
  }

  it('the facts that were lost: the kernel\'s revision, the hotfix list and the ESU licence with its year', () => {
    const text = fixture('srv-esu-activated.inventory.txt');
    const inv = parse(withoutStyleSheets(text, 0));
    assert.deepEqual([inv.ntVersion, inv.build, inv.revision], ['6.0', 6003, 20660]);
    assert.equal(inv.esuLicence, 'activated');
    assert.deepEqual(inv.esuActivatedYears, [1]);
    assert.equal(inv.sections.hotfixes, true);
    assert.deepEqual(inv.installed, ['KB4474419', 'KB4493730', 'KB4534303', 'KB4538484']);
    // the hotfix list alone (CBS not read) still witnesses what is installed
    const noCbs = (t: string): string => t.replace(sectionRe('cbs'), '$1EXIT=1\r\n$3');
    const qfeOnly = parse(withoutStyleSheets(noCbs(text), 0));
    assert.equal(qfeOnly.sections.hotfixes, true);
    assert.deepEqual(qfeOnly.installed, ['KB4474419', 'KB4493730', 'KB4534303', 'KB4538484']);
    const notActivated = parse(withoutStyleSheets(fixture('srv-esu-not-activated.inventory.txt'), 0));
    assert.equal(notActivated.esuLicence, 'not-activated');
  });

  it('a file of an older collect.cmd (no table sections) on such a host reads as it always did: those facts unknown', () => {
    const text = fixture('srv-esu-activated.inventory.txt');
    const failed = withoutStyleSheets(text, 1).replace(/\[\[cabferry:begin [a-z]+-table\]\][\s\S]*?\[\[cabferry:end [a-z]+-table\]\]\r\n/g, '');
    assert.ok(!failed.includes('-table'));
    const inv = parse(failed);
    assert.equal(inv.esuLicence, null);
    assert.ok(inv.unknown.includes('esuLicence'));
    // build and revision from the registry's BuildLabEx, the installed list from CBS alone
    assert.deepEqual([inv.build, inv.revision], [6003, 20660]);
    assert.deepEqual(inv.installed, ['KB4474419', 'KB4493730', 'KB4534303', 'KB4538484']);
  });

  it('the /value section wins whenever it names the property: the table is read only in its place', () => {
    const text = fixture('srv-esu-activated.inventory.txt');
    // the same file with table sections that say something else (not a real host's: only to see which is read)
    let disagreeing = text;
    const tables: Record<string, string[]> = {
      kernel: wmicTable([[['Version', '6.0.6003.99999']]]),
      qfe: wmicTable([[['HotFixID', 'KB1234567'], ['InstalledOn', '']]]),
      licence: wmicTable([[['ID', 'x'], ['LicenseStatus', '0'], ['Name', 'Windows(R), Server-ESU-Year1 add-on for Standard']]]),
    };
    for (const [name, table] of Object.entries(tables)) {
      disagreeing = disagreeing.replace(`[[cabferry:end ${name}]]\r\n`, `[[cabferry:end ${name}]]\r\n[[cabferry:begin ${name}-table]]\r\nEXIT=0\r\n${table.join('\r\n')}\r\n\r\n[[cabferry:end ${name}-table]]\r\n`);
    }
    assert.deepEqual(parse(disagreeing), parse(text));
  });

  it('wmic\'s first-run notice above the table, and Name cells with spaces and commas, are read by the header\'s column starts', () => {
    const text = withoutStyleSheets(fixture('srv-esu-activated.inventory.txt'), 0)
      .replace('[[cabferry:begin licence-table]]\r\nEXIT=0\r\n', '[[cabferry:begin licence-table]]\r\nEXIT=0\r\nPlease wait while WMIC is being installed.\r\r\n');
    const inv = parse(text);
    assert.equal(inv.esuLicence, 'activated');
    assert.deepEqual(inv.esuActivatedYears, [1]);
  });

  it('a table section that names no such column (wmic failed there too) leaves the fact unknown, and is no witness of the hotfix list', () => {
    const text = fixture('srv-esu-activated.inventory.txt');
    const broken = withoutStyleSheets(text, 0).replace(/(\[\[cabferry:begin ([a-z]+)-table\]\]\r\n)[\s\S]*?(\[\[cabferry:end \2-table\]\])/g, '$1EXIT=0\r\nNo Instance(s) Available.\r\r\n\r\n$3');
    assert.ok(!/^HotFixID /m.test(broken));
    const inv = parse(broken);
    assert.equal(inv.esuLicence, null);
    assert.deepEqual([inv.build, inv.revision], [6003, 20660], 'from BuildLabEx');
    const noCbs = parse(broken.replace(sectionRe('cbs'), '$1EXIT=1\r\n$3'));
    assert.equal(noCbs.sections.hotfixes, false);
    assert.deepEqual(noCbs.installed, []);
    // a table section whose command failed is not read either
    const failedTable = withoutStyleSheets(text, 0, ['licence']).replace('[[cabferry:begin licence-table]]\r\nEXIT=0\r\n', '[[cabferry:begin licence-table]]\r\nEXIT=-2147217392\r\n');
    assert.equal(parse(failedTable).esuLicence, null);
  });
});

describe('a host without the style sheets plans as one with them', () => {
  const kb = loadKnowledgeBase();
  const catalog: Payload[] = [...nt60Catalog(), ...(['x86', 'amd64'] as const).flatMap((a) => [laterSsu('KB5016129', a), laterSsu('KB4537830', a)])];
  const current: PlanGoal = { kind: 'current' };
  const plan = (text: string): ReturnType<typeof planInstall> => planInstall(parse(text), catalog, kb, current);

  it('the same plan from the table sections as from /value, for every version 2 fixture', () => {
    for (const name of V2_FIXTURES) {
      const text = fixture(name);
      const fromValue = plan(text);
      assert.ok(fromValue.steps.length > 0, name);
      assert.deepEqual(plan(withoutStyleSheets(text, 0)), fromValue, name);
      // and without the table sections (an older collect.cmd there) it did not
      const lost = withoutStyleSheets(text, 0).replace(/\[\[cabferry:begin [a-z]+-table\]\][\s\S]*?\[\[cabferry:end [a-z]+-table\]\]\r\n/g, '');
      assert.notDeepEqual(plan(lost), fromValue, name);
    }
  });
});

describe('collect.cmd asks each wmic query twice: with /value and as wmic\'s own table', () => {
  it('each /value section has a "-table" section with the same query without /value, which needs no style sheet', () => {
    const script = collectScript();
    const wmicLine = (name: string): string => {
      const body = new RegExp(`echo \\[\\[cabferry:begin ${name}\\]\\]\\r\\n([\\s\\S]*?)echo \\[\\[cabferry:end ${name}\\]\\]`).exec(script);
      assert.ok(body, `collect.cmd has a ${name} section`);
      const line = body[1].split('\r\n').find((l) => l.startsWith('wmic '));
      assert.ok(line, `${name} runs wmic`);
      return line;
    };
    for (const name of WMI_SECTIONS) {
      assert.ok((COLLECT_SECTIONS as readonly string[]).includes(`${name}-table`), `the reader knows ${name}-table`);
      const value = wmicLine(name);
      const table = wmicLine(`${name}-table`);
      assert.match(value, / \/value > /);
      assert.doesNotMatch(table, /\/value|\/format|\/all\b|\blist\b/i);
      assert.equal(table, value.replace(' /value', ''), name);
    }
  });
});
