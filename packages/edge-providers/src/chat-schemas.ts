import { z } from 'zod';

/*
 * The unified language of llm-edge: OpenAI Chat Completions shapes.
 *
 * Passthrough policy: the top-level request object is loose — a field this schema does not name
 * is kept (not stripped). OpenAI-family adapters forward such fields verbatim (vendor extensions
 * such as vLLM's `top_k` keep working); the Anthropic and Gemini adapters reject them with a
 * ProviderError of kind 'bad_request' naming the field. Every nested object is strict: an
 * unknown key inside a message, content part, tool or response_format is a validation error with
 * its JSON path, so no adapter ever has to guess what a nested field means.
 */

const jsonObjectSchema = z.record(z.string(), z.unknown());

/** A `{ type: 'text' }` content part. */
export const textContentPartSchema = z.strictObject({
  type: z.literal('text'),
  text: z.string(),
});

/** A `{ type: 'image_url' }` content part: an http(s) URL or a `data:` URL. */
export const imageContentPartSchema = z.strictObject({
  type: z.literal('image_url'),
  image_url: z.strictObject({
    url: z.string().min(1),
    detail: z.enum(['auto', 'low', 'high']).optional(),
  }),
});

/** A `{ type: 'input_audio' }` content part (base64 audio). */
export const audioContentPartSchema = z.strictObject({
  type: z.literal('input_audio'),
  input_audio: z.strictObject({
    data: z.string(),
    format: z.enum(['wav', 'mp3']),
  }),
});

/** A `{ type: 'file' }` content part (base64 `file_data` as a data URL, or an uploaded `file_id`). */
export const fileContentPartSchema = z.strictObject({
  type: z.literal('file'),
  file: z.strictObject({
    file_data: z.string().optional(),
    file_id: z.string().optional(),
    filename: z.string().optional(),
  }),
});

/** A `{ type: 'refusal' }` content part (assistant messages only). */
export const refusalContentPartSchema = z.strictObject({
  type: z.literal('refusal'),
  refusal: z.string(),
});

const userContentPartSchema = z.discriminatedUnion('type', [
  textContentPartSchema,
  imageContentPartSchema,
  audioContentPartSchema,
  fileContentPartSchema,
]);

const assistantContentPartSchema = z.discriminatedUnion('type', [
  textContentPartSchema,
  refusalContentPartSchema,
]);

/** A tool call the assistant made; `arguments` is a JSON text. */
export const toolCallSchema = z.strictObject({
  id: z.string().min(1),
  type: z.literal('function'),
  function: z.strictObject({
    name: z.string().min(1),
    arguments: z.string(),
  }),
});

const textOnlyContentSchema = z.union([z.string(), z.array(textContentPartSchema)]);

/** A system message. */
export const systemMessageSchema = z.strictObject({
  role: z.literal('system'),
  content: textOnlyContentSchema,
  name: z.string().optional(),
});

/** A developer message (the newer name for system instructions). */
export const developerMessageSchema = z.strictObject({
  role: z.literal('developer'),
  content: textOnlyContentSchema,
  name: z.string().optional(),
});

/** A user message: text, or an array of text / image / audio / file parts. */
export const userMessageSchema = z.strictObject({
  role: z.literal('user'),
  content: z.union([z.string(), z.array(userContentPartSchema)]),
  name: z.string().optional(),
});

/** An assistant message from the conversation history, possibly with tool calls. */
export const assistantMessageSchema = z.strictObject({
  role: z.literal('assistant'),
  content: z.union([z.string(), z.array(assistantContentPartSchema)]).nullish(),
  refusal: z.string().nullish(),
  name: z.string().optional(),
  tool_calls: z.array(toolCallSchema).optional(),
  audio: z.strictObject({ id: z.string() }).nullish(),
});

/** A tool result, answering the assistant's tool call `tool_call_id`. */
export const toolMessageSchema = z.strictObject({
  role: z.literal('tool'),
  content: textOnlyContentSchema,
  tool_call_id: z.string().min(1),
});

/** Any message of a chat request. */
export const chatMessageSchema = z.discriminatedUnion('role', [
  systemMessageSchema,
  developerMessageSchema,
  userMessageSchema,
  assistantMessageSchema,
  toolMessageSchema,
]);

/** A function tool the model may call. */
export const toolSchema = z.strictObject({
  type: z.literal('function'),
  function: z.strictObject({
    name: z
      .string()
      .regex(/^[a-zA-Z0-9_-]{1,64}$/, 'must be 1-64 characters of a-z, A-Z, 0-9, underscore or dash'),
    description: z.string().optional(),
    parameters: jsonObjectSchema.optional(),
    strict: z.boolean().nullish(),
  }),
});

/** `tool_choice`: a mode, or one named function. */
export const toolChoiceSchema = z.union([
  z.enum(['none', 'auto', 'required']),
  z.strictObject({
    type: z.literal('function'),
    function: z.strictObject({ name: z.string().min(1) }),
  }),
]);

