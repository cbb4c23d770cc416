// Test fixture: a plain-HTTP stand-in for the apiserver with a handler of the test's own, the
// TCP connections it accepted, and a KubeClient pointed at it.
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { KubeClient } from '../../../../operator/kube/client.js';
import { plainHttpKubeConfig } from '../controller/fake-apiserver.js';

export interface LocalApiserver {
  client: KubeClient;
  /** TCP connections accepted so far. */
  connections(): number;
  /** Closes the client, cuts every connection and stops the server. */
  close(): Promise<void>;
}

export async function startLocalApiserver(handler: http.RequestListener): Promise<LocalApiserver> {
  const server = http.createServer(handler);
  const sockets = new Set<Socket>();
  let connections = 0;
  server.on('connection', (s) => {
    connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const client = new KubeClient(plainHttpKubeConfig((server.address() as AddressInfo).port));
  return {
    client,
    connections: () => connections,
    close: async () => {
      client.close();
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}
