import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { loadAll } from 'js-yaml';
import { binDir } from '../../../hack/cluster/build.js';
import { readState } from '../../../hack/cluster/state.js';

/** Helpers the chart's unit and integration tests share: find helm/kubectl, render the chart. */

export const CHART = 'charts/digitserve';
export const VALUES_DIR = 'test/fixtures/chart-values';

export interface Manifest {
  apiVersion: string;
  kind: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- labels and annotations as rendered
  metadata: { name: string; namespace?: string; [key: string]: any };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- rendered YAML, inspected field by field
  [key: string]: any;
}

function executable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The binary the local control plane uses (.cluster/state.json, else the build cache), so the
 * chart is tested with the helm/kubectl built for the Kubernetes version under test; $HELM or
 * $KUBECTL override; PATH last.
 */
export function binary(name: 'helm' | 'kubectl'): string {
  const override = process.env[name.toUpperCase()];
  if (override) return override;
  const fromState = readState()?.binaries[name];
  if (fromState && executable(fromState)) return fromState;
  const cached = path.join(binDir(), name);
  if (executable(cached)) return cached;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && executable(path.join(dir, name))) return path.join(dir, name);
  }
  throw new Error(`no ${name}: run \`npm run cluster:up\` once (it builds helm and kubectl), or set $${name.toUpperCase()}`);
}

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

export function run(bin: string, args: string[], input?: string): RunResult {
  const r = spawnSync(bin, args, { encoding: 'utf8', input, maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function helm(args: string[]): RunResult {
  return run(binary('helm'), args);
}

/** Runs helm and fails with its stderr when it exits non-zero. */
export function helmOk(args: string[]): string {
  const r = helm(args);
  if (r.status !== 0) throw new Error(`helm ${args.join(' ')} exited ${r.status}:\n${r.stderr}`);
  return r.stdout;
}

export interface RenderOptions {
  release?: string;
  namespace?: string;
  /** Files under test/fixtures/chart-values/ (names without the folder). */
  values?: string[];
  set?: Record<string, string>;
  showOnly?: string[];
}

export function templateArgs(o: RenderOptions = {}): string[] {
  const args = ['template', o.release ?? 'ds', CHART, '--namespace', o.namespace ?? 'digitserve-system'];
  for (const v of o.values ?? []) args.push('--values', path.join(VALUES_DIR, v));
  for (const [k, v] of Object.entries(o.set ?? {})) args.push('--set', `${k}=${v}`);
  for (const s of o.showOnly ?? []) args.push('--show-only', s);
  return args;
}

/** `helm template` parsed into objects (empty documents dropped). */
export function render(o: RenderOptions = {}): Manifest[] {
  return parseManifests(helmOk(templateArgs(o)));
}

export function parseManifests(text: string): Manifest[] {
  return (loadAll(text) as (Manifest | null)[]).filter((d): d is Manifest => !!d);
}

export function only(manifests: Manifest[], kind: string, name?: string): Manifest {
  const found = manifests.filter((m) => m.kind === kind && (name === undefined || m.metadata.name === name));
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, rendered ${found.length}`);
  return found[0];
}

export function chartFile(rel: string): string | undefined {
  const p = path.join(CHART, rel);
  return fs.existsSync(p) ? fs.readFileSync(p, 'utf8') : undefined;
}
