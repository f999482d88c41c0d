import type { Usage } from './chat-schemas';
import type { ProviderCapabilities } from './provider';

/** Prices in USD per one million tokens. */
export interface ModelPrices {
  input: number;
  /** Input tokens read from the provider's prompt cache. */
  cachedInput: number;
  output: number;
  /** Input tokens written to the prompt cache (Anthropic 5-minute writes); defaults to `input`. */
  cacheWrite?: number;
}

/** A price tier that applies instead of the base prices when the prompt exceeds a size. */
export interface LongContextPrices extends ModelPrices {
  /** The tier applies when prompt tokens exceed this count. */
  aboveInputTokens: number;
}

/** What llm-edge knows about one model. */
export interface ModelCatalogueEntry {
  id: string;
  provider: 'openai' | 'anthropic' | 'gemini';
  /** Other ids that name the same model (dated snapshots). */
  aliases?: readonly string[];
  contextWindow: number;
  maxOutputTokens: number;
  capabilities: ProviderCapabilities;
  prices: ModelPrices;
  longContext?: LongContextPrices;
  /**
   * When the prices were known to hold, as an ISO 8601 date: the date of the newest source they were
   * taken from, or the day the provider's own (undated) page was read. `YYYY-MM` when the sources
   * give only a month.
   */
  pricesReadOn: string;
  /** Where the figures were read, and how old those sources are. */
  source: string;
}

const CHAT: ProviderCapabilities = {
  streaming: true,
  tools: true,
  vision: true,
  jsonSchema: true,
  embeddings: false,
};
const EMBEDDING: ProviderCapabilities = {
  streaming: false,
  tools: false,
  vision: false,
  jsonSchema: false,
  embeddings: true,
};

// Each provider's figures carry the date of their sources, not the day they were typed in.
const OPENAI_PRICES_OF = '2026-06';
const OPENAI_SOURCE =
  'OpenAI list prices as quoted by third-party price trackers; sources dated March to June 2026';
const ANTHROPIC_PRICES_OF = '2026-11-23';
const ANTHROPIC_SOURCE = 'platform.claude.com pricing page (undated), read on 2026-11-23';
const GEMINI_PRICES_OF = '2026-03';
const GEMINI_SOURCE =
  'Gemini Developer API list prices as quoted by third-party price trackers; sources dated January to March 2026';

function openai(
  id: string,
  contextWindow: number,
  maxOutputTokens: number,
  input: number,
  cachedInput: number,
  output: number,
  extra: Partial<ModelCatalogueEntry> = {},
): ModelCatalogueEntry {
  return {
    id,
    provider: 'openai',
    contextWindow,
    maxOutputTokens,
    capabilities: CHAT,
    prices: { input, cachedInput, output },
    pricesReadOn: OPENAI_PRICES_OF,
    source: OPENAI_SOURCE,
    ...extra,
  };
}

const NO_STRUCTURED_OUTPUTS: Partial<ModelCatalogueEntry> = { capabilities: { ...CHAT, jsonSchema: false } };

function anthropic(
  id: string,
  aliases: readonly string[],
  contextWindow: number,
  maxOutputTokens: number,
  input: number,
  output: number,
  extra: Partial<ModelCatalogueEntry> = {},
): ModelCatalogueEntry {
  return {
    id,
    provider: 'anthropic',
    aliases,
    contextWindow,
    maxOutputTokens,
    // The adapter sends response_format json_schema as output_config.format (structured outputs).
    capabilities: CHAT,
    // Anthropic: cache reads 0.1x input, 5-minute cache writes 1.25x input.
    prices: { input, cachedInput: input / 10, output, cacheWrite: input * 1.25 },
    pricesReadOn: ANTHROPIC_PRICES_OF,
    source: ANTHROPIC_SOURCE,
    ...extra,
  };
}

function gemini(
  id: string,
  maxOutputTokens: number,
  prices: ModelPrices,
  longContext?: LongContextPrices,
): ModelCatalogueEntry {
  return {
    id,
    provider: 'gemini',
    contextWindow: 1_048_576,
    maxOutputTokens,
    capabilities: CHAT,
    prices,
    ...(longContext ? { longContext } : {}),
    pricesReadOn: GEMINI_PRICES_OF,
    source: GEMINI_SOURCE,
  };
}

/**
 * Well-known models with context window, output limit, capabilities and list prices (USD per 1M
 * tokens, standard tier, no batch discount). Prices drift: each entry says when it was read.
 */
