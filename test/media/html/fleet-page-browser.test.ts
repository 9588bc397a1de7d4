import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFleetPage } from '../../../src/media/html';
import { reportMedia, type MediaReport } from '../../../src/media/report';
import type { Payload } from '../../../src/package/types';
import { fixturePath, hasTool, projectRoot, runCli } from '../../common.helpers';
import { loadTrustAnchors } from '../../../src/authenticode/trust';
import { artifactPath, Browser, chromiumSkip, pdfPageCount, type OpenedPage } from './browser.helpers';
import { maskVarying, stageScenario, threeHosts, type ScenarioHost } from './scenario.helpers';

/**
 * The fleet page after the far side ran: four hosts, one complete, one waiting for a restart, one
 * failed (with a hostile line in its log), one not started; rendered from reportMedia() and opened
 * in headless Chromium.
 */

const GOLDEN = path.join(projectRoot, 'test', 'golden', 'fleet-page.txt');
const WRITTEN_AT = '2026-12-03T16:00:00.000Z';

/** The three hosts of the evidence pack plus SRV-D, which never runs. */
function fourHosts(byFile: Map<string, Payload>): ScenarioHost[] {
  const hosts = threeHosts(byFile);
  const a = hosts[0];
  return [...hosts, { inventory: { ...a.inventory, name: 'SRV-D' }, plan: { ...a.plan, host: 'SRV-D' } }];
}

/**
 * The lines as install.cmd writes them: into results/HOST/PLAN/, every line stamped with the
 * staged plan's id, and each install the host confirmed (report counts only those).
 */
function writeLog(media: string, host: string, lines: string[]): void {
  const planId = (JSON.parse(fs.readFileSync(path.join(media, 'hosts', host, 'plan.json'), 'utf8')) as { planId: string }).planId;
  const dir = path.join(media, 'results', host, planId);
  fs.mkdirSync(dir, { recursive: true });
  const stamped = lines.map((l) => l
    .replace(/^(RUN|RESULT|END) /, `$1 plan=${planId} script=release `)
    .replace(/( meaning=(?:installed|reboot-required|already-installed))( host=)/, '$1 confirmed=yes how=cbs$2')
    // a restart install.cmd proved: by the ShutdownTime Windows writes at a clean restart (how=shutdown)
    .replace(/( meaning=reboot-done)( host=)/, '$1 confirmed=- how=shutdown$2'));
  fs.writeFileSync(path.join(dir, 'result.log'), stamped.map((l) => `${l}\r\n`).join(''));
}

/** An earlier plan's log left on the stick for `host` (a plan staged before this one). */
const EARLIER_PLAN = 'e'.repeat(64);
function writeEarlierLog(media: string, host: string): void {
  const dir = path.join(media, 'results', host, EARLIER_PLAN);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'result.log'), [
    `RUN plan=${EARLIER_PLAN} script=release host=${host} build=6002 arch=x86 hasher=dotnet autoreboot=0 time=2026-11-02T09:00:00`,
    `RESULT plan=${EARLIER_PLAN} script=release step=1 kb=KB4493730 action=install code=0 meaning=installed confirmed=yes how=cbs host=${host} time=2026-11-02T09:01:00`,
    `END plan=${EARLIER_PLAN} script=release status=stopped reason=- code=1 host=${host} time=2026-11-02T09:02:00`,
  ].map((l) => `${l}\r\n`).join(''));
}

/**
 * What came back: SRV-A through both restarts, SRV-B stopped for its first restart (its SHA-2
 * update pending on the host) with an earlier plan's log beside it, SRV-C failed.
 */
