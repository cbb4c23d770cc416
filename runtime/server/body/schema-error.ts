import type { z } from 'zod';
import { RuntimeError } from '../../errors.js';

/** A zod failure as a 422 `invalid_request` naming the first few offending paths and what is expected. */
export function schemaError(error: z.ZodError, expected: string): RuntimeError {
  const issues = error.issues.slice(0, 5).map((i) => `${i.path.length ? i.path.join('.') : '(body)'}: ${i.message}`);
  return new RuntimeError('invalid_request', `${issues.join('; ')}; ${expected}`, { issues: error.issues.slice(0, 20) });
}
