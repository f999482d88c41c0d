import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'tsup';
import config from '../tsup.config';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Where the tests' own build of the package goes (inside node_modules so its imports resolve). */
export const TEST_DIST = join(root, 'node_modules', '.cache', 'llm-edge-security-test');

/**
 * Builds the package from the current sources with the package's own tsup settings (both formats)
 * before the tests that load it in a separate process, so they never run a stale or missing dist/
 * (turbo builds a package's dependencies before its tests, not the package).
 */
export default async function setup(): Promise<void> {
  if (Array.isArray(config) || typeof config === 'function') {
    throw new Error('tsup.config.ts is expected to export a single options object');
  }
  await build({
    ...config,
    entry: [join(root, 'src', 'index.ts')],
    outDir: TEST_DIST,
    dts: false,
    sourcemap: false,
    clean: true,
    silent: true,
    config: false,
    tsconfig: join(root, 'tsconfig.json'),
  });
}