function writeResults(media: string): void {
  writeLog(media, 'SRV-A', [
    'RUN host=SRV-A build=6002 arch=amd64 hasher=certutil autoreboot=1 time=2026-12-02T08:00:00',
    'RESULT step=1 kb=KB4493730 action=install code=0 meaning=installed host=SRV-A time=2026-12-02T08:01:10',
    // as install.cmd writes them: a 3010 step asks for the restart itself, the run after it logs the
    // proven restart under that step, and the plan's restart step after it is satisfied by it (a 3010
    // update the host listed at once counts only once its restart is proven)
    'RESULT step=2 kb=KB4474419 action=install code=3010 meaning=reboot-required host=SRV-A time=2026-12-02T08:02:20',
    'END status=restart reason=- code=3010 host=SRV-A time=2026-12-02T08:02:22',
    'RUN host=SRV-A build=6002 arch=amd64 hasher=certutil autoreboot=1 time=2026-12-02T08:05:00',
    'RESULT step=2 kb=- action=restart code=0 meaning=reboot-done host=SRV-A time=2026-12-02T08:05:01',
    'RESULT step=3 kb=- action=reboot code=0 meaning=reboot-done host=SRV-A time=2026-12-02T08:05:01',
    'RESULT step=4 kb=KB4520002 action=install code=3010 meaning=reboot-required host=SRV-A time=2026-12-02T08:09:40',
    'END status=restart reason=- code=3010 host=SRV-A time=2026-12-02T08:09:42',
    'RUN host=SRV-A build=6003 arch=amd64 hasher=certutil autoreboot=1 time=2026-12-02T08:13:00',
    'RESULT step=4 kb=- action=restart code=0 meaning=reboot-done host=SRV-A time=2026-12-02T08:13:01',
    'RESULT step=5 kb=- action=reboot code=0 meaning=reboot-done host=SRV-A time=2026-12-02T08:13:01',
    'END status=complete reason=- code=0 host=SRV-A time=2026-12-02T08:13:02',
  ]);
  writeLog(media, 'SRV-B', [
    'RUN host=SRV-B build=6002 arch=x86 hasher=dotnet autoreboot=0 time=2026-12-02T09:00:00',
    'RESULT step=1 kb=KB4474419 action=install code=3010 meaning=reboot-required confirmed=pending how=cbs host=SRV-B time=2026-12-02T09:01:30',
    'RESULT step=2 kb=- action=reboot code=0 meaning=reboot-requested host=SRV-B time=2026-12-02T09:01:31',
    'END status=restart reason=- code=3010 host=SRV-B time=2026-12-02T09:01:32',
  ]);
  writeEarlierLog(media, 'SRV-B');
  writeLog(media, 'SRV-C', [
    'RUN host=SRV-C build=6002 arch=amd64 hasher=certutil autoreboot=0 time=Wed 12/02/2026 10:00:00.15',
    'RESULT step=1 kb=KB4493730 action=install code=-2147023838 meaning=windows-update-service-disabled host=SRV-C time=Wed 12/02/2026 10:00:41.02',
    '<script>alert("log")</script> & "quoted" \u001b[31m',
    'END status=stopped reason=step-failed code=1 host=SRV-C time=Wed 12/02/2026 10:00:41.10',
  ]);
}

const CONFIRMED_TEXT: Record<string, string> = { yes: 'confirmed', pending: 'pending a restart', no: 'NOT found', 'n/a': 'n/a', '-': '-' };
const STEP_STATUS_TEXT: Record<string, string> = { installed: 'installed', skipped: 'skipped', failed: 'failed', 'restart-pending': 'waiting for a restart', 'not-reached': 'not reached' };

