export type {
  CachedStream,
  CacheEntry,
  CacheOptions,
  CacheStats,
  GetOrSetOptions,
  GetOrSetStreamOptions,
  L1Options,
  L2Option,
  Loader,
  LoaderContext,
  SetOptions,
  StreamLoader,
} from './cache';
export { Cache, createCache, DEFAULT_CACHE_OPTIONS, DEFAULT_L1_OPTIONS } from './cache';
export type { CacheKeyGenerator, CacheKeyOptions, CacheKeyOverrides } from './cache-key';
export { canonicalJson, createCacheKey, createKeyGenerator, DEFAULT_CACHE_KEY_OPTIONS } from './cache-key';
export type { CacheErrorCode, L2Operation } from './errors';
export {
  CacheClosedError,
  CacheError,
  InvalidCacheOptionError,
  InvalidKeyInputError,
  L2OperationError,
  ValueNotJsonError,
} from './errors';
export type {
  CacheEventListener,
  CacheEventMap,
  CacheEventName,
  CacheLayerName,
  CacheSource,
} from './events';
export type { Clock, L1Stats, LayerStats } from './memory-layer';
export type { L2Keyv, L2Stats } from './remote-layer';
export { recordStream, replayStream } from './stream-recording';
