interface NodeRequestLike {
  rawHeaders?: unknown;
  headers?: Record<string, string | string[] | undefined>;
  /** Fastify keeps Node's request here. */
  raw?: { rawHeaders?: unknown };
}

/**
 * How many times a request header was sent. Node joins the repeats of most headers into one
 * string (`a, b`) and keeps only the first of a few (`authorization`): only `rawHeaders`, on
 * Express's request or on Fastify's `request.raw`, tells one header from two.
 */
export function headerOccurrences(request: unknown, name: string): number {
  const candidate = (request ?? {}) as NodeRequestLike;
  const raw = Array.isArray(candidate.rawHeaders) ? candidate.rawHeaders : Array.isArray(candidate.raw?.rawHeaders) ? candidate.raw.rawHeaders : undefined;
  const wanted = name.toLowerCase();
  if (!raw) {
    const value = candidate.headers?.[wanted];
    return value === undefined ? 0 : Array.isArray(value) ? value.length : 1;
  }
  let count = 0;
  // [name, value, name, value, ...]
  for (let index = 0; index < raw.length; index += 2) {
    if (typeof raw[index] === 'string' && (raw[index] as string).toLowerCase() === wanted) count++;
  }
  return count;
}
