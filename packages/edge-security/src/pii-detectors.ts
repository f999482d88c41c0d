import { isIPv6 } from 'node:net';
import type { PiiKind } from './errors';

/** One finding's place in a text; the value itself is never kept. */
export interface PiiSpan {
  readonly kind: PiiKind;
  readonly start: number;
  readonly end: number;
  /** The detector's rank, which breaks ties between overlapping spans of equal length. */
  readonly rank: number;
}

/** A detector: finds spans of one kind, with a cheap pre-check to skip texts that cannot match. */
export interface PiiDetector {
  readonly kind: PiiKind;
  /** Rank in overlap resolution when two spans have the same length (higher wins). */
  readonly rank: number;
  scan(text: string, out: PiiSpan[]): void;
}

/** Options of the detectors that have tunable thresholds. */
export interface PiiDetectorOptions {
  /** Shannon-entropy factor of the generic secret detector (see `createPiiDetectors`). */
  readonly secretEntropyFactor: number;
  /** Shortest generic high-entropy token reported as a secret. */
  readonly secretMinLength: number;
}

const HAS_DIGIT = /\d/;

/** Luhn (mod 10) checksum over a digit string. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return digits.length > 0 && sum % 10 === 0;
}

// Issuer prefixes and lengths of the major card networks: a Luhn-valid number outside these is
// far more likely an order number than a card, so it is not reported.
function cardNetworkMatches(digits: string): boolean {
  const n = digits.length;
  const p2 = Number(digits.slice(0, 2));
  const p3 = Number(digits.slice(0, 3));
  const p4 = Number(digits.slice(0, 4));
  if (digits[0] === '4') return n === 13 || n === 16 || n === 19; // Visa
  if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) return n === 16; // Mastercard
  if (p2 === 34 || p2 === 37) return n === 15; // American Express
  if (p4 === 6011 || p2 === 65 || (p3 >= 644 && p3 <= 649)) return n >= 16 && n <= 19; // Discover
  if (p4 >= 3528 && p4 <= 3589) return n >= 16 && n <= 19; // JCB
  if ((p3 >= 300 && p3 <= 305) || p2 === 36 || p2 === 38 || p2 === 39) return n >= 14 && n <= 19; // Diners
  if (p2 === 62) return n >= 16 && n <= 19; // UnionPay
  if ([5018, 5020, 5038, 5893, 6304, 6759, 6761, 6762, 6763].includes(p4)) return n >= 12 && n <= 19; // Maestro
  return false;
}

/** True for a plausible payment card number: a known network's prefix and length, and a valid Luhn digit. */
export function isCardNumber(digits: string): boolean {
  return digits.length >= 12 && digits.length <= 19 && cardNetworkMatches(digits) && luhnValid(digits);
}

// IBAN lengths per country (SWIFT IBAN registry).
const IBAN_LENGTHS: Readonly<Record<string, number>> = {
  AD: 24,
  AE: 23,
  AL: 28,
  AT: 20,
  AZ: 28,
  BA: 20,
  BE: 16,
  BG: 22,
  BH: 22,
  BI: 27,
  BR: 29,
  BY: 28,
  CH: 21,
  CR: 22,
  CY: 28,
  CZ: 24,
  DE: 22,
  DJ: 27,
  DK: 18,
  DO: 28,
  EE: 20,
  EG: 29,
  ES: 24,
  FI: 18,
  FK: 18,
  FO: 18,
  FR: 27,
  GB: 22,
  GE: 22,
  GI: 23,
  GL: 18,
  GR: 27,
  GT: 28,
  HR: 21,
  HU: 28,
  IE: 22,
  IL: 23,
  IQ: 23,
  IS: 26,
  IT: 27,
  JO: 30,
  KW: 30,
  KZ: 20,
  LB: 28,
  LC: 32,
  LI: 21,
  LT: 20,
  LU: 20,
  LV: 21,
  LY: 25,
  MC: 27,
  MD: 24,
  ME: 22,
  MK: 19,
  MN: 20,
  MR: 27,
  MT: 31,
  MU: 30,
  NI: 28,
  NL: 18,
  NO: 15,
  OM: 23,
  PK: 24,
  PL: 28,
  PS: 29,
  PT: 25,
  QA: 29,
  RO: 24,
  RS: 22,
  RU: 33,
  SA: 24,
  SC: 31,
  SD: 18,
  SE: 24,
  SI: 19,
  SK: 24,
  SM: 27,
  SO: 23,
  ST: 25,
  SV: 28,
  TL: 23,
  TN: 24,
  TR: 26,
  UA: 29,
  VA: 22,
  VG: 24,
  XK: 20,
  YE: 30,
};

