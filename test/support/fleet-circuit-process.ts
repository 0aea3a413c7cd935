// A replica as an OS process of its own, for the fleet circuit tests. It prints every circuit
// state it hears from other replicas as `CIRCUIT <json>`, and publishes one on each stdin line
// `OPEN <key> <openedAt>`. Run with `node --import tsx`; FLEET_REDIS_URL and FLEET_PREFIX set.
import { createInterface } from 'node:readline';
import { RedisFleetLink, resolveFleetOptions } from '../../libs/resilient-llm/src/storm/fleet/index.js';

const options = resolveFleetOptions({ redis: process.env.FLEET_REDIS_URL, keyPrefix: process.env.FLEET_PREFIX });
const link = new RedisFleetLink(options, { logger: { warn: (message) => console.error(message), log: (message) => console.error(message) } });

link.onCircuit((key, snapshot, origin) => process.stdout.write(`CIRCUIT ${JSON.stringify({ key, snapshot, origin })}\n`));
process.stdout.write(`READY ${link.instanceId}\n`);

for await (const line of createInterface({ input: process.stdin })) {
  const [command, key, openedAt] = line.split(' ');
  if (command !== 'OPEN') continue;
  await link.publishCircuit(key, { state: 'open', openedAt: Number(openedAt) });
  process.stdout.write(`PUBLISHED ${key}\n`);
}
await link.close();
