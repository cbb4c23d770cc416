import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { Pki } from './certs.js';

/** HTTP probes for the plane's health endpoints, and a poll loop that fails fast on dead processes. */

export interface Response {
  status: number;
  body: string;
}

export type Credentials = Pick<Pki, 'caCert' | 'adminCert' | 'adminKey'>;

/** GET `url`; https with the admin client certificate when `creds` is given, else unverified https (self-signed component certs) or plain http. */
export function get(url: string, creds?: Credentials, timeoutMs = 5000): Promise<Response> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const onResponse = (res: http.IncomingMessage) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    };
    const req = u.protocol === 'https:'
      ? https.get(u, creds
        ? { ca: fs.readFileSync(creds.caCert), cert: fs.readFileSync(creds.adminCert), key: fs.readFileSync(creds.adminKey) }
        : { rejectUnauthorized: false }, onResponse)
      : http.get(u, onResponse);
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

export async function isHealthy(url: string, creds?: Credentials): Promise<boolean> {
  try {
    return (await get(url, creds)).status === 200;
  } catch {
    return false;
  }
}

/**
 * Polls `probe` until it returns true. `abort` is asked each round and, if it names a reason
 * (e.g. "kube-apiserver exited"), the wait fails at once with it instead of running out the clock.
 */
export async function waitUntil(what: string, probe: () => Promise<boolean>, timeoutMs: number, abort?: () => string | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const reason = abort?.();
    if (reason) throw new Error(`${what}: ${reason}`);
    if (await probe()) return;
    if (Date.now() > deadline) throw new Error(`${what}: not ready after ${Math.round(timeoutMs / 1000)} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