/** ISO 13616 check: registered country length and mod-97 remainder 1. */
export function ibanValid(iban: string): boolean {
  const length = IBAN_LENGTHS[iban.slice(0, 2)];
  if (length === undefined || iban.length !== length) return false;
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let remainder = 0;
  for (let i = 0; i < rearranged.length; i++) {
    const code = rearranged.charCodeAt(i);
    if (code >= 48 && code <= 57) remainder = (remainder * 10 + (code - 48)) % 97;
    else if (code >= 65 && code <= 90) remainder = (remainder * 100 + (code - 55)) % 97;
    else return false;
  }
  return remainder === 1;
}

/** Shannon entropy in bits per character. */
export function shannonEntropy(text: string): number {
  const counts = new Map<number, number>();
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  let bits = 0;
  for (const n of counts.values()) {
    const p = n / text.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

function regexDetector(
  kind: PiiKind,
  rank: number,
  pattern: RegExp,
  options: {
    hint?: RegExp | string | ((text: string) => boolean);
    accept?: (match: string, text: string, index: number) => boolean;
  } = {},
): PiiDetector {
  const { hint, accept } = options;
  return {
    kind,
    rank,
    scan(text, out) {
      if (hint !== undefined) {
        const present =
          typeof hint === 'string'
            ? text.includes(hint)
            : typeof hint === 'function'
              ? hint(text)
              : hint.test(text);
        if (!present) return;
      }
      pattern.lastIndex = 0;
      for (let m = pattern.exec(text); m !== null; m = pattern.exec(text)) {
        if (accept === undefined || accept(m[0], text, m.index))
          out.push({ kind, rank, start: m.index, end: m.index + m[0].length });
      }
    },
  };
}

// Quantifiers are bounded and alternatives are disjoint so every pattern runs in linear time.
// Scanning starts from each "@" (found with indexOf) instead of trying a pattern at every offset.
const EMAIL_DOMAIN = /(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.){1,8}[A-Za-z]{2,24}(?![\w-])/y;

// A run of digits with single spaces or dashes between them; card numbers are found inside it.
const DIGIT_RUN = /(?<!\d)\d(?:[ -]?\d){11,60}/g;

const SSN = /(?<![\w-])(?<!\d )(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\w-]|\.\d)/g;

// International numbers: "+" then digits, each optionally preceded by one separator, or a
// parenthesised area code. One digit per step keeps the pattern unambiguous.
const PHONE_INTL = /(?<![\w+])\+\d(?:[ .-]?(?:\d|\(\d{1,4}\)))*/g;
// North American numbers written with separators: (415) 555-2671, 415-555-2671, 415.555.2671.
const PHONE_NANP =
  /(?<![\w+(.-])(?<!\d[ .-])(?:1[ .-]?)?(?:\(([2-9]\d{2})\)[ .-]?|([2-9]\d{2})[ .-])[2-9]\d{2}[ .-]\d{4}(?![\w]|[.-]\d)/g;

const IBAN = /(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}/g;

const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const IPV4 = new RegExp(`(?<![\\w.])(?:${OCTET}\\.){3}${OCTET}(?![\\w]|\\.\\d)`, 'g');
const IPV6 = /(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f]{1,4})?(?![\w:])/g;

// Known formats; the boundaries are checked in code because a leading lookbehind would be tried
// at every offset of the text.
const KNOWN_SECRETS = new RegExp(
  [
    'sk-[A-Za-z0-9_-]{20,400}', // OpenAI (sk-, sk-proj-, sk-svcacct-), Anthropic (sk-ant-), gateway keys
    'AIza[0-9A-Za-z_-]{35}', // Google API keys
    'gh[pousr]_[A-Za-z0-9]{36,251}', // GitHub tokens
    'github_pat_[A-Za-z0-9_]{22,255}', // GitHub fine-grained tokens
    '(?:AKIA|ASIA)[0-9A-Z]{16}', // AWS access key ids
    'xox[abposr]-[A-Za-z0-9-]{10,250}', // Slack tokens
    '(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,250}', // Stripe secret and restricted keys
    'eyJ[A-Za-z0-9_-]{8,4096}\\.eyJ[A-Za-z0-9_-]{8,8192}\\.[A-Za-z0-9_-]{8,4096}', // JWTs
  ].join('|'),
  'g',
);
// Literal prefixes of the formats above, as one pattern: rules most texts out in one cheap pass.
const KNOWN_SECRET_PREFIX = /sk-|sk_|rk_|AIza|gh[pousr]_|github_pat_|A[KS]IA|xox|eyJ/;

const PRIVATE_KEY =
  /-----BEGIN [A-Z ]{0,24}PRIVATE KEY-----[\s\S]{1,16384}?-----END [A-Z ]{0,24}PRIVATE KEY-----/g;

// Characters of a key-like token (base64, base64url, alphanumerics).
const TOKEN_CHAR = new Uint8Array(128);
for (const ch of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_-')
  TOKEN_CHAR[ch.charCodeAt(0)] = 1;
const isTokenChar = (code: number): boolean => code < 128 && TOKEN_CHAR[code] === 1;
const isKeyChar = (code: number): boolean =>
  (code >= 48 && code <= 57) ||
  (code >= 65 && code <= 90) ||
  (code >= 97 && code <= 122) ||
  code === 95 ||
  code === 45;
const LOCAL_CHAR = new Uint8Array(128);
for (const ch of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._%+-')
  LOCAL_CHAR[ch.charCodeAt(0)] = 1;

function acceptKnownSecret(match: string, text: string, index: number): boolean {
  if (index > 0 && isKeyChar(text.charCodeAt(index - 1))) return false;
  const after = index + match.length;
  if (after < text.length && isKeyChar(text.charCodeAt(after))) return false;
  // "sk-" needs a digit and a letter after the prefix, so kebab-case words are not taken for keys.
  if (!match.startsWith('sk-')) return true;
  const rest = match.slice(3);
  return /\d/.test(rest) && /[A-Za-z]/.test(rest);
}

function phoneDigitsOk(match: string): boolean {
  let digits = 0;
  for (let i = 0; i < match.length; i++) {
    const c = match.charCodeAt(i);
    if (c >= 48 && c <= 57) digits++;
  }
  return digits >= 8 && digits <= 15;
}

function ipv6Accept(match: string): boolean {
  if (!isIPv6(match)) return false;
  const groups = match.split(':').filter((g) => g !== '');
  // "::1", "a::b" and the like are too short to say anything about anyone.
  return groups.length >= 3 || (groups.length >= 2 && groups.some((g) => g.length >= 3));
}

function createCardDetector(): PiiDetector {
  return {
    kind: 'credit_card',
    rank: 6,
    scan(text, out) {
      if (!HAS_DIGIT.test(text)) return;
      DIGIT_RUN.lastIndex = 0;
      for (let m = DIGIT_RUN.exec(text); m !== null; m = DIGIT_RUN.exec(text)) {
        const run = m[0];
        // Groups of the run with their offsets; a card is a sequence of whole groups.
        const groups: { start: number; end: number; digits: string }[] = [];
        const groupRe = /\d+/g;
        for (let g = groupRe.exec(run); g !== null; g = groupRe.exec(run)) {
          groups.push({ start: g.index, end: g.index + g[0].length, digits: g[0] });
        }
        let i = 0;
        while (i < groups.length) {
          let digits = '';
          let found = -1;
          for (let j = i; j < groups.length && digits.length < 19; j++) {
            digits += groups[j]!.digits;
            if (digits.length >= 12 && isCardNumber(digits)) found = j;
          }
          if (found >= 0) {
            out.push({
              kind: 'credit_card',
              rank: 6,
              start: m.index + groups[i]!.start,
              end: m.index + groups[found]!.end,
            });
            i = found + 1;
          } else {
            i++;
          }
        }
      }
    },
  };
}

function createIbanDetector(): PiiDetector {
  return {
    kind: 'iban',
    rank: 7,
    scan(text, out) {
      if (!HAS_DIGIT.test(text)) return;
      IBAN.lastIndex = 0;
      for (let m = IBAN.exec(text); m !== null; m = IBAN.exec(text)) {
        const candidate = m[0];
        const length = IBAN_LENGTHS[candidate.slice(0, 2)];
        if (length === undefined) continue;
        // The pattern may run on into following capitals; take exactly the country's length.
        let taken = 0;
        let end = 0;
        let compact = '';
        while (end < candidate.length && taken < length) {
          const ch = candidate[end]!;
          if (ch !== ' ') {
            compact += ch;
            taken++;
          }
          end++;
        }
        const next = text[m.index + end];
        // Directly followed by more letters or digits, it is part of something longer.
        if (taken === length && (next === undefined || !/[A-Za-z0-9]/.test(next)) && ibanValid(compact)) {
          out.push({ kind: 'iban', rank: 7, start: m.index, end: m.index + end });
        }
      }
    },
  };
}

// Share of characters in runs of 3+ lower-case letters above which a token reads as words. Random
// base62 tokens of 32 characters stay below it 99 % of the time; identifiers sit at 0.6–0.85.
const MAX_WORD_SHARE = 0.5;

/** Share of characters that sit in runs of three or more lower-case letters. */
export function wordShare(token: string): number {
  let inWords = 0;
  let run = 0;
  for (let i = 0; i <= token.length; i++) {
    const c = i < token.length ? token.charCodeAt(i) : 0;
    if (c >= 97 && c <= 122) {
      run++;
    } else {
      if (run >= 3) inWords += run;
      run = 0;
    }
  }
  return inWords / token.length;
}

function createGenericSecretDetector(options: PiiDetectorOptions): PiiDetector {
  const accept = (token: string): boolean => {
    if (!/[A-Z]/.test(token) || !/[a-z]/.test(token) || !/\d/.test(token)) return false;
    // Random strings of length n carry close to log2(min(n, 62)) bits per character; repetitive
    // text carries much less.
    if (shannonEntropy(token) < options.secretEntropyFactor * Math.log2(Math.min(token.length, 62)))
      return false;
    // Identifiers (camelCase, snake_case) are mostly runs of lower-case letters; random tokens are not.
    return wordShare(token) < MAX_WORD_SHARE;
  };
  return {
    kind: 'secret',
    rank: 1,
    // Looks for runs of at least `min` token characters by probing every `min`-th character, so
    // prose (short words) costs about n / min probes instead of a pattern tried at every offset.
    scan(text, out) {
      const n = text.length;
      const min = options.secretMinLength;
      let i = min - 1;
      while (i < n) {
        if (!isTokenChar(text.charCodeAt(i))) {
          i += min;
          continue;
        }
        let start = i;
        while (start > 0 && isTokenChar(text.charCodeAt(start - 1))) start--;
        let end = i + 1;
        while (end < n && isTokenChar(text.charCodeAt(end))) end++;
        i = end + min;
        const length = end - start;
        if (length < min || length > 256) continue;
        let padded = end;
        while (padded < n && padded - end < 2 && text.charCodeAt(padded) === 61) padded++;
        const before = start > 0 ? text.charCodeAt(start - 1) : 32;
        // Not the tail of a host name or a file name.
        if (before === 46) continue;
        if (padded < n && (isTokenChar(text.charCodeAt(padded)) || text.charCodeAt(padded) === 61)) continue;
        const token = text.slice(start, end);
        if (accept(token)) out.push({ kind: 'secret', rank: 1, start, end: padded });
      }
    },
  };
}

function createEmailDetector(): PiiDetector {
  return {
    kind: 'email',
    rank: 5,
    scan(text, out) {
      for (let at = text.indexOf('@'); at !== -1; at = text.indexOf('@', at + 1)) {
        let start = at;
        while (start > 0 && at - start < 64) {
          const c = text.charCodeAt(start - 1);
          if (c >= 128 || LOCAL_CHAR[c] !== 1) break;
          start--;
        }
        if (start === at) continue;
        // A local part longer than 64 characters is not an address.
        const before = start > 0 ? text.charCodeAt(start - 1) : 32;
        if (before < 128 && (LOCAL_CHAR[before] === 1 || before === 95)) continue;
        if (before >= 48 && before <= 57) continue;
        EMAIL_DOMAIN.lastIndex = at + 1;
        const domain = EMAIL_DOMAIN.exec(text);
        if (domain) out.push({ kind: 'email', rank: 5, start, end: at + 1 + domain[0].length });
      }
    },
  };
}

/** Builds the detectors of the requested kinds, each with precompiled patterns. */
export function createPiiDetectors(kinds: ReadonlySet<PiiKind>, options: PiiDetectorOptions): PiiDetector[] {
  const all: PiiDetector[] = [
    regexDetector('secret', 9, PRIVATE_KEY, { hint: 'PRIVATE KEY-----' }),
    regexDetector('secret', 8, KNOWN_SECRETS, { hint: KNOWN_SECRET_PREFIX, accept: acceptKnownSecret }),
    createIbanDetector(),
    createCardDetector(),
    createEmailDetector(),
    regexDetector('us_ssn', 4, SSN, { hint: '-' }),
    regexDetector('ip_address', 3, IPV4, { hint: '.' }),
    regexDetector('ip_address', 3, IPV6, { hint: ':', accept: ipv6Accept }),
    regexDetector('phone', 2, PHONE_INTL, {
      hint: '+',
      accept: (m, text, index) => phoneDigitsOk(m) && !/\w/.test(text[index + m.length] ?? ' '),
    }),
    regexDetector('phone', 2, PHONE_NANP, { hint: HAS_DIGIT }),
    createGenericSecretDetector(options),
  ];
  return all.filter((d) => kinds.has(d.kind));
}
