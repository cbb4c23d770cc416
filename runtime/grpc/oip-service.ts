import { Metadata, type sendUnaryData, type ServerUnaryCall, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { httpStatusOf, isRuntimeError, RuntimeError } from '../errors.js';
import { stageDurations, type RequestStages } from '../app/predict.js';
import { sharedClock } from '../app/preprocess-pool.js';
import { tensorsToImages } from '../oip/tensor-inputs.js';
import { checkOutputNames } from '../oip/tensor-outputs.js';
import { platformOf, tensorMetadata } from '../oip/tensors.js';
import { PACKAGE_VERSION } from '../package-root.js';
import { requireModelName, requireService, type AppDeps } from '../server/app-deps.js';
import { requestIdentity } from '../server/request-context.js';
import { inferResponse, requestTensors, type ModelInferRequest } from './infer-messages.js';
import { grpcStatusOf } from './status.js';

/** What a handler adds to its answer: response metadata, and the image count for the log line. */
interface CallContext {
  startedAt: number;
  md: Metadata;
  images?: number;
  /** Where a ModelInfer call's time went (the request log line's `stages`, as on HTTP). */
  stages?: Record<string, number>;
}
type Handler<Req, Res> = (call: ServerUnaryCall<Req, Res>, ctx: CallContext) => Res | Promise<Res>;

const QUIET = new Set(['ServerLive', 'ServerReady', 'ModelReady']);

function first(md: Metadata, key: string): string {
  const v = md.get(key)[0];
  return typeof v === 'string' ? v.trim() : '';
}

/** A served name and, when given, version, or model_not_found (NOT_FOUND). */
function checkModel(deps: AppDeps, name: string, version: string): void {
  requireModelName(deps, name);
  if (version === '') return;
  const served = requireService(deps).served.version;
  if (version !== served) throw new RuntimeError('model_not_found', `model "${name}" version "${version}" is not served here; served: "${served}"`);
}

/** The time left for a call: REQUEST_TIMEOUT_MS from arrival, shortened by the client's gRPC deadline. */
function timeoutOf(call: ServerUnaryCall<unknown, unknown>, startedAt: number, requestTimeoutMs: number): number {
  const deadline = call.getDeadline();
  const ms = deadline instanceof Date ? deadline.getTime() : deadline;
  const own = requestTimeoutMs - (performance.now() - startedAt);
  return Number.isFinite(ms) ? Math.min(own, ms - Date.now()) : own;
}

/**
 * `inference.GRPCInferenceService` over the application layer, as the HTTP edge's OIP routes:
 * same model checks, admission, batching, deadlines and metrics (`code` = the HTTP status the
 * answer corresponds to); errors become gRPC status codes (status.ts) with the same messages.
 */
export function oipService(deps: AppDeps): UntypedServiceImplementation {
  const { lifecycle, config } = deps;

  /** One RPC: request id and traceparent logged (and returned), in-flight counted for draining, errors mapped. */
  function unary<Req, Res>(method: string, handler: Handler<Req, Res>) {
    return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
      const startedAt = performance.now();
      lifecycle.requestStarted();
      const { requestId, traceparent, log } = requestIdentity(deps.logger, first(call.metadata, 'x-request-id'), first(call.metadata, 'traceparent'));
      const md = new Metadata();
      md.set('x-request-id', requestId);
      if (traceparent) md.set('traceparent', traceparent);
      const ctx: CallContext = { startedAt, md };
      const finish = (httpStatus: number, images?: number) => {
        const seconds = (performance.now() - startedAt) / 1000;
        if (method === 'ModelInfer') deps.service()?.metrics.request(httpStatus, seconds);
        const line = { grpc: method, status: httpStatus, ms: Math.round(seconds * 10_000) / 10, images, stages: ctx.stages };
        if (QUIET.has(method) && httpStatus < 500) log.debug(line, 'request');
        else log.info(line, 'request');
        lifecycle.requestFinished();
      };
      Promise.resolve()
        .then(() => handler(call, ctx))
        .then(
          (res) => {
            call.sendMetadata(md);
            callback(null, res);
            finish(200, ctx.images);
          },
          (e: unknown) => {
            const known = isRuntimeError(e);
            if (!known) log.error({ err: e, grpc: method }, 'request failed');
            else log.info({ code: e.code, grpc: method, reason: e.message }, 'request refused');
            const code = known ? grpcStatusOf[e.code] : grpcStatusOf.internal;
            const details = known && e.code !== 'internal' ? e.message : 'internal error; see the server log';
            const trailer = new Metadata();
            const retry = known ? e.details?.retryAfterSeconds : undefined;
            if (known && e.code === 'queue_full') trailer.set('retry-after', String(typeof retry === 'number' ? Math.max(1, Math.ceil(retry)) : 1));
            call.sendMetadata(md);
            callback({ code, details, metadata: trailer });
            finish(known ? httpStatusOf[e.code] : 500, ctx.images);
          },
        );
    };
  }

  return {
    ServerLive: unary('ServerLive', () => ({ live: lifecycle.live() })),
    ServerReady: unary('ServerReady', () => ({ ready: lifecycle.ready() })),
    ModelReady: unary<{ name: string; version: string }, { ready: boolean }>('ModelReady', (call) => {
      // as HTTP's /ready: an unknown name or version is NOT_FOUND (the version is known once loaded)
      if (deps.service()) checkModel(deps, call.request.name, call.request.version);
      else requireModelName(deps, call.request.name);
      return { ready: lifecycle.ready() };
    }),
    ServerMetadata: unary('ServerMetadata', () => ({ name: 'digitserve', version: PACKAGE_VERSION, extensions: [] })),
    ModelMetadata: unary<{ name: string; version: string }, object>('ModelMetadata', (call) => {
      checkModel(deps, call.request.name, call.request.version);
      const s = requireService(deps);
      return { name: s.served.name, versions: [s.served.version], platform: platformOf(s.info.backend), ...tensorMetadata() };
    }),
    ModelInfer: unary<ModelInferRequest, object>('ModelInfer', async (call, ctx) => {
      const req = call.request;
      // calls in SHUTDOWN_DELAY_MS are answered (the endpoints still route here), later ones refused
      if (!lifecycle.acceptsCalls()) throw new RuntimeError('draining', 'draining: the server is shutting down; retry on another replica');
      checkModel(deps, req.model_name, req.model_version);
      const s = requireService(deps);
      ctx.md.set('x-model-version', s.served.version);
      ctx.md.set('x-model-track', s.served.track);
      // grpc-js hands over the message decoded: its `body` is the wait before this handler ran
      const bodyRead = sharedClock();
      const inputs = tensorsToImages(requestTensors(req), config.maxImagesPerRequest);
      ctx.images = inputs.length;
      const outputs = req.outputs.length ? checkOutputNames(req.outputs.map((o) => o.name)) : undefined;
      const stages: RequestStages = { parsed: sharedClock() };
      const predictions = await s.predict(inputs, timeoutOf(call, ctx.startedAt, config.requestTimeoutMs), { stages });
      const res = inferResponse(s.served, predictions, req.id, outputs);
      ctx.stages = stageDurations(performance.timeOrigin + ctx.startedAt, bodyRead, stages, sharedClock());
      return res;
    }),
  };
}
