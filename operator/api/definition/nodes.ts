/**
 * The vocabulary of the DigitModel's one schema definition: a structural OpenAPI v3 schema (what
 * a CRD holds), plus `zodName`, which only the generator reads (it exports that node as a named
 * zod schema). `npm run generate` turns the definition into the CRD, the chart's copy and the zod
 * mirror; nothing else spells the schema out.
 */

export interface Rule {
  rule: string;
  message: string;
  fieldPath?: string;
}

export interface SchemaNode {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number';
  description?: string;
  format?: 'int32' | 'int64' | 'date-time';
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  enum?: string[];
  maxItems?: number;
  maxProperties?: number;
  required?: string[];
  properties?: Record<string, SchemaNode>;
  additionalProperties?: SchemaNode;
  items?: SchemaNode;
  anyOf?: SchemaNode[];
  'x-kubernetes-int-or-string'?: true;
  'x-kubernetes-preserve-unknown-fields'?: true;
  'x-kubernetes-list-type'?: 'atomic' | 'map' | 'set';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-validations'?: Rule[];
  /** Generator only, never in the CRD: export this node as `export const <zodName>` in operator/api/schema.ts. */
  zodName?: string;
}

type Extra = Omit<SchemaNode, 'type' | 'description' | 'properties' | 'required'>;

export function str(description: string, maxLength: number, extra: Extra = {}): SchemaNode {
  return { description, type: 'string', ...extra, maxLength };
}

export function int(description: string, minimum: number | undefined, maximum: number | undefined, extra: Extra = {}): SchemaNode {
  return {
    description,
    type: 'integer',
    ...extra,
    ...(minimum !== undefined ? { minimum } : {}),
    ...(maximum !== undefined ? { maximum } : {}),
  };
}

export function num(description: string, minimum: number, maximum: number, extra: Extra = {}): SchemaNode {
  return { description, type: 'number', ...extra, minimum, maximum };
}

/** An object with named fields; `required` lists the mandatory ones. */
export function obj(description: string, properties: Record<string, SchemaNode>, extra: Extra & { required?: string[] } = {}): SchemaNode {
  return { description, type: 'object', ...extra, properties };
}

/** A string-keyed map of `values`. */
export function map(description: string, values: SchemaNode, maxProperties: number): SchemaNode {
  return { description, type: 'object', maxProperties, additionalProperties: values };
}

/** A list replaced as a whole on apply. */
export function list(description: string, items: SchemaNode, maxItems: number): SchemaNode {
  return { description, type: 'array', maxItems, 'x-kubernetes-list-type': 'atomic', items };
}
