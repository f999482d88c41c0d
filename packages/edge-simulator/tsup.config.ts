import { defineConfig } from 'tsup';

export default defineConfig([
  {
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    // Both builds write into dist/ at once; the build script empties it first instead.
    clean: false,
    target: 'node22',
  },
  {
    // The CLI is an executable only: kept out of the package's exports.
    entry: { cli: 'src/bin.ts' },
    format: ['esm'],
    sourcemap: true,
    clean: false,
    target: 'node22',
  },
]);
