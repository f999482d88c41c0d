import { InvalidRetryOptionError } from './errors';

/** The longest delay a Node timer can hold; longer ones fire at once instead of waiting. */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

interface NumberRule {
  min: number;
  max: number;
  integer?: boolean;
  /** A strict lower bound, for values that must be positive. */
  exclusiveMin?: boolean;
}

/** Checks a numeric option once, at construction, naming it in the error. */
export function checkNumber(option: string, value: unknown, rule: NumberRule): number {
  const range = `${rule.exclusiveMin ? '>' : '>='} ${rule.min} and <= ${rule.max}`;
  const expectation = `${rule.integer ? 'an integer' : 'a finite number'} ${range}`;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new InvalidRetryOptionError(option, expectation, value);
  }
  if (rule.integer && !Number.isInteger(value)) throw new InvalidRetryOptionError(option, expectation, value);
  const belowMin = rule.exclusiveMin ? value <= rule.min : value < rule.min;
  if (belowMin || value > rule.max) throw new InvalidRetryOptionError(option, expectation, value);
  return value;
}

/** Checks that an option is a function. */
export function checkFunction<F>(option: string, value: F): F {
  if (typeof value !== 'function') throw new InvalidRetryOptionError(option, 'a function', value);
  return value;
}
