import type { RuntimeConfig } from '../config.js';
import { RuntimeError } from '../errors.js';
import type { Lifecycle } from '../lifecycle.js';
import type { Logger } from '../logger.js';
import type { ModelService } from '../app/model-service.js';

/** What the HTTP layer needs from the rest of the runtime. */
export interface AppDeps {
  config: RuntimeConfig;
  logger: Logger;
  lifecycle: Lifecycle;
  /** The loaded model; undefined while it loads (the server listens from the start, for liveness). */
  service(): ModelService | undefined;
}

/** The loaded model, or `not_ready` (503) while it loads or after its engine died. */
export function requireService(deps: AppDeps): ModelService {
  const s = deps.service();
  if (!s) throw new RuntimeError('not_ready', 'the model is still loading; retry shortly');
  if (!deps.lifecycle.live()) throw new RuntimeError('not_ready', `the inference engine failed: ${deps.lifecycle.failure()}`);
  return s;
}

/** The model name this server answers under, or `model_not_found` (404). */
export function requireModelName(deps: AppDeps, name: string): void {
  const served = deps.config.modelName;
  if (name !== served) throw new RuntimeError('model_not_found', `model "${name}" is not served here; this server serves "${served}" (GET /v1/models)`);
}
