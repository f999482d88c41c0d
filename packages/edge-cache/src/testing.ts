export type { CacheTestSuiteOptions, CacheTestSuiteRunner } from './cache-test-suite';
export { cacheTestSuite } from './cache-test-suite';