/** `response_format`: free text, any JSON object, or JSON matching a schema. */
export const responseFormatSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('text') }),
  z.strictObject({ type: z.literal('json_object') }),
  z.strictObject({
    type: z.literal('json_schema'),
    json_schema: z.strictObject({
      name: z
        .string()
        .regex(/^[a-zA-Z0-9_-]{1,64}$/, 'must be 1-64 characters of a-z, A-Z, 0-9, underscore or dash'),
      description: z.string().optional(),
      schema: jsonObjectSchema.optional(),
      strict: z.boolean().nullish(),
    }),
  }),
]);

/** `stream_options`. */
export const streamOptionsSchema = z.strictObject({
  include_usage: z.boolean().optional(),
  include_obfuscation: z.boolean().optional(),
});

/**
 * The unified chat request (OpenAI `CreateChatCompletionRequest`). Validate once at the edge with
 * {@link parseChatRequest}; unknown top-level fields are kept (see the passthrough policy above).
 */
export const chatRequestSchema = z
  .looseObject({
    model: z.string().min(1),
    messages: z.array(chatMessageSchema).min(1),
    frequency_penalty: z.number().min(-2).max(2).nullish(),
    presence_penalty: z.number().min(-2).max(2).nullish(),
    logit_bias: z.record(z.string(), z.number().min(-100).max(100)).nullish(),
    logprobs: z.boolean().nullish(),
    top_logprobs: z.int().min(0).max(20).nullish(),
    max_tokens: z.int().min(1).nullish(),
    max_completion_tokens: z.int().min(1).nullish(),
    n: z.int().min(1).max(128).nullish(),
    response_format: responseFormatSchema.optional(),
    seed: z.int().nullish(),
    service_tier: z.string().nullish(),
    stop: z.union([z.string(), z.array(z.string()).max(16)]).nullish(),
    stream: z.boolean().nullish(),
    stream_options: streamOptionsSchema.nullish(),
    temperature: z.number().min(0).max(2).nullish(),
    top_p: z.number().min(0).max(1).nullish(),
    tools: z.array(toolSchema).optional(),
    tool_choice: toolChoiceSchema.optional(),
    parallel_tool_calls: z.boolean().nullish(),
    user: z.string().optional(),
    metadata: z.record(z.string(), z.string()).nullish(),
    store: z.boolean().nullish(),
    reasoning_effort: z.string().nullish(),
    verbosity: z.enum(['low', 'medium', 'high']).nullish(),
    prompt_cache_key: z.string().optional(),
    safety_identifier: z.string().optional(),
  })
  .superRefine((req, ctx) => {
    if (req.top_logprobs != null && req.logprobs !== true) {
      ctx.addIssue({ code: 'custom', path: ['top_logprobs'], message: 'requires logprobs: true' });
    }
    if (req.tool_choice !== undefined && typeof req.tool_choice === 'object') {
      const wanted = req.tool_choice.function.name;
      if (!req.tools?.some((t) => t.function.name === wanted)) {
        ctx.addIssue({
          code: 'custom',
          path: ['tool_choice', 'function', 'name'],
          message: `names a function "${wanted}" that is not in tools`,
        });
      }
    }
  });

/** Token usage of one call, OpenAI `CompletionUsage` plus `prompt_tokens_details.cache_write_tokens`. */
export const usageSchema = z.object({
  /** All input tokens, including cached and cache-written ones. */
  prompt_tokens: z.int().min(0),
  /** All output tokens, including reasoning tokens. */
  completion_tokens: z.int().min(0),
  total_tokens: z.int().min(0),
  prompt_tokens_details: z
    .object({
      /** Input tokens read from the provider's prompt cache. */
      cached_tokens: z.int().min(0).optional(),
      audio_tokens: z.int().min(0).optional(),
      /** llm-edge extension: input tokens written to the provider's prompt cache (Anthropic). */
      cache_write_tokens: z.int().min(0).optional(),
    })
    .optional(),
  completion_tokens_details: z
    .object({
      reasoning_tokens: z.int().min(0).optional(),
      audio_tokens: z.int().min(0).optional(),
      accepted_prediction_tokens: z.int().min(0).optional(),
      rejected_prediction_tokens: z.int().min(0).optional(),
    })
    .optional(),
});

/** Why a choice ended. */
export const finishReasonSchema = z.enum(['stop', 'length', 'tool_calls', 'content_filter', 'function_call']);

/** The assistant message of a non-stream response. */
export const responseMessageSchema = z.object({
  role: z.literal('assistant'),
  content: z.string().nullable(),
  refusal: z.string().nullable().optional(),
  tool_calls: z.array(toolCallSchema).optional(),
});

