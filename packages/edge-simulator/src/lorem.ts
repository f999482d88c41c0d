import type { RandomSource } from './random';

// Common words that are each a single token in OpenAI's o200k/cl100k vocabularies when preceded by a
// space, so a reply of N words is close to N tokens without running the tokenizer while generating.
const WORDS = [
  'the',
  'model',
  'data',
  'system',
  'request',
  'value',
  'time',
  'result',
  'answer',
  'simple',
  'example',
  'test',
  'network',
  'server',
  'client',
  'stream',
  'token',
  'quick',
  'brown',
  'fox',
  'jumps',
  'over',
  'lazy',
  'dog',
  'light',
  'water',
  'river',
  'stone',
  'green',
  'field',
  'open',
  'window',
  'small',
  'large',
  'first',
  'second',
  'third',
  'early',
  'late',
  'morning',
  'evening',
  'city',
  'road',
  'house',
  'garden',
  'paper',
  'letter',
  'number',
  'table',
  'chair',
  'music',
  'sound',
  'silent',
  'bright',
  'dark',
  'warm',
  'cold',
  'fast',
  'slow',
  'new',
  'old',
  'good',
  'great',
  'clear',
  'plain',
  'short',
  'long',
  'high',
  'low',
  'and',
  'with',
  'from',
  'into',
  'under',
  'after',
  'before',
  'while',
  'because',
  'often',
  'always',
  'never',
  'today',
  'world',
  'people',
  'place',
  'point',
  'line',
  'part',
  'case',
  'state',
  'level',
  'order',
  'power',
];

/** A run of `count` lorem words, each with a leading space; sentences end with a period. */
export function loremWords(random: RandomSource, count: number): string {
  let out = '';
  let sinceStop = 0;
  for (let i = 0; i < count; i++) {
    out += ` ${WORDS[Math.floor(random() * WORDS.length)]}`;
    sinceStop++;
    if (sinceStop >= 6 && i < count - 1 && random() < 0.2) {
      out += '.';
      sinceStop = 0;
    }
  }
  return out;
}

/** Lorem pieces for streaming: one piece per word (with its leading space and any punctuation). */
export function loremPieces(random: RandomSource, count: number): string[] {
  const pieces: string[] = [];
  let sinceStop = 0;
  for (let i = 0; i < count; i++) {
    let word = WORDS[Math.floor(random() * WORDS.length)]!;
    if (i === 0) word = word[0]!.toUpperCase() + word.slice(1);
    sinceStop++;
    const last = i === count - 1;
    if (last || (sinceStop >= 6 && random() < 0.2)) {
      word += '.';
      sinceStop = 0;
    }
    pieces.push(i === 0 ? word : ` ${word}`);
  }
  return pieces;
}
