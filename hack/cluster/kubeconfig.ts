import fs from 'node:fs';
import type { Pki } from './certs.js';

/**
 * A self-contained kubeconfig (certificates inlined) for the admin user of the local plane, or for
 * another client certificate of its CA (the real node's kubelet).
 */
export function writeKubeconfig(file: string, server: string, pki: Pki, user: { cert: string; key: string; name?: string } = { cert: pki.adminCert, key: pki.adminKey }): void {
  const b64 = (f: string) => fs.readFileSync(f).toString('base64');
  const text = `apiVersion: v1
kind: Config
clusters:
- name: digitserve-local
  cluster:
    server: ${server}
    certificate-authority-data: ${b64(pki.caCert)}
users:
- name: ${user.name ?? 'digitserve-admin'}
  user:
    client-certificate-data: ${b64(user.cert)}
    client-key-data: ${b64(user.key)}
contexts:
- name: digitserve-local
  context:
    cluster: digitserve-local
    user: ${user.name ?? 'digitserve-admin'}
current-context: digitserve-local
`;
  fs.writeFileSync(file, text, { mode: 0o600 });
}
