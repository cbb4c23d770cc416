import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { plainHttpKubeConfig } from './fake-apiserver.js';
import { pino } from 'pino';
import type { KubeObject } from '../../../../operator/api/types.js';
import { ResilientInformer } from '../../../../operator/controller/informer.js';
import { KubeClient } from '../../../../operator/kube/client.js';

/**
 * A fake apiserver for one Service collection that misbehaves on purpose: the first list fails
 * with 500, the first watch delivers an event and closes, the second watch answers 410 Gone.
 */
function fakeApiserver() {
  const objects: KubeObject[] = [{ apiVersion: 'v1', kind: 'Service', metadata: { name: 'a', namespace: 'ns', resourceVersion: '10' } }];
  const calls = { lists: 0, watches: 0 };
  const open: http.ServerResponse[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== '/api/v1/namespaces/ns/services') return void res.writeHead(404).end();
    if (url.searchParams.get('watch') !== 'true') {
      calls.lists++;
      if (calls.lists === 1) return void res.writeHead(500, { 'Content-Type': 'application/json' }).end(JSON.stringify({ kind: 'Status', message: 'etcd is sad' }));
      const rv = String(9 + calls.lists * 10);
      return void res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ kind: 'ServiceList', metadata: { resourceVersion: rv }, items: objects }));
    }
    calls.watches++;
    res.writeHead(200, { 'Content-Type': 'application/json' });
    if (calls.watches === 1) {
      const b = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'b', namespace: 'ns', resourceVersion: '11' } };
      objects.push(b);
      res.end(`${JSON.stringify({ type: 'ADDED', object: b })}\n`);
    } else if (calls.watches === 2) {
      res.end(`${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 410, message: 'too old resource version' } })}\n`);
    } else {
      open.push(res); // a healthy watch that stays open
    }
  });
  return { server, calls, close: () => { for (const r of open) r.end(); server.closeAllConnections(); server.close(); } };
}

describe('ResilientInformer', () => {
  it('restarts after errors with backoff, follows watch closes and relists on 410 Gone', async () => {
    const fake = fakeApiserver();
    await new Promise<void>((r) => fake.server.listen(0, '127.0.0.1', () => r()));
    const kc = plainHttpKubeConfig((fake.server.address() as AddressInfo).port);
    const client = new KubeClient(kc);
    const added: string[] = [];
    const informer = new ResilientInformer(
      { kc, client, kind: 'Service', namespace: 'ns', log: pino({ level: 'silent' }), backoffBaseMs: 10, backoffMaxMs: 50 },
      { onAdd: (o) => added.push(o.metadata.name) },
    );
    informer.start();
    for (let i = 0; i < 100 && fake.calls.watches < 3; i++) await new Promise((r) => setTimeout(r, 20));
    await informer.stop();
    client.close();
    fake.close();

    expect(fake.calls.lists).toBe(3); // failed, succeeded, relisted after 410
    expect(fake.calls.watches).toBe(3);
    expect(informer.hasSynced()).toBe(true);
    expect(informer.list().map((o) => o.metadata.name).sort()).toEqual(['a', 'b']);
    expect(added.sort()).toEqual(['a', 'b']);
  });
});
