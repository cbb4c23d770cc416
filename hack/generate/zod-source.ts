import type { SchemaNode } from '../../operator/api/definition/nodes.js';

/**
 * Renders the zod mirror of a CRD schema as TypeScript source: every node with a `zodName` becomes
 * an exported schema, the others are inlined. CEL rules are the apiserver's to enforce; the mirror
 * carries the per-field bounds, which the operator re-checks before it trusts a spec.
 */

interface Emitter {
  /** Named schemas in dependency order, by name. */
  named: Map<string, string>;
}

const q = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

function stringExpr(n: SchemaNode): string {
  if (n.enum) return `z.enum([${n.enum.map(q).join(', ')}])`;
  let e = 'z.string()';
  if (n.minLength) e += `.min(${n.minLength})`;
  if (n.maxLength !== undefined) e += `.max(${n.maxLength})`;
  if (n.pattern) e += `.regex(new RegExp(${q(n.pattern)}))`;
  return e;
}

function numberExpr(n: SchemaNode, base: string): string {
  let e = base;
  if (n.minimum !== undefined) e += n.exclusiveMinimum ? `.gt(${n.minimum})` : `.min(${n.minimum})`;
  if (n.maximum !== undefined) e += `.max(${n.maximum})`;
  return e;
}

function indent(text: string, by: string): string {
  return text.replace(/\n/g, `\n${by}`);
}

function expr(n: SchemaNode, out: Emitter, top = false): string {
  if (n.zodName && !top) {
    const body = expr(n, out, true);
    const seen = out.named.get(n.zodName);
    if (seen !== undefined && seen !== body) throw new Error(`two different schemas are both named ${n.zodName}`);
    if (seen === undefined) out.named.set(n.zodName, body);
    return n.zodName;
  }
  if (n['x-kubernetes-int-or-string']) return `z.union([z.int(), ${stringExpr(n)}])`;
  if (n['x-kubernetes-preserve-unknown-fields']) return 'z.record(z.string(), z.unknown())';
  switch (n.type) {
    case 'string':
      return stringExpr(n);
    case 'integer':
      return numberExpr(n, 'z.int()');
    case 'number':
      return numberExpr(n, 'z.number()');
    case 'array':
      if (!n.items) throw new Error('an array without items');
      return `z.array(${expr(n.items, out)})${n.maxItems !== undefined ? `.max(${n.maxItems})` : ''}`;
    case 'object': {
      if (n.additionalProperties) return `z.record(z.string(), ${expr(n.additionalProperties, out)})`;
      const required = new Set(n.required ?? []);
      const fields = Object.entries(n.properties ?? {}).map(
        ([k, v]) => `  ${k}: ${indent(expr(v, out), '  ')}${required.has(k) ? '' : '.optional()'},`,
      );
      return fields.length ? `z.object({\n${fields.join('\n')}\n})` : 'z.object({})';
    }
    default:
      throw new Error(`no zod rendering for a node of type ${String(n.type)}`);
  }
}

/** The source of operator/api/schema.ts for the given top-level schemas (each must have a zodName). */
export function renderZodSource(roots: SchemaNode[], header: string): string {
  const out: Emitter = { named: new Map() };
  for (const r of roots) {
    if (!r.zodName) throw new Error('a top-level schema needs a zodName');
    expr(r, out);
  }
  const decls = [...out.named].map(([name, body]) => `export const ${name} = ${body};`);
  return `${header}\nimport { z } from 'zod';\n\n${decls.join('\n\n')}\n`;
}
