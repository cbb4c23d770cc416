import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** promtool from Debian's `prometheus` package (hack/install-prereqs.sh installs it); never optional. */
export const PROMTOOL = process.env.PROMTOOL ?? '/usr/bin/promtool';

export interface PromtoolResult {
  status: number | null;
  output: string;
}

/** Runs promtool with `args` from `cwd`; a missing binary is an error, not a skip. */
export function promtool(args: string[], cwd: string): PromtoolResult {
  const r = spawnSync(PROMTOOL, args, { cwd, encoding: 'utf8', timeout: 120_000 });
  if (r.error) throw new Error(`cannot run ${PROMTOOL} (install Debian's prometheus package: hack/install-prereqs.sh): ${r.error.message}`);
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

/** Grafana's template variables replaced by values promtool accepts. */
export function substituteGrafanaVariables(expr: string): string {
  return expr
    .replace(/\$__rate_interval|\$__interval|\$__range/g, '5m')
    .replace(/\$\{?(model|namespace|track|datasource)\}?/g, '.*');
}

/** `promtool check rules` on each expression as a recording rule of its own; returns promtool's result. */
export function checkExpressions(exprs: string[]): PromtoolResult {
  const dir = mkdtempSync(path.join(tmpdir(), 'digitserve-promql-'));
  const body = {
    groups: [{ name: 'expressions', rules: exprs.map((expr, i) => ({ record: `check:expr_${i}`, expr })) }],
  };
  const file = path.join(dir, 'expressions.yaml');
  writeFileSync(file, JSON.stringify(body)); // JSON is YAML
  return promtool(['check', 'rules', file], dir);
}
