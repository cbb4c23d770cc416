import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * setupFiles of a project with a private control plane (`globals.digitservePlane.dir`, started by
 * cluster-setup.ts): points this test file's KUBECONFIG and DIGITSERVE_CLUSTER_DIR (hack/cluster's
 * paths, e.g. the state file the fault helpers restart the apiserver from) at that plane. Jest gives
 * each test file its own copy of process.env, so other projects in the same run are not affected.
 */
const plane = (globalThis as { digitservePlane?: { dir?: string } }).digitservePlane;
if (!plane?.dir) throw new Error('plane-env.ts needs globals.digitservePlane.dir in the jest project');
const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', plane.dir);
process.env.DIGITSERVE_CLUSTER_DIR = dir;
process.env.KUBECONFIG = path.join(dir, 'kubeconfig');
