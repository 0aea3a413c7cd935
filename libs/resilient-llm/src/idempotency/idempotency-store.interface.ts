export interface StoredResponse {
  statusCode: number;
  headers: Record<string, string>;
  /** JSON text of the body. */
  body: string;
  kind: 'value' | 'error';
}

export interface IdempotencyClaim {
  id: string;
  scope: string;
  key: string;
  fingerprint: string;
  owner: string;
  nowMs: number;
  leaseExpiresAt: number;
  expiresAt: number;
}

export type ClaimResult =
  | { outcome: 'acquired' }
  | { outcome: 'in_progress'; fingerprint: string }
  | { outcome: 'completed'; fingerprint: string; response: StoredResponse };

/** Where idempotency records live. Each method is one atomic statement (or a read). */
export interface IdempotencyStore {
  /** Takes the key for `owner`: fresh, expired, or held by a dead executor (lease over). Else says who has it. */
  claim(claim: IdempotencyClaim): Promise<ClaimResult>;
  /** Stores the response, if `owner` still holds the key. */
  complete(id: string, owner: string, response: StoredResponse): Promise<boolean>;
  /** Gives the key up (a 5xx, or a response that is not stored), if `owner` still holds it. */
  release(id: string, owner: string): Promise<void>;
  /** Deletes records past their expiry; how many. */
  purgeExpired(nowMs: number): Promise<number>;
}

/** Injection token of the IdempotencyStore; override it to keep records elsewhere. */
export const RESILIENT_LLM_IDEMPOTENCY_STORE = 'RESILIENT_LLM:IDEMPOTENCY_STORE';
