import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadTrustAnchors } from '../../../src/authenticode/trust';
import { parseManifest } from '../../../src/media/manifest';
import { verifyMedia } from '../../../src/media/verify';
import { fixturePath, hasTool, projectRoot } from '../../common.helpers';
import { artifactPath, Browser, chromiumSkip, pdfPageCount, type OpenedPage } from './browser.helpers';
import { maskVarying, stageScenario, type ScenarioHost } from './scenario.helpers';
import { spawnSync } from 'node:child_process';

/**
 * index.html of a signed three-host medium, opened from the file system in headless Chromium:
 * loads without errors or outside requests, holds each host's plan and each payload's hash,
 * prints one host per sheet on A4 and on Letter, and reads as the golden text.
 */

const GOLDEN = path.join(projectRoot, 'test', 'golden', 'evidence-pack.txt');

/**
 * Printed sheets for the three-host medium: the cover (summary, signer, how to check), one sheet
 * per host (each plan here fits on one), and the payload evidence (five payloads with two
 * signatures each, then the certificates table), which Chromium lays out on three A4 sheets and
 * on three Letter sheets.
 */
const EXPECTED_SHEETS = { A4: 7, Letter: 7 } as const;
/** The text each printed sheet starts with, in order (checked where pdftotext is installed). */
const SHEET_STARTS = ['cabferry update media: evidence pack', 'Host SRV-A', 'Host SRV-B', 'Host SRV-C', 'Payloads and their signatures'];

