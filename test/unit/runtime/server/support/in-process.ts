import { Writable } from 'node:stream';
import { parseConfig } from '../../../../../runtime/config.js';
import { startRuntime, type RunningRuntime } from '../../../../../runtime/lifecycle-start.js';
import { createLogger } from '../../../../../runtime/logger.js';
import { modelCalibratedAt } from '../../../../support/model-fixture.js';

/**
 * The real runtime in this process, on free ports: real engine worker, real HTTP, and the default
 * model's weights at T = 4 (test/support/model-fixture.ts) unless MODEL_URI says otherwise.
 * Log lines are kept in `logs` (JSON records) for assertions.
 */
export interface TestRuntime {
  runtime: RunningRuntime;
  base: string;
  metrics: string;
  logs: Record<string, unknown>[];
  stop(): Promise<void>;
}

export async function startTestRuntime(env: Record<string, string> = {}): Promise<TestRuntime> {
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const cfg = parseConfig({ PORT: '0', METRICS_PORT: '0', GRPC_PORT: '0', MODEL_URI: modelCalibratedAt(4), LOG_LEVEL: 'info', ...env });
  const runtime = await startRuntime(cfg, createLogger(cfg.logLevel, sink));
  await runtime.ready;
  return {
    runtime,
    base: `http://127.0.0.1:${runtime.port}`,
    metrics: `http://127.0.0.1:${runtime.metricsPort()}/metrics`,
    logs,
    stop: () => runtime.shutdown('test over'),
  };
}

/**
 * The log record `match` picks, once it is written: a request's line follows its answer (HTTP
 * after the response is sent, gRPC after the callback), so it is waited for, not slept for.
 */
export async function logLine(t: TestRuntime, match: (l: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
  for (;;) {
    const line = t.logs.find(match);
    if (line) return line;
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** POSTs to `:predict` of the default model. */
export function predict(base: string, body: RequestInit['body'], contentType?: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${base}/v1/models/mnist-cnn:predict`, {
    method: 'POST',
    headers: { ...(contentType ? { 'content-type': contentType } : {}), ...headers },
    body,
  });
}

export async function errorCode(res: Response): Promise<string> {
  const body = (await res.json()) as { error: { code: string } };
  return body.error.code;
}
