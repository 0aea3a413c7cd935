import { ProxyTracerProvider, trace } from '@opentelemetry/api';

// What the API's global provider delegates to until an SDK registers one.
const NO_SDK = new ProxyTracerProvider().getDelegate();

/**
 * An OpenTelemetry SDK is registered. Without one every span is a no-op: its attributes need not
 * be built, nor a context made to carry it. Another copy of the API's provider counts as an SDK.
 */
export function sdkRegistered(): boolean {
  const provider = trace.getTracerProvider();
  return !(provider instanceof ProxyTracerProvider) || provider.getDelegate() !== NO_SDK;
}
