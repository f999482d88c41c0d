/**
 * Exponentially weighted moving average of a latency series.
 *
 * The first sample seeds the average so a new target is not judged by a zero; later samples
 * move it by `alpha` of the difference, so one slow answer nudges rather than replaces the figure.
 */
export class MovingAverage {
  readonly #alpha: number;
  #value: number | undefined;
  #count = 0;

  constructor(alpha: number) {
    this.#alpha = alpha;
  }

  /** Adds one sample (milliseconds). */
  add(sample: number): void {
    this.#count++;
    this.#value = this.#value === undefined ? sample : this.#value + this.#alpha * (sample - this.#value);
  }

  /** The current average, or undefined before the first sample. */
  get value(): number | undefined {
    return this.#value;
  }

  /** How many samples were added. */
  get count(): number {
    return this.#count;
  }
}
