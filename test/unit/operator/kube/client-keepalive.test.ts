import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeClient } from '../../../../operator/kube/client.js';

/** An apiserver that answers every GET with an empty Lease and counts its TCP connections. */
let server: http.Server;
const sockets = new Set<Socket>();
let connections = 0;
let client: KubeClient;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'l', namespace: 'n' } }));
  });
  server.on('connection', (s) => {
    connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'c', cluster: 'c', user: 'u' }],
    currentContext: 'c',
  });
  client = new KubeClient(kc);
});

afterAll(async () => {
  client.close();
  for (const s of sockets) s.destroy();
  await new Promise((r) => server.close(r));
});

describe('KubeClient connections', () => {
  it('keeps one connection alive across sequential requests, also through withSignal() views', async () => {
    const before = connections;
    for (let i = 0; i < 10; i++) await client.get('Lease', 'n', 'l');
    const view = client.withSignal(new AbortController().signal);
    for (let i = 0; i < 5; i++) await view.get('Lease', 'n', 'l');
    // the KubeConfig makes a new agent per request: used as such, this would be 15 connections
    expect(connections - before).toBe(1);
  });

  it('opens a connection per request in flight, up to the pool size, and reuses them afterwards', async () => {
    const before = connections;
    await Promise.all(Array.from({ length: 4 }, () => client.get('Lease', 'n', 'l')));
    const opened = connections - before;
    expect(opened).toBeLessThanOrEqual(4);
    await Promise.all(Array.from({ length: 4 }, () => client.get('Lease', 'n', 'l')));
    expect(connections - before).toBe(opened);
  });
});
