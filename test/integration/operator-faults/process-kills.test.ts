import { jest } from '@jest/globals';
import type { KubeClient } from '../../../operator/kube/client.js';
import { createDm, createNamespace, deleteNamespace, dmSpec, findChild, getDm, installCrd, mergePatch, testClient, waitFor, waitReady, type DeploymentView } from '../operator/support/harness.js';
import { OperatorProcess, writesOutsideLeadership } from './support.js';

// The operator as a process, killed with SIGKILL in the middle of its work: a restarted or a
// standby replica finishes the job, every DigitModel converges, and no two processes ever write
// at the same time (each writes only while its own log says it holds the Lease).
jest.setTimeout(300_000);

let client: KubeClient;
let ns: string;
const ops: OperatorProcess[] = [];
const NAMES = ['k1', 'k2', 'k3', 'k4'];

beforeAll(async () => {
  client = testClient();
  await installCrd(client);
  ns = await createNamespace(client, 'dm-kill');
});

afterAll(async () => {
  for (const op of ops) await op.stop().catch(() => {});
  await deleteNamespace(client, ns);
  client?.close();
});

async function start(identity: string): Promise<OperatorProcess> {
  const op = await OperatorProcess.start(identity, [ns], ns);
  ops.push(op);
  return op;
}

/** Every DigitModel Ready for its generation, its stable Deployment at the spec's replicas, one Deployment each. */
async function expectConverged(replicas: Record<string, number>): Promise<void> {
  for (const name of Object.keys(replicas)) {
    const dm = await waitReady(client, ns, name, 120_000);
    expect(dm.status?.replicas).toBe(replicas[name]);
    const dep = await findChild<DeploymentView>(client, 'Deployment', ns, `${name}-stable`);
    expect(dep?.spec.replicas).toBe(replicas[name]);
    expect(await findChild(client, 'Service', ns, name)).toBeDefined();
  }
  const deps = await client.list<DeploymentView>('Deployment', ns);
  expect(deps.items.map((d) => d.metadata.name).sort()).toEqual(Object.keys(replicas).map((n) => `${n}-stable`).sort());
}

describe('operator process killed mid-reconcile', () => {
  it('kill -9 during its first writes, restarted (same pod name): converges, nothing applied outside its leadership', async () => {
    const a = await start('op-kill-a');
    await waitFor('op-kill-a to lead', () => a.isLeader(), 60_000);
    for (const n of NAMES) await createDm(client, ns, n, dmSpec({ replicas: 1 }));
    await waitFor('the first child write', () => a.writes().length > 0, 60_000, 5);
    await a.kill9();
    // it really was mid-work: not every DigitModel was Ready when it died
    const readyAtKill = await Promise.all(NAMES.map(async (n) => (await getDm(client, ns, n)).status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false));
    expect(readyAtKill.every(Boolean)).toBe(false);

    const a2 = await start('op-kill-a');
    await expectConverged(Object.fromEntries(NAMES.map((n) => [n, 1])));
    expect(writesOutsideLeadership(a2)).toEqual([]);
    expect(a2.alive).toBe(true);
    await a2.stop();
    expect(a2.exitInfo?.code).toBe(0);
  });

  it('the leader killed with work in flight: the standby takes over after the Lease expires and finishes it', async () => {
    for (const op of ops) await op.stop(); // a clean slate: no earlier process holds the Lease
    const b = await start('op-kill-b');
    const c = await start('op-kill-c');
    const leader = await waitFor('one leader', async () => ((await b.isLeader()) ? b : (await c.isLeader()) ? c : undefined), 60_000);
    const standby = leader === b ? c : b;
    const before = leader.writes().length;
    for (const n of NAMES) await mergePatch(client, 'DigitModel', ns, n, { spec: { replicas: 2 } });
    await waitFor('the leader to start on the change', () => leader.writes().length > before, 60_000, 5);
    const killedAt = Date.now();
    await leader.kill9();
    await expectConverged(Object.fromEntries(NAMES.map((n) => [n, 2])));

    // the standby led only after the leader died, and wrote only while leading
    const spans = standby.leadership();
    expect(spans.length).toBeGreaterThan(0);
    expect(spans[0].from).toBeGreaterThanOrEqual(killedAt - 50);
    expect(standby.writes().length).toBeGreaterThan(0);
    expect(writesOutsideLeadership(standby)).toEqual([]);
    expect(Math.max(...leader.writes().map((w) => w.time))).toBeLessThan(Math.min(...standby.writes().map((w) => w.time)));
    expect(standby.alive).toBe(true);
  });
});
