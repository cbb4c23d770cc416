import fs from 'node:fs';
import path from 'node:path';
import { exec } from './exec.js';

/**
 * A throw-away PKI made with the openssl CLI: one CA, the apiserver's serving certificate, an
 * admin client certificate (group system:masters) and the service-account signing key pair.
 */

export interface Pki {
  dir: string;
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  adminCert: string;
  adminKey: string;
  saKey: string;
  saPub: string;
  /** The apiserver's client certificate towards aggregated API servers (CN front-proxy-client). */
  proxyClientCert: string;
  proxyClientKey: string;
}

const DAYS = '825';

/** Service-cluster IP range of the plane; its first address is the `kubernetes` Service. */
export const serviceCidr = '10.0.0.0/16'; // room for benches with hundreds of DigitModels (3 Services each)
const kubernetesServiceIp = '10.0.0.1';

async function openssl(args: string[], cwd: string): Promise<void> {
  await exec('openssl', args, { cwd });
}

async function ecKey(file: string, cwd: string): Promise<void> {
  await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file], cwd);
}

/** Signs a fresh key's CSR with the CA, adding the given v3 extensions. */
async function issue(name: string, subject: string, extensions: string, dir: string): Promise<void> {
  await ecKey(`${name}.key`, dir);
  await openssl(['req', '-new', '-key', `${name}.key`, '-subj', subject, '-out', `${name}.csr`], dir);
  fs.writeFileSync(path.join(dir, `${name}.ext`), extensions);
  await openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', DAYS, '-sha256', '-extfile', `${name}.ext`, '-out', `${name}.crt`], dir);
  fs.rmSync(path.join(dir, `${name}.csr`));
  fs.rmSync(path.join(dir, `${name}.ext`));
}

export interface PkiOptions {
  /** More IP SANs for the apiserver's serving certificate (the real node's apiserver address). */
  serverIps?: string[];
}

export async function createPki(dir: string, opts: PkiOptions = {}): Promise<Pki> {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  await ecKey('ca.key', dir);
  await openssl(['req', '-x509', '-new', '-key', 'ca.key', '-subj', '/CN=digitserve-local-ca', '-days', DAYS, '-sha256',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', 'ca.crt'], dir);
  const sans = ['IP:127.0.0.1', `IP:${kubernetesServiceIp}`, ...(opts.serverIps ?? []).map((ip) => `IP:${ip}`), 'DNS:localhost', 'DNS:kubernetes', 'DNS:kubernetes.default',
    'DNS:kubernetes.default.svc', 'DNS:kubernetes.default.svc.cluster.local'].join(',');
  await issue('apiserver', '/CN=kube-apiserver',
    `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=${sans}\n`, dir);
  await issue('admin', '/O=system:masters/CN=digitserve-admin',
    'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n', dir);
  // the aggregation layer: the apiserver proxies to extension API servers (prometheus-adapter) as this client
  await issue('front-proxy-client', '/CN=front-proxy-client',
    'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n', dir);
  // service-account tokens: RSA, the algorithm every consumer of the tokens accepts
  await openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'sa.key'], dir);
  await openssl(['pkey', '-in', 'sa.key', '-pubout', '-out', 'sa.pub'], dir);
  const p = (f: string) => path.join(dir, f);
  return {
    dir, caCert: p('ca.crt'), caKey: p('ca.key'), serverCert: p('apiserver.crt'), serverKey: p('apiserver.key'),
    adminCert: p('admin.crt'), adminKey: p('admin.key'), saKey: p('sa.key'), saPub: p('sa.pub'),
    proxyClientCert: p('front-proxy-client.crt'), proxyClientKey: p('front-proxy-client.key'),
  };
}

/** A client certificate signed by the plane's CA: `<dir>/<name>.crt` and `.key`. */
export async function issueClientCert(pki: Pki, name: string, subject: string): Promise<{ cert: string; key: string }> {
  await issue(name, subject, 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n', pki.dir);
  return { cert: path.join(pki.dir, `${name}.crt`), key: path.join(pki.dir, `${name}.key`) };
}
