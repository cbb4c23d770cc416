/**
 * Checks that a change to runtime/preprocess/ left its results exactly as they were: the
 * preprocessing of a git revision (default HEAD) and of the working tree are run on the same
 * images, and every 28 × 28 result (compared bit for bit), every fact and every refusal (code and
 * message) must be the same. For performance work, which must not change what is computed.
 *
 *   npx tsx hack/bench/preprocess-identity.ts [--against HEAD] [--per-class 3] [--pool]
 *
 * Images: the photo variants of hack/data/photo-variants.ts (`--per-class` held-out digits of each
 * class per variant), the README's sample images (docs/examples/), the load bench's 12 MP phone
 * photo and smaller ones like it, every encoding the tests use (formats, grey, alpha, 16-bit,
 * CMYK, EXIF orientation, MNIST polarity, tiny and huge scales) and a few refused inputs. The
 * baseline is extracted with `git archive` under tmp/ (ignored) and imported from there. Exits 1
 * on any difference.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { PHOTO_VARIANTS, renderPhotoVariant } from '../data/photo-variants.js';
import { heldOutDigits, mnistSample } from '../data/mnist-digits.js';
import { encodeDigit, type EncodeOptions } from '../data/render-digit.js';
import { phonePhoto } from './load/targets.js';

type Preprocess = (bytes: Buffer, limits: { maxInputPixels: number }) => Promise<{ pixels: Float32Array; facts: object }>;

interface Case {
  name: string;
  bytes: Buffer;
}

const root = path.resolve(import.meta.dirname, '../..');
const limits = { maxInputPixels: 40_000_000 };

/** The preprocessing of `rev`, from a copy of its runtime/ under tmp/. */
async function preprocessAt(rev: string): Promise<Preprocess> {
  const sha = execFileSync('git', ['rev-parse', rev], { cwd: root, encoding: 'utf8' }).trim();
  const dir = path.join(root, 'tmp', 'preprocess-identity', sha);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  execFileSync('bash', ['-c', `git archive ${sha} runtime | tar -x -C ${JSON.stringify(dir)}`], { cwd: root });
  const mod = (await import(pathToFileURL(path.join(dir, 'runtime/preprocess/index.ts')).href)) as { preprocessImage: Preprocess };
  return mod.preprocessImage;
}

