export type { RedisStore, RedisStoreOptions } from './redis-store';
export { createRedisStore, DEFAULT_REDIS_STORE_OPTIONS } from './redis-store';
