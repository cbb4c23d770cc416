import fs from 'node:fs';
import path from 'node:path';
import { builtinModules } from 'node:module';

// #15 item 16: production dependencies are exactly what the shipped code imports. The runtime
// (runtime/ without runtime/train/) and the operator are what the images run; training, tests and
// hack/ tooling may use devDependencies only. The runtime image leaves out the packages only the
// operator uses (Dockerfile.runtime's OPERATOR_ONLY), so the runtime must never import them.

const pkg = JSON.parse(fs.readFileSync('package.json', 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };

function sources(dir: string, skip: string[] = []): string[] {
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
    .map((e) => path.join(e.parentPath, e.name))
    .filter((f) => !skip.some((s) => f.startsWith(s)));
}

/** Packages a file imports by a literal specifier (static, side-effect, type-only or dynamic import). */
function packagesImported(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|^import\s+)['"]([^'"]+)['"]/gm)].map((m) => m[1]);
  return specs
    .filter((s) => !s.startsWith('.') && !s.startsWith('node:') && !builtinModules.includes(s))
    .map((s) => (s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0]));
}

function importsOf(files: string[]): Map<string, string[]> {
  const by = new Map<string, string[]>();
  for (const f of files) for (const p of packagesImported(f)) by.set(p, [...(by.get(p) ?? []), f]);
  return by;
}

const runtime = importsOf(sources('runtime', ['runtime/train/']));
const operator = importsOf(sources('operator'));
const shipped = new Set([...runtime.keys(), ...operator.keys()]);
const operatorOnly = /^ARG OPERATOR_ONLY=(.*)$/m.exec(fs.readFileSync('Dockerfile.runtime', 'utf8'))?.[1].trim().split(/\s+/) ?? [];

test('the runtime and the operator import only production dependencies', () => {
  const outside = [...shipped].filter((p) => !(p in pkg.dependencies)).map((p) => `${p} (${[...(runtime.get(p) ?? []), ...(operator.get(p) ?? [])].join(', ')})`);
  expect(outside).toEqual([]);
});

test('every production dependency is imported by the runtime or the operator (training-only packages are devDependencies)', () => {
  expect(Object.keys(pkg.dependencies).filter((p) => !shipped.has(p))).toEqual([]);
  expect(pkg.devDependencies).toHaveProperty('mnist');
});

test('the runtime uses tfjs-core, -layers, -converter (graph models: imported SavedModels) and the backends, not the @tensorflow/tfjs umbrella', () => {
  expect(runtime.has('@tensorflow/tfjs')).toBe(false);
  expect([...runtime.keys()].filter((p) => p.startsWith('@tensorflow/')).sort()).toEqual(['@tensorflow/tfjs-backend-cpu', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-converter', '@tensorflow/tfjs-core', '@tensorflow/tfjs-layers']);
});

test("the runtime imports none of the packages its image leaves out (the operator's own)", () => {
  expect(operatorOnly).toEqual(['@kubernetes/client-node']);
  for (const p of operatorOnly) {
    expect(runtime.get(p)).toBeUndefined();
    expect(operator.get(p)?.length).toBeGreaterThan(0);
  }
});