/** The unified non-stream response (OpenAI `CreateChatCompletionResponse`). */
export const chatResponseSchema = z.object({
  id: z.string(),
  object: z.literal('chat.completion'),
  created: z.int(),
  model: z.string(),
  choices: z.array(
    z.object({
      index: z.int().min(0),
      message: responseMessageSchema,
      finish_reason: finishReasonSchema.nullable(),
      logprobs: z.unknown().nullable(),
    }),
  ),
  usage: usageSchema.optional(),
  system_fingerprint: z.string().nullable().optional(),
  service_tier: z.string().nullable().optional(),
});

/** One tool-call fragment in a stream delta; only `index` is always present. */
export const toolCallDeltaSchema = z.object({
  index: z.int().min(0),
  id: z.string().optional(),
  type: z.literal('function').optional(),
  function: z
    .object({
      name: z.string().optional(),
      arguments: z.string().optional(),
    })
    .optional(),
});

/** The unified stream chunk (OpenAI `CreateChatCompletionStreamResponse`). */
export const chatChunkSchema = z.object({
  id: z.string(),
  object: z.literal('chat.completion.chunk'),
  created: z.int(),
  model: z.string(),
  choices: z.array(
    z.object({
      index: z.int().min(0),
      delta: z.object({
        role: z.literal('assistant').optional(),
        content: z.string().nullable().optional(),
        refusal: z.string().nullable().optional(),
        tool_calls: z.array(toolCallDeltaSchema).optional(),
      }),
      finish_reason: finishReasonSchema.nullable(),
      logprobs: z.unknown().nullable().optional(),
    }),
  ),
  usage: usageSchema.nullable().optional(),
  system_fingerprint: z.string().nullable().optional(),
  service_tier: z.string().nullable().optional(),
});

/** The unified embeddings request (OpenAI `CreateEmbeddingRequest`). */
export const embeddingsRequestSchema = z.strictObject({
  model: z.string().min(1),
  input: z.union([
    z.string(),
    z.array(z.string()).min(1).max(2048),
    z.array(z.int()).min(1),
    z.array(z.array(z.int()).min(1)).min(1).max(2048),
  ]),
  encoding_format: z.enum(['float', 'base64']).optional(),
  dimensions: z.int().min(1).optional(),
  user: z.string().optional(),
});

/** The unified embeddings response (OpenAI `CreateEmbeddingResponse`). */
export const embeddingsResponseSchema = z.object({
  object: z.literal('list'),
  model: z.string(),
  data: z.array(
    z.object({
      object: z.literal('embedding'),
      index: z.int().min(0),
      /** float array, or base64 of little-endian float32 when `encoding_format: 'base64'`. */
      embedding: z.union([z.array(z.number()), z.string()]),
    }),
  ),
  usage: z.object({ prompt_tokens: z.int().min(0), total_tokens: z.int().min(0) }),
});

/** A unified chat request, as validated by {@link chatRequestSchema}. */
export type ChatRequest = z.infer<typeof chatRequestSchema>;
/** Any message of a chat request. */
export type ChatMessage = z.infer<typeof chatMessageSchema>;
/** A system message. */
export type SystemMessage = z.infer<typeof systemMessageSchema>;
/** A developer message. */
export type DeveloperMessage = z.infer<typeof developerMessageSchema>;
/** A user message. */
export type UserMessage = z.infer<typeof userMessageSchema>;
/** An assistant message of the history. */
export type AssistantMessage = z.infer<typeof assistantMessageSchema>;
/** A tool result message. */
export type ToolMessage = z.infer<typeof toolMessageSchema>;
/** A content part of a user message. */
export type UserContentPart = z.infer<typeof userContentPartSchema>;
/** A text content part. */
export type TextContentPart = z.infer<typeof textContentPartSchema>;
/** An image content part. */
export type ImageContentPart = z.infer<typeof imageContentPartSchema>;
/** A tool call made by the assistant. */
export type ToolCall = z.infer<typeof toolCallSchema>;
/** A function tool definition. */
export type Tool = z.infer<typeof toolSchema>;
/** `tool_choice` of a request. */
export type ToolChoice = z.infer<typeof toolChoiceSchema>;
/** `response_format` of a request. */
export type ResponseFormat = z.infer<typeof responseFormatSchema>;
/** Token usage of one call. */
export type Usage = z.infer<typeof usageSchema>;
/** Why a choice ended. */
export type FinishReason = z.infer<typeof finishReasonSchema>;
/** The unified non-stream response. */
export type ChatResponse = z.infer<typeof chatResponseSchema>;
/** The assistant message of a response. */
export type ResponseMessage = z.infer<typeof responseMessageSchema>;
/** The unified stream chunk. */
export type ChatChunk = z.infer<typeof chatChunkSchema>;
/** One tool-call fragment in a stream delta. */
export type ToolCallDelta = z.infer<typeof toolCallDeltaSchema>;
/** The unified embeddings request. */
export type EmbeddingsRequest = z.infer<typeof embeddingsRequestSchema>;
/** The unified embeddings response. */
export type EmbeddingsResponse = z.infer<typeof embeddingsResponseSchema>;
