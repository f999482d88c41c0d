const MONITORING_ERROR_MARKER = Symbol.for('llm-edge.monitoring.error');

/** Stable codes carried by every error this package throws. */
export type MonitoringErrorCode = 'LLM_EDGE_MONITORING_INVALID_OPTION';

function hasMarker(value: unknown): value is MonitoringError {
  return typeof value === 'object' && value !== null && MONITORING_ERROR_MARKER in value;
}

/**
 * Base class of the errors thrown by `@llm-edge/monitoring`; identify them with `isInstance()`, which
 * works across two installed copies of the package.
 *
 * Only construction throws: recorders, loggers and span helpers never throw into a request.
 */
export class MonitoringError extends Error {
  /** Stable, documented error code. */
  readonly code: MonitoringErrorCode;
  readonly [MONITORING_ERROR_MARKER] = true;

  constructor(code: MonitoringErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MonitoringError';
    this.code = code;
  }

  /** True when `error` is any error thrown by this package. */
  static isInstance(error: unknown): error is MonitoringError {
    return hasMarker(error);
  }
}

/** Thrown at construction when an option is invalid; `field` names the offending option. */
export class InvalidMonitoringOptionError extends MonitoringError {
  /** The option path that failed validation, e.g. `buckets.latencySeconds`. */
  readonly field: string;

  constructor(field: string, reason: string, options?: { cause?: unknown }) {
    super('LLM_EDGE_MONITORING_INVALID_OPTION', `Invalid option "${field}": ${reason}`, options);
    this.name = 'InvalidMonitoringOptionError';
    this.field = field;
  }

  /** True when `error` is an {@link InvalidMonitoringOptionError} from any copy of this package. */
  static override isInstance(error: unknown): error is InvalidMonitoringOptionError {
    return hasMarker(error) && error.code === 'LLM_EDGE_MONITORING_INVALID_OPTION';
  }
}
