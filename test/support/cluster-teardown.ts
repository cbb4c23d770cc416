/**
 * Jest globalTeardown: stops the control plane that test/support/cluster-setup.ts started for this
 * project (jest runs this after failing tests too). The setup leaves its release function on
 * globalThis because jest's loader cannot resolve an import between the two files.
 */
export default async function teardown(_globalConfig: unknown, projectConfig: unknown): Promise<void> {
  const release = (globalThis as Record<symbol, unknown>)[Symbol.for('digitserve.cluster.release')];
  if (typeof release === 'function') release(projectConfig);
}
