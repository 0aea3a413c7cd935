import { FaultUpstream } from '@app/fault-upstream';
import { BudgetGuard } from '@resilient-llm/nestjs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TOKENS_PER_CALL, budgetModule } from './apps/budget.app.js';
import { HTTP_ADAPTERS, type TestApp, createTestApp } from './support/test-app.js';

const CALLERS = 100;
const FITS = 80;
// One warm-up call, then room for FITS more.
const LIMIT_MICRO = (FITS + 1) * TOKENS_PER_CALL;

/**
 * Callers who hang up while their request is with the provider: the provider still answers, and
 * bills, what it was sent. Every such attempt is paid for in the ledger (its worst case, as
 * waste: nobody saw what it used), so what was billed is never more than what the ledger says.
 */
describe.each(HTTP_ADAPTERS)(`${CALLERS} callers who disconnect mid-request, on %s`, (adapter) => {
  let upstream: FaultUpstream;
  let app: TestApp;
  let url: string;

  beforeEach(async () => {
    upstream = await FaultUpstream.start();
    app = await createTestApp(
      { imports: [budgetModule({ client: { apiKey: 't', baseURL: upstream.baseURL }, budget: { limits: { dailyUsd: LIMIT_MICRO / 1_000_000 } }, storage: { database: ':memory:' } })] },
      undefined,
      adapter,
    );
    await app.app.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${((app.app.getHttpServer() as unknown as Server).address() as AddressInfo).port}/ask`;
    // Warm: the tokenizer loaded, the windows stored, so that the callers' requests reach the provider before they hang up.
    expect((await fetch(url, { method: 'POST' })).status).toBe(200);
    upstream.resetStats();
    // The provider takes 2 s (real time) to answer; callers hang up before that.
    upstream.setFaults({ latencyMs: [2_000, 2_000] });
  });
  afterEach(async () => {
    await app.app.close();
    await upstream.stop();
  });

  it('the ledger counts at least what the upstream billed for them, and spends no more than the limit', async () => {
    // Callers hang up together, 150 ms after the provider has all the requests the budget admitted
    // (on a loaded machine getting there takes a while: one event loop runs the app, the provider and the callers).
    const hangUp = new AbortController();
    let answered = 0;
    const outcomes = Promise.all(
      Array.from({ length: CALLERS }, () =>
        fetch(url, { method: 'POST', signal: hangUp.signal }).then(
          (response) => {
            answered++;
            return String(response.status);
          },
          () => 'hung up',
        ),
      ),
    );
    await vi.waitFor(() => expect(upstream.stats().totalRequests).toBe(FITS), { timeout: 20_000, interval: 5 });
    // The refused callers have their answer before anyone hangs up (some are refused only when their request would not fit).
    await vi.waitFor(() => expect(answered).toBeGreaterThanOrEqual(CALLERS - FITS), { timeout: 20_000, interval: 5 });
    await new Promise((resolve) => setTimeout(resolve, 150));
    hangUp.abort();
    // The ones the budget could not hold were refused; the others were with the provider when their caller left.
    expect((await outcomes).sort()).toEqual([...Array<string>(CALLERS - FITS).fill('429'), ...Array<string>(FITS).fill('hung up')].sort());

    const guard = app.app.get(BudgetGuard);
    // The provider answers the abandoned requests all the same (into closed sockets), and bills them.
    await vi.waitFor(() => expect(upstream.stats()).toMatchObject({ inFlight: 0, byOutcome: { '200': upstream.stats().totalRequests } }), { timeout: 20_000 });
    await vi.waitFor(async () => expect((await guard.status()).windows[0].reservedMicroUsd).toBe(0), { timeout: 20_000 });
    const stats = upstream.stats();
    const billedMicro = stats.servedTokens.input + stats.servedTokens.output + stats.abandonedPromptTokens;
    const [window] = (await guard.status()).windows;
    const callersMicro = window.spentMicroUsd - TOKENS_PER_CALL; // without the warm-up call
    console.info(
      `${adapter}: ${FITS} callers hung up with their request at the provider, which billed ${billedMicro}; ` +
        `the ledger charged them ${callersMicro} (waste ${window.wasteMicroUsd}); spent ${window.spentMicroUsd} of ${window.limitMicroUsd}`,
    );
    expect(billedMicro).toBe(FITS * TOKENS_PER_CALL);
    expect(callersMicro).toBeGreaterThanOrEqual(billedMicro);
    expect(window.spentMicroUsd).toBeLessThanOrEqual(window.limitMicroUsd);
    // Nobody used those answers: what they cost is waste (unless one was answered just before its caller left, on a slow machine).
    expect(window.wasteMicroUsd).toBeGreaterThan(0);
    expect(window.wasteMicroUsd).toBeLessThanOrEqual(callersMicro);
  });
});
