import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolveModelUri, type RuntimeConfig } from './config.js';
import { Lifecycle } from './lifecycle.js';
import type { Logger } from './logger.js';
import { startMetricsServer } from './metrics/metrics-server.js';
import { createApp } from './server/app.js';
import { ConnectionTracker } from './server/connections.js';
import { startModelService, type ModelService } from './app/model-service.js';
import { startGrpcServer } from './grpc/grpc-server.js';

export interface RunningRuntime {
  lifecycle: Lifecycle;
  server: http.Server;
  port: number;
  /** GRPC_PORT as bound (the OIP gRPC service). */
  grpcPort: number;
  /** Resolves once the model is loaded and warmed and /metrics listens; rejects if loading fails. */
  ready: Promise<void>;
  service(): ModelService | undefined;
  /** The metrics port, once `ready` resolved. */
  metricsPort(): number | undefined;
  /** Drains (readiness false at once, every accepted request answered) and stops. Idempotent. */
  shutdown(reason: string): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function listen(server: http.Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/**
 * Starts the API at once (liveness answers while the model loads, readiness does not), then the
 * engine, the batcher and /metrics. The lifecycle of one runtime process, without signals
 * (main.ts installs those), so tests can run it in-process on port 0.
 */
export async function startRuntime(cfg: RuntimeConfig, logger: Logger): Promise<RunningRuntime> {
  const lifecycle = new Lifecycle();
  let service: ModelService | undefined;
  let metricsServer: http.Server | undefined;
  const app = createApp({ config: cfg, logger, lifecycle, service: () => service });
  const server = http.createServer(app.callback());
  server.keepAliveTimeout = 65_000; // longer than common load balancers' idle timeout
  server.requestTimeout = cfg.requestTimeoutMs + 60_000; // slow uploads; the deadline itself is the batcher's
  const connections = new ConnectionTracker(server);
  const port = await listen(server, cfg.port);
  const grpcEdge = await startGrpcServer({ config: cfg, logger, lifecycle, service: () => service }).catch((e: Error) => {
    server.close();
    throw new Error(`cannot serve gRPC on GRPC_PORT ${cfg.grpcPort}: ${e.message}`, { cause: e });
  });
  logger.info({ port, grpcPort: grpcEdge.port }, 'listening; loading the model');

  const ready = (async () => {
    const modelUri = await resolveModelUri(cfg);
    const t0 = performance.now();
    const s = await startModelService(cfg, modelUri, logger);
    s.engine.onExit((code) => {
      if (lifecycle.draining()) return; // closed on purpose
      lifecycle.markEngineFailed(`engine worker exited with code ${code}`);
      logger.error({ code }, 'engine worker exited: liveness fails so the pod is restarted');
    });
    metricsServer = await startMetricsServer(s.metrics.registry, cfg.metricsPort);
    service = s;
    lifecycle.markReady();
    logger.info(
      { port, grpcPort: grpcEdge.port, metricsPort: (metricsServer.address() as AddressInfo).port, model: s.served, backend: s.info.backend, modelUri, loadMs: Math.round(performance.now() - t0), cpus: cfg.cpus, preprocessWorkers: cfg.preprocessWorkers, libvipsThreads: cfg.libvipsThreads },
      'ready',
    );
  })();
  ready.catch(() => undefined); // the caller decides; nothing else may see an unhandled rejection

  let stopping: Promise<void> | undefined;
  const shutdown = (reason: string) => {
    stopping ??= (async () => {
      lifecycle.startDraining();
      logger.info({ reason, inFlight: lifecycle.requestsInFlight, queued: service?.batcher.depth ?? 0 }, 'draining: readiness is false; finishing accepted requests');
      if (cfg.shutdownDelayMs > 0) await sleep(cfg.shutdownDelayMs);
      lifecycle.refuseNewCalls();
      // no new connections; requests on open ones are still answered (Connection: close); a
      // kept-alive connection is closed only where no request can be racing onto it. gRPC: no new
      // connections, GOAWAY on open ones (calls in progress finish), new calls UNAVAILABLE
      const grpcDone = grpcEdge.shutdown();
      await connections.drain();
      await lifecycle.requestsDone();
      grpcEdge.force(); // every request is answered: what is left open are health watches
      await grpcDone;
      service?.batcher.close();
      await service?.batcher.idle();
      await service?.close();
      if (metricsServer) await new Promise<void>((resolve) => metricsServer!.close(() => resolve()));
      lifecycle.markStopped();
      logger.info('stopped');
    })();
    return stopping;
  };

  return {
    lifecycle,
    server,
    port,
    grpcPort: grpcEdge.port,
    ready,
    service: () => service,
    metricsPort: () => (metricsServer ? (metricsServer.address() as AddressInfo).port : undefined),
    shutdown,
  };
}