describe('fleet page (report --html) in Chromium', { skip: chromiumSkip }, () => {
  let browser: Browser;
  let media: string;
  let report: MediaReport;
  let page: OpenedPage;
  let pageFile: string;

  before(async () => {
    media = (await stageScenario(fourHosts)).to;
    writeResults(media);
    report = reportMedia(media, { trust: loadTrustAnchors([fixturePath('pki', 'root.pem')]) });
    pageFile = path.join(path.dirname(media), 'fleet.html');
    writeFleetPage(pageFile, report, { generatedAt: WRITTEN_AT, cabferryVersion: '0.0.0-test' });
    browser = await Browser.launch();
    page = await browser.open(pageFile);
  });
  after(async () => {
    await browser?.close();
  });

  test('the report sees what the logs say (the scenario is what the page must show)', () => {
    assert.deepEqual(report.hosts.map((h) => [h.host, h.status]), [['SRV-A', 'complete'], ['SRV-B', 'restart-pending'], ['SRV-C', 'failed'], ['SRV-D', 'not-run']]);
  });

  test('loads without console errors, scripts or other requests', async (t) => {
    assert.deepEqual(page.problems, []);
    assert.equal(page.requests.length, 1, page.requests.join(', '));
    assert.equal(await page.page.evaluate('document.scripts.length'), 0);
    t.diagnostic(`fleet.html: ${fs.statSync(pageFile).size} bytes, load event after ${page.loadMs.toFixed(0)} ms`);
  });

  test('the fleet table puts each host in its state', async () => {
    const rows = await page.page.$$eval('table.groups tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.innerText.trim())));
    assert.deepEqual(rows, [
      ['Complete', '1', 'SRV-A'],
      ['Finished, not complete', '0', '-'],
      ['Waiting for a restart', '1', 'SRV-B'],
      ['Failed or refused', '1', 'SRV-C'],
      ['Started, not finished', '0', '-'],
      ['Not started', '1', 'SRV-D'],
    ]);
  });

  test('each host lists its steps with result, code, meaning and time as the report has them', async () => {
    for (const h of report.hosts) {
      const rows = await page.page.$$eval(`#host-${h.host} table.steps tbody tr`, (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.innerText.trim())));
      assert.deepEqual(rows.map((r) => [r[0], r[2], r[3], r[4].split('\n')[0], r[6]]), h.steps.map((s) => [String(s.n), s.action === 'reboot' && s.status === 'installed' ? 'restarted' : STEP_STATUS_TEXT[s.status], CONFIRMED_TEXT[s.confirmed ?? '-'], s.code === null ? '-' : String(s.code), s.time ?? '-']), h.host);
      for (const [i, s] of h.steps.entries()) if (s.explanation) assert.ok(rows[i][5].startsWith(s.explanation), `${h.host} step ${s.n}: ${rows[i][5]}`);
    }
  });

  test('per host the plan id, and per step whether the host confirmed the install', async () => {
    for (const h of report.hosts) {
      const facts = await page.page.$$eval(`#host-${h.host} table.facts tr`, (trs) => trs.map((tr) => [tr.querySelector('th')?.innerText.trim(), tr.querySelector('td')?.innerText.trim()]));
      assert.deepEqual(facts.find((f) => f[0] === 'Plan'), ['Plan', h.planId], h.host);
    }
    const a = report.hosts[0];
    assert.deepEqual(a.steps.filter((s) => s.action === 'install').map((s) => s.confirmed), ['yes', 'yes', 'yes'], 'SRV-A: every install confirmed');
    const b = report.hosts[1];
    assert.equal(b.steps[0].confirmed, 'pending');
    const cells = await page.page.$$eval('#host-SRV-B table.steps tbody tr', (trs) => trs.map((tr) => tr.querySelectorAll('td')[3].innerText.trim()));
    assert.equal(cells[0], 'pending a restart');
  });

  test('earlier plans\' results on the medium are shown as history, apart from the staged plan\'s steps', async () => {
    const b = report.hosts[1];
    assert.deepEqual(b.history.map((x) => [x.planId, x.confirmedInstalled]), [[EARLIER_PLAN, ['KB4493730']]]);
    const rows = await page.page.$$eval('#host-SRV-B table.history tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.innerText.trim())));
    assert.equal(rows.length, 1);
    assert.deepEqual(rows[0].slice(0, 4), [EARLIER_PLAN, '1', '2026-11-02T09:00:00', 'KB4493730']);
    assert.match(rows[0][4], new RegExp(`results/SRV-B/${EARLIER_PLAN}/result\\.log \\(1 result line\\(s\\)\\)`));
    for (const other of ['SRV-A', 'SRV-C', 'SRV-D']) assert.equal(await page.page.$$eval(`#host-${other} table.history`, (t) => t.length), 0, other);
  });

  test('the chart has one bar per host, one segment per non-zero step state', async () => {
    const chart = await page.page.$$eval('svg rect title', (titles) => titles.map((t) => t.textContent ?? ''));
    const expected = report.hosts.flatMap((h) => (['installed', 'skipped', 'restart-pending', 'failed', 'not-reached'] as const)
      .filter((st) => h.counts[st] > 0).map((st) => `${h.host}: ${h.counts[st]} ${STEP_STATUS_TEXT[st]}`));
    assert.deepEqual(chart, expected);
    const box = await page.page.$eval('svg', (svg) => { const r = svg.getBoundingClientRect(); return { w: r.width, h: r.height }; });
    assert.ok(box.w > 0 && box.h > 0 && box.w <= 1280, `chart is ${box.w} x ${box.h}`);
    // the legend names every step state, each drawn inside the chart (one past its edge is cut off)
    const legend = await page.page.$$eval('svg > text', (texts) => {
      const outer = texts[0].closest('svg')!.getBoundingClientRect();
      return texts.map((t) => { const r = t.getBoundingClientRect(); return { text: t.textContent ?? '', inside: r.left >= outer.left && r.right <= outer.right + 0.5 && r.bottom <= outer.bottom + 0.5 }; });
    });
    for (const label of ['installed', 'skipped', 'waiting for a restart', 'failed', 'not found on the host', 'not reached']) {
      const item = legend.find((l) => l.text === label);
      assert.ok(item, `legend has "${label}": ${legend.map((l) => l.text).join(' | ')}`);
      assert.ok(item.inside, `legend item "${label}" lies inside the chart`);
    }
  });

  test('a hostile log line stays text: counted as unreadable, not run as markup', async () => {
    assert.equal(report.hosts[2].unreadableLines, 1);
    assert.equal(await page.page.evaluate('document.querySelectorAll("script").length'), 0);
  });

  test('screenshot at desktop width; prints a cover and one sheet per host', async (t) => {
    const shot = artifactPath('fleet-page-desktop.png');
    await page.page.screenshot({ path: shot, fullPage: true });
    t.diagnostic(`screenshot: ${shot}`);
    for (const format of ['A4', 'Letter'] as const) {
      const pdf = await page.page.pdf({ format });
      const file = artifactPath(`fleet-page-${format}.pdf`);
      fs.writeFileSync(file, pdf);
      t.diagnostic(`pdf: ${file}`);
      assert.equal(pdfPageCount(pdf), 1 + report.hosts.length, format);
      if (!hasTool('pdftotext')) continue;
      const sheets = spawnSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' }).stdout.split('\f');
      report.hosts.forEach((h, i) => assert.match(sheets[i + 1].trimStart(), new RegExp(`^Host ${h.host}\\b`), `${format} sheet ${i + 2}`));
    }
  });

  test('the text content matches the golden copy (test/golden/fleet-page.txt)', async () => {
    const text = maskVarying(await page.page.innerText('body'), null, [media]) + '\n';
    if (process.env.CABFERRY_UPDATE_GOLDEN === '1') fs.writeFileSync(GOLDEN, text);
    assert.equal(text, fs.readFileSync(GOLDEN, 'utf8'));
  });

  test('cabferry report DIR --html FILE writes the page and keeps the exit code of the report', () => {
    const out = path.join(path.dirname(media), 'cli-fleet.html');
    const r = runCli(['report', media, '--html', out]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stdout, /Fleet page: .*cli-fleet\.html \(\d+ bytes\)/);
    const html = fs.readFileSync(out, 'utf8');
    assert.match(html, /^<!DOCTYPE html>/);
    assert.ok(html.includes('SRV-D'));
    const json = runCli(['report', media, '--json', '--html', out]);
    assert.equal(json.status, 1);
    assert.doesNotThrow(() => JSON.parse(json.stdout), 'stdout stays one JSON document');
  });
});
