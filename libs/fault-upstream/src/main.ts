import { FaultUpstream } from './fault-upstream.server.js';

// `npm run upstream`: the fault-injecting upstream as a standalone server.
const port = Number(process.env.UPSTREAM_PORT ?? 4010);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`UPSTREAM_PORT must be a port number (0-65535), got "${process.env.UPSTREAM_PORT}"`);
  process.exit(1);
}
try {
  const upstream = await FaultUpstream.start({ port, faults: process.env.UPSTREAM_FAULTS });
  console.log(`Fault-injecting upstream listening on ${upstream.url}`);
  console.log(`  OpenAI base URL:  ${upstream.baseURL}`);
  console.log('  endpoints:        POST /v1/chat/completions and /v1/responses (plain or streamed), POST /v1/embeddings');
  console.log(`  stats:            curl ${upstream.url}/_upstream/stats`);
  console.log(`  new fault script: curl -X PUT ${upstream.url}/_upstream/faults -d '{"sequence":["503","ok"]}'`);
  const shutdown = () => void upstream.stop().then(() => process.exit(0));
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}
