import type { ChatRequest, EmbeddingsRequest } from '@llm-edge/providers';
import { describe, expect, it } from 'vitest';
import { PiiBlockedError, SecurityOptionsError } from './errors';
import { ibanValid, isCardNumber, luhnValid } from './pii-detectors';
import { PiiScanner } from './pii-scanner';

const scanner = new PiiScanner();

const JWT =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c';

describe('PiiScanner true positives', () => {
  const cases: [string, string, string][] = [
    ['email', 'Write to john.doe@example.com today', 'Write to [REDACTED_EMAIL] today'],
    ['email', 'cc: a+tag@mail.sub.example.co.uk.', 'cc: [REDACTED_EMAIL].'],
    ['phone', 'call +1 415 555 2671 now', 'call [REDACTED_PHONE] now'],
    ['phone', 'London: +44 20 7946 0958', 'London: [REDACTED_PHONE]'],
    ['phone', 'Paris +33 1 23 45 67 89', 'Paris [REDACTED_PHONE]'],
    ['phone', 'E.164 +14155552671', 'E.164 [REDACTED_PHONE]'],
    ['phone', 'office (415) 555-2671', 'office [REDACTED_PHONE]'],
    ['phone', 'cell 415-555-2671 or 415.555.2672', 'cell [REDACTED_PHONE] or [REDACTED_PHONE]'],
    ['credit_card', 'visa 4111 1111 1111 1111 exp 12/29', 'visa [REDACTED_CREDIT_CARD] exp 12/29'],
    ['credit_card', 'mc 5555-5555-5555-4444', 'mc [REDACTED_CREDIT_CARD]'],
    ['credit_card', 'amex 378282246310005', 'amex [REDACTED_CREDIT_CARD]'],
    ['credit_card', 'card 4111111111111111 123', 'card [REDACTED_CREDIT_CARD] 123'],
    ['us_ssn', 'SSN 123-45-6789.', 'SSN [REDACTED_US_SSN].'],
    ['iban', 'IBAN DE89 3704 0044 0532 0130 00 please', 'IBAN [REDACTED_IBAN] please'],
    ['iban', 'to GB82WEST12345698765432', 'to [REDACTED_IBAN]'],
    ['ip_address', 'from 192.168.1.20 and 8.8.8.8', 'from [REDACTED_IP_ADDRESS] and [REDACTED_IP_ADDRESS]'],
    ['ip_address', 'v6 2001:db8::8a2e:370:7334 here', 'v6 [REDACTED_IP_ADDRESS] here'],
    ['ip_address', 'link fe80::1ff:fe23:4567:890a', 'link [REDACTED_IP_ADDRESS]'],
    ['secret', 'key=sk-proj-abc123DEF456ghi789JKL012mno345', 'key=[REDACTED_SECRET]'],
    ['secret', `anthropic sk-ant-api03-${'aB3_'.repeat(23)}xyz`, 'anthropic [REDACTED_SECRET]'],
    ['secret', 'google AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY', 'google [REDACTED_SECRET]'],
    ['secret', `github ghp_${'a1B2c3D4e5'.repeat(3)}F6g7H8`, 'github [REDACTED_SECRET]'],
    ['secret', 'aws AKIAIOSFODNN7EXAMPLE', 'aws [REDACTED_SECRET]'],
    ['secret', `Bearer ${JWT}`, 'Bearer [REDACTED_SECRET]'],
    ['secret', 'token Zx9Kq2Lm8Np4Rt6Vw1Yb3Cd5Ef7Gh0JkQ', 'token [REDACTED_SECRET]'],
    ['secret', 'PASSWORD=Zx9Kq2Lm8Np4Rt6Vw1Yb3Cd5Ef7Gh0JkQ==;', 'PASSWORD=[REDACTED_SECRET];'],
    ['secret', '{"token":"Zx9Kq2Lm8Np4Rt6Vw1Yb3Cd5Ef7Gh0JkQ"}', '{"token":"[REDACTED_SECRET]"}'],
    ['secret', 'aws secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'aws secret [REDACTED_SECRET]'],
    [
      'secret',
      '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\nabc\n-----END RSA PRIVATE KEY-----!',
      '[REDACTED_SECRET]!',
    ],
  ];

  it.each(cases)('finds %s in %j', (kind, text, redacted) => {
    const result = scanner.redactText(text);
    expect(result.text).toBe(redacted);
    expect(Object.keys(result.counts)).toEqual([kind]);
  });

  it('finds nearly all random 32–64 character tokens (seeded)', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
    let seed = 7;
    const next = () => {
      seed = (seed * 48_271) % 2_147_483_647;
      return seed;
    };
    let found = 0;
    let eligible = 0;
    for (let i = 0; i < 1000; i++) {
      let token = '';
      const length = 32 + (next() % 33);
      while (token.length < length) token += alphabet[next() % alphabet.length];
      if (!/[A-Z]/.test(token) || !/[a-z]/.test(token) || !/\d/.test(token)) continue;
      eligible++;
      if (scanner.scanText(`secret: ${token} end`).counts.secret === 1) found++;
    }
    expect(eligible).toBeGreaterThan(950);
    expect(found / eligible).toBeGreaterThan(0.97);
  });

  it('counts several kinds at once and reports no values', () => {
    const result = scanner.scanText('a@b.io, c@d.io, 123-45-6789 and 4111 1111 1111 1111');
    expect(result).toEqual({ total: 4, counts: { email: 2, us_ssn: 1, credit_card: 1 } });
    expect(JSON.stringify(result)).not.toMatch(/@|6789|1111/);
  });
});

