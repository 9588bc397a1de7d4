import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { SignatureReport } from '../../../src/authenticode/signature';
import type { CatalogEntry } from '../../../src/catalog/types';
import { escapeHtml, renderEvidencePack, renderFleetPage, type EvidencePackInput, type PayloadEvidence } from '../../../src/media/html';
import type { MediaReport } from '../../../src/media/report';
import type { HostInventory, HostPlan } from '../../../src/planner/types';
import { tempDir } from '../../common.helpers';
import { Browser, chromiumSkip } from './browser.helpers';

/**
 * Every text that comes from an input goes through escapeHtml: here each field carries a
 * `<script>`, both quotes, an ampersand, control characters, non-ASCII and a lone surrogate,
 * tagged with the field's name, and the pages must show each tag with its hostile text as text
 * and contain no markup but their own.
 */

const HOSTILE = `<script>alert("x")</script><img src=x onerror='y'>&amp;\u0000\u0007\u001b[31m\u007f\u0085 \u00e9\u{1d11e}\ud800`;
/** the field's name first: fields the page shortens (dates cut to 10 characters) still show it */
const tagged = (field: string): string => `[${field}]${HOSTILE}`;

/** Certificate validity dates in chains are shown as their first 10 characters (the day). */
const isShortened = (field: string): boolean => /^(chain|tsChain)\.not(Before|After)$/.test(field);
const shownPart = (field: string): string => (isShortened(field) ? `[${field}]`.slice(0, 10) : `[${field}]`);

/** The tags and attributes the two pages use themselves. */
const OUR_TAGS = new Set(['html', 'head', 'meta', 'title', 'style', 'body', 'h1', 'h2', 'h3', 'p', 'div', 'span', 'table', 'colgroup', 'col', 'thead', 'tbody', 'tr', 'th', 'td', 'ul', 'li', 'b', 'br', 'code', 'pre', 'svg', 'rect', 'text']);
const OUR_ATTRIBUTES = new Set(['lang', 'http-equiv', 'content', 'name', 'type', 'class', 'id', 'style', 'scope', 'xmlns', 'width', 'height', 'viewbox', 'role', 'aria-label', 'font-family', 'font-size', 'x', 'y', 'fill', 'stroke', 'stroke-width', 'text-anchor']);

function hostilePack(): { html: string; fields: string[] } {
  const fields: string[] = [];
  const f = (name: string): string => { fields.push(name); return tagged(name); };
  const inventory: HostInventory = {
    // the page names a host by its plan (the same name; the planner takes it from the inventory)
    name: 'unused', product: f('inventory.product'), ntVersion: f('inventory.ntVersion'), build: 6002, revision: null,
    architecture: f('inventory.architecture') as HostInventory['architecture'], servicePack: 2, installed: [f('inventory.installed')],
    servicingStackVersion: null, sha2CodeSigning: false, pendingReboot: false, sources: [f('inventory.sources')], unknown: [f('inventory.unknown')], sections: { hotfixes: true }, esuLicence: null, files: [], evidence: [], conflicts: [],
  };
  const sha = 'a'.repeat(64);
  const plan: HostPlan = {
    host: f('plan.host'), files: [], complete: false, incomplete: [{ kind: 'missing', kbs: [] }], catalogCurrency: null,
    steps: [
      { n: 1, action: 'install', kb: f('step.kb'), file: f('step.file'), sha256: sha, kind: f('step.kind') as 'update', reason: f('step.reason') },
      { n: 2, action: 'reboot', kb: null, file: null, sha256: null, kind: 'reboot', reason: f('reboot.reason') },
    ],
    missing: [{ kb: f('missing.kb'), reason: f('missing.reason'), fileHint: f('missing.fileHint'), cause: { kind: 'missing', kb: 'KB4474419', title: null, copy: null, needs: [], fileHint: 'x.msu' } }],
    skipped: [{ kb: f('skipped.kb'), reason: f('skipped.reason') as 'installed', detail: f('skipped.detail'), cause: { kind: 'installed' } }],
    assumptions: [f('assumption')],
  };
  const chainEntry = (who: string) => ({ subject: f(`${who}.subject`), issuer: f(`${who}.issuer`), serialNumber: '01', notBefore: f(`${who}.notBefore`), notAfter: f(`${who}.notAfter`), sha256: f(`${who}.sha256`), trustAnchor: true });
  const entry: CatalogEntry = {
    sha256: sha, size: 1234, status: f('entry.status') as 'imported', fileName: 'x.msu', sourceNames: ['x.msu'], rejectCode: null, rejectReason: null, sha1OnlyAllowed: true,
    firstImportedAt: f('entry.firstImportedAt'), verdict: f('entry.verdict'), members: [],
    payload: { kb: f('payload.kb'), title: f('payload.title'), product: 'p', ntVersion: '6.0', architecture: 'amd64', kind: f('payload.kind') as 'update', releaseType: null, restart: f('payload.restart'), parents: [] } as unknown as CatalogEntry['payload'],
    signatures: [
      { position: 0, nested: false, digestAlgorithm: f('sig.digestAlgorithm'), signer: f('sig.signer'), issuer: f('sig.issuer'), timestamp: { kind: f('sig.timestamp.kind'), time: f('sig.timestamp.time'), authority: f('sig.timestamp.authority') }, valid: false, code: f('sig.code'), reason: f('sig.reason') },
    ],
  };
  const report = { index: 0, verifiedAt: f('verdict.verifiedAt'), chain: [chainEntry('chain')], timestamp: { chain: [chainEntry('tsChain')] } } as unknown as SignatureReport;
  const evidence: PayloadEvidence = { entry, verdict: { signatures: [report] } };
  const input: EvidencePackInput = {
    createdAt: f('createdAt'), cabferryVersion: f('cabferryVersion'), catalog: f('catalog'),
    hosts: [{ inventory, plan }],
    payloads: [{ file: f('payloads.file'), size: 1234, sha256: sha }],
    evidence: () => evidence,
    manifestSigner: { subject: f('signer.subject'), issuer: f('signer.issuer'), sha256Fingerprint: f('signer.fingerprint'), notBefore: f('signer.notBefore'), notAfter: f('signer.notAfter'), chain: [{ subject: f('signer.chain.subject'), sha256Fingerprint: f('signer.chain.fingerprint') }] },
  };
  return { html: renderEvidencePack(input), fields };
}

