import { sampleJsonSchema } from './json-schema-sample';
import { loremPieces } from './lorem';
import { createRandom, hashString, intBetween, type RandomSource, randomId } from './random';
import {
  compileRegex,
  type Scenario,
  type ScenarioMatch,
  type ScriptedReply,
  type SimulatorProvider,
} from './scenario';
import { countTokens } from './tokens';

/** A tool offered by the client, reduced to what the simulator needs. */
export interface OfferedTool {
  name: string;
  parameters: unknown;
}

/** How the client asked the model to use tools. */
export type ToolChoice = 'auto' | 'none' | 'required' | { name: string };

/** A provider-neutral view of one generation request. */
export interface GenerationRequest {
  provider: SimulatorProvider;
  model: string;
  apiKey: string;
  /** Text of the last user message ('' when there is none). */
  lastUserText: string;
  /** All prompt text, for the prompt token count. */
  promptText: string;
  /** Whether the conversation ends with a tool result (the model then answers in text). */
  endsWithToolResult: boolean;
  maxTokens: number | undefined;
  tools: OfferedTool[];
  toolChoice: ToolChoice;
  /** JSON output requested: a JSON Schema, or `true` for any JSON object. */
  json: unknown;
  stop: string[];
  /** Stable text identifying the request (its raw body), hashed with the seed for content. */
  fingerprint: string;
}

/** A generated tool call. */
export interface GeneratedToolCall {
  id: string;
  name: string;
  arguments: Record<string, unknown>;
  /** `arguments` serialised once, so streamed fragments and the final value agree. */
  argumentsJson: string;
}

/** One generated answer (a "choice" / "candidate"). */
export interface Generation {
  text: string;
  /** `text` split into the pieces a stream sends, one per token-ish unit. */
  pieces: string[];
  toolCalls: GeneratedToolCall[];
  finish: 'stop' | 'length' | 'tool_calls' | 'content_filter';
  /** The stop sequence that ended the text, when one did. */
  stopSequence?: string;
  completionTokens: number;
}

function matches(rule: ScenarioMatch, request: GenerationRequest): boolean {
  if (rule.provider !== undefined && rule.provider !== request.provider) return false;
  if (rule.model !== undefined && !modelMatches(rule.model, request.model)) return false;
  if (rule.apiKey !== undefined && rule.apiKey !== request.apiKey) return false;
  if (rule.lastUserMessage !== undefined && !compileRegex(rule.lastUserMessage).test(request.lastUserText)) {
    return false;
  }
  return true;
}

const globCache = new Map<string, RegExp>();

/** Exact model name, or a glob where `*` matches any run of characters. */
export function modelMatches(pattern: string, model: string): boolean {
  if (!pattern.includes('*')) return pattern === model;
  let regex = globCache.get(pattern);
  if (!regex) {
    regex = new RegExp(
      `^${pattern
        .split('*')
        .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*')}$`,
    );
    globCache.set(pattern, regex);
  }
  return regex.test(model);
}

/** Splits text into stream pieces: words with their leading whitespace. */
export function splitPieces(text: string): string[] {
  if (text.length === 0) return [];
  return text.match(/\s*\S+|\s+$/g) ?? [text];
}

/** Splits serialised JSON into small fragments, as a model streams tool arguments. */
export function splitJson(json: string, size = 6): string[] {
  const out: string[] = [];
  for (let i = 0; i < json.length; i += size) out.push(json.slice(i, i + size));
  return out;
}

function truncateToTokens(pieces: string[], maxTokens: number): { pieces: string[]; truncated: boolean } {
  let total = 0;
  const kept: string[] = [];
  for (const piece of pieces) {
    const tokens = countTokens(piece);
    if (total + tokens > maxTokens) return { pieces: kept, truncated: true };
    total += tokens;
    kept.push(piece);
  }
  return { pieces: kept, truncated: false };
}

function applyStop(text: string, stop: string[]): { text: string; stopped: string | undefined } {
  let cut = -1;
  let matched: string | undefined;
  for (const s of stop) {
    if (s.length === 0) continue;
    const at = text.indexOf(s);
    if (at >= 0 && (cut < 0 || at < cut)) {
      cut = at;
      matched = s;
    }
  }
  return cut < 0 ? { text, stopped: undefined } : { text: text.slice(0, cut), stopped: matched };
}

/** The id prefix and length each provider uses for tool calls. */
function toolCallId(provider: SimulatorProvider, random: RandomSource): string {
  if (provider === 'anthropic') return `toolu_01${randomId(random, 22)}`;
  if (provider === 'gemini') return `call_${randomId(random, 12)}`;
  return `call_${randomId(random, 24)}`;
}

/** Bookkeeping for scripted replies limited by `times`. */
export class ReplyBook {
  private readonly used = new Map<ScriptedReply, number>();

