import { defineConfig, type Options } from 'tsup';

const shared: Options = {
  entry: ['src/index.ts'],
  dts: true,
  sourcemap: true,
  target: 'node22',
};

export default defineConfig([
  // No `clean`: the two builds run concurrently into dist/ and would delete each other's files;
  // the build script empties dist/ first.
  { ...shared, format: ['esm'] },
  // p-retry and is-network-error ship ESM only; a require() of them through esbuild's CJS interop
  // yields the namespace instead of the default export, so the CJS build carries its own copy.
  { ...shared, format: ['cjs'], noExternal: ['p-retry', 'is-network-error'] },
]);
