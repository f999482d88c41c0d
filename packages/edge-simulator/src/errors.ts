const SIMULATOR_ERROR_MARKER = Symbol.for('llm-edge.simulator.error');

/** Stable codes carried by {@link SimulatorError}. */
export type SimulatorErrorCode =
  | 'LLM_EDGE_SIM_INVALID_OPTIONS'
  | 'LLM_EDGE_SIM_INVALID_SCENARIO'
  | 'LLM_EDGE_SIM_SCENARIO_FILE'
  | 'LLM_EDGE_SIM_LISTEN_FAILED';

/** One problem found while validating options or a scenario: where, and what is wrong. */
export interface SimulatorIssue {
  /** Dotted path of the bad field, e.g. `faults.0.probability`. */
  path: string;
  /** What is wrong with it. */
  message: string;
}

/** The error thrown by the simulator's programmatic API (never sent over HTTP). */
export class SimulatorError extends Error {
  /** Stable machine-readable code. */
  readonly code: SimulatorErrorCode;
  /** The fields at fault, for validation errors. */
  readonly issues: readonly SimulatorIssue[];

  constructor(
    code: SimulatorErrorCode,
    message: string,
    options: { cause?: unknown; issues?: readonly SimulatorIssue[] } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'SimulatorError';
    this.code = code;
    this.issues = options.issues ?? [];
    Object.defineProperty(this, SIMULATOR_ERROR_MARKER, { value: true });
  }

  /** True for a SimulatorError from any installed copy of this package. */
  static isInstance(value: unknown): value is SimulatorError {
    return (
      typeof value === 'object' &&
      value !== null &&
      (value as Record<symbol, unknown>)[SIMULATOR_ERROR_MARKER] === true
    );
  }
}
