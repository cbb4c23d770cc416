import { jest } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import type { KubeClient } from '../../../operator/kube/client.js';
import { createDm, createNamespace, deleteNamespace, dmSpec, installCrd, testClient, waitFor, waitReady } from './support/harness.js';

jest.setTimeout(180_000);

let client: KubeClient;
let ns: string;
let child: ChildProcess | undefined;
const lines: string[] = [];

beforeAll(async () => {
  client = testClient();
  await installCrd(client);
  ns = await createNamespace(client, 'dm-process');
});

afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await deleteNamespace(client, ns);
  client?.close();
});

const get = async (port: number, path: string) => {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, text: await res.text() };
};

describe('`npm run operator` as a process', () => {
  it('serves probes and metrics, logs JSON, reconciles, and releases its Lease on SIGTERM', async () => {
    const healthPort = 18000 + Math.floor(Math.random() * 1000);
    const metricsPort = healthPort + 1000;
    child = spawn(
      process.execPath,
      ['--import', 'tsx', 'operator/main.ts', '--watch-namespaces', ns, '--lease-namespace', ns, '--identity', 'proc-op', '--health-port', String(healthPort), '--metrics-port', String(metricsPort)],
      { env: { ...process.env, NODE_OPTIONS: '' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout!.on('data', (b: Buffer) => lines.push(...b.toString().split('\n').filter(Boolean)));
    child.stderr!.on('data', (b: Buffer) => lines.push(...b.toString().split('\n').filter(Boolean)));

    await waitFor('/readyz', async () => (await get(healthPort, '/readyz')).status === 200, 60_000);
    expect((await get(healthPort, '/healthz')).status).toBe(200);
    await waitFor('leadership', async () => (await get(metricsPort, '/metrics')).text.includes('leader_election_master_status{name="digitserve-operator"} 1'), 60_000);

    await createDm(client, ns, 'proc', dmSpec({ replicas: 1 }));
    await waitReady(client, ns, 'proc');
    const metrics = (await get(metricsPort, '/metrics')).text;
    for (const name of ['controller_runtime_reconcile_total', 'controller_runtime_reconcile_errors_total', 'controller_runtime_reconcile_time_seconds_bucket', 'workqueue_depth', 'workqueue_adds_total', 'workqueue_retries_total', 'rest_client_requests_total', 'process_cpu_seconds_total']) {
      expect(metrics).toContain(name);
    }
    const reconcileLines = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.name === 'proc');
    expect(reconcileLines.length).toBeGreaterThan(0);
    for (const l of reconcileLines) expect(l.namespace).toBe(ns);

    const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const lease = await client.get<{ spec: { holderIdentity?: string | null } }>('Lease', ns, 'digitserve-operator');
    expect(lease.spec.holderIdentity ?? '').toBe('');
  });
});
