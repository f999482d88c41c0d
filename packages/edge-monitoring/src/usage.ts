/**
 * Token counts of one response, provider-neutral. `inputTokens` includes cached input (the
 * OpenAI and OpenTelemetry GenAI convention); `cachedInputTokens` is the part read from the
 * provider's prompt cache.
 */
export interface TokenUsage {
  /** All input tokens, cached and cache-write included. */
  inputTokens: number;
  /** Output tokens, reasoning included. */
  outputTokens: number;
  /** Input tokens read from the provider's prompt cache (a subset of `inputTokens`). */
  cachedInputTokens?: number;
  /** Input tokens written to the provider's prompt cache (a subset of `inputTokens`). */
  cacheWriteInputTokens?: number;
  /** Output tokens spent on reasoning (a subset of `outputTokens`). */
  reasoningTokens?: number;
}

function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

function obj(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
}

function withOptional(
  usage: TokenUsage,
  cached: number | undefined,
  cacheWrite: number | undefined,
  reasoning: number | undefined,
): TokenUsage {
  if (cached !== undefined && cached > 0) usage.cachedInputTokens = cached;
  if (cacheWrite !== undefined && cacheWrite > 0) usage.cacheWriteInputTokens = cacheWrite;
  if (reasoning !== undefined && reasoning > 0) usage.reasoningTokens = reasoning;
  return usage;
}

/**
 * Reads a usage object in any of the shapes the gateway meets and returns {@link TokenUsage}:
 * OpenAI (`prompt_tokens`, `completion_tokens`, `prompt_tokens_details.cached_tokens`),
 * Anthropic (`input_tokens`, `output_tokens`, `cache_read_input_tokens`,
 * `cache_creation_input_tokens` — added to the input total, which Anthropic reports without them),
 * Gemini (`promptTokenCount`, `candidatesTokenCount`, `thoughtsTokenCount`, `cachedContentTokenCount`)
 * or `TokenUsage` itself. Returns `undefined` for anything else.
 *
 * @example
 * normalizeUsage({ prompt_tokens: 9, completion_tokens: 2, total_tokens: 11 }); // { inputTokens: 9, outputTokens: 2 }
 */
export function normalizeUsage(usage: unknown): TokenUsage | undefined {
  const u = obj(usage);
  if (u === undefined) return undefined;

  const ownInput = num(u['inputTokens']);
  const ownOutput = num(u['outputTokens']);
  if (ownInput !== undefined || ownOutput !== undefined) {
    return withOptional(
      { inputTokens: ownInput ?? 0, outputTokens: ownOutput ?? 0 },
      num(u['cachedInputTokens']),
      num(u['cacheWriteInputTokens']),
      num(u['reasoningTokens']),
    );
  }

  const promptTokens = num(u['prompt_tokens']);
  const completionTokens = num(u['completion_tokens']);
  if (promptTokens !== undefined || completionTokens !== undefined) {
    return withOptional(
      { inputTokens: promptTokens ?? 0, outputTokens: completionTokens ?? 0 },
      num(obj(u['prompt_tokens_details'])?.['cached_tokens']),
      undefined,
      num(obj(u['completion_tokens_details'])?.['reasoning_tokens']),
    );
  }

  const anthropicInput = num(u['input_tokens']);
  const anthropicOutput = num(u['output_tokens']);
  if (anthropicInput !== undefined || anthropicOutput !== undefined) {
    const cacheRead = num(u['cache_read_input_tokens']) ?? 0;
    const cacheWrite = num(u['cache_creation_input_tokens']) ?? 0;
    return withOptional(
      { inputTokens: (anthropicInput ?? 0) + cacheRead + cacheWrite, outputTokens: anthropicOutput ?? 0 },
      cacheRead,
      cacheWrite,
      undefined,
    );
  }

  const geminiPrompt = num(u['promptTokenCount']);
  const geminiCandidates = num(u['candidatesTokenCount']);
  if (geminiPrompt !== undefined || geminiCandidates !== undefined) {
    const thoughts = num(u['thoughtsTokenCount']) ?? 0;
    return withOptional(
      { inputTokens: geminiPrompt ?? 0, outputTokens: (geminiCandidates ?? 0) + thoughts },
      num(u['cachedContentTokenCount']),
      undefined,
      thoughts,
    );
  }
  return undefined;
}

/** OpenAI `CompletionUsage` shape, as produced by {@link toOpenAIUsage}. */
export interface OpenAIUsageShape {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens: number };
  completion_tokens_details?: { reasoning_tokens: number };
}

/**
 * Converts {@link TokenUsage} to the OpenAI usage shape (the gateway's unified language), e.g. to
 * call a price function written against it.
 */
export function toOpenAIUsage(usage: TokenUsage): OpenAIUsageShape {
  const out: OpenAIUsageShape = {
    prompt_tokens: usage.inputTokens,
    completion_tokens: usage.outputTokens,
    total_tokens: usage.inputTokens + usage.outputTokens,
  };
  if (usage.cachedInputTokens !== undefined)
    out.prompt_tokens_details = { cached_tokens: usage.cachedInputTokens };
  if (usage.reasoningTokens !== undefined)
    out.completion_tokens_details = { reasoning_tokens: usage.reasoningTokens };
  return out;
}
