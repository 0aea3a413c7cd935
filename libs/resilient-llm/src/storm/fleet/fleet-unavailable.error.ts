import { hasBrand } from '../../errors/brand.js';

const brand = Symbol.for('resilient-llm.FleetUnavailableError');

/**
 * Redis did not answer within the command timeout, is not connected, or refused the command.
 * Internal: callers catch it and carry on with their local state. `sent` is false when the
 * command never left this process, so that a caller may safely try its change again later.
 */
export class FleetUnavailableError extends Error {
  readonly [brand] = true;
  override readonly name = 'FleetUnavailableError';

  constructor(
    message: string,
    readonly sent: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const isFleetUnavailableError = (error: unknown): error is FleetUnavailableError => hasBrand(error, brand);
