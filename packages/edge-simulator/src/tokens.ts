import { countTokens as countWithTokenizer } from 'gpt-tokenizer';

/** Counts tokens with OpenAI's o200k_base tokenizer (gpt-tokenizer); used for every provider's usage. */
export function countTokens(text: string): number {
  if (text.length === 0) return 0;
  return countWithTokenizer(text);
}
