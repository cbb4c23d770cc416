import { ApiException } from '@kubernetes/client-node';

/** `Aborted`: the caller gave the request up (its signal aborted); nothing is known of its outcome. */
export type KubeErrorCode = 'NotFound' | 'Conflict' | 'Gone' | 'Forbidden' | 'Invalid' | 'Unavailable' | 'Aborted' | 'Unknown';

/** The operator's one error type for API failures; nothing else inspects HTTP status codes. */
export class KubeError extends Error {
  readonly code: KubeErrorCode;
  readonly status?: number;
  constructor(code: KubeErrorCode, message: string, status?: number, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KubeError';
    this.code = code;
    this.status = status;
  }
  /** Worth retrying with backoff (as opposed to a spec the apiserver will keep refusing). */
  get retryable(): boolean {
    return this.code !== 'Invalid' && this.code !== 'Forbidden';
  }
}

export function codeForStatus(status: number): KubeErrorCode {
  if (status === 404) return 'NotFound';
  if (status === 409) return 'Conflict';
  if (status === 410) return 'Gone';
  if (status === 401 || status === 403) return 'Forbidden';
  if (status === 400 || status === 422) return 'Invalid';
  if (status === 429 || status >= 500) return 'Unavailable';
  return 'Unknown';
}

function statusMessage(body: unknown): string | undefined {
  if (body && typeof body === 'object' && 'message' in body && typeof body.message === 'string') return body.message;
  if (typeof body === 'string' && body.length > 0) {
    try {
      return statusMessage(JSON.parse(body));
    } catch {
      return body.slice(0, 500);
    }
  }
  return undefined;
}

/** Maps an HTTP failure (status code plus metav1.Status body) to a KubeError. */
export function errorFromResponse(status: number, body: unknown, what: string): KubeError {
  return new KubeError(codeForStatus(status), `${what}: ${statusMessage(body) ?? `HTTP ${status}`}`, status);
}

/** Maps anything thrown by client-node or the network to a KubeError (the single mapping point). */
export function toKubeError(err: unknown, what = 'kubernetes API'): KubeError {
  if (err instanceof KubeError) return err;
  if (err instanceof ApiException) return errorFromResponse(err.code, err.body, what);
  const e = err as { statusCode?: number; code?: unknown; message?: string };
  if (typeof e?.statusCode === 'number') return errorFromResponse(e.statusCode, undefined, what);
  if (typeof e?.code === 'number') return errorFromResponse(e.code, e, what);
  return new KubeError('Unavailable', `${what}: ${e?.message ?? String(err)}`, undefined, { cause: err });
}
