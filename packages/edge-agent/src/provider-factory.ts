import {
  createAnthropicProvider,
  createAzureOpenAIProvider,
  createGeminiProvider,
  createOpenAICompatibleProvider,
  createOpenAIProvider,
  type Provider,
  type ProviderTimeouts,
} from '@llm-edge/providers';
import type { UpstreamEndpoint } from './attempt-tracing';
import type { ProviderConfig } from './config-schema';
import { AgentError } from './errors';

/** A provider the gateway can close on shutdown (adapters own keep-alive connection pools). */
export type GatewayProvider = Provider & { close?: () => Promise<void> };

// The in-process simulator accepts any non-empty key; this one is never a real credential.
const SIMULATOR_KEY = 'sk-llm-edge-simulator';

function timeouts(config: ProviderConfig): Partial<ProviderTimeouts> | undefined {
  if (config.timeouts === undefined) return undefined;
  const out: Partial<ProviderTimeouts> = {};
  if (config.timeouts.connectMs !== undefined) out.connectMs = config.timeouts.connectMs;
  if (config.timeouts.firstByteMs !== undefined) out.firstByteMs = config.timeouts.firstByteMs;
  if (config.timeouts.idleMs !== undefined) out.idleMs = config.timeouts.idleMs;
  return out;
}

/**
 * Builds one provider adapter from its config entry. `simulatorUrl` is the in-process simulator,
 * used by `type: simulator` entries that give no `url` of their own.
 */
export function createProviderFromConfig(
  name: string,
  config: ProviderConfig,
  simulatorUrl: string | undefined,
): GatewayProvider {
  const common = {
    name,
    ...(config.headers !== undefined ? { headers: config.headers } : {}),
    ...(timeouts(config) !== undefined ? { timeouts: timeouts(config) } : {}),
  };
  switch (config.type) {
    case 'openai':
      return createOpenAIProvider({
        ...common,
        apiKey: config.apiKey ?? '',
        ...(config.baseURL !== undefined ? { baseURL: config.baseURL } : {}),
        ...(config.organization !== undefined ? { organization: config.organization } : {}),
      });
    case 'openai-compatible':
      return createOpenAICompatibleProvider({
        ...common,
        baseURL: config.baseURL,
        ...(config.apiKey !== undefined ? { apiKey: config.apiKey } : {}),
      });
    case 'azure-openai':
      return createAzureOpenAIProvider({
        ...common,
        apiKey: config.apiKey ?? '',
        baseURL: config.baseURL,
        ...(config.apiVersion !== undefined ? { apiVersion: config.apiVersion } : {}),
      });
    case 'anthropic':
      return createAnthropicProvider({
        ...common,
        apiKey: config.apiKey ?? '',
        ...(config.baseURL !== undefined ? { baseURL: config.baseURL } : {}),
      });
    case 'gemini':
      return createGeminiProvider({
        ...common,
        apiKey: config.apiKey ?? '',
        ...(config.baseURL !== undefined ? { baseURL: config.baseURL } : {}),
      });
    case 'simulator': {
      const base = config.url ?? simulatorUrl;
      if (base === undefined)
        throw new AgentError('LLM_EDGE_GATEWAY_STATE', `provider "${name}": no simulator URL`);
      const apiKey = config.apiKey ?? SIMULATOR_KEY;
      if (config.api === 'anthropic') return createAnthropicProvider({ ...common, apiKey, baseURL: base });
      if (config.api === 'gemini') return createGeminiProvider({ ...common, apiKey, baseURL: base });
      return createOpenAIProvider({ ...common, apiKey, baseURL: `${base}/v1` });
    }
  }
}

const DEFAULT_HOSTS: Partial<Record<ProviderConfig['type'], string>> = {
  openai: 'https://api.openai.com',
  anthropic: 'https://api.anthropic.com',
  gemini: 'https://generativelanguage.googleapis.com',
};

/** Host and port a provider entry calls (`server.address` / `server.port` of its spans), when known. */
export function upstreamEndpoint(
  config: ProviderConfig,
  simulatorUrl: string | undefined,
): UpstreamEndpoint | undefined {
  const base =
    config.type === 'simulator'
      ? (config.url ?? simulatorUrl)
      : (config.baseURL ?? DEFAULT_HOSTS[config.type]);
  if (base === undefined || !URL.canParse(base)) return undefined;
  const url = new URL(base);
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  return { address: url.hostname, port };
}
