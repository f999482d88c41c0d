import { defineConfig } from 'tsup';

export default defineConfig({
  // `cli` is the `llm-edge` bin, not part of the package's exports.
  entry: ['src/index.ts', 'src/cli.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node22',
});