  /** The first scripted reply whose rule matches and that still has uses left. */
  take(replies: readonly ScriptedReply[], request: GenerationRequest): ScriptedReply | undefined {
    for (const reply of replies) {
      if (!matches(reply.match, request)) continue;
      const used = this.used.get(reply) ?? 0;
      if (reply.times !== undefined && used >= reply.times) continue;
      this.used.set(reply, used + 1);
      return reply;
    }
    return undefined;
  }

  reset(): void {
    this.used.clear();
  }
}

/** The content generator: same seed and request fingerprint → same generations. */
export function generate(
  request: GenerationRequest,
  scenario: Scenario,
  seed: number,
  count: number,
  scripted: ScriptedReply | undefined,
): Generation[] {
  const out: Generation[] = [];
  for (let index = 0; index < count; index++) {
    const random = createRandom(hashString(request.fingerprint, seed + index * 7919));
    out.push(generateOne(request, scenario, random, scripted));
  }
  return out;
}

function toolCallFrom(
  provider: SimulatorProvider,
  random: RandomSource,
  name: string,
  args: Record<string, unknown>,
): GeneratedToolCall {
  return { id: toolCallId(provider, random), name, arguments: args, argumentsJson: JSON.stringify(args) };
}

function textGeneration(
  pieces: string[],
  request: GenerationRequest,
  forcedFinish?: Generation['finish'],
): Generation {
  let finish: Generation['finish'] = forcedFinish ?? 'stop';
  let kept = pieces;
  let text = pieces.join('');
  let tokens = countTokens(text);
  // Counting piece by piece is only needed when the whole reply is over the limit.
  if (request.maxTokens !== undefined && tokens > request.maxTokens) {
    kept = truncateToTokens(pieces, request.maxTokens).pieces;
    finish = 'length';
    text = kept.join('');
    tokens = countTokens(text);
  }
  let stopSequence: string | undefined;
  if (request.stop.length > 0) {
    const stopped = applyStop(text, request.stop);
    if (stopped.stopped !== undefined) {
      text = stopped.text;
      kept = splitPieces(text);
      finish = 'stop';
      stopSequence = stopped.stopped;
      tokens = countTokens(text);
    }
  }
  const generation: Generation = { text, pieces: kept, toolCalls: [], finish, completionTokens: tokens };
  if (stopSequence !== undefined) generation.stopSequence = stopSequence;
  return generation;
}

function toolGeneration(calls: GeneratedToolCall[]): Generation {
  let tokens = 0;
  for (const call of calls) tokens += countTokens(call.name) + countTokens(call.argumentsJson) + 3;
  return { text: '', pieces: [], toolCalls: calls, finish: 'tool_calls', completionTokens: tokens };
}

function generateOne(
  request: GenerationRequest,
  scenario: Scenario,
  random: RandomSource,
  scripted: ScriptedReply | undefined,
): Generation {
  if (scripted) {
    if (scripted.toolCalls) {
      return toolGeneration(
        scripted.toolCalls.map((call) => toolCallFrom(request.provider, random, call.name, call.arguments)),
      );
    }
    return textGeneration(splitPieces(scripted.text ?? ''), request, scripted.finishReason);
  }
  const choice = request.toolChoice;
  if (request.tools.length > 0 && choice !== 'none') {
    const forced = choice === 'required' || typeof choice === 'object';
    if (forced || !request.endsWithToolResult) {
      const tool =
        typeof choice === 'object'
          ? (request.tools.find((t) => t.name === choice.name) ?? request.tools[0]!)
          : request.tools[0]!;
      const args = sampleJsonSchema(tool.parameters ?? { type: 'object' }, random);
      const argsObject =
        typeof args === 'object' && args !== null && !Array.isArray(args)
          ? (args as Record<string, unknown>)
          : {};
      return toolGeneration([toolCallFrom(request.provider, random, tool.name, argsObject)]);
    }
  }
  if (request.json !== undefined && request.json !== false) {
    const value =
      request.json === true
        ? { answer: loremPieces(random, intBetween(random, 3, 8)).join('') }
        : sampleJsonSchema(request.json, random);
    const text = JSON.stringify(value);
    return {
      text,
      pieces: splitJson(text, 4),
      toolCalls: [],
      finish: 'stop',
      completionTokens: countTokens(text),
    };
  }
  if (scenario.content.mode === 'echo') return textGeneration(splitPieces(request.lastUserText), request);
  const length = intBetween(random, scenario.content.length.min, scenario.content.length.max);
  const capped = request.maxTokens !== undefined && length > request.maxTokens;
  const pieces = loremPieces(random, capped ? request.maxTokens! : length);
  const generation = textGeneration(pieces, request);
  if (capped && generation.stopSequence === undefined) generation.finish = 'length';
  return generation;
}