describe('PiiScanner false positives', () => {
  const clean = [
    'Luhn-invalid card 4111 1111 1111 1112',
    'Luhn-invalid 5555555555554445',
    'Order 123456789012 shipped; tracking 9400110898825022579493',
    'A Luhn-valid number with no card network: 1234567812345670',
    'Invoice 98765432101234, account 00012345678',
    'plain 1234567890 and 4155552671 without separators',
    'The year 2024 had 366 days; 3 + 4 = 7; pay $1,234.56 by 2024-01-15 at 12:30:45',
    'version 1.2.3, v1.2.3.4 and semver 10.20.30',
    'Call 555-1234 (seven digits)',
    'ISBN 978-3-16-148410-0',
    'not SSNs: 000-12-3456, 666-12-3456, 123-00-4567, 123-45-0000',
    'bad IBAN checksum DE89 3704 0044 0532 0130 01',
    'MAC 00:1A:2B:3C:4D:5E, C++ std::vector and a::b, loopback ::1',
    'uuid 123e4567-e89b-12d3-a456-426614174000',
    'git 9fceb02d0ae598e95dc970b74767f19372d61af8',
    'sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    'identifiers getUserAccountSettingsForTenantId2 and ThisIsAVeryLongCamelCaseName2024',
    'more AbstractSingletonProxyFactoryBean2 XMLHttpRequestEventTargetPrototype2 test_user_Account_Settings_2024_Final_v2',
    'path src/components/UserProfileSettings2.tsx and https://example.com/api/v1/UsersController2024/getAll',
    'kebab sk-learn-is-a-python-library and task-manager-for-teams',
    'email-ish user@localhost and @mention and foo@bar',
    'math 192.168.1 and 300.1.2.3 are not addresses',
  ];

  it.each(clean)('finds nothing in %j', (text) => {
    expect(scanner.scanText(text)).toEqual({ total: 0, counts: {} });
  });

  it('flags no random 6–19 digit numbers that fail Luhn or carry no card prefix', () => {
    // A seeded generator keeps the check deterministic.
    let seed = 42;
    const next = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed;
    };
    let flagged = 0;
    for (let i = 0; i < 2000; i++) {
      const length = 6 + (next() % 14);
      let digits = String(1 + (next() % 9));
      while (digits.length < length) digits += String(next() % 10);
      if (isCardNumber(digits)) continue;
      if (scanner.scanText(`ref ${digits} ok`).total > 0) flagged++;
    }
    expect(flagged).toBe(0);
  });
});

describe('checksums', () => {
  it('luhn', () => {
    expect(luhnValid('4111111111111111')).toBe(true);
    expect(luhnValid('4111111111111112')).toBe(false);
    expect(luhnValid('')).toBe(false);
  });

  it('card networks', () => {
    expect(isCardNumber('6011111111111117')).toBe(true);
    expect(isCardNumber('3530111333300000')).toBe(true);
    expect(isCardNumber('1234567812345670')).toBe(false);
  });

  it('iban mod 97 and country length', () => {
    expect(ibanValid('DE89370400440532013000')).toBe(true);
    expect(ibanValid('DE89370400440532013001')).toBe(false);
    expect(ibanValid('DE8937040044053201300')).toBe(false);
    expect(ibanValid('ZZ89370400440532013000')).toBe(false);
  });
});

const chat = (messages: ChatRequest['messages']): ChatRequest => ({ model: 'gpt-4o-mini', messages });