function hostileFleet(): { html: string; fields: string[] } {
  const fields: string[] = [];
  const f = (name: string): string => { fields.push(name); return tagged(name); };
  const counts = { installed: 0, skipped: 0, failed: 1, 'restart-pending': 0, unconfirmed: 0, 'not-reached': 0 };
  const report: MediaReport = {
    dir: f('dir'), ok: false, allCurrent: false,
    integrity: { proven: false, status: 'invalid', signer: null, chain: [], code: 'MEDIA_SIGNATURE_INVALID', reason: f('integrity.reason') },
    hosts: [{
      host: f('host'), planId: f('planId'), status: 'failed', reason: f('reason'), goal: null, planIncomplete: [], runs: 1, lastRun: f('lastRun'), testBuild: true, counts, unreadableLines: 1, unmatchedLines: 1,
      steps: [{ n: 1, action: 'install', kb: f('step.kb'), file: f('step.file'), status: 'failed', code: -1, codeHex: f('step.codeHex'), meaning: f('step.meaning'), confirmed: 'no', explanation: f('step.explanation'), time: f('step.time') }],
      history: [{ planId: f('history.planId'), path: f('history.path'), runs: 2, lastRun: f('history.lastRun'), confirmedInstalled: [f('history.kb')], results: 3 }],
    }],
  } as MediaReport;
  return { html: renderFleetPage(report, { generatedAt: f('generatedAt'), cabferryVersion: f('cabferryVersion') }), fields };
}

/** Checks that need no browser: only our own tags and attributes, ASCII only, every field present escaped. */
function assertInert(html: string, fields: string[]): void {
  assert.doesNotMatch(html, /<script/i);
  // eslint-disable-next-line no-control-regex
  assert.doesNotMatch(html, /[^\x09\x0a\x0d\x20-\x7e]/, 'ASCII only, no control characters');
  for (const m of html.matchAll(/<\/?([A-Za-z][A-Za-z0-9-]*)([^>]*)>/g)) {
    assert.ok(OUR_TAGS.has(m[1].toLowerCase()), `unexpected tag <${m[1]}>`);
    for (const a of m[2].matchAll(/\s([A-Za-z:-]+)=("[^"]*"|'[^']*'|[^\s>]*)/g)) assert.ok(OUR_ATTRIBUTES.has(a[1].toLowerCase()), `unexpected attribute ${a[1]} on <${m[1]}>`);
  }
  for (const field of fields) assert.ok(html.includes(escapeHtml(shownPart(field))), `${field} is shown`);
}

describe('escapeHtml', () => {
  test('markup characters, quotes, control characters, non-ASCII and lone surrogates', () => {
    assert.equal(escapeHtml(`<a href="x">&'</a>`), '&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;');
    assert.equal(escapeHtml('a\u0000b\u001bc\u007fd\u0085e'), 'a\\x00b\\x1Bc\\x7Fd\\x85e');
    assert.equal(escapeHtml('tab\tnew\nline\r'), 'tab\tnew\nline\r');
    assert.equal(escapeHtml('\u00e9\u{1d11e}\u2028'), '&#xE9;&#x1D11E;&#x2028;');
    assert.equal(escapeHtml('x\ud800y\udc00'), 'x&#xFFFD;y&#xFFFD;');
  });
});

describe('hostile input through every field', () => {
  test('evidence pack: inert markup, every field shown', () => {
    const { html, fields } = hostilePack();
    assertInert(html, fields);
  });

  test('fleet page: inert markup, every field shown', () => {
    const { html, fields } = hostileFleet();
    assertInert(html, fields);
  });
});

describe('hostile input in Chromium', { skip: chromiumSkip }, () => {
  let browser: Browser;
  before(async () => { browser = await Browser.launch(); });
  after(async () => { await browser?.close(); });

  for (const [name, make] of [['evidence pack', hostilePack], ['fleet page', hostileFleet]] as const) {
    test(`${name}: no script runs, each field reads back as its text`, async () => {
      const { html, fields } = make();
      const file = path.join(tempDir('cabferry-html-hostile-'), 'page.html');
      fs.writeFileSync(file, html);
      const { page, problems, requests } = await browser.open(file);
      assert.deepEqual(problems, [], 'no dialog, no console error');
      assert.equal(requests.length, 1, `only the page itself was requested: ${requests.join(', ')}`);
      assert.equal(await page.evaluate('document.scripts.length + document.images.length'), 0);
      const text = await page.innerText('body');
      // what the reader sees: the hostile markup as text, control characters as \xNN, U+FFFD for the surrogate
      const shown = `<script>alert("x")</script><img src=x onerror='y'>&amp;\\x00\\x07\\x1B[31m\\x7F\\x85 \u00e9\u{1d11e}\ufffd`;
      for (const field of fields) {
        if (isShortened(field)) assert.ok(text.includes(shownPart(field)), field);
        else assert.ok(text.includes(`[${field}]${shown}`), `${field} reads back as text`);
      }
      await page.close();
    });
  }
});