describe('evidence pack (index.html) in Chromium', { skip: chromiumSkip }, () => {
  let browser: Browser;
  let staged: Awaited<ReturnType<typeof stageScenario>>;
  let opened: OpenedPage;

  before(async () => {
    staged = await stageScenario();
    browser = await Browser.launch();
    opened = await browser.open(path.join(staged.to, 'index.html'));
  });
  after(async () => {
    await browser?.close();
  });

  test('is listed in the signed manifest and verify-media passes with it', () => {
    const manifest = parseManifest(fs.readFileSync(path.join(staged.to, 'manifest.json')), 'manifest.json');
    assert.ok(manifest.files.some((f) => f.path === 'index.html'), 'index.html in manifest.json');
    const report = verifyMedia(staged.to, { trust: loadTrustAnchors([fixturePath('pki', 'root.pem')]) });
    assert.equal(report.ok, true, JSON.stringify(report));
  });

  test('loads from the file system without console errors, scripts or any other request', async (t) => {
    const { page, problems, requests } = opened;
    assert.deepEqual(problems, []);
    assert.deepEqual(requests.map((u) => path.basename(new URL(u).pathname)), ['index.html'], 'the page asks for nothing but itself');
    assert.equal(await page.evaluate('document.scripts.length'), 0);
    assert.equal(await page.evaluate("document.querySelectorAll('link, img, iframe, object, embed').length"), 0);
    const bytes = fs.statSync(path.join(staged.to, 'index.html')).size;
    t.diagnostic(`index.html: ${bytes} bytes, load event after ${opened.loadMs.toFixed(0)} ms`);
  });

  test('each host section holds exactly the plan staged for it', async () => {
    for (const h of staged.hosts) {
      const rows = await opened.page.$$eval(`#host-${h.plan.host} table.plan tbody tr`, (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.innerText.trim())));
      assert.deepEqual(rows.map((r) => r.slice(0, 4).concat(r[5])), expectedPlanRows(h), h.plan.host);
      for (const [i, s] of h.plan.steps.entries()) {
        if (s.action === 'reboot') assert.equal(rows[i][6], 'restart the host now');
        else assert.match(rows[i][6], /^package: (required|possible|never)$|^not stated by the package$/, `${h.plan.host} step ${s.n}`);
      }
      const skipped = await opened.page.$$eval(`#host-${h.plan.host} table.skipped tbody tr`, (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.innerText.trim())));
      assert.deepEqual(skipped, h.plan.skipped.map((s) => [s.kb, s.reason, s.detail ?? '-']));
      const missing = await opened.page.$$eval(`#host-${h.plan.host} table.missing tbody tr`, (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.innerText.trim())));
      assert.deepEqual(missing, h.plan.missing.map((m) => [m.kb, m.reason, m.fileHint ?? '-']));
      // what the plan rests on, which install.cmd checks on the host first (SRV-B's scenario has one)
      const assumed = await opened.page.$$eval(`#host-${h.plan.host} p.assumed`, (ps) => ps.map((p) => (p as unknown as { innerText: string }).innerText.trim()));
      const kbs = h.plan.assumedInstalled ?? [];
      assert.deepEqual(assumed, kbs.length === 0 ? [] : [`Taken as installed, as the inventory reports (install.cmd checks that the host has each before its first step): ${kbs.join(', ')}`]);
    }
    assert.ok(staged.hosts.some((h) => (h.plan.assumedInstalled ?? []).length > 0));
  });

  test('the payload table lists every staged payload with its SHA-256; each has its signature table', async () => {
    const rows = await opened.page.$$eval('table.payloads tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.innerText.trim())));
    assert.deepEqual(rows.map((r) => [r[0], r[3]]), staged.result.payloads.map((p) => [p.file, p.sha256]));
    for (const p of staged.result.payloads) {
      const sigs = await opened.page.$$eval(`#payload-${p.sha256} table.signatures tbody tr`, (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.innerText.trim())));
      const entry = staged.catalog.entry(p.sha256)!;
      assert.deepEqual(sigs.map((r) => [r[1], r[2], r[3]]), entry.signatures.map((s) => [s.digestAlgorithm, s.signer, s.issuer]), p.file);
    }
  });

  test('a screenshot at desktop width; nothing is cut off in the printed layout', async (t) => {
    const shot = artifactPath('evidence-pack-desktop.png');
    await opened.page.setViewportSize({ width: 1280, height: 900 });
    await opened.page.screenshot({ path: shot, fullPage: true });
    t.diagnostic(`screenshot: ${shot}`);
    // the printable width of A4 with the page margins (210 mm - 2 x 12 mm) in CSS pixels
    await opened.page.emulateMedia({ media: 'print' });
    await opened.page.setViewportSize({ width: Math.floor((186 / 25.4) * 96), height: 1000 });
    const overflowing = await opened.page.$$eval('td, th', (cells) => cells.filter((c) => c.scrollWidth > c.clientWidth + 1).map((c) => c.textContent?.slice(0, 60) ?? ''));
    const tooWide = await opened.page.evaluate('document.documentElement.scrollWidth > document.documentElement.clientWidth');
    // back to no emulation: page.pdf() prints with screen styles while 'screen' is emulated
    await opened.page.emulateMedia({ media: null });
    await opened.page.setViewportSize({ width: 1280, height: 900 });
    assert.deepEqual(overflowing, [], 'cells whose content is wider than the cell when printed');
    assert.equal(tooWide, false, 'the printed page is wider than the paper');
  });

  for (const format of ['A4', 'Letter'] as const) {
    test(`prints on ${format}: one sheet per host, ${EXPECTED_SHEETS[format]} sheets`, async (t) => {
      const pdf = await opened.page.pdf({ format, preferCSSPageSize: false });
      const file = artifactPath(`evidence-pack-${format}.pdf`);
      fs.writeFileSync(file, pdf);
      t.diagnostic(`pdf: ${file}`);
      assert.equal(pdfPageCount(pdf), EXPECTED_SHEETS[format]);
      if (!hasTool('pdftotext')) return;
      const text = spawnSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' }).stdout;
      const firstLines = text.split('\f').map((sheet) => sheet.split('\n').map((l) => l.trim()).find((l) => l !== '') ?? '');
      SHEET_STARTS.forEach((start, i) => assert.ok(firstLines[i].startsWith(start), `sheet ${i + 1} starts with ${JSON.stringify(start)}, not ${JSON.stringify(firstLines[i])}`));
    });
  }

  test('the text content matches the golden copy (test/golden/evidence-pack.txt)', async () => {
    const text = maskVarying(await opened.page.innerText('body'), staged.catalog) + '\n';
    if (process.env.CABFERRY_UPDATE_GOLDEN === '1') fs.writeFileSync(GOLDEN, text);
    assert.equal(text, fs.readFileSync(GOLDEN, 'utf8'));
  });
});

function expectedPlanRows(h: ScenarioHost): string[][] {
  return h.plan.steps.map((s) => s.action === 'reboot'
    ? [String(s.n), '-', 'restart', '(restart)', s.reason]
    : [String(s.n), s.kb ?? '-', s.kind, s.file ?? '-', s.reason]);
}
