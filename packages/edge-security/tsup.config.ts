import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  // The CommonJS build needs `import.meta.url` for the tokenizer's lazy require.
  shims: true,
  target: 'node22',
});
