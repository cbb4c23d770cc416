import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { DEFAULT_CHILD_DEFAULTS } from './children/defaults.js';

/** The operator's configuration, parsed and validated once at start-up. */
export interface OperatorConfig {
  /** Path to a kubeconfig; unset = $KUBECONFIG, ~/.kube/config or in-cluster. */
  kubeconfig?: string;
  /** Namespaces to watch; empty = all. */
  watchNamespaces: string[];
  runtimeImage: string;
  /** Image of the init container converting keras/savedmodel artifacts (SPEC §7); unset = those formats are FormatNotSupported. */
  converterImage?: string;
  progressDeadlineSeconds: number;
  preStopSleepSeconds: number;
  leaderElection: boolean;
  leaseName: string;
  leaseNamespace: string;
  leaseDurationSeconds: number;
  renewDeadlineSeconds: number;
  retryPeriodSeconds: number;
  identity: string;
  /** Port of /metrics. */
  metricsPort: number;
  /** Port of /healthz and /readyz (may equal metricsPort to serve all three on one port). */
  healthPort: number;
  concurrency: number;
  resyncSeconds: number;
  /** Watches ask the server to end them after a random [min, 2×min) seconds; 0 = as the apiserver decides (and no idle guard). */
  minWatchTimeoutSeconds: number;
  /** Ask API discovery whether the Gateway API is (still) installed this often; 0 = only when an HTTPRoute apply says so. */
  gatewayApiRecheckSeconds: number;
  logLevel: string;
  /** Canary analysis reads its windows from this Prometheus (PromQL) instead of scraping the pods. */
  prometheusUrl?: string;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Flag name → environment variable; a flag wins over its variable. */
const OPTIONS = {
  kubeconfig: 'KUBECONFIG',
  'watch-namespaces': 'WATCH_NAMESPACES',
  'runtime-image': 'RUNTIME_IMAGE',
  'converter-image': 'CONVERTER_IMAGE',
  'progress-deadline-seconds': 'PROGRESS_DEADLINE_SECONDS',
  'prestop-sleep-seconds': 'PRESTOP_SLEEP_SECONDS',
  'leader-election': 'LEADER_ELECTION',
  'lease-name': 'LEASE_NAME',
  'lease-namespace': 'LEASE_NAMESPACE',
  'lease-duration-seconds': 'LEASE_DURATION_SECONDS',
  'renew-deadline-seconds': 'RENEW_DEADLINE_SECONDS',
  'retry-period-seconds': 'RETRY_PERIOD_SECONDS',
  identity: 'POD_NAME',
  'metrics-port': 'METRICS_PORT',
  'health-port': 'HEALTH_PORT',
  concurrency: 'CONCURRENCY',
  'resync-seconds': 'RESYNC_SECONDS',
  'min-watch-timeout-seconds': 'MIN_WATCH_TIMEOUT_SECONDS',
  'gateway-api-recheck-seconds': 'GATEWAY_API_RECHECK_SECONDS',
  'log-level': 'LOG_LEVEL',
  'prometheus-url': 'PROMETHEUS_URL',
} as const;
type Option = keyof typeof OPTIONS;

function int(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${name} must be an integer in ${min}..${max}, got "${raw}"`);
  return n;
}

function bool(name: string, raw: string | undefined, fallback: boolean): boolean {
  if (raw === undefined || raw === '') return fallback;
  if (/^(true|1|yes|on)$/i.test(raw)) return true;
  if (/^(false|0|no|off)$/i.test(raw)) return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

/** Parses flags (`--watch-namespaces a,b`) and environment into a validated OperatorConfig. */
export function parseConfig(argv: string[], env: Record<string, string | undefined>): OperatorConfig {
  const options = Object.fromEntries(Object.keys(OPTIONS).map((k) => [k, { type: 'string' as const }]));
  let values: Record<string, string | undefined>;
  try {
    values = parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values as Record<string, string | undefined>;
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  const get = (o: Option): string | undefined => values[o] ?? env[OPTIONS[o]];
  const cfg: OperatorConfig = {
    kubeconfig: get('kubeconfig') || undefined,
    watchNamespaces: (get('watch-namespaces') ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    runtimeImage: get('runtime-image') || DEFAULT_CHILD_DEFAULTS.image,
    converterImage: get('converter-image') || undefined,
    progressDeadlineSeconds: int('progress-deadline-seconds', get('progress-deadline-seconds'), DEFAULT_CHILD_DEFAULTS.progressDeadlineSeconds, 1, 86_400),
    preStopSleepSeconds: int('prestop-sleep-seconds', get('prestop-sleep-seconds'), DEFAULT_CHILD_DEFAULTS.preStopSleepSeconds, 0, 300),
    leaderElection: bool('leader-election', get('leader-election'), true),
    leaseName: get('lease-name') || 'digitserve-operator',
    leaseNamespace: get('lease-namespace') || env.POD_NAMESPACE || 'default',
    leaseDurationSeconds: int('lease-duration-seconds', get('lease-duration-seconds'), 15, 2, 3600),
    renewDeadlineSeconds: int('renew-deadline-seconds', get('renew-deadline-seconds'), 10, 1, 3600),
    retryPeriodSeconds: int('retry-period-seconds', get('retry-period-seconds'), 2, 1, 3600),
    identity: get('identity') || `${hostname()}_${randomBytes(4).toString('hex')}`,
    // not the runtime's 8080 (HTTP), 8081 (gRPC) or 9090 (metrics): `npm start` and `npm run operator` run side by side
    metricsPort: int('metrics-port', get('metrics-port'), 8383, 0, 65535),
    healthPort: int('health-port', get('health-port'), 8384, 0, 65535),
    concurrency: int('concurrency', get('concurrency'), 4, 1, 64),
    resyncSeconds: int('resync-seconds', get('resync-seconds'), 600, 0, 86_400 * 7),
    minWatchTimeoutSeconds: int('min-watch-timeout-seconds', get('min-watch-timeout-seconds'), 300, 0, 86_400),
    gatewayApiRecheckSeconds: int('gateway-api-recheck-seconds', get('gateway-api-recheck-seconds'), 60, 0, 86_400),
    logLevel: get('log-level') || 'info',
    prometheusUrl: get('prometheus-url') || undefined,
  };
  if (cfg.prometheusUrl !== undefined) {
    let u: URL | undefined;
    try {
      u = new URL(cfg.prometheusUrl);
    } catch {
      u = undefined;
    }
    if (!u || !/^https?:$/.test(u.protocol) || u.search || u.hash) {
      throw new ConfigError(`prometheus-url must be an http:// or https:// base URL without query or fragment, got "${cfg.prometheusUrl}"`);
    }
  }
  if (cfg.leaderElection && !(cfg.leaseDurationSeconds > cfg.renewDeadlineSeconds && cfg.renewDeadlineSeconds > cfg.retryPeriodSeconds)) {
    throw new ConfigError('lease durations must satisfy lease-duration > renew-deadline > retry-period');
  }
  for (const ns of cfg.watchNamespaces) {
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(ns) || ns.length > 63) throw new ConfigError(`watch namespace "${ns}" is not a valid namespace name`);
  }
  return cfg;
}
