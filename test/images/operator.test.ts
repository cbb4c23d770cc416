import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { docker, imageEntry, inspect, logsOf, waitFor } from './support/docker.js';

// The operator image: one esbuild bundle on the runtime base, no node_modules. It must evaluate
// every bundled module (a broken bundle fails at import), parse its flags, talk to an API server
// through @kubernetes/client-node, and stop cleanly on SIGTERM.

const OPERATOR_BUDGET_BYTES = 200_000_000;
const image = imageEntry('operator');
const containers: string[] = [];

afterAll(async () => {
  for (const id of containers) await docker(['rm', '-f', id]).catch(() => undefined);
}, 120_000);

it(`stays within its size budget (${OPERATOR_BUDGET_BYTES / 1e6} MB uncompressed) and runs as 65532`, async () => {
  const size = await inspect<number>(image.ref, '.Size');
  console.log(`${image.ref}: ${(size / 1e6).toFixed(1)} MB uncompressed`);
  expect(size).toBe(image.sizeBytes);
  expect(size).toBeLessThanOrEqual(OPERATOR_BUDGET_BYTES);
  expect(await inspect<string>(image.ref, '.Config.User')).toBe('65532:65532');
});

it('carries no node_modules and no ML stack', async () => {
  // no shell in the image: list its files with node itself
  const { stdout } = await docker(['run', '--rm', '--network', 'none', '--entrypoint', '/nodejs/bin/node', image.ref, '-e',
    "const fs=require('fs');console.log(JSON.stringify({app:fs.readdirSync('/app'),op:fs.readdirSync('/app/operator')}))"]);
  expect(JSON.parse(stdout)).toEqual({ app: expect.arrayContaining(['operator', 'package.json']), op: ['main.js'] });
  expect(JSON.parse(stdout).app).not.toContain('node_modules');
}, 120_000);

it('refuses an unknown flag with its usage error (the bundle imports cleanly)', async () => {
  const run = docker(['run', '--rm', '--network', 'none', '--read-only', image.ref, 'operator/main.js', '--no-such-flag']);
  await expect(run).rejects.toThrow(/digitserve-operator: .*no-such-flag/);
}, 120_000);

it('runs against an unreachable API server without crashing, reports it, and exits 0 on SIGTERM', async () => {
  // a kubeconfig naming a port nothing listens on: the operator must retry, not crash
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'operator-image-'));
  fs.writeFileSync(path.join(dir, 'kubeconfig'), [
    'apiVersion: v1', 'kind: Config', 'current-context: c',
    'clusters: [{name: c, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]',
    'users: [{name: u, user: {token: t}}]', 'contexts: [{name: c, context: {cluster: c, user: u}}]', '',
  ].join('\n'));
  fs.chmodSync(dir, 0o755);
  fs.chmodSync(path.join(dir, 'kubeconfig'), 0o644);
  const id = (await docker(['run', '-d', '--read-only', '--network', 'host', '--cap-drop', 'ALL', '-v', `${dir}:/config:ro`,
    '-e', 'KUBECONFIG=/config/kubeconfig', image.ref])).stdout.trim();
  containers.push(id);
  await waitFor(id, async () => /ECONNREFUSED/.test(await logsOf(id)), 'a connection error in the log', 120_000);
  await docker(['kill', '--signal', 'TERM', id]);
  expect((await docker(['wait', id], 120_000)).stdout.trim()).toBe('0');
  expect(await logsOf(id)).toContain('shutting down');
  fs.rmSync(dir, { recursive: true, force: true });
}, 360_000);
