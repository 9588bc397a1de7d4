import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/**
 * Debian's chromium driven by playwright-core (nothing downloads a browser). The flags keep it
 * off the network this machine does not have; each launch gets a new, empty profile.
 */

export const CHROMIUM = '/usr/bin/chromium';

/** false when the browser is there; else the reason the browser tests skip. */
export const chromiumSkip: false | string = fs.existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (Debian package chromium; .ci/run installs it)`;

const FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/** Where screenshots and PDFs are kept for a person to look at: outside the repository. */
export const ARTIFACTS = path.join(os.tmpdir(), 'cabferry-html-artifacts');

export interface OpenedPage {
  page: Page;
  /** console errors and warnings, uncaught page errors */
  problems: string[];
  /** every URL the page asked for */
  requests: string[];
  /** ms from navigation start until the load event */
  loadMs: number;
}

export class Browser {
  private constructor(private readonly context: BrowserContext, private readonly profile: string) {}

  static async launch(): Promise<Browser> {
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'cabferry-chromium-'));
    // a busy shared machine can take long to start a browser; nothing here asserts on time
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM, headless: true, args: FLAGS, viewport: { width: 1280, height: 900 }, timeout: 180_000,
    });
    context.setDefaultTimeout(180_000);
    return new Browser(context, profile);
  }

  async open(file: string): Promise<OpenedPage> {
    const page = await this.context.newPage();
    const problems: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`); });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('dialog', (d) => { problems.push(`dialog: ${d.message()}`); void d.dismiss(); });
    page.on('request', (r) => requests.push(r.url()));
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    // a string expression: the tests compile without the DOM library
    const loadMs = Number(await page.evaluate(`(() => { const nav = performance.getEntriesByType('navigation')[0]; return nav ? nav.loadEventStart - nav.startTime : -1; })()`));
    return { page, problems, requests, loadMs };
  }

  async close(): Promise<void> {
    await this.context.close();
    fs.rmSync(this.profile, { recursive: true, force: true });
  }
}

/** Keep a screenshot or PDF for people to look at; returns its path. */
export function artifactPath(name: string): string {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  return path.join(ARTIFACTS, name);
}

/** Pages in a PDF, counted as its page objects (/Type /Page, not /Pages). */
export function pdfPageCount(pdf: Buffer): number {
  return (pdf.toString('latin1').match(/\/Type\s*\/Page(?![A-Za-z])/g) ?? []).length;
}
