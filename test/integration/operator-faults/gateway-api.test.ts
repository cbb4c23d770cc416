import fs from 'node:fs';
import path from 'node:path';
import { jest } from '@jest/globals';
import { loadAll } from 'js-yaml';
import { gatewayApiCrdFiles } from '../../../hack/cluster/gateway-api.js';
import type { KubeObject } from '../../../operator/api/types.js';
import type { KubeClient } from '../../../operator/kube/client.js';
import type { Manager } from '../../../operator/manager.js';
import {
  condition,
  createDm,
  createNamespace,
  deleteNamespace,
  dmSpec,
  findChild,
  getDm,
  installCrd,
  isKubeError,
  mergePatch,
  startTestOperator,
  testClient,
  testConfig,
  waitFor,
  waitReady,
} from '../operator/support/harness.js';

/**
 * #15 item 5: the Gateway API detected while the operator runs, both ways. The HTTPRoute CRD is
 * removed and installed again, which would break any other test using HTTPRoutes at the same
 * time: so this file runs on the fault tests' private plane, one file at a time, and puts the CRD
 * back when it is done.
 */

jest.setTimeout(300_000);

const ROUTE_CRD = 'httproutes.gateway.networking.k8s.io';

let client: KubeClient;
let ns: string;
let operator: Manager | undefined;
let routeCrd: KubeObject;

async function servesHttpRoutes(): Promise<boolean> {
  try {
    const list = await client.request<{ resources?: { name: string }[] }>('GET', '/apis/gateway.networking.k8s.io/v1');
    return !!list.resources?.some((r) => r.name === 'httproutes');
  } catch (err) {
    if (isKubeError(err, 'NotFound')) return false;
    throw err;
  }
}

async function removeRouteCrd(): Promise<void> {
  await client.delete('CustomResourceDefinition', undefined, ROUTE_CRD);
  await waitFor('the HTTPRoute CRD to be gone', async () => !(await client.find('CustomResourceDefinition', undefined, ROUTE_CRD)) && !(await servesHttpRoutes()), 120_000, 250);
}

async function installRouteCrd(): Promise<void> {
  if (await client.find('CustomResourceDefinition', undefined, ROUTE_CRD)) return;
  const { metadata, ...rest } = routeCrd;
  await client.create({ ...rest, metadata: { name: metadata.name, labels: metadata.labels, annotations: metadata.annotations } } as KubeObject);
  await waitFor('HTTPRoutes to be served', () => servesHttpRoutes(), 120_000, 250);
}

beforeAll(async () => {
  client = testClient();
  await installCrd(client);
  const file = (await gatewayApiCrdFiles()).find((f) => path.basename(f).includes('httproutes'));
  if (!file) throw new Error('no HTTPRoute CRD among the Gateway API manifests');
  routeCrd = (loadAll(fs.readFileSync(file, 'utf8')) as KubeObject[]).find((d) => d?.kind === 'CustomResourceDefinition' && d.metadata.name === ROUTE_CRD)!;
  ns = await createNamespace(client, 'dm-gateway-api');
});

afterAll(async () => {
  await operator?.stop();
  await deleteNamespace(client, ns);
  await installRouteCrd();
  client?.close();
});

const traffic = { parentRefs: [{ name: 'public-gw', namespace: 'gateways' }] };
const route = () => findChild(client, 'HTTPRoute', ns, 'routed');

async function degradedWith(pattern: RegExp) {
  return waitFor(`Degraded=True matching ${pattern}`, async () => {
    const dm = await getDm(client, ns, 'routed');
    const c = condition(dm, 'Degraded');
    return c?.status === 'True' && pattern.test(c.message) ? dm : undefined;
  }, 120_000, 250);
}

async function notDegraded() {
  return waitFor('Degraded=False', async () => {
    const dm = await getDm(client, ns, 'routed');
    return condition(dm, 'Degraded')?.status === 'False' && dm.status?.observedGeneration === dm.metadata.generation ? dm : undefined;
  }, 120_000, 250);
}

/** Operator writes over `ms` once they have stopped for two resync periods. */
async function writesInSteadyState(ms: number): Promise<number> {
  let previous = -1;
  await waitFor('the operator to settle', async () => {
    const now = await operator!.metrics.apiWrites();
    const settled = now === previous;
    previous = now;
    return settled;
  }, 120_000, 5000);
  const before = await operator!.metrics.apiWrites();
  await new Promise((r) => setTimeout(r, ms));
  return (await operator!.metrics.apiWrites()) - before;
}

describe('the Gateway API installed and removed while the operator runs', () => {
  it('without it: the route is reported, not retried blindly; once installed: the route is applied, watched, and deleted with spec.traffic', async () => {
    await removeRouteCrd();
    // a 2 s resync reconciles everything often; discovery is asked again every 5 s
    operator = await startTestOperator(testConfig([ns], { resyncSeconds: 2, gatewayApiRecheckSeconds: 5 }));
    await createDm(client, ns, 'routed', dmSpec({ replicas: 1, traffic }));
    await degradedWith(/does not serve the Gateway API's HTTPRoutes/);
    // the other children are there and the pods serve through the Services meanwhile
    await waitFor('Ready=True while Degraded', async () => {
      const dm = await getDm(client, ns, 'routed');
      return condition(dm, 'Ready')?.status === 'True' && condition(dm, 'Degraded')?.status === 'True';
    }, 120_000, 250);
    expect(await route()).toBeUndefined();

    await installRouteCrd();
    await waitFor('the HTTPRoute to be created', route, 120_000, 250);
    await notDegraded();
    // watched now: resyncs find it in the cache and write nothing (unwatched, each one re-applied it)
    expect(await writesInSteadyState(8000)).toBe(0);

    await mergePatch(client, 'DigitModel', ns, 'routed', { spec: { traffic: null } });
    await waitFor('the HTTPRoute to be deleted', async () => !(await route()), 120_000, 250);
    await waitReady(client, ns, 'routed');
  });

  it('once removed: stops watching HTTPRoutes and reports a DigitModel that still wants one; installed again: watches again', async () => {
    await mergePatch(client, 'DigitModel', ns, 'routed', { spec: { traffic } });
    await waitFor('the HTTPRoute to be created again', route, 120_000, 250);
    await notDegraded();

    await removeRouteCrd();
    await degradedWith(/does not serve the Gateway API's HTTPRoutes/);
    await mergePatch(client, 'DigitModel', ns, 'routed', { spec: { traffic: null } });
    const after = await notDegraded();
    expect(condition(after, 'Ready')?.status).toBe('True');

    await installRouteCrd();
    await mergePatch(client, 'DigitModel', ns, 'routed', { spec: { traffic } });
    await waitFor('the HTTPRoute to be created once more', route, 120_000, 250);
    await notDegraded();
    expect(await writesInSteadyState(8000)).toBe(0);
  });
});
