/**
 * The upstream's own JSON text of answers the provider returned as they were parsed, keyed by the
 * answer object. A gateway that sends such an answer on to an OpenAI-format client can send these
 * bytes instead of serialising the object again, which cost ~4 % of a non-streamed request.
 */
const texts = new WeakMap<object, string>();

/** Records that `answer` is what `text` parses to (nothing added, renamed or removed). */
export function keepUpstreamJsonText(answer: object, text: string): void {
  texts.set(answer, text);
}

/**
 * The JSON text the upstream sent for `answer`, when the provider returned the parsed answer
 * unchanged (an OpenAI-family chat completion needing no filled-in field, or an embeddings answer
 * that passed the structural check); otherwise undefined. `JSON.parse` of the text gives an object
 * equal to `answer`, but the text is the upstream's as sent, which `JSON.stringify(answer)` would
 * have normalised: whitespace and escapes; number spellings (`5.0`, `1e2`, digits past a double's
 * precision); and a repeated key, of which `JSON.parse`, and so the provider's check, kept only
 * the last. A client reading the text gets what it would get from the upstream directly.
 *
 * It describes the answer as the provider returned it: a caller that modifies the answer must not
 * use it afterwards.
 *
 * @example
 * const answer = await provider.chat(request);
 * reply.type('application/json').send(upstreamJsonText(answer) ?? JSON.stringify(answer));
 */
export function upstreamJsonText(answer: object): string | undefined {
  return texts.get(answer);
}
