import { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { OperatorConfig } from './config.js';
import { ClusterCaches } from './controller/caches.js';
import { DigitModelController, type ControllerOptions } from './controller/controller.js';
import { startProbeServers, type ProbeServers } from './health.js';
import { KubeClient } from './kube/client.js';
import { EventRecorder } from './kube/events.js';
import { LeaderElector } from './leader.js';
import { createLogger } from './logger.js';
import { OperatorMetrics } from './metrics.js';

export interface ManagerOptions {
  config: OperatorConfig;
  kc?: KubeConfig;
  log?: Logger;
  hooks?: ControllerOptions['hooks'];
  /** Serve /healthz, /readyz and /metrics (default true). */
  serveProbes?: boolean;
  processMetrics?: boolean;
}

/** A running operator: leader election, the controller while leading, probes and metrics. */
export interface Manager {
  readonly identity: string;
  readonly metrics: OperatorMetrics;
  readonly probes?: ProbeServers;
  isLeader(): boolean;
  ready(): boolean;
  /** Graceful shutdown; `release: false` imitates a crash (the Lease is left to expire). */
  stop(opts?: { release: boolean }): Promise<void>;
}

export function loadKubeConfig(path: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromDefault();
  return kc;
}

/** Wires config → client → (elector →) controller, and starts them. */
export async function startManager(opts: ManagerOptions): Promise<Manager> {
  const cfg = opts.config;
  const log = opts.log ?? createLogger(cfg.logLevel);
  const kc = opts.kc ?? loadKubeConfig(cfg.kubeconfig);
  const metrics = new OperatorMetrics({ processMetrics: opts.processMetrics });
  const client = new KubeClient(kc, (method, code) => metrics.restRequests.inc({ method, code: String(code) }));
  const events = new EventRecorder(client, cfg.identity, log);
  let controller: DigitModelController | undefined;
  let term: AbortController | undefined;
  // the caches run for the whole process, on a standby too; only the reconciling follows the Lease
  const caches = new ClusterCaches({
    kc,
    client,
    log,
    namespaces: cfg.watchNamespaces,
    minWatchTimeoutSeconds: cfg.minWatchTimeoutSeconds,
    gatewayApiRecheckMs: cfg.gatewayApiRecheckSeconds * 1000,
  });
  void caches.start();

  const startController = async () => {
    // the term's requests end with it: a reconcile stuck on an unanswered request must not write
    // after the Lease was given up, nor hold up stepping down
    term = new AbortController();
    const c = new DigitModelController({
      caches,
      client: client.withSignal(term.signal),
      log,
      metrics,
      events,
      defaults: {
        image: cfg.runtimeImage,
        progressDeadlineSeconds: cfg.progressDeadlineSeconds,
        preStopSleepSeconds: cfg.preStopSleepSeconds,
        ...(cfg.converterImage ? { converterImage: cfg.converterImage } : {}),
      },
      namespaces: cfg.watchNamespaces,
      concurrency: cfg.concurrency,
      resyncMs: cfg.resyncSeconds * 1000,
      hooks: opts.hooks,
      prometheusUrl: cfg.prometheusUrl,
    });
    controller = c;
    await c.start();
  };
  const stopController = async () => {
    const c = controller;
    controller = undefined;
    term?.abort(new Error('leadership term ended'));
    term = undefined;
    await c?.stop();
  };

  let elector: LeaderElector | undefined;
  metrics.leaderStatus.set({ name: cfg.leaseName }, 0);
  if (cfg.leaderElection) {
    elector = new LeaderElector(
      client,
      {
        namespace: cfg.leaseNamespace,
        name: cfg.leaseName,
        identity: cfg.identity,
        leaseDurationSeconds: cfg.leaseDurationSeconds,
        renewDeadlineSeconds: cfg.renewDeadlineSeconds,
        retryPeriodSeconds: cfg.retryPeriodSeconds,
      },
      {
        onStartedLeading: startController,
        onStoppedLeading: stopController,
        onLeadershipChange: (leading) => metrics.leaderStatus.set({ name: cfg.leaseName }, leading ? 1 : 0),
      },
      log,
    );
    elector.start();
  } else {
    await startController();
  }

  let stopping = false;
  const ready = () => !stopping && (elector ? !elector.isLeader() || !!controller?.synced() : !!controller?.synced());
  const probes =
    opts.serveProbes === false
      ? undefined
      : await startProbeServers(cfg.healthPort, cfg.metricsPort, { live: () => true, ready }, metrics.registry);
  log.info({ identity: cfg.identity, leaderElection: cfg.leaderElection, healthPort: probes?.healthPort, metricsPort: probes?.metricsPort }, 'operator started');

  return {
    identity: cfg.identity,
    metrics,
    probes,
    isLeader: () => (elector ? elector.isLeader() : true),
    ready,
    async stop(o = { release: true }) {
      stopping = true;
      if (elector) await elector.stop(o);
      await stopController();
      await caches.stop();
      await probes?.close();
      client.close();
      log.info({ identity: cfg.identity }, 'operator stopped');
    },
  };
}