export const modelCatalogue: readonly ModelCatalogueEntry[] = Object.freeze([
  openai('gpt-5', 400_000, 128_000, 1.25, 0.125, 10),
  openai('gpt-5-mini', 400_000, 128_000, 0.25, 0.025, 2),
  openai('gpt-5-nano', 400_000, 128_000, 0.05, 0.005, 0.4),
  openai('gpt-4.1', 1_047_576, 32_768, 2, 0.5, 8),
  openai('gpt-4.1-mini', 1_047_576, 32_768, 0.4, 0.1, 1.6),
  openai('gpt-4.1-nano', 1_047_576, 32_768, 0.1, 0.025, 0.4),
  openai('gpt-4o', 128_000, 16_384, 2.5, 1.25, 10),
  openai('gpt-4o-mini', 128_000, 16_384, 0.15, 0.075, 0.6),
  openai('o3', 200_000, 100_000, 2, 0.5, 8),
  openai('o4-mini', 200_000, 100_000, 1.1, 0.275, 4.4),
  openai('text-embedding-3-small', 8_191, 0, 0.02, 0.02, 0, { capabilities: EMBEDDING }),
  openai('text-embedding-3-large', 8_191, 0, 0.13, 0.13, 0, { capabilities: EMBEDDING }),
  anthropic('claude-opus-4-6', [], 1_000_000, 128_000, 5, 25),
  anthropic('claude-sonnet-4-6', [], 1_000_000, 128_000, 3, 15),
  anthropic('claude-opus-4-5', ['claude-opus-4-5-20251101'], 200_000, 64_000, 5, 25),
  anthropic('claude-sonnet-4-5', ['claude-sonnet-4-5-20250929'], 200_000, 64_000, 3, 15),
  anthropic('claude-haiku-4-5', ['claude-haiku-4-5-20251001'], 200_000, 64_000, 1, 5),
  anthropic('claude-opus-4-1', ['claude-opus-4-1-20250805'], 200_000, 32_000, 15, 75),
  // Anthropic's structured-outputs page does not list Sonnet 4.0 or the 3.x models.
  anthropic('claude-sonnet-4-0', ['claude-sonnet-4-20250514'], 200_000, 64_000, 3, 15, NO_STRUCTURED_OUTPUTS),
  anthropic(
    'claude-3-5-haiku-latest',
    ['claude-3-5-haiku-20241022'],
    200_000,
    8_192,
    0.8,
    4,
    NO_STRUCTURED_OUTPUTS,
  ),
  gemini(
    'gemini-3-pro-preview',
    65_536,
    { input: 2, cachedInput: 0.2, output: 12 },
    { aboveInputTokens: 200_000, input: 4, cachedInput: 0.4, output: 18 },
  ),
  gemini(
    'gemini-2.5-pro',
    65_536,
    { input: 1.25, cachedInput: 0.125, output: 10 },
    { aboveInputTokens: 200_000, input: 2.5, cachedInput: 0.25, output: 15 },
  ),
  gemini('gemini-2.5-flash', 65_536, { input: 0.3, cachedInput: 0.03, output: 2.5 }),
  gemini('gemini-2.5-flash-lite', 65_536, { input: 0.1, cachedInput: 0.01, output: 0.4 }),
  gemini('gemini-2.0-flash', 8_192, { input: 0.1, cachedInput: 0.025, output: 0.4 }),
]);

const byId = new Map<string, ModelCatalogueEntry>();
for (const entry of modelCatalogue) {
  byId.set(entry.id, entry);
  for (const alias of entry.aliases ?? []) byId.set(alias, entry);
}

/**
 * Finds a catalogue entry by model id, dated snapshot alias, or a `provider/model` address.
 *
 * @example
 * ```ts
 * findModel('gpt-4o-mini')?.contextWindow; // 128000
 * ```
 */
export function findModel(id: string): ModelCatalogueEntry | undefined {
  const direct = byId.get(id);
  if (direct) return direct;
  const slash = id.lastIndexOf('/');
  if (slash >= 0) return byId.get(id.slice(slash + 1));
  // Dated OpenAI snapshots such as gpt-4o-mini-2024-07-18 price like their family.
  const undated = id.replace(/-\d{4}-\d{2}-\d{2}$/, '');
  return undated === id ? undefined : byId.get(undated);
}

/** The cost of one usage record in USD, split by token class. */
export interface UsagePrice {
  inputUsd: number;
  cachedInputUsd: number;
  /** Cost of prompt-cache writes (Anthropic), included in `totalUsd`. */
  cacheWriteUsd: number;
  outputUsd: number;
  totalUsd: number;
}

/**
 * Prices a usage record with the catalogue's list prices; undefined for a model it does not know.
 * Cached and cache-written tokens are taken out of `prompt_tokens` and priced at their own rates.
 *
 * @example
 * ```ts
 * priceUsage('gpt-4o-mini', { prompt_tokens: 1000, completion_tokens: 200, total_tokens: 1200 })?.totalUsd;
 * ```
 */
export function priceUsage(model: string, usage: Usage): UsagePrice | undefined {
  const entry = findModel(model);
  if (!entry) return undefined;
  const tier =
    entry.longContext && usage.prompt_tokens > entry.longContext.aboveInputTokens
      ? entry.longContext
      : entry.prices;
  const cached = usage.prompt_tokens_details?.cached_tokens ?? 0;
  const written = usage.prompt_tokens_details?.cache_write_tokens ?? 0;
  const fresh = Math.max(0, usage.prompt_tokens - cached - written);
  const perToken = (pricePerMillion: number, tokens: number) => (pricePerMillion * tokens) / 1_000_000;
  const inputUsd = perToken(tier.input, fresh);
  const cachedInputUsd = perToken(tier.cachedInput, cached);
  const cacheWriteUsd = perToken(tier.cacheWrite ?? tier.input, written);
  const outputUsd = perToken(tier.output, usage.completion_tokens);
  return {
    inputUsd,
    cachedInputUsd,
    cacheWriteUsd,
    outputUsd,
    totalUsd: inputUsd + cachedInputUsd + cacheWriteUsd + outputUsd,
  };
}
