import { context, metrics, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { MeterProvider, MetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';

class CollectOnDemand extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

/** The real OpenTelemetry SDK, registered globally, exporting to memory. */
export function installTestTelemetry() {
  const spans = new InMemorySpanExporter();
  const tracerProvider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: spans })] });
  const reader = new CollectOnDemand();
  const meterProvider = new MeterProvider({ readers: [reader] });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(tracerProvider);
  metrics.setGlobalMeterProvider(meterProvider);
  return {
    spans,
    /** Finished spans, once the processor has handed them all to the exporter (it may do so asynchronously). */
    async finishedSpans(): Promise<ReadableSpan[]> {
      await tracerProvider.forceFlush();
      return spans.getFinishedSpans();
    },
    async metrics(): Promise<ResourceMetrics> {
      return (await reader.collect()).resourceMetrics;
    },
  };
}

export interface SpanNode {
  name: string;
  durationMs: number;
  attributes: Record<string, unknown>;
  events: Array<{ name: string; attributes: Record<string, unknown> }>;
  status: number;
  kind: number;
  children: SpanNode[];
}

const toMs = ([seconds, nanos]: [number, number]) => seconds * 1_000 + nanos / 1_000_000;

/** Finished spans as trees (roots first), children in start-time order. */
export function spanTrees(spans: ReadableSpan[]): SpanNode[] {
  const byId = new Map<string, SpanNode & { start: number; parent?: string }>();
  for (const span of spans) {
    byId.set(span.spanContext().spanId, {
      name: span.name,
      start: toMs(span.startTime),
      durationMs: Math.round(toMs(span.duration)),
      attributes: { ...span.attributes },
      events: span.events.map((event) => ({ name: event.name, attributes: { ...event.attributes } })),
      status: span.status.code,
      kind: span.kind,
      children: [],
      parent: span.parentSpanContext?.spanId,
    });
  }
  const roots: Array<SpanNode & { start: number }> = [];
  for (const node of byId.values()) {
    const parent = node.parent ? byId.get(node.parent) : undefined;
    (parent ? parent.children : roots).push(node);
  }
  const order = (nodes: SpanNode[]) => (nodes as Array<SpanNode & { start: number }>).sort((a, b) => a.start - b.start).forEach((n) => order(n.children));
  order(roots);
  const clean = (node: SpanNode & { start?: number; parent?: string }): SpanNode => {
    const { start: _start, parent: _parent, ...rest } = node;
    return { ...rest, children: rest.children.map(clean) };
  };
  return roots.map(clean);
}

/** Just the names, nested: `['resilient_llm.call', [['resilient_llm.attempt', []]]]`. */
export const shape = (node: SpanNode): unknown => [node.name, node.children.map(shape)];

export function metricValue(resourceMetrics: ResourceMetrics, name: string, attributes: Record<string, unknown> = {}): number {
  let total = 0;
  for (const scope of resourceMetrics.scopeMetrics) {
    for (const metric of scope.metrics) {
      if (metric.descriptor.name !== name) continue;
      for (const point of metric.dataPoints) {
        if (!Object.entries(attributes).every(([key, value]) => point.attributes[key] === value)) continue;
        const value = point.value as number | { count: number };
        total += typeof value === 'number' ? value : value.count;
      }
    }
  }
  return total;
}
