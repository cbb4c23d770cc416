import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { modelDigest } from '../../../../runtime/model/digest.js';
import { isTransientStatus, readModelFile, resolveModelLocation } from '../../../../runtime/model/model-location.js';
import { loadModelVersion } from '../../../../runtime/model/store.js';
import { writeTinyModelVersion } from './tiny-model.js';

// #15 item 14: remote models over real HTTP (a local model server with scripted faults): retries
// with backoff on transient failures only, the Authorization header, and sha256 checks — the
// digests metadata.json records (written by npm run train) and MODEL_SHA256 — before serving.

type Fault = 'reset' | 'half-body' | 'hang' | number;
const FILES = ['metadata.json', 'model.json', 'weights.bin'];

let dir: string;
let server: http.Server;
let base: string;
let faults: Map<string, Fault[]>;
let requests: { file: string; authorization?: string }[];
let requireAuth: string | undefined;
let tamper: string | undefined;

beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = await writeTinyModelVersion(0.5, '3');
  server = http.createServer((req, res) => {
    const file = (req.url ?? '').replace(/^\/m\/3\//, '');
    requests.push({ file, authorization: req.headers.authorization });
    if (requireAuth !== undefined && req.headers.authorization !== requireAuth) return void res.writeHead(401).end();
    if (!FILES.includes(file)) return void res.writeHead(404).end();
    const fault = faults.get(file)?.shift();
    if (fault === 'reset') return void req.socket.destroy();
    if (fault === 'hang') return; // never answers: the client's timeout must fire
    if (typeof fault === 'number') return void res.writeHead(fault).end();
    void readFile(path.join(dir, file)).then((bytes) => {
      if (file === tamper) bytes[bytes.length - 1] ^= 1;
      res.writeHead(200, { 'content-length': bytes.length });
      if (fault === 'half-body') {
        res.write(bytes.subarray(0, bytes.length >> 1), () => req.socket.destroy());
        return;
      }
      res.end(bytes);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/m/3/`;
});

beforeEach(() => {
  faults = new Map();
  requests = [];
  requireAuth = undefined;
  tamper = undefined;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

const fast = { baseDelayMs: 5, timeoutMs: 2_000 };
const count = (file: string) => requests.filter((r) => r.file === file).length;

describe('remote model loading', () => {
  it('retries transient failures (5xx, 429, resets, a body cut short, timeouts) and loads the model', async () => {
    faults.set('metadata.json', [503, 429]);
    faults.set('model.json', ['reset', 502]);
    faults.set('weights.bin', ['half-body', 'hang', 500]);
    const v = await loadModelVersion(base, { ...fast, timeoutMs: 1_000 });
    expect(v.metadata.version).toBe('3');
    v.model.dispose();
    // every scripted fault was met and retried past; on a loaded machine an answer slower than the
    // timeout is one more (legitimate) retry, so the counts are lower bounds
    expect([...faults.values()].map((f) => f.length)).toEqual([0, 0, 0]);
    const counts = [count('metadata.json'), count('model.json'), count('weights.bin')];
    counts.forEach((c, i) => expect(c).toBeGreaterThanOrEqual([3, 3, 4][i]));
  });

  it('does not retry a 4xx that is no transient condition, and gives up after the attempts', async () => {
    faults.set('weights.bin', [404]);
    await expect(loadModelVersion(base, fast)).rejects.toThrow(/weights\.bin: HTTP 404/);
    expect(count('weights.bin')).toBe(1);
    faults.set('metadata.json', [503, 503, 503]);
    await expect(readModelFile(resolveModelLocation(base), 'metadata.json', { ...fast, attempts: 3 })).rejects.toThrow(/failed 3 times; last: HTTP 503/);
    for (const s of [500, 502, 503, 504, 408, 429]) expect(isTransientStatus(s)).toBe(true);
    for (const s of [400, 401, 403, 404, 410]) expect(isTransientStatus(s)).toBe(false);
  });

  it('sends MODEL_AUTH_HEADER as the Authorization header', async () => {
    requireAuth = 'Bearer s3cret';
    await expect(loadModelVersion(base, fast)).rejects.toThrow(/HTTP 401 \(check MODEL_AUTH_HEADER\)/);
    expect(count('metadata.json')).toBe(1); // a 401 is not retried
    requests = [];
    const v = await loadModelVersion(base, { ...fast, authHeader: 'Bearer s3cret' });
    v.model.dispose();
    expect(requests.map((r) => r.authorization)).toEqual(FILES.map(() => 'Bearer s3cret'));
  });

  it('verifies the digests metadata.json records and MODEL_SHA256 before anything is served', async () => {
    const files = await Promise.all(FILES.map(async (p) => ({ path: p, bytes: new Uint8Array(await readFile(path.join(dir, p))) })));
    const digest = modelDigest(files);
    const ok = await loadModelVersion(base, { ...fast, sha256: digest.toUpperCase() });
    ok.model.dispose();
    await expect(loadModelVersion(base, { ...fast, sha256: '0'.repeat(64) })).rejects.toThrow(/digest is [0-9a-f]{64}, not the 0{64} MODEL_SHA256 requires/);
    tamper = 'weights.bin';
    await expect(loadModelVersion(base, fast)).rejects.toThrow(/weights\.bin does not match the digest metadata\.json records/);
    tamper = undefined;
    // the same checks for a local directory
    const local = await loadModelVersion(dir, { sha256: digest });
    local.model.dispose();
  });
});
