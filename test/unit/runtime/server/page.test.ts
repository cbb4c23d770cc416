import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import sharp from 'sharp';
import { startTestRuntime, type TestRuntime } from './support/in-process.js';
import { DEFAULT_MODEL_VERSION_DIR } from '../../../support/model-fixture.js';

// The page at `/` in a real headless Chromium: a person draws a digit with the mouse and sees
// the prediction, its reliability and the live service figures.
const CHROMIUM = '/usr/bin/chromium';
let t: TestRuntime;
let browser: Browser;
let page: Page;
let shots: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (hack/install-prereqs.sh does) to run the page test`);
  t = await startTestRuntime({ MODEL_URI: DEFAULT_MODEL_VERSION_DIR });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = await browser.newPage({ viewport: { width: 1000, height: 760 } });
  shots = await mkdtemp(path.join(os.tmpdir(), 'digitserve-page-'));
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await t?.stop();
});

/** Mouse strokes through canvas coordinates (the canvas is 280 × 280 CSS px). */
async function stroke(points: [number, number][]): Promise<void> {
  const box = (await page.locator('#canvas').boundingBox())!;
  await page.mouse.move(box.x + points[0][0], box.y + points[0][1]);
  await page.mouse.down();
  for (const [x, y] of points.slice(1)) await page.mouse.move(box.x + x, box.y + y, { steps: 12 });
  await page.mouse.up();
}

/** The page's DOM, typed just enough for the predicates below (they run in the browser; the page's CSP forbids string eval). */
type PageDocument = { getElementById(id: string): { textContent: string | null; dataset: Record<string, string | undefined> } | null };

/** Waits until element `id` shows something other than `not` (and, with `flag`, has that data attribute). */
function waitForText(id: string, not: string, flag?: string): Promise<unknown> {
  return page.waitForFunction(
    ([id, not, flag]) => {
      const el = (globalThis as unknown as { document: PageDocument }).document.getElementById(id!);
      return !!el && el.textContent !== not && (!flag || el.dataset[flag] !== undefined);
    },
    [id, not, flag],
    { timeout: 20_000 },
  );
}

async function isBlank(png: Buffer): Promise<boolean> {
  const { channels } = await sharp(png).stats();
  return channels.every((c) => c.stdev < 2);
}

it('classifies a 7 drawn with the mouse and shows digit, probabilities, reliability and uncertainty', async () => {
  await page.goto(t.base);
  await waitForText('backend', '–');
  await stroke([[60, 60], [220, 60], [130, 250]]);
  await waitForText('digit', '–');
  expect(await page.textContent('#digit')).toBe('7');
  expect(await page.locator('#bars .bar').count()).toBe(10);
  expect(await page.textContent('#verdict')).toMatch(/^(reliable|not reliable)$/);
  expect(await page.textContent('#confidence')).toMatch(/confidence \d+\.\d%/);
  expect(await page.textContent('#uncertainty')).toContain('mutualInformation');

  const full = await page.screenshot({ path: path.join(shots, 'page-seven.png') });
  expect(await isBlank(full)).toBe(false);
  const result = await page.locator('#result').screenshot({ path: path.join(shots, 'result-seven.png') });
  expect(await isBlank(result)).toBe(false);
  const digitBox = await page.locator('#digit').screenshot();
  expect(await isBlank(digitBox)).toBe(false); // the digit glyph is rendered, not just present in the DOM
});

it('classifies a 1 after Clear, and the live figures count the requests', async () => {
  await page.click('#clear');
  expect(await page.textContent('#digit')).toBe('–');
  await stroke([[140, 40], [142, 250]]);
  await waitForText('digit', '–');
  expect(await page.textContent('#digit')).toBe('1');
  await waitForText('rps', '0.0');
  expect(Number(await page.textContent('#rps'))).toBeGreaterThan(0);
  expect(await page.textContent('#backend')).toMatch(/wasm|tensorflow|cpu/);
  expect(await page.textContent('#state')).toBe('ready');
  await page.screenshot({ path: path.join(shots, 'page-one.png') });
});

it('shows reliable: false for an uploaded image that is no digit', async () => {
  const noise = await sharp(Buffer.from(Array.from({ length: 200 * 200 * 3 }, (_, i) => (i * 7919) % 251)), { raw: { width: 200, height: 200, channels: 3 } }).png().toBuffer();
  await page.click('#clear');
  expect(await page.textContent('#verdict')).toBe('Draw a digit or upload an image.');
  await page.setInputFiles('#file', { name: 'noise.png', mimeType: 'image/png', buffer: noise });
  await waitForText('verdict', 'Draw a digit or upload an image.', 'reliable');
  expect(await page.textContent('#verdict')).toBe('not reliable');
  await page.screenshot({ path: path.join(shots, 'page-noise.png') });
});
