import type { z } from 'zod';
import {
  type ChatRequest,
  chatRequestSchema,
  type EmbeddingsRequest,
  embeddingsRequestSchema,
} from './chat-schemas';
import { ProviderError, type ValidationIssue } from './errors';
import { plainChatRequest } from './plain-chat-request';

/** Formats a zod path as a JSON path: `messages[0].content[1].image_url.url` (`$` for the root). */
export function formatJsonPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && /^[A-Za-z_$][\w$]*$/.test(key)) out += out === '' ? key : `.${key}`;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out === '' ? '$' : out;
}

type ZodIssue = z.core.$ZodIssue;

function depth(issues: readonly ZodIssue[]): number {
  let max = 0;
  for (const issue of issues) {
    const nested = issue.code === 'invalid_union' ? Math.max(0, ...issue.errors.map((e) => depth(e))) : 0;
    max = Math.max(max, issue.path.length + nested);
  }
  return max;
}

/*
 * A union failure says only "invalid input"; the useful message is inside the branch the caller
 * evidently meant, which is the one that got furthest into the value before failing.
 */
function flatten(issues: readonly ZodIssue[], prefix: readonly PropertyKey[], out: ValidationIssue[]): void {
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      let best = issue.errors[0]!;
      for (const branch of issue.errors) if (depth(branch) > depth(best)) best = branch;
      if (depth(best) > 0) {
        flatten(best, path, out);
        continue;
      }
      out.push({ path: formatJsonPath(path), message: 'does not match any allowed shape' });
      continue;
    }
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys)
        out.push({ path: formatJsonPath([...path, key]), message: 'unknown field' });
      continue;
    }
    out.push({ path: formatJsonPath(path), message: issue.message });
  }
}

/** Turns zod issues into `{ path, message }` pairs with JSON paths, unions resolved to their best branch. */
export function toValidationIssues(error: z.ZodError): ValidationIssue[] {
  const out: ValidationIssue[] = [];
  flatten(error.issues, [], out);
  return out;
}

function validationError(what: string, issues: ValidationIssue[], cause: unknown): ProviderError {
  const shown = issues
    .slice(0, 5)
    .map((i) => `${i.path}: ${i.message}`)
    .join('; ');
  const more = issues.length > 5 ? ` (and ${issues.length - 5} more)` : '';
  const first = issues[0];
  return new ProviderError({
    provider: 'llm-edge',
    kind: 'bad_request',
    status: 400,
    message: `Invalid ${what}: ${shown}${more}`,
    issues,
    cause,
    ...(first ? { param: first.path } : {}),
  });
}

/**
 * Validates an untrusted chat request body once; the result is typed for every later stage.
 *
 * @throws ProviderError of kind 'bad_request' whose `issues` name each bad field by JSON path.
 * @example
 * ```ts
 * const req = parseChatRequest(JSON.parse(body));
 * ```
 */
export function parseChatRequest(body: unknown): ChatRequest {
  const plain = plainChatRequest(body);
  if (plain !== undefined) return plain;
  const result = chatRequestSchema.safeParse(body);
  if (!result.success) throw validationError('chat request', toValidationIssues(result.error), result.error);
  return result.data;
}

/**
 * Validates an untrusted embeddings request body once.
 *
 * @throws ProviderError of kind 'bad_request' whose `issues` name each bad field by JSON path.
 */
export function parseEmbeddingsRequest(body: unknown): EmbeddingsRequest {
  const result = embeddingsRequestSchema.safeParse(body);
  if (!result.success)
    throw validationError('embeddings request', toValidationIssues(result.error), result.error);
  return result.data;
}
