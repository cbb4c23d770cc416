import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { encodeDigit, mnistDigit } from '../../support/images.js';
import { freePort, getStatus, repoRoot, sleep } from '../../support/runtime-process.js';

/**
 * The runtime image's layout without Docker: tsc with tsconfig.build.json, then the files
 * Dockerfile.runtime copies next to the compiled JS (package.json, the pages, the default
 * model), started with plain `node runtime/main.js` as the image does (no tsx).
 */
describe('compiled runtime build (the Dockerfile.runtime layout)', () => {
  let dir: string;
  let child: ChildProcess | undefined;
  let port: number;
  const output: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'digitserve-build-'));
    const tsc = spawnSync(process.execPath, [path.join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', path.join(dir, 'dist')], { cwd: repoRoot, encoding: 'utf8' });
    if (tsc.status !== 0) throw new Error(`tsc failed:\n${tsc.stdout}${tsc.stderr}`);
    // the image's build stage copies runtime/ and operator/ only: a compiled file from anywhere else
    // (an import of hack/ or test/) builds here and fails `npm run images`
    const compiled = readdirSync(path.join(dir, 'dist')).sort();
    if (compiled.join() !== 'operator,runtime') throw new Error(`tsconfig.build.json compiled files outside runtime/ and operator/: dist holds ${compiled.join(', ')}`);
    const app = path.join(dir, 'app');
    mkdirSync(app);
    // as in Dockerfile.runtime: COPY package.json, node_modules, dist/runtime -> runtime, pages, the .proto, models
    cpSync(path.join(repoRoot, 'package.json'), path.join(app, 'package.json'));
    symlinkSync(path.join(repoRoot, 'node_modules'), path.join(app, 'node_modules'), 'dir');
    cpSync(path.join(dir, 'dist/runtime'), path.join(app, 'runtime'), { recursive: true });
    cpSync(path.join(repoRoot, 'runtime/server/page'), path.join(app, 'runtime/server/page'), { recursive: true });
    cpSync(path.join(repoRoot, 'runtime/grpc/open-inference.proto'), path.join(app, 'runtime/grpc/open-inference.proto'));
    cpSync(path.join(repoRoot, 'models/mnist-cnn'), path.join(app, 'models/mnist-cnn'), { recursive: true });
    port = await freePort();
    let metricsPort = await freePort();
    while (metricsPort === port) metricsPort = await freePort();
    child = spawn(process.execPath, ['runtime/main.js'], {
      cwd: app,
      env: { PATH: process.env.PATH, PORT: String(port), METRICS_PORT: String(metricsPort), GRPC_PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (b: Buffer) => output.push(b.toString()));
    child.stderr!.on('data', (b: Buffer) => output.push(b.toString()));
    const deadline = Date.now() + 90_000;
    while ((await getStatus(`http://127.0.0.1:${port}/readyz`).catch(() => 0)) !== 200) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`compiled runtime not ready:\n${output.join('').slice(-4000)}`);
      await sleep(250);
    }
  }, 180_000);

  afterAll(() => {
    child?.kill('SIGKILL');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('turns ready and predicts a real PNG digit with node runtime/main.js', async () => {
    const digit = mnistDigit(7);
    const png = await encodeDigit(digit.pixels, { format: 'png', invert: true, scale: 4 });
    const res = await fetch(`http://127.0.0.1:${port}/v1/models/mnist-cnn:predict`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: png });
    const body = (await res.json()) as { predictions: { digit: number; uncertainty: { samples: number } }[] };
    expect(res.status).toBe(200);
    expect(body.predictions).toHaveLength(1);
    expect(body.predictions[0].digit).toBe(digit.label);
    expect(body.predictions[0].uncertainty.samples).toBe(30);
  });

  it('serves the page from the copied HTML', async () => {
    expect(await getStatus(`http://127.0.0.1:${port}/`)).toBe(200);
  });
});
