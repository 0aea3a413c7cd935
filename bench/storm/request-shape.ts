import { randomUUID } from 'node:crypto';

/** The output cap every strategy sends, so that a tokens-per-minute limit counts 64, not the 4096 of a request without one. */
export const MAX_TOKENS = 64;

/**
 * The header the upstream tells retries from first attempts by: one id per logical request, the
 * same on each of its attempts (the retry-waste column counts the prompts of abandoned retries).
 */
export const LOGICAL_REQUEST_HEADER = 'x-logical-request';

/** Headers for one logical request: a fresh id, to be sent on every attempt of it. */
export const logicalRequestHeaders = (): Record<string, string> => ({ [LOGICAL_REQUEST_HEADER]: randomUUID() });
