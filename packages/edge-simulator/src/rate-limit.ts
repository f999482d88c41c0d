import type { RateLimits } from './scenario';

/** What a rate-limit check found, for the providers' rate-limit headers. */
export interface RateLimitState {
  allowed: boolean;
  /** Clock reading (epoch ms) the state was computed at, for absolute reset times. */
  now: number;
  /** Which limit refused the request. */
  exceeded?: 'requests' | 'tokens';
  limitRequests?: number;
  remainingRequests?: number;
  /** ms until the request bucket is full again. */
  resetRequestsMs?: number;
  limitTokens?: number;
  remainingTokens?: number;
  /** ms until the token bucket is full again. */
  resetTokensMs?: number;
  /** ms until the refused request could succeed. */
  retryAfterMs?: number;
}

interface Bucket {
  level: number;
  updatedAt: number;
}

const MINUTE = 60_000;

function refill(bucket: Bucket, capacity: number, now: number): void {
  const elapsed = Math.max(0, now - bucket.updatedAt);
  bucket.level = Math.min(capacity, bucket.level + (elapsed * capacity) / MINUTE);
  bucket.updatedAt = now;
}

/**
 * Requests- and tokens-per-minute limits per API key, as token buckets that refill continuously
 * (the model OpenAI and Anthropic document: capacity = the per-minute limit).
 */
export class RateLimiter {
  private readonly requestBuckets = new Map<string, Bucket>();
  private readonly tokenBuckets = new Map<string, Bucket>();

  /** Checks and, when allowed, consumes one request and `tokens` tokens from `key`'s buckets. */
  take(key: string, limits: RateLimits, tokens: number, now: number): RateLimitState {
    const state: RateLimitState = { allowed: true, now };
    let requestBucket: Bucket | undefined;
    let tokenBucket: Bucket | undefined;
    const rpm = limits.requestsPerMinute;
    const tpm = limits.tokensPerMinute;
    if (rpm !== undefined) {
      requestBucket = this.bucket(this.requestBuckets, key, rpm, now);
      if (requestBucket.level < 1) {
        state.allowed = false;
        state.exceeded = 'requests';
        state.retryAfterMs = Math.ceil(((1 - requestBucket.level) * MINUTE) / rpm);
      }
    }
    const needed = tpm === undefined ? 0 : Math.min(tokens, tpm);
    if (tpm !== undefined) {
      tokenBucket = this.bucket(this.tokenBuckets, key, tpm, now);
      if (state.allowed && tokenBucket.level < needed) {
        state.allowed = false;
        state.exceeded = 'tokens';
        state.retryAfterMs = Math.ceil(((needed - tokenBucket.level) * MINUTE) / tpm);
      }
    }
    if (state.allowed) {
      if (requestBucket) requestBucket.level -= 1;
      if (tokenBucket) tokenBucket.level -= needed;
    }
    if (requestBucket && rpm !== undefined) {
      state.limitRequests = rpm;
      state.remainingRequests = Math.max(0, Math.floor(requestBucket.level));
      state.resetRequestsMs = Math.ceil(((rpm - requestBucket.level) * MINUTE) / rpm);
    }
    if (tokenBucket && tpm !== undefined) {
      state.limitTokens = tpm;
      state.remainingTokens = Math.max(0, Math.floor(tokenBucket.level));
      state.resetTokensMs = Math.ceil(((tpm - tokenBucket.level) * MINUTE) / tpm);
    }
    return state;
  }

  reset(): void {
    this.requestBuckets.clear();
    this.tokenBuckets.clear();
  }

  private bucket(map: Map<string, Bucket>, key: string, capacity: number, now: number): Bucket {
    let bucket = map.get(key);
    if (!bucket) {
      bucket = { level: capacity, updatedAt: now };
      map.set(key, bucket);
    } else {
      refill(bucket, capacity, now);
    }
    return bucket;
  }
}

/** Formats ms as OpenAI's Go-style duration (`1s`, `6m0s`, `120ms`). */
export function goDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.ceil(ms))}ms`;
  const totalSeconds = ms / 1000;
  const minutes = Math.floor(totalSeconds / 60);
  const seconds = totalSeconds - minutes * 60;
  const secondsText = Number.isInteger(seconds) ? String(seconds) : seconds.toFixed(3).replace(/0+$/, '');
  return minutes > 0 ? `${minutes}m${secondsText}s` : `${secondsText}s`;
}
