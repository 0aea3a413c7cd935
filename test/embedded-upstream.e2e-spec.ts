import { importExampleAppModule, createTestApp } from './support/test-app.js';

/** With no OPENAI_API_KEY the example app starts the fault-injecting upstream itself (what `npm start` does). */
describe('example app without OPENAI_API_KEY', () => {
  afterEach(() => {
    delete process.env.UPSTREAM_FAULTS;
  });

  it('serves POST /chat from the embedded upstream, with its fault script', async () => {
    const AppModule = await importExampleAppModule({ OPENAI_API_KEY: '', UPSTREAM_PORT: '0', UPSTREAM_FAULTS: '{"sequence":["503","ok"]}' });
    const { EmbeddedUpstream } = await import('../src/embedded-upstream/embedded-upstream.js');
    const { app, http } = await createTestApp({ imports: [AppModule] });
    try {
      const response = await http().post('/chat').send({ message: 'Hello' }).expect(200);
      expect(response.body).toMatchObject({ model: 'gpt-4o-mini', attempts: 2 });
      const upstream = app.get(EmbeddedUpstream).upstream!;
      expect(upstream.stats()).toMatchObject({ totalRequests: 2, byOutcome: { '503': 1, '200': 1 } });
      // Stopped with the app: nothing is left listening.
      await app.close();
      await expect(fetch(`${upstream.url}/_upstream/stats`)).rejects.toThrow();
    } finally {
      await app.close();
    }
  });

  it.each([
    [{ PORT: 'eighty' }, /PORT: Invalid input: expected number/],
    [{ UPSTREAM_FAULTS: '{"sequence":["teapot"]}' }, /UPSTREAM_FAULTS: invalid fault script: "sequence\[0\]" has unknown fault "teapot"/],
    [{ OPENAI_BASE_URL: 'not a url' }, /OPENAI_BASE_URL: must be an absolute URL/],
    [{ BUDGET_DAILY_USD: '-5' }, /BUDGET_DAILY_USD: must be a dollar amount >= 0, got "-5"/],
    [{ LLM_MODEL: 'mystery-model' }, /invalid option "defaultModel": "mystery-model" has no price/],
  ])('refuses to boot with %j, naming the variable', async (env, message) => {
    const AppModule = await importExampleAppModule({ OPENAI_API_KEY: '', UPSTREAM_PORT: '0', ...env });
    await expect(createTestApp({ imports: [AppModule] })).rejects.toThrow(message);
    for (const name of Object.keys(env)) delete process.env[name];
  });
});
