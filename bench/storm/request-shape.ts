import { randomUUID } from 'node:crypto';
import { LOGICAL_REQUEST_HEADER } from '@app/fault-upstream';

/** The output cap every strategy sends, so that a tokens-per-minute limit counts 64, not the 4096 of a request without one. */
export const MAX_TOKENS = 64;

/**
 * Headers for one logical request: a fresh id under the header the upstream tells retries from
 * first attempts by, to be sent on every attempt of it (the retry-waste column counts the prompts
 * of abandoned retries).
 */
export const logicalRequestHeaders = (): Record<string, string> => ({ [LOGICAL_REQUEST_HEADER]: randomUUID() });
