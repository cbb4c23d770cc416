import { z } from 'zod';

/** The named schemas of the HTTP API: each becomes `#/components/schemas/<id>` in /openapi.json. */
export const apiSchemas = z.registry<{ id: string; description?: string }>();
