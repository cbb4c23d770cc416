import { jest } from '@jest/globals';
import type { KubeClient } from '../../../operator/kube/client.js';
import { microTime } from '../../../operator/kube/micro-time.js';
import type { Manager } from '../../../operator/manager.js';
import {
  createDm,
  createNamespace,
  deleteNamespace,
  dmSpec,
  findChild,
  installCrd,
  mergePatch,
  startTestOperator,
  testClient,
  testConfig,
  waitFor,
  waitReady,
  type DeploymentView,
} from './support/harness.js';

jest.setTimeout(240_000);

let client: KubeClient;
let ns: string;
const managers: Manager[] = [];
const inFlight = new Map<string, number>();
let maxConcurrentPerKey = 0;
const reconcilesBy = new Map<string, number>();

type Lease = { metadata: { resourceVersion: string }; spec: { holderIdentity?: string | null; renewTime?: string; leaseDurationSeconds?: number; leaseTransitions?: number } };

async function startReplica(identity: string): Promise<Manager> {
  const config = testConfig([ns], {
    identity,
    leaderElection: true,
    leaseName: 'digitserve-operator-test',
    leaseNamespace: ns,
    leaseDurationSeconds: 4,
    renewDeadlineSeconds: 3,
    retryPeriodSeconds: 1,
  });
  const m = await startTestOperator(config, {
    hooks: {
      onReconcileStart: (key) => {
        const n = (inFlight.get(key) ?? 0) + 1;
        inFlight.set(key, n);
        maxConcurrentPerKey = Math.max(maxConcurrentPerKey, n);
        reconcilesBy.set(identity, (reconcilesBy.get(identity) ?? 0) + 1);
      },
      onReconcileEnd: (key) => inFlight.set(key, (inFlight.get(key) ?? 1) - 1),
    },
  });
  managers.push(m);
  return m;
}

const lease = () => client.get<Lease>('Lease', ns, 'digitserve-operator-test');
const leaders = () => managers.filter((m) => m.isLeader());

beforeAll(async () => {
  client = testClient();
  await installCrd(client);
  ns = await createNamespace(client, 'dm-leader');
});

afterAll(async () => {
  for (const m of managers) await m.stop().catch(() => {});
  await deleteNamespace(client, ns);
  client?.close();
});

describe('two operator replicas', () => {
  let a: Manager;
  let b: Manager;

  it('elect exactly one leader, recorded in the Lease, and only it reconciles', async () => {
    a = await startReplica('op-a');
    b = await startReplica('op-b');
    const leader = await waitFor('a leader', () => leaders()[0]);
    await new Promise((r) => setTimeout(r, 2500)); // several retry periods: the other must stay a candidate
    expect(leaders()).toHaveLength(1);
    expect((await lease()).spec.holderIdentity).toBe(leader.identity);
    expect((await leader.metrics.registry.getSingleMetricAsString('leader_election_master_status'))).toMatch(/leader_election_master_status\{name="digitserve-operator-test"\} 1/);

    for (const name of ['one', 'two', 'three']) await createDm(client, ns, name, dmSpec({ replicas: 2 }));
    for (const name of ['one', 'two', 'three']) await waitReady(client, ns, name);
    const follower = leader === a ? b : a;
    expect(reconcilesBy.get(leader.identity) ?? 0).toBeGreaterThan(0);
    expect(reconcilesBy.get(follower.identity) ?? 0).toBe(0);
  });

  it('hands over when the leader dies, once its Lease has expired', async () => {
    const dead = leaders()[0];
    const survivor = dead === a ? b : a;
    const before = await lease();
    await dead.stop({ release: false }); // a crash: the Lease is left to expire
    await waitFor('the survivor to lead', () => survivor.isLeader(), 30_000, 100);
    const after = await lease();
    expect(after.spec.holderIdentity).toBe(survivor.identity);
    expect(after.spec.leaseTransitions).toBe((before.spec.leaseTransitions ?? 0) + 1);
    // the new leader reconciles
    await mergePatch(client, 'DigitModel', ns, 'one', { spec: { replicas: 3 } });
    await waitFor('the new leader to scale', async () => (await findChild<DeploymentView>(client, 'Deployment', ns, 'one-stable'))?.spec.replicas === 3);
    await waitReady(client, ns, 'one');
  });

  it('makes a leader that loses its Lease stop and stand again as a candidate', async () => {
    const leader = leaders()[0];
    const standby = await startReplica('op-c');
    const current = await lease();
    // someone else takes the Lease (as after a network partition)
    await client.replace({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'digitserve-operator-test', namespace: ns, resourceVersion: current.metadata.resourceVersion },
      spec: { ...current.spec, holderIdentity: 'intruder', renewTime: microTime(new Date()), leaseDurationSeconds: 4 },
    });
    await waitFor('the old leader to step down', () => !leader.isLeader(), 15_000, 100);
    // the intruder never renews: once its Lease expires a candidate (maybe the old leader) takes over
    const next = await waitFor('a new leader', () => leaders()[0], 30_000, 100);
    expect([leader.identity, standby.identity]).toContain(next.identity);
    expect(leaders()).toHaveLength(1);
    await mergePatch(client, 'DigitModel', ns, 'two', { spec: { replicas: 3 } });
    await waitFor('reconciling to resume', async () => (await findChild<DeploymentView>(client, 'Deployment', ns, 'two-stable'))?.spec.replicas === 3);
  });

  it('releases the Lease on graceful shutdown', async () => {
    const leader = leaders()[0];
    await leader.stop({ release: true });
    const released = await lease();
    expect(released.spec.holderIdentity ?? '').not.toBe(leader.identity);
    await waitFor('another replica to lead', () => leaders().find((m) => m !== leader), 30_000, 100);
  });

  it('never had two replicas reconcile the same DigitModel at once', () => {
    expect(maxConcurrentPerKey).toBe(1);
  });
});
