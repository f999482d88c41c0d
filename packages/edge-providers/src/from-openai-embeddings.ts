import { type EmbeddingsResponse, embeddingsResponseSchema } from './chat-schemas';
import { isCount, malformedAnswerError } from './from-openai-response';
import { isRecord } from './http-transport';
import { keepUpstreamJsonText } from './upstream-json-text';

/**
 * Checks an OpenAI-family embeddings answer. The usual answer passes a plain structural check and
 * is returned as it was parsed (fields the schema does not name kept, like a chat answer's), with
 * `text` as its {@link upstreamJsonText}: checking 1,536 numbers through the schema cost more than
 * parsing them, and serialising them again twice as much. Any other answer goes through the schema,
 * which returns its own copy or names what is wrong.
 */
export function fromOpenAIEmbeddings(provider: string, body: unknown, text?: string): EmbeddingsResponse {
  if (isRecord(body) && isPlainEmbeddingsResponse(body)) {
    if (text !== undefined) keepUpstreamJsonText(body, text);
    return body as unknown as EmbeddingsResponse;
  }
  const result = embeddingsResponseSchema.safeParse(body);
  if (!result.success) throw malformedAnswerError(provider, 'embeddings response', result.error);
  return result.data;
}

function isVector(value: unknown): boolean {
  if (typeof value === 'string') return true;
  if (!Array.isArray(value)) return false;
  for (const x of value) {
    // `x - x` is 0 for a finite number and NaN for the Infinity that `JSON.parse` makes of an
    // out-of-range literal such as 1e999, which the schema refuses (cheaper than a call per element).
    if (typeof x !== 'number' || x - x !== 0) return false;
  }
  return true;
}

/**
 * A structural check that accepts only what `embeddingsResponseSchema` accepts (the schema then
 * judges anything it turns down).
 */
export function isPlainEmbeddingsResponse(body: Record<string, unknown>): boolean {
  if (body['object'] !== 'list' || typeof body['model'] !== 'string') return false;
  const data = body['data'];
  if (!Array.isArray(data)) return false;
  for (const item of data) {
    if (
      !isRecord(item) ||
      item['object'] !== 'embedding' ||
      !isCount(item['index']) ||
      !isVector(item['embedding'])
    ) {
      return false;
    }
  }
  const usage = body['usage'];
  return isRecord(usage) && isCount(usage['prompt_tokens']) && isCount(usage['total_tokens']);
}
