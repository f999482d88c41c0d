import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    reporters: ['default', ['json', { outputFile: 'test-results.json' }]],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // expect.poll waits for the simulator to log what a test caused; on a loaded machine that can
    // take longer than the 1 s default. Polls end as soon as the condition holds.
    expect: { poll: { timeout: 10_000 } },
  },
});
