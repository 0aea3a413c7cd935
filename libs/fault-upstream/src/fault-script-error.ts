/** A fault script that cannot be installed; `path` names the offending field, e.g. `rateLimit.windowMs`. */
export class FaultScriptError extends Error {
  override readonly name = 'FaultScriptError';
  constructor(
    readonly path: string,
    problem: string,
  ) {
    super(`invalid fault script: "${path}" ${problem}`);
  }
}
