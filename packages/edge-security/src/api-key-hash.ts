import { createHmac, hash, randomBytes, timingSafeEqual } from 'node:crypto';
import { SecurityOptionsError } from './errors';

/** Algorithms a stored key hash can use; the prefix of the stored string says which. */
export type ApiKeyHashAlgorithm = 'sha256' | 'hmac-sha256';

/** Options of {@link hashApiKey}. */
export interface HashApiKeyOptions {
  /**
   * Server secret ("pepper"). When set the hash is HMAC-SHA-256 keyed with it, so a leaked config
   * file alone cannot be used to test candidate keys.
   * @default undefined (plain SHA-256)
   */
  secret?: string;
}

/** Options of {@link generateApiKey}. */
export interface GenerateApiKeyOptions extends HashApiKeyOptions {
  /**
   * Text put in front of the random part; makes keys recognisable (and caught by secret scanners).
   * @default 'sk-edge-'
   */
  prefix?: string;
  /**
   * Source of random bytes; inject only in tests.
   * @default crypto.randomBytes
   */
  randomBytes?: (size: number) => Uint8Array;
}

/** A freshly generated key and the hash to put into configuration. */
export interface GeneratedApiKey {
  /** The key to hand to the client once; store it nowhere. */
  readonly key: string;
  /** `sha256:<hex>` or `hmac-sha256:<hex>`, for the `hash` field of a key entry. */
  readonly hash: string;
}

/** A parsed stored hash: algorithm and raw digest. */
export interface ParsedApiKeyHash {
  readonly algorithm: ApiKeyHashAlgorithm;
  readonly digest: Buffer;
}

const DIGEST_BYTES = 32;
const STORED_HASH = /^(sha256|hmac-sha256):([0-9a-f]{64})$/;

/** Random bytes of every generated key: 256 bits, far beyond any offline guessing. */
export const API_KEY_RANDOM_BYTES = 32;

/** Computes the raw digest of `key` with `algorithm`. */
export function digestApiKey(key: string, algorithm: ApiKeyHashAlgorithm, secret?: string): Buffer {
  if (algorithm === 'hmac-sha256') {
    if (secret === undefined || secret === '')
      throw new SecurityOptionsError('secret', 'hmac-sha256 hashes need a non-empty secret');
    return createHmac('sha256', secret).update(key, 'utf8').digest();
  }
  // One-shot: the presented key is hashed on every authenticated request.
  return hash('sha256', key, 'buffer');
}

/**
 * Hashes a gateway API key for storage: `sha256:<hex>`, or `hmac-sha256:<hex>` when a server
 * secret is given. Both take about a microsecond, so verifying costs nothing per request; the keys
 * are 256-bit random values, so a slow password hash would add latency without adding safety.
 *
 * @example
 * ```ts
 * const hash = hashApiKey(process.env.MY_GATEWAY_KEY!); // 'sha256:9f86d0…'
 * ```
 */
export function hashApiKey(key: string, options: HashApiKeyOptions = {}): string {
  const algorithm: ApiKeyHashAlgorithm = options.secret ? 'hmac-sha256' : 'sha256';
  return `${algorithm}:${digestApiKey(key, algorithm, options.secret).toString('hex')}`;
}

/** Parses a stored hash string; `undefined` when it is not one this package writes. */
export function parseApiKeyHash(stored: string): ParsedApiKeyHash | undefined {
  const match = STORED_HASH.exec(stored.trim().toLowerCase());
  if (!match) return undefined;
  return { algorithm: match[1] as ApiKeyHashAlgorithm, digest: Buffer.from(match[2]!, 'hex') };
}

/**
 * Checks `key` against one stored hash in constant time (`crypto.timingSafeEqual`). A malformed
 * stored hash, or an HMAC hash without a secret, verifies nothing and returns false.
 *
 * @example
 * ```ts
 * verifyApiKey(presentedKey, 'sha256:9f86d0…'); // true or false
 * ```
 */
export function verifyApiKey(key: string, storedHash: string, options: HashApiKeyOptions = {}): boolean {
  const parsed = parseApiKeyHash(storedHash);
  if (!parsed) return false;
  if (parsed.algorithm === 'hmac-sha256' && !options.secret) return false;
  return digestsEqual(digestApiKey(key, parsed.algorithm, options.secret), parsed.digest);
}

/** Constant-time equality of two digests; unequal lengths are simply unequal. */
export function digestsEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== DIGEST_BYTES || b.length !== DIGEST_BYTES) return false;
  return timingSafeEqual(a, b);
}

/**
 * Generates a new gateway API key (prefix + 256 random bits, base64url) and its storage hash.
 *
 * @example
 * ```ts
 * const { key, hash } = generateApiKey();
 * // give `key` to the client, put `hash` into the gateway config
 * ```
 */
export function generateApiKey(options: GenerateApiKeyOptions = {}): GeneratedApiKey {
  const random = options.randomBytes ?? randomBytes;
  const bytes = random(API_KEY_RANDOM_BYTES);
  if (bytes.length !== API_KEY_RANDOM_BYTES) {
    throw new SecurityOptionsError(
      'randomBytes',
      `returned ${bytes.length} bytes, expected ${API_KEY_RANDOM_BYTES}`,
    );
  }
  const key = `${options.prefix ?? 'sk-edge-'}${Buffer.from(bytes).toString('base64url')}`;
  return { key, hash: hashApiKey(key, options.secret ? { secret: options.secret } : {}) };
}
