import * as grpc from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation } from 'grpc-health-check';
import type { AppDeps } from '../server/app-deps.js';
import { oipService } from './oip-service.js';
import { loadOipDefinition, loadReflectedDefinition, OIP_SERVICE } from './proto.js';

export interface GrpcEdge {
  server: grpc.Server;
  port: number;
  /** No new connections or calls; resolves once every call has ended (or at once after `force`). */
  shutdown(): Promise<void>;
  /** Ends the calls still open (health watches, once every request was answered). */
  force(): void;
}

/**
 * Connections are recycled after this age (plus a grace for calls in progress), so that a
 * long-lived HTTP/2 client reconnects now and then and the replica split of the Services applies
 * again (docs/runtime.md, "Balancing gRPC").
 */
export const MAX_CONNECTION_AGE_MS = 5 * 60_000;

function bind(server: grpc.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound)));
  });
}

/**
 * The OIP gRPC service on GRPC_PORT, with the standard health service (`grpc.health.v1`:
 * SERVING while ready, NOT_SERVING while loading, after an engine failure and from SIGTERM on)
 * and server reflection. Messages are limited to MAX_BODY_BYTES, like HTTP bodies.
 */
export async function startGrpcServer(deps: AppDeps): Promise<GrpcEdge> {
  const { config, lifecycle } = deps;
  const server = new grpc.Server({
    'grpc.max_receive_message_length': config.maxBodyBytes,
    'grpc.max_connection_age_ms': MAX_CONNECTION_AGE_MS,
    'grpc.max_connection_age_grace_ms': config.requestTimeoutMs + 5_000,
  });
  const definition = loadOipDefinition();
  server.addService(definition[OIP_SERVICE] as grpc.ServiceDefinition, oipService(deps));
  const health = new HealthImplementation();
  const report = () => {
    const s = lifecycle.ready() ? 'SERVING' : 'NOT_SERVING';
    health.setStatus('', s);
    health.setStatus(OIP_SERVICE, s);
  };
  report();
  lifecycle.onChange(report);
  health.addToServer(server);
  new ReflectionService(loadReflectedDefinition()).addToServer(server);
  // both address families where the host has IPv6, else IPv4 alone
  const port = await bind(server, '[::]', config.grpcPort).catch(() => bind(server, '0.0.0.0', config.grpcPort));
  let stopped: Promise<void> | undefined;
  return {
    server,
    port,
    shutdown: () => (stopped ??= new Promise<void>((resolve) => server.tryShutdown(() => resolve()))),
    force: () => server.forceShutdown(),
  };
}
