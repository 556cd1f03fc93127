// Opens a generated page in Debian's Chromium through playwright-core (which never downloads a browser)
// and collects what the report tests check: console errors, network requests, drawn charts, text.

import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { tempDir } from '../helpers/temp.js';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];

/** The system Chromium (or the one S2BENCH_CHROMIUM names), or a reason why there is none (for `t.skip`). */
export function findChromium(): { path: string } | { missing: string } {
  const chosen = process.env['S2BENCH_CHROMIUM'];
  const candidates = chosen ? [chosen] : CANDIDATES;
  for (const path of candidates) if (existsSync(path)) return { path };
  return {
    missing: `no Chromium at ${candidates.join(' or ')} (scripts/install-system-deps.sh installs Debian's package); browser checks skipped`,
  };
}

export interface ChartState {
  id: string;
  drawn: boolean;
  canvasWidth: number;
  canvasHeight: number;
}

export interface PageVisit {
  consoleErrors: string[];
  /** Every request other than the page itself (each one is blocked). */
  requests: string[];
  charts: ChartState[];
  text: string;
  images: number;
  title: string;
  /** How far the page and the summary table are wider than the 1280-pixel window (0: they fit). */
  overflow: { page: number; summary: number };
  /** By `section[id]` (e.g. between-versions): how far its widest table is wider than its box (0: none scrolls). */
  sectionOverflow: Record<string, number>;
  /** Each report section's id and title text (`h2.group-title`). */
  sections: Array<{ id: string; title: string }>;
}

const LAUNCH_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** `windowShotPath`: also a screenshot of the first screenful (what the README shows). */
export async function visitPage(chromiumPath: string, htmlPath: string, screenshotPath: string, windowShotPath?: string): Promise<PageVisit> {
  const { chromium } = await import('playwright-core');
  const profile = await tempDir('chromium');
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args: LAUNCH_ARGS,
    viewport: { width: 1280, height: 900 },
  });
  try {
    const pageUrl = pathToFileURL(htmlPath).href;
    const requests: string[] = [];
    const consoleErrors: string[] = [];
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (url === pageUrl) return route.continue();
      if (!requests.includes(url)) requests.push(url);
      return route.abort();
    });
    const page = context.pages()[0] ?? (await context.newPage());
    page.on('request', (req) => {
      if (req.url() !== pageUrl && !requests.includes(req.url())) requests.push(req.url());
    });
    page.on('console', (msg) => {
      if (msg.type() === 'error') consoleErrors.push(msg.text());
    });
    page.on('pageerror', (err) => consoleErrors.push(String(err)));
    await page.goto(pageUrl, { waitUntil: 'load' });
    // Charts draw after load (uPlot defers its first paint); wait for every mark, or go on and let the
    // caller's assertions name the chart that never drew.
    await page
      .waitForFunction(`[...document.querySelectorAll('.chart')].every((el) => el.getAttribute('data-drawn') === 'true')`, undefined, { timeout: 3000 })
      .catch(() => undefined);
    // A string, so this file needs no DOM types: it runs in the page, not in Node.
    const state = (await page.evaluate(`(() => {
      const charts = [...document.querySelectorAll('.chart')].map((el) => {
        const canvas = el.querySelector('canvas');
        const box = canvas ? canvas.getBoundingClientRect() : { width: 0, height: 0 };
        return { id: el.id, drawn: el.getAttribute('data-drawn') === 'true', canvasWidth: box.width, canvasHeight: box.height };
      });
      const wrap = document.querySelector('table.summary')?.parentElement;
      const overflow = {
        page: document.documentElement.scrollWidth - document.documentElement.clientWidth,
        summary: wrap ? wrap.scrollWidth - wrap.clientWidth : 0,
      };
      const sectionOverflow = Object.fromEntries([...document.querySelectorAll('section[id]')].map((sec) =>
        [sec.id, Math.max(0, ...[...sec.querySelectorAll('.table-wrap')].map((w) => w.scrollWidth - w.clientWidth))]));
      const sections = [...document.querySelectorAll('h2.group-title')].map((h) => ({ id: h.id, title: h.textContent }));
      return { charts, text: document.body.innerText, images: document.images.length, title: document.title, overflow, sectionOverflow, sections };
    })()`)) as Omit<PageVisit, 'consoleErrors' | 'requests'>;
    await page.screenshot({ path: screenshotPath, fullPage: true });
    if (windowShotPath !== undefined) await page.screenshot({ path: windowShotPath });
    return { consoleErrors, requests, ...state };
  } finally {
    await context.close();
    await rm(profile, { recursive: true, force: true });
  }
}