describe('PiiScanner on requests', () => {
  const request = chat([
    { role: 'system', content: 'Be brief.' },
    {
      role: 'user',
      content: [
        { type: 'text', text: 'Mail me at jane@example.org' },
        { type: 'image_url', image_url: { url: 'https://x.test/a.png' } },
      ],
    },
    {
      role: 'assistant',
      content: null,
      tool_calls: [
        { id: 'c1', type: 'function', function: { name: 'lookup', arguments: '{"ssn":"123-45-6789"}' } },
      ],
    },
    { role: 'tool', tool_call_id: 'c1', content: 'card on file 4111 1111 1111 1111' },
  ]);

  it('redacts string content, text parts and tool arguments, and leaves the input untouched', () => {
    const before = JSON.stringify(request);
    const result = scanner.applyToChatRequest(request, 'redact');
    expect(result.counts).toEqual({ email: 1, us_ssn: 1, credit_card: 1 });
    expect(JSON.stringify(request)).toBe(before);
    const out = result.request.messages;
    expect(out[0]).toBe(request.messages[0]);
    expect(out[1]).toMatchObject({
      content: [{ type: 'text', text: 'Mail me at [REDACTED_EMAIL]' }, { type: 'image_url' }],
    });
    expect(out[2]).toMatchObject({
      tool_calls: [{ function: { arguments: '{"ssn":"[REDACTED_US_SSN]"}' } }],
    });
    expect(out[3]).toMatchObject({ content: 'card on file [REDACTED_CREDIT_CARD]' });
  });

  it('returns the same object when nothing is found', () => {
    const cleanRequest = chat([{ role: 'user', content: 'Hello there' }]);
    expect(scanner.applyToChatRequest(cleanRequest).request).toBe(cleanRequest);
  });

  it('detect mode counts and does not change the request', () => {
    const result = scanner.applyToChatRequest(request, 'detect');
    expect(result.request).toBe(request);
    expect(result.total).toBe(3);
  });

  it('block mode throws 400 naming kinds and counts, never values', () => {
    let error: unknown;
    try {
      scanner.applyToChatRequest(request, 'block');
    } catch (e) {
      error = e;
    }
    expect(PiiBlockedError.isInstance(error)).toBe(true);
    const blocked = error as PiiBlockedError;
    expect(blocked.status).toBe(400);
    expect(blocked.code).toBe('LLM_EDGE_PII_BLOCKED');
    expect(blocked.kinds).toEqual(['credit_card', 'email', 'us_ssn']);
    expect(blocked.counts).toEqual({ email: 1, us_ssn: 1, credit_card: 1 });
    const everything = JSON.stringify({ ...blocked, text: blocked.message, stack: blocked.stack });
    for (const value of ['jane@example.org', 'jane', '123-45-6789', '6789', '4111', '1111 1111']) {
      expect(everything).not.toContain(value);
    }
  });

  it('off mode skips scanning', () => {
    expect(scanner.applyToChatRequest(request, 'off')).toEqual({ request, total: 0, counts: {} });
  });

  it('scans embeddings text inputs', () => {
    const req: EmbeddingsRequest = { model: 'text-embedding-3-small', input: ['ok', 'ip 10.0.0.1'] };
    const result = scanner.applyToEmbeddingsRequest(req);
    expect(result.request.input).toEqual(['ok', 'ip [REDACTED_IP_ADDRESS]']);
    const tokens: EmbeddingsRequest = { model: 'text-embedding-3-small', input: [1, 2, 3] };
    expect(scanner.applyToEmbeddingsRequest(tokens).request).toBe(tokens);
  });

  it('honours kinds, placeholder and tool-argument options', () => {
    const only = new PiiScanner({ kinds: ['email'], placeholder: (k) => `<${k}>`, scanToolArguments: false });
    const result = only.applyToChatRequest(request);
    expect(result.counts).toEqual({ email: 1 });
    expect(result.request.messages[1]).toMatchObject({
      content: [{ text: 'Mail me at <email>' }, { type: 'image_url' }],
    });
  });

  it('rejects bad options naming the field', () => {
    expect(() => new PiiScanner({ mode: 'loud' as 'redact' })).toThrow(SecurityOptionsError);
    expect(() => new PiiScanner({ kinds: ['email', 'dna' as 'email'] })).toThrow(/kinds\[1\]/);
    expect(() => new PiiScanner({ secretMinLength: 4 })).toThrow(/secretMinLength/);
  });

  it('stays linear on hostile input', () => {
    const hostile = `${'a'.repeat(50_000)}@${'b'.repeat(50_000)} ${'1 '.repeat(20_000)} ${'+1'.repeat(10_000)} ${':'.repeat(20_000)}`;
    // Catastrophic backtracking would exceed the test timeout long before this returns.
    expect(scanner.scanText(hostile)).toEqual({ total: 0, counts: {} });
  });
});
