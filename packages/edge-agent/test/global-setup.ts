import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'tsup';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Where the tests' own build of the `llm-edge` CLI goes (inside node_modules so imports resolve). */
export const TEST_CLI = join(root, 'node_modules', '.cache', 'llm-edge-agent-test', 'cli.js');

/** The package entry of the same build, for tests that load the library in a fresh process. */
export const TEST_INDEX = join(dirname(TEST_CLI), 'index.js');

/**
 * Builds the CLI from the current sources before the tests that spawn it, so they never run a
 * stale or missing dist/ (turbo builds a package's dependencies before its tests, not the package).
 */
export default async function setup(): Promise<void> {
  await build({
    entry: { cli: join(root, 'src', 'cli.ts'), index: join(root, 'src', 'index.ts') },
    outDir: dirname(TEST_CLI),
    format: ['esm'],
    target: 'node22',
    dts: false,
    sourcemap: false,
    clean: true,
    silent: true,
    config: false,
    tsconfig: join(root, 'tsconfig.json'),
  });
}
