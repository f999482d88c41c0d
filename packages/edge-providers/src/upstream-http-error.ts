import { ProviderError, type ProviderErrorKind } from './errors';

/** What a provider's error mapper read from an HTTP error answer. */
export interface UpstreamHttpErrorFields {
  kind: ProviderErrorKind;
  /** The mapper's own verdict; `x-should-retry` from the upstream overrides it. */
  retryable?: boolean;
  retryAfterMs?: number;
  providerMessage?: string;
  providerType?: string;
  param?: string;
}

/**
 * Builds the ProviderError of an HTTP error answer, the same way for every provider whose SDK
 * honours `x-should-retry` (OpenAI, Anthropic): the header, when the upstream sends it, decides
 * whether a retry can help, over the mapper's reading of the body.
 */
export function upstreamHttpError(
  provider: string,
  response: { status: number; headers: Record<string, string>; bodyText: string },
  fields: UpstreamHttpErrorFields,
): ProviderError {
  let retryable = fields.retryable;
  const shouldRetry = response.headers['x-should-retry'];
  if (shouldRetry === 'true') retryable = true;
  if (shouldRetry === 'false') retryable = false;
  return new ProviderError({
    provider,
    kind: fields.kind,
    status: response.status,
    message: `${provider} answered ${response.status}${fields.providerMessage ? `: ${fields.providerMessage}` : ''}`,
    headers: response.headers,
    body: response.bodyText,
    ...(retryable === undefined ? {} : { retryable }),
    ...(fields.retryAfterMs === undefined ? {} : { retryAfterMs: fields.retryAfterMs }),
    ...(fields.providerMessage === undefined ? {} : { providerMessage: fields.providerMessage }),
    ...(fields.providerType ? { providerType: fields.providerType } : {}),
    ...(fields.param === undefined ? {} : { param: fields.param }),
  });
}
