import util from 'node:util';

/**
 * `@tensorflow/tfjs-node` 4.22's JavaScript calls `util.isNullOrUndefined` and `util.isArray`,
 * which Node 23 removed (deprecated since Node 4). Restores the two, with their documented
 * meaning, on the `node:util` object every module shares; a no-op where they still exist
 * (Node 20, 22). Call before the first import of tfjs-node.
 */
export function restoreUtilForTfjsNode(target: object = util): void {
  const u = target as { isNullOrUndefined?: (x: unknown) => boolean; isArray?: (x: unknown) => boolean };
  u.isNullOrUndefined ??= (x: unknown) => x === null || x === undefined;
  u.isArray ??= Array.isArray;
}
