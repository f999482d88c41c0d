import { describe, expect, it } from 'vitest';
import { getRetryAfterMs, parseRetryAfter } from './retry-after';

const NOW = Date.parse('2026-01-01T00:00:00Z');

describe('parseRetryAfter', () => {
  it('reads delta-seconds', () => {
    expect(parseRetryAfter('3', NOW)).toBe(3000);
    expect(parseRetryAfter(' 0 ', NOW)).toBe(0);
    expect(parseRetryAfter('1.5', NOW)).toBe(1500);
  });

  it('reads an HTTP date relative to now, clamping the past to zero', () => {
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:07 GMT', NOW)).toBe(7000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:59:00 GMT', NOW)).toBe(0);
  });

  it('gives undefined for garbage', () => {
    expect(parseRetryAfter('', NOW)).toBeUndefined();
    expect(parseRetryAfter('soon', NOW)).toBeUndefined();
    expect(parseRetryAfter('-5', NOW)).toBeUndefined();
  });
});

describe('getRetryAfterMs', () => {
  it('prefers a numeric retryAfterMs field (as on ProviderError)', () => {
    expect(getRetryAfterMs({ retryAfterMs: 1234, headers: { 'retry-after': '9' } }, NOW)).toBe(1234);
  });

  it('reads a Headers instance, a plain record (any case) and response.headers', () => {
    expect(getRetryAfterMs({ headers: new Headers({ 'Retry-After': '2' }) }, NOW)).toBe(2000);
    expect(getRetryAfterMs({ headers: { 'Retry-After': '4' } }, NOW)).toBe(4000);
    expect(getRetryAfterMs({ headers: { 'retry-after': ['5'] } }, NOW)).toBe(5000);
    expect(getRetryAfterMs({ response: { headers: new Headers({ 'retry-after': '6' }) } }, NOW)).toBe(6000);
    expect(getRetryAfterMs({ headers: { 'retry-after': 'Thu, 01 Jan 2026 00:00:03 GMT' } }, NOW)).toBe(3000);
  });

  it('prefers retry-after-ms over retry-after', () => {
    const headers = new Headers({ 'retry-after-ms': '250', 'retry-after': '1' });
    expect(getRetryAfterMs({ headers }, NOW)).toBe(250);
  });

  it('looks through the cause chain', () => {
    const error = new Error('wrapped', { cause: { status: 429, headers: { 'retry-after': '8' } } });
    expect(getRetryAfterMs(error, NOW)).toBe(8000);
  });

  it('gives undefined when nothing is carried or the value is unusable', () => {
    expect(getRetryAfterMs(new Error('plain'), NOW)).toBeUndefined();
    expect(getRetryAfterMs({ headers: { 'retry-after': 'later' } }, NOW)).toBeUndefined();
    expect(getRetryAfterMs({ retryAfterMs: -1 }, NOW)).toBeUndefined();
    expect(getRetryAfterMs(null, NOW)).toBeUndefined();
  });
});
