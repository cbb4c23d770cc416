import type { KubeClient } from '../../../../operator/kube/client.js';
import { startLocalApiserver, type LocalApiserver } from './local-apiserver.js';

/** An apiserver that answers every request with a Lease; the test counts its TCP connections. */
let apiserver: LocalApiserver;
let client: KubeClient;
const connections = (): number => apiserver.connections();

beforeAll(async () => {
  apiserver = await startLocalApiserver((_req, res) => {
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'l', namespace: 'n' } }));
  });
  client = apiserver.client;
});

afterAll(() => apiserver.close());

describe('KubeClient connections', () => {
  it('keeps one connection alive across sequential requests, also through withSignal() views', async () => {
    const before = connections();
    for (let i = 0; i < 10; i++) await client.get('Lease', 'n', 'l');
    const view = client.withSignal(new AbortController().signal);
    for (let i = 0; i < 5; i++) await view.get('Lease', 'n', 'l');
    // the KubeConfig makes a new agent per request: used as such, this would be 15 connections
    expect(connections() - before).toBe(1);
  });

  it('opens a connection per request in flight, up to the pool size, and reuses them afterwards', async () => {
    const before = connections();
    await Promise.all(Array.from({ length: 4 }, () => client.get('Lease', 'n', 'l')));
    const opened = connections() - before;
    expect(opened).toBeLessThanOrEqual(4);
    await Promise.all(Array.from({ length: 4 }, () => client.get('Lease', 'n', 'l')));
    expect(connections() - before).toBe(opened);
  });
});
