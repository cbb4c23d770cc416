import type { KubeClient } from '../../../../operator/kube/client.js';
import { KubeError } from '../../../../operator/kube/errors.js';
import { startLocalApiserver, type LocalApiserver } from './local-apiserver.js';

/** An apiserver that accepts every request and never answers. */
let apiserver: LocalApiserver;
let received = 0;
let client: KubeClient;

beforeAll(async () => {
  apiserver = await startLocalApiserver(() => void received++);
  client = apiserver.client;
});

afterAll(() => apiserver.close());

const lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'l', namespace: 'n', resourceVersion: '1' } };

async function failure(p: Promise<unknown>): Promise<KubeError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof KubeError) return err;
    throw err;
  }
  throw new Error('the request succeeded');
}

describe('KubeClient requests that are never answered', () => {
  it('end as Aborted when the call’s signal aborts', async () => {
    const ac = new AbortController();
    const seen = received;
    const pending = failure(client.replace(lease, { signal: ac.signal }));
    while (received === seen) await new Promise((r) => setTimeout(r, 5)); // the request is at the server
    ac.abort(new Error('renew deadline reached'));
    const err = await pending;
    expect(err.code).toBe('Aborted');
    expect(err.message).toMatch(/update Lease n\/l: aborted \(renew deadline reached\)/);
  });

  it('all end when the signal of a withSignal() view aborts (a leadership term ending); the client itself is not affected', async () => {
    const term = new AbortController();
    const scoped = client.withSignal(term.signal);
    const seen = received;
    const pending = [failure(scoped.apply(lease)), failure(scoped.get('Lease', 'n', 'l'))];
    while (received < seen + 2) await new Promise((r) => setTimeout(r, 5));
    term.abort(new Error('leadership term ended'));
    for (const err of await Promise.all(pending)) expect(err.code).toBe('Aborted');
    // afterwards the view refuses at once, without reaching the server
    const after = received;
    expect((await failure(scoped.get('Lease', 'n', 'l'))).code).toBe('Aborted');
    expect(received).toBe(after);
    // the unscoped client still sends (and this one is then aborted by its own signal)
    const own = new AbortController();
    const p = failure(client.get('Lease', 'n', 'l', { signal: own.signal }));
    while (received === after) await new Promise((r) => setTimeout(r, 5));
    own.abort();
    expect((await p).code).toBe('Aborted');
  });
});
