import { diag } from '@opentelemetry/api';
import { OTLPTraceExporter as OtlpGrpcTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as OtlpJsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpProtobufTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { NestInstrumentation } from '@opentelemetry/instrumentation-nestjs-core';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { register } from 'node:module';

const PROTOCOLS = ['http/protobuf', 'http/json', 'grpc'] as const;
type Protocol = (typeof PROTOCOLS)[number];

let sdk: NodeSDK | undefined;

function exporterFor(protocol: Protocol) {
  if (protocol === 'grpc') return new OtlpGrpcTraceExporter();
  if (protocol === 'http/json') return new OtlpJsonTraceExporter();
  return new OtlpProtobufTraceExporter();
}

/**
 * The example app's OpenTelemetry SDK: traces over OTLP to `OTEL_EXPORTER_OTLP_ENDPOINT`
 * (default http://localhost:4318, i.e. Jaeger), in `OTEL_EXPORTER_OTLP_PROTOCOL`
 * (`http/protobuf` default, `http/json`, `grpc`), as `OTEL_SERVICE_NAME`; off with
 * `OTEL_SDK_DISABLED=true`. Call it before Nest is loaded, so that HTTP and Nest get instrumented.
 */
export function startTracing(env: NodeJS.ProcessEnv = process.env): NodeSDK | undefined {
  if (env.OTEL_SDK_DISABLED === 'true') return undefined;
  const protocol = (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf') as Protocol;
  if (!PROTOCOLS.includes(protocol)) {
    throw new Error(`OTEL_EXPORTER_OTLP_PROTOCOL must be one of ${PROTOCOLS.join(', ')}, got "${protocol}"`);
  }
  // Nest 12 is ESM: its instrumentation needs the import hook, registered before Nest loads.
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
  sdk = new NodeSDK({
    serviceName: env.OTEL_SERVICE_NAME ?? 'resilient-llm-example',
    traceExporter: exporterFor(protocol),
    // Jaeger takes traces only: metrics and logs are exported when asked for (OTEL_METRICS_EXPORTER=otlp).
    ...(env.OTEL_METRICS_EXPORTER === undefined && { metricReaders: [] }),
    logRecordProcessors: [],
    instrumentations: [new HttpInstrumentation(), new NestInstrumentation()],
  });
  sdk.start();
  diag.debug(`Tracing to ${env.OTEL_EXPORTER_OTLP_ENDPOINT ?? 'http://localhost:4318'} over ${protocol}`);
  return sdk;
}

/** Flushes what is buffered and stops the SDK (on application shutdown). */
export async function stopTracing(): Promise<void> {
  const running = sdk;
  sdk = undefined;
  await running?.shutdown();
}
