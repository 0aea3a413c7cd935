/**
 * Where @nestjs/common's route decorators keep what they say of a handler (its constants
 * module is not part of the package's public entry point).
 */
export const PATH_METADATA = 'path';
export const SSE_METADATA = '__sse__';
