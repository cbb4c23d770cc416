import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { apiServiceManifest, CUSTOM_METRICS_APISERVICE, prometheusConfig } from '../../../hack/cluster/monitoring.js';

test('the custom metrics APIService reaches the adapter through a selector-less Service whose Endpoints name its address and port', () => {
  const [svc, ep, api] = apiServiceManifest('10.201.3.1', 34567).split('\n').map((l) => JSON.parse(l));
  expect(svc).toMatchObject({ kind: 'Service', spec: { ports: [{ name: 'https', port: 443, targetPort: 34567 }] } });
  expect(svc.spec.selector).toBeUndefined();
  expect(ep).toMatchObject({ kind: 'Endpoints', metadata: svc.metadata, subsets: [{ addresses: [{ ip: '10.201.3.1' }], ports: [{ name: 'https', port: 34567 }] }] });
  expect(api).toMatchObject({ kind: 'APIService', metadata: { name: CUSTOM_METRICS_APISERVICE },
    spec: { group: 'custom.metrics.k8s.io', version: 'v1beta1', service: { name: svc.metadata.name, namespace: svc.metadata.namespace, port: 443 } } });
});

test('the Prometheus configuration is one a real promtool accepts, scraping the discovered pods every 5 s', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prom-config-'));
  try {
    const targets = path.join(dir, 'targets.json');
    fs.writeFileSync(targets, '[]\n');
    const config = path.join(dir, 'prometheus.yml');
    fs.writeFileSync(config, prometheusConfig(targets));
    expect(execFileSync('promtool', ['check', 'config', config], { encoding: 'utf8' })).toMatch(/SUCCESS/);
    expect(JSON.parse(fs.readFileSync(config, 'utf8'))).toMatchObject({ global: { scrape_interval: '5s' }, scrape_configs: [{ file_sd_configs: [{ files: [targets] }] }] });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
