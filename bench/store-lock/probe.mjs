// Drives the app from another process for `seconds`: `askers` loops of POST /ask (each meets the
// store's lock) and one GET /ping every 10 ms, whose latencies it prints as JSON.
const [base, seconds, askers] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
const until = performance.now() + seconds * 1000;
const pings = [];
const asks = { total: 0, byStatus: {} };

async function ask() {
  while (performance.now() < until) {
    const response = await fetch(`${base}/ask`, { method: 'POST' });
    await response.arrayBuffer();
    asks.total++;
    asks.byStatus[response.status] = (asks.byStatus[response.status] ?? 0) + 1;
  }
}

async function ping() {
  while (performance.now() < until) {
    const startedAt = performance.now();
    const response = await fetch(`${base}/ping`);
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`GET /ping answered ${response.status}`);
    pings.push(performance.now() - startedAt);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

await Promise.all([ping(), ...Array.from({ length: askers }, ask)]);
console.log(JSON.stringify({ pings, asks }));
