import { jest } from '@jest/globals';
import http from 'node:http';
import { validDigitPng } from '../../../support/hostile.js';
import { errorShapeProblem } from '../../../support/hostile-http.js';
import { getStatus, RuntimeProcess, sleep } from '../../../support/runtime-process.js';

// Zero-loss shutdown: continuous traffic while the runtime gets SIGTERM. Every request sent
// before the signal gets a 200 (or a proper JSON error), none is reset; readiness turns false at
// once; the process exits 0. SHUTDOWN_DELAY_MS stands for the endpoints' propagation time, as in
// a pod (preStop sleep): requests arriving in it are answered, not dropped.
jest.setTimeout(120_000);

interface Outcome {
  sentAt: number;
  status: number;
  error?: string;
  problem?: string;
}

let rp: RuntimeProcess;

afterAll(async () => {
  await rp?.kill();
});

function predict(agent: http.Agent, port: number, body: Buffer): Promise<Outcome> {
  const sentAt = performance.now();
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/models/mnist-cnn:predict', agent, headers: { 'Content-Type': 'image/png', 'Content-Length': String(body.length) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const got = { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), ms: 0 };
        resolve({ sentAt, status: got.status, problem: got.status === 200 ? undefined : errorShapeProblem(got, false) });
      });
      res.on('error', (e: NodeJS.ErrnoException) => resolve({ sentAt, status: 0, error: e.code ?? e.message }));
    });
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ sentAt, status: 0, error: e.code ?? e.message }));
    req.end(body);
  });
}

describe('SIGTERM under continuous traffic', () => {
  it('answers every request sent before the signal, turns unready at once, and exits 0', async () => {
    rp = await RuntimeProcess.start({ env: { SHUTDOWN_DELAY_MS: '1500', LOG_LEVEL: 'warn' } });
    const png = await validDigitPng(4);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    const outcomes: Outcome[] = [];
    let sending = true;
    // 16 clients in closed loops on keep-alive connections, until the process is gone
    const clients = Array.from({ length: 16 }, async () => {
      while (sending && rp.alive) outcomes.push(await predict(agent, rp.port, png));
    });
    await sleep(1_500);
    const inFlightAtSignal = outcomes.length;
    const signalledAt = performance.now();
    rp.signal('SIGTERM');
    // readiness false at once (well inside SHUTDOWN_DELAY_MS, while the listener still answers)
    await sleep(200);
    const readyz = await getStatus(`${rp.baseUrl}/readyz`).catch(() => -1);
    const exit = await rp.exited;
    sending = false;
    await Promise.all(clients);
    agent.destroy();

    expect(readyz).toBe(503);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(inFlightAtSignal).toBeGreaterThan(0);
    const before = outcomes.filter((o) => o.sentAt < signalledAt);
    // the ones in flight when the signal came finished with answers
    expect(before.filter((o) => o.status !== 200 && !(o.status >= 400 && o.problem === undefined))).toEqual([]);
    expect(before.filter((o) => o.status === 200).length).toBeGreaterThan(inFlightAtSignal);
    // after the signal: answers (200 or a JSON 503) until the listener closed, then refusals, never a reset mid-answer
    const after = outcomes.filter((o) => o.sentAt >= signalledAt && o.sentAt < signalledAt + 1_000);
    expect(after.filter((o) => o.status === 0 || (o.status !== 200 && o.problem !== undefined))).toEqual([]);
  });
});