async function cases(perClass: number): Promise<Case[]> {
  const out: Case[] = [];
  const digits = heldOutDigits(perClass);
  for (const variant of PHOTO_VARIANTS) {
    for (let k = 0; k < digits.length; k++) out.push({ name: `${variant.name}/${k}`, bytes: await renderPhotoVariant(digits[k], variant, k + 1) });
  }
  const examples = path.join(root, 'docs/examples');
  for (const f of readdirSync(examples).sort()) out.push({ name: `examples/${f}`, bytes: readFileSync(path.join(examples, f)) });
  out.push({ name: 'phone-photo 4000×3000', bytes: await phonePhoto() });
  out.push({ name: 'phone-photo 3000×4000', bytes: await phonePhoto(3000, 4000) });
  out.push({ name: 'phone-photo 1600×1200', bytes: await phonePhoto(1600, 1200) });
  const seven = mnistSample(7, 0).pixels;
  const encodings: [string, EncodeOptions][] = [
    ['png', { format: 'png' }],
    ['png16', { format: 'png16' }],
    ['jpeg', { format: 'jpeg' }],
    ['jpeg-cmyk', { format: 'jpeg-cmyk', invert: true, scale: 4 }],
    ['webp', { format: 'webp' }],
    ['gif', { format: 'gif' }],
    ['tiff', { format: 'tiff' }],
    ['avif', { format: 'avif', scale: 4 }],
    ['grey png', { format: 'png', grey: true, invert: true, scale: 5, noise: 0.03, gradient: 0.3 }],
    ['transparent png', { format: 'png', transparent: true, scale: 12, colour: { r: 0, g: 0, b: 0 } }],
    ['grey transparent png', { format: 'png', transparent: true, grey: true, scale: 6 }],
    ['white on black 10×', { format: 'png', scale: 10 }],
    ['tiny 1×', { format: 'png', scale: 1, canvas: { width: 40, height: 30 } }],
    ['scan 4×', { format: 'png', invert: true, scale: 4 }],
    ['exif 6', { format: 'jpeg', invert: true, scale: 8, orientation: 6 }],
    ['exif 3', { format: 'jpeg', invert: true, scale: 8, orientation: 3 }],
    ['exif 6 png', { format: 'png', invert: true, scale: 8, orientation: 6 }],
    ['exif 8 png, 600 px', { format: 'png', invert: true, scale: 8, orientation: 8, canvas: { width: 600, height: 300 } }],
    ['red pen', { format: 'jpeg', invert: true, scale: 10, colour: { r: 200, g: 30, b: 30 }, noise: 0.02 }],
    ['blurred', { format: 'jpeg', invert: true, scale: 10, blur: 4, noise: 0.02 }],
    ['blank paper', { format: 'jpeg', invert: true, scale: 10, colour: { r: 240, g: 240, b: 240 }, noise: 0.01 }],
  ];
  for (const [name, o] of encodings) out.push({ name: `encoding/${name}`, bytes: await encodeDigit(seven, { seed: 3, ...o }) });
  out.push({ name: 'refused/empty', bytes: Buffer.alloc(0) });
  out.push({ name: 'refused/svg', bytes: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>') });
  out.push({ name: 'refused/truncated png', bytes: (await encodeDigit(seven, { format: 'png', scale: 4 })).subarray(0, 200) });
  return out;
}

type Outcome = { pixels: Buffer; facts: string } | { error: string };

async function outcome(f: Preprocess, bytes: Buffer): Promise<Outcome> {
  try {
    const r = await f(bytes, limits);
    return { pixels: Buffer.from(r.pixels.buffer, r.pixels.byteOffset, r.pixels.byteLength), facts: JSON.stringify(r.facts) };
  } catch (e) {
    const err = e as Error & { code?: string };
    return { error: `${err.code ?? err.name}: ${err.message}` };
  }
}

function same(a: Outcome, b: Outcome): string | null {
  if ('error' in a || 'error' in b) {
    const ea = 'error' in a ? a.error : 'a result';
    const eb = 'error' in b ? b.error : 'a result';
    return ea === eb ? null : `${ea} ≠ ${eb}`;
  }
  if (a.facts !== b.facts) return `facts ${a.facts} ≠ ${b.facts}`;
  if (!a.pixels.equals(b.pixels)) {
    let differing = 0;
    for (let i = 0; i < a.pixels.length; i += 4) if (a.pixels.readUInt32LE(i) !== b.pixels.readUInt32LE(i)) differing++;
    return `${differing} of 784 pixels differ`;
  }
  return null;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { against: { type: 'string', default: 'HEAD' }, 'per-class': { type: 'string', default: '3' }, pool: { type: 'boolean', default: false } } });
  const baseline = await preprocessAt(values.against ?? 'HEAD');
  let current = (await import('../../runtime/preprocess/index.js')).preprocessImage as Preprocess;
  // --pool: the working tree's side as the runtime serves it, in a preprocessing worker, the bytes handed over
  const pool = values.pool ? new (await import('../../runtime/app/preprocess-pool.js')).PreprocessPool(1) : undefined;
  if (pool) current = (bytes, limits) => pool.run(Buffer.from(Uint8Array.prototype.slice.call(bytes).buffer), limits, undefined, true);
  const all = await cases(Number(values['per-class']));
  let differences = 0;
  for (const c of all) {
    const why = same(await outcome(baseline, c.bytes), await outcome(current, c.bytes));
    if (why) {
      differences++;
      process.stdout.write(`DIFFERENT ${c.name}: ${why}\n`);
    }
  }
  await pool?.close();
  process.stdout.write(`${all.length} images, ${differences} different from ${values.against}${pool ? ' (this tree through the preprocessing pool)' : ''}\n`);
  if (differences > 0) process.exitCode = 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  });
}
