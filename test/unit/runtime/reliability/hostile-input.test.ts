import { jest } from '@jest/globals';
import path from 'node:path';
import { sendRaw, sendBytes } from '../../../support/hostile-http.js';
import { hostileCorpus, validDigitPng, writeHostileFixtures, type HostileCase } from '../../../support/hostile.js';
import { repoRoot, RuntimeProcess, sleep } from '../../../support/runtime-process.js';
import { Canary, caseProblems, healthProblems, loggedStatus, runtimeEnv, serverErrorsCounted, TEST_LIMITS } from './support.js';

// The hostile-input corpus against the runtime as it runs in a pod (a child process, real HTTP):
// no crash, no 5xx, every refusal a JSON body with a code, healthy afterwards, RSS on a plateau.
jest.setTimeout(180_000);

let rp: RuntimeProcess;
let canary: Canary;
let cases: HostileCase[];
let validPng: Buffer;
let sent = 0;

beforeAll(async () => {
  canary = await Canary.start();
  cases = await hostileCorpus({ model: 'mnist-cnn', ...TEST_LIMITS, canaryUrl: canary.url });
  writeHostileFixtures(path.join(repoRoot, 'test', 'fixtures', 'hostile'), cases);
  validPng = await validDigitPng(7);
  rp = await RuntimeProcess.start({ env: runtimeEnv() });
});

afterAll(async () => {
  await rp?.kill();
  await canary?.close();
});

/** One pass over the corpus (optionally without the slow cases); the problems found, by case. */
async function round(skipSlow: boolean): Promise<Record<string, string[]>> {
  const found: Record<string, string[]> = {};
  for (const c of cases) {
    if (skipSlow && c.trickle) continue;
    const requestId = `hostile-${c.name}-${++sent}`;
    const res = await sendRaw(rp.baseUrl, { ...c, headers: { ...c.headers, 'X-Request-Id': requestId } }, 60_000);
    await sleep(20); // a crash shows as an exit a moment after the answer, a log line just after it
    const problems = caseProblems(c, res, res.status === 0 ? loggedStatus(rp, requestId) : undefined);
    if (!rp.alive) {
      problems.push(`the runtime crashed (exit ${JSON.stringify(rp.exit)}):\n${rp.tail(12)}`);
      // carry on with a fresh process so that one crash does not hide the other findings
      rp = await RuntimeProcess.start({ env: runtimeEnv() });
    }
    if (problems.length > 0) found[c.name] = problems;
  }
  return found;
}

describe('hostile input against the runtime process', () => {
  it('has a corpus of at least 40 malformed or malicious requests of every kind', () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
    const kinds = new Set(cases.map((c) => c.kind));
    for (const k of ['images', 'bombs', 'svg', 'content-type', 'multipart', 'size', 'slow', 'json', 'oip', 'routes']) expect(kinds).toContain(k);
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
  });

  it('answers every case with an allowed status and a JSON error body with a code, never 5xx, never crashing', async () => {
    expect(await round(false)).toEqual({});
    expect(await serverErrorsCounted(rp)).toBe(0);
  });

  it('is healthy afterwards: alive, live, ready, and a real digit is still predicted', async () => {
    expect(await healthProblems(rp, validPng)).toEqual([]);
  });

  it('never fetched the URLs the requests carried (SVG entities, b64, instances, OIP BYTES)', () => {
    expect(canary.hits).toBe(0);
  });

  it('survives requests the HTTP parser refuses (huge header, garbage request line) and stays healthy', async () => {
    // Node's parser answers these (431/400) and closes the connection; the answer may be lost to the reset
    const huge = await sendBytes(rp.port, Buffer.from(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`));
    expect(huge.closed).toBe(true);
    expect(huge.text).not.toMatch(/^HTTP\/1\.1 200/);
    const garbage = await sendBytes(rp.port, Buffer.from('\x16\x03\x01\x02\x00 not http at all\r\n\r\n', 'latin1'));
    expect(garbage.closed).toBe(true);
    expect(garbage.text).toMatch(/^(HTTP\/1\.1 400 |$)/);
    expect(await healthProblems(rp, validPng)).toEqual([]);
  });

  it('keeps its RSS on a plateau over further rounds of the corpus (no growth per request)', async () => {
    // the wasm heap and libvips' caches grow to a working size and never shrink: compare after warm-up
    await round(true);
    expect(await healthProblems(rp, validPng)).toEqual([]);
    const warm = rp.rssBytes()!;
    for (let i = 0; i < 2; i++) await round(true);
    const after = rp.rssBytes()!;
    const slack = Math.max(64 * 2 ** 20, 0.25 * warm);
    expect({ warmMiB: Math.round(warm / 2 ** 20), afterMiB: Math.round(after / 2 ** 20), withinSlack: after <= warm + slack }).toMatchObject({ withinSlack: true });
    expect(await healthProblems(rp, validPng)).toEqual([]);
  });
});
