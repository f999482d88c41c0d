import { countTokens as countWithTokenizer } from 'gpt-tokenizer';

const CACHE_LIMIT = 2048;
const CACHEABLE_LENGTH = 8192;
const cache = new Map<string, number>();

/**
 * Counts tokens with OpenAI's o200k_base tokenizer (gpt-tokenizer); used for every provider's usage.
 * Counts of short texts are memoised (load tests repeat the same prompts; counting is pure).
 */
export function countTokens(text: string): number {
  if (text.length === 0) return 0;
  if (text.length > CACHEABLE_LENGTH) return countWithTokenizer(text);
  const known = cache.get(text);
  if (known !== undefined) return known;
  const count = countWithTokenizer(text);
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
  cache.set(text, count);
  return count;
}
