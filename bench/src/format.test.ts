import { describe, expect, it } from 'vitest';
import { fixed, gapText, markdownTable, mb, ratio, rps, signed } from './format.ts';

describe('markdownTable', () => {
  it('pads columns and right-aligns numeric ones', () => {
    const table = markdownTable(
      ['scenario', 'rps'],
      [
        ['direct', '12,000'],
        ['gateway', '800'],
      ],
    );
    expect(table.split('\n')).toEqual([
      '| scenario |    rps |',
      '| -------- | -----: |',
      '| direct   | 12,000 |',
      '| gateway  |    800 |',
    ]);
  });
});

describe('number formats', () => {
  it('formats ratios, signed differences, rps and MB', () => {
    expect(ratio(0.4567)).toBe('0.46×');
    expect(signed(0.1234, 3)).toBe('+0.123');
    expect(signed(-0.05, 2)).toBe('-0.05');
    expect(signed(-0.0001, 2)).toBe('-0.00');
    expect(rps(12345.6)).toBe('12,346');
    expect(mb(52_400_000)).toBe('52.4');
    expect(fixed(Number.NaN, 2)).toBe('—');
  });

  it('prints a small miss in milliseconds with enough decimals to see it', () => {
    expect(gapText(0.0074, 'ms')).toBe('0.007 ms');
    expect(gapText(7.94, 'ms')).toBe('7.9 ms');
    expect(gapText(0.123, '×')).toBe('0.12 ×');
    expect(gapText(151.66, 'MB')).toBe('151.7 MB');
  });
});
