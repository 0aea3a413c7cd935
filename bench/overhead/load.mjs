// Runs autocannon against one URL in its own process (the other core) and prints the figures as JSON.
// Usage: node load.mjs <url> <seconds> <connections> [idempotent]
import autocannon from 'autocannon';
import { randomUUID } from 'node:crypto';

const [url, seconds, connections, idempotent] = process.argv.slice(2);
const result = await autocannon({
  url,
  method: 'POST',
  duration: Number(seconds),
  connections: Number(connections),
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ message: 'Hello' }),
  // A fresh key per request: every one is a first request, the expensive path of the protocol.
  requests: idempotent === 'idempotent' ? [{ setupRequest: (request) => ({ ...request, headers: { ...request.headers, 'idempotency-key': randomUUID() } }) }] : undefined,
});
console.log(
  JSON.stringify({
    requestsPerSec: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    total: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  }),
);
