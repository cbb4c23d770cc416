import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { mnistDigit } from '../../../support/images.js';
import { modelCalibratedAt } from '../../../support/model-fixture.js';

// `npm start` as a pod runs it: a child process on free ports, a burst of accepted requests,
// SIGTERM in the middle. Readiness must turn false at once, every accepted request must be
// answered, and the process must exit 0.
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
let child: ChildProcess;
const records: Record<string, unknown>[] = [];
let exit: Promise<number | null>;

function waitFor(msg: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const tick = setInterval(() => {
      const r = records.find((x) => x.msg === msg);
      if (r) {
        clearInterval(tick);
        resolve(r);
      } else if (child.exitCode !== null) {
        clearInterval(tick);
        reject(new Error(`runtime exited with ${child.exitCode} before "${msg}": ${JSON.stringify(records.slice(-5))}`));
      }
    }, 20);
  });
}

beforeAll(async () => {
  child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'runtime/main.ts')], {
    cwd: root,
    env: { ...process.env, NODE_OPTIONS: '', PORT: '0', METRICS_PORT: '0', GRPC_PORT: '0', MODEL_URI: modelCalibratedAt(256), MAX_BATCH_SIZE: '4', SHUTDOWN_DELAY_MS: '300', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  exit = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  let buffered = '';
  child.stdout!.on('data', (b: Buffer) => {
    buffered += b.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const l of lines) if (l.startsWith('{')) records.push(JSON.parse(l) as Record<string, unknown>);
  });
  await waitFor('ready');
}, 120_000);

afterAll(() => {
  if (child.exitCode === null) child.kill('SIGKILL');
});

const body = (n: number, seed: number) =>
  JSON.stringify({ instances: Array.from({ length: n }, (_, i) => Array.from({ length: 28 }, (_, y) => Array.from(mnistDigit(seed + i).pixels.subarray(y * 28, y * 28 + 28)))) });

it('on SIGTERM turns readiness false at once, answers every accepted request, and exits 0', async () => {
  const port = (records.find((r) => r.msg === 'ready') as { port: number }).port;
  const base = `http://127.0.0.1:${port}`;
  const inFlight = async () => ((await (await fetch(`${base}/v1/stats`)).json()) as { requestsInFlight: number }).requestsInFlight;
  let answered = 0;
  const burst = Array.from({ length: 16 }, (_, k) =>
    fetch(`${base}/v1/models/mnist-cnn:predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body(8, k * 8) }).then((r) => {
      answered++;
      return r;
    }),
  );
  // every request of the burst has reached the server (in flight there, the stats request aside, or answered)
  for (let i = 0; (await inFlight()) - 1 + answered < 16; i++) {
    if (i > 4000) throw new Error('the burst never reached the server');
    await new Promise((r) => setTimeout(r, 5));
  }
  expect(answered).toBeLessThan(16); // SIGTERM lands while accepted work is still queued
  child.kill('SIGTERM');
  await waitFor('draining: readiness is false; finishing accepted requests');
  const ready = await fetch(`${base}/readyz`);
  expect(ready.status).toBe(503);
  expect(((await ready.json()) as { error: { code: string } }).error.code).toBe('draining');

  const answers = await Promise.all(burst);
  expect(answers.map((r) => r.status)).toEqual(new Array(16).fill(200));
  for (const [k, r] of answers.entries()) {
    const predictions = ((await r.json()) as { predictions: { digit: number }[] }).predictions;
    expect(predictions).toHaveLength(8);
    expect(predictions.filter((p, i) => p.digit === mnistDigit(k * 8 + i).label).length).toBeGreaterThanOrEqual(6);
  }
  expect(await exit).toBe(0);
  expect(records.map((r) => r.msg)).toContain('stopped');
  expect(records.filter((r) => r.level === 'error')).toEqual([]);
});
