const MARKER = Symbol.for('llm-edge.agent.error');

/** Stable codes of {@link AgentError}. */
export type AgentErrorCode =
  | 'LLM_EDGE_CONFIG_INVALID'
  | 'LLM_EDGE_CONFIG_READ'
  | 'LLM_EDGE_CONFIG_ENV'
  | 'LLM_EDGE_GATEWAY_STATE'
  | 'LLM_EDGE_CLI_USAGE';

/** One problem found in a configuration: the dotted path of the bad field and what is wrong. */
export interface ConfigIssue {
  /** Dotted path of the field, e.g. `providers.openai.apiKey` (empty for the document root). */
  path: string;
  /** What is wrong with it. */
  message: string;
}

/** Every error the agent raises itself; identity through {@link AgentError.isInstance}. */
export class AgentError extends Error {
  /** Stable code a caller can branch on. */
  readonly code: AgentErrorCode;
  /** For configuration errors: each bad field with its path. */
  readonly issues: readonly ConfigIssue[];
  readonly [MARKER] = true;

  constructor(
    code: AgentErrorCode,
    message: string,
    options: { cause?: unknown; issues?: ConfigIssue[] } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'AgentError';
    this.code = code;
    this.issues = Object.freeze([...(options.issues ?? [])]);
  }

  /** True for an AgentError from any installed copy of this package. */
  static isInstance(error: unknown): error is AgentError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[MARKER] === true;
  }
}
