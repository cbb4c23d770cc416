import fs from 'node:fs';
import path from 'node:path';
import { downloadedModuleDir, requiredVersion } from './modules.js';

/**
 * The standard-channel Gateway API manifests, straight from the sigs.k8s.io/gateway-api Go module
 * pinned in hack/controlplane/gateway-api (its config/crd/standard directory): the CRDs
 * (GatewayClass, Gateway, HTTPRoute, ...) plus the ValidatingAdmissionPolicy that guards upgrades.
 */
export async function gatewayApiCrdFiles(): Promise<string[]> {
  const dir = path.join(await downloadedModuleDir('gateway-api', 'sigs.k8s.io/gateway-api'), 'config', 'crd', 'standard');
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort().map((f) => path.join(dir, f));
  if (files.length === 0) throw new Error(`no Gateway API manifests in ${dir}`);
  return files;
}

export function gatewayApiVersion(): string {
  return requiredVersion('gateway-api', 'sigs.k8s.io/gateway-api');
}
