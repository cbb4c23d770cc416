import { jest } from '@jest/globals';
import { pino } from 'pino';
import type { KubeClient } from '../../../operator/kube/client.js';
import { startManager, type Manager } from '../../../operator/manager.js';
import { BlackHoleProxy } from './support/black-hole-proxy.js';
import { createDm, createNamespace, deleteNamespace, dmSpec, findChild, installCrd, kubeConfig, mergePatch, testClient, testConfig, waitFor, type DeploymentView } from './support/harness.js';

// A leader whose apiserver stops answering without closing anything (a partition, or an apiserver
// that accepts and hangs): its Lease renewals hang, and it must stop leading by its renew deadline,
// before the standby — which still reaches the apiserver — may take the Lease.
jest.setTimeout(180_000);

let client: KubeClient;
let ns: string;
let proxy: BlackHoleProxy;
const managers: Manager[] = [];
const logs = new Map<string, { msg: string; time: number }[]>();

async function startReplica(identity: string, kc = kubeConfig()): Promise<Manager> {
  const lines: { msg: string; time: number }[] = [];
  logs.set(identity, lines);
  const log = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as { msg: string; time: number }) });
  const config = testConfig([ns], {
    identity,
    leaderElection: true,
    leaseName: 'digitserve-operator-partition',
    leaseNamespace: ns,
    leaseDurationSeconds: 4,
    renewDeadlineSeconds: 3,
    retryPeriodSeconds: 1,
  });
  const m = await startManager({ config, log, kc, serveProbes: false });
  managers.push(m);
  return m;
}

const firstLine = (identity: string, msg: string) => logs.get(identity)?.find((l) => l.msg === msg)?.time;

beforeAll(async () => {
  client = testClient();
  await installCrd(client);
  ns = await createNamespace(client, 'dm-partition');
  proxy = await BlackHoleProxy.start(new URL(kubeConfig().getCurrentCluster()!.server));
});

afterAll(async () => {
  await proxy?.close(); // connections cut: the cut-off replica's requests fail instead of hanging
  for (const m of managers) await m.stop().catch(() => {});
  await deleteNamespace(client, ns);
  client?.close();
});

describe('a leader cut off from the apiserver (connections accepted, nothing answered)', () => {
  it('stops leading at its renew deadline, before the standby takes the Lease, stays alive as a candidate, and the standby reconciles', async () => {
    const cutOff = await startReplica('op-cut-off', proxy.kubeConfig(kubeConfig()));
    await waitFor('op-cut-off to lead', () => cutOff.isLeader(), 30_000, 100);
    const standby = await startReplica('op-standby');
    await createDm(client, ns, 'one', dmSpec({ replicas: 1 }));
    await waitFor('op-cut-off to reconcile', () => findChild(client, 'Deployment', ns, 'one-stable'));
    expect(standby.isLeader()).toBe(false);

    proxy.freeze();
    await waitFor('op-standby to take the Lease', () => standby.isLeader(), 60_000, 50);
    expect(cutOff.isLeader()).toBe(false);
    const stopped = firstLine('op-cut-off', 'lost the lease');
    const took = firstLine('op-standby', 'became leader');
    expect(stopped).toBeDefined();
    expect(took).toBeDefined();
    expect(stopped!).toBeLessThan(took!);
    // it lost the Lease by its deadline, not because its requests timed out or failed
    expect(logs.get('op-cut-off')!.find((l) => l.msg === 'lost the lease')).toMatchObject({ reason: 'not renewed within the renew deadline' });
    expect(firstLine('op-cut-off', 'stopped leading; candidate again')).toBeDefined();

    await mergePatch(client, 'DigitModel', ns, 'one', { spec: { replicas: 2 } });
    await waitFor('op-standby to scale the Deployment', async () => (await findChild<DeploymentView>(client, 'Deployment', ns, 'one-stable'))?.spec.replicas === 2);
    expect(cutOff.isLeader()).toBe(false);
  });
});
