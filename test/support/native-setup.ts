import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Global setup of the unit-native project. Its tests load TensorFlow inside jest's sandbox, whose
 * `process.env` is a copy: selectBackend's `nativeTensorFlowSettings()` would not reach the C
 * environment TensorFlow reads. This runs it in jest's own process, before the test processes
 * exist, where it does. (Jest loads global setups without the project's module mapping, so the
 * module is loaded through tsx.)
 */
export default async function nativeSetup(): Promise<void> {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const { tsImport } = (await import('tsx/esm/api')) as { tsImport: (id: string, parent: string) => Promise<unknown> };
  const compat = (await tsImport(path.join(here, '../../runtime/engine/tfjs-node-compat.ts'), import.meta.url)) as typeof import('../../runtime/engine/tfjs-node-compat.js');
  compat.nativeTensorFlowSettings();
}
