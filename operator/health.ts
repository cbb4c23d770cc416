import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface HealthChecks {
  /** The process is alive and its event loop turns. */
  live: () => boolean;
  /** Ready to do its job: a standby candidate, or a leader whose caches have synced. */
  ready: () => boolean;
}

export interface ProbeServers {
  healthPort: number;
  metricsPort: number;
  close: () => Promise<void>;
}

function handler(routes: { health: boolean; metrics: boolean }, checks: HealthChecks, registry: Registry): http.RequestListener {
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (code: number, body: string, type = 'text/plain; charset=utf-8') => {
      res.writeHead(code, { 'Content-Type': type });
      res.end(body);
    };
    if (routes.health && path === '/healthz') return send(checks.live() ? 200 : 503, checks.live() ? 'ok\n' : 'unhealthy\n');
    if (routes.health && path === '/readyz') return send(checks.ready() ? 200 : 503, checks.ready() ? 'ok\n' : 'not ready\n');
    if (routes.metrics && path === '/metrics') {
      registry.metrics().then(
        (text) => send(200, text, registry.contentType),
        (err: unknown) => send(500, `${String(err)}\n`),
      );
      return;
    }
    send(404, 'not found\n');
  };
}

async function listen(server: http.Server, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

/** /healthz and /readyz on healthPort, /metrics on metricsPort; one server when the ports are equal. */
export async function startProbeServers(healthPort: number, metricsPort: number, checks: HealthChecks, registry: Registry): Promise<ProbeServers> {
  const servers: http.Server[] = [];
  if (healthPort === metricsPort && healthPort !== 0) {
    const s = http.createServer(handler({ health: true, metrics: true }, checks, registry));
    servers.push(s);
    const port = await listen(s, healthPort);
    return { healthPort: port, metricsPort: port, close: () => closeAll(servers) };
  }
  const h = http.createServer(handler({ health: true, metrics: false }, checks, registry));
  const m = http.createServer(handler({ health: false, metrics: true }, checks, registry));
  servers.push(h, m);
  const hp = await listen(h, healthPort);
  const mp = await listen(m, metricsPort);
  return { healthPort: hp, metricsPort: mp, close: () => closeAll(servers) };
}

async function closeAll(servers: http.Server[]): Promise<void> {
  await Promise.all(servers.map((s) => new Promise<void>((r) => {
    s.closeAllConnections();
    s.close(() => r());
  })));
}
