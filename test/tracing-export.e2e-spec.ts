import { FaultUpstream } from '@app/fault-upstream';
import { decodeTraceRequest } from './support/otlp-protobuf.js';
import { startOtlpReceiver } from './support/otlp-receiver.js';
import { createTestApp, importExampleAppModule } from './support/test-app.js';

/**
 * The example app's own tracing setup (src/tracing.ts) exporting OTLP/HTTP protobuf, the wire
 * format Jaeger ingests, to a receiver on loopback; the test decodes what arrived.
 */
describe('OTLP export of the example app', () => {
  it('sends the span tree of a retried call, under the service name, to the OTLP endpoint', async () => {
    const receiver = await startOtlpReceiver();
    const upstream = await FaultUpstream.start({ faults: { sequence: ['503', 'ok'] } });
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.url;
    process.env.OTEL_SERVICE_NAME = 'resilient-llm-export-test';
    const { startTracing, stopTracing } = await import('../src/tracing.js');
    startTracing();
    try {
      const AppModule = await importExampleAppModule({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: upstream.baseURL });
      const { app, http } = await createTestApp({ imports: [AppModule] });
      await http().post('/chat').send({ message: 'Hello' }).expect(200);
      await app.close(); // the app's shutdown flushes the SDK
    } finally {
      await stopTracing();
      await upstream.stop();
      await receiver.stop();
    }

    const traces = receiver.received.filter((request) => request.path === '/v1/traces');
    expect(traces.length).toBeGreaterThan(0);
    expect(traces.every((request) => request.contentType === 'application/x-protobuf')).toBe(true);
    const spans = traces.flatMap((request) => decodeTraceRequest(request.body));

    const call = spans.find((span) => span.name === 'resilient_llm.call')!;
    expect(call).toBeDefined();
    expect(call.resource['service.name']).toBe('resilient-llm-export-test');
    expect(call.scope).toBe('@resilient-llm/nestjs');
    expect(call.attributes).toMatchObject({ 'resilient_llm.outcome': 'success', 'resilient_llm.attempts': 2 });
    const children = spans.filter((span) => span.parentSpanId === call.spanId).sort((a, b) => Number(a.startNanos - b.startNanos));
    expect(children.map((span) => span.name)).toEqual(['resilient_llm.attempt', 'resilient_llm.backoff', 'resilient_llm.attempt']);
    expect(children[0]).toMatchObject({ statusCode: 2, attributes: expect.objectContaining({ 'error.type': '503' }) });
    expect(children[2].attributes).toMatchObject({ 'gen_ai.usage.output_tokens': 24, 'http.request.resend_count': 1 });
    // The call is a child of the incoming request's server span (HTTP instrumentation), in one trace.
    const parent = spans.find((span) => span.spanId === call.parentSpanId);
    expect(parent).toMatchObject({ kind: 2, traceId: call.traceId, attributes: expect.objectContaining({ 'http.request.method': 'POST' }) });
  });
});
