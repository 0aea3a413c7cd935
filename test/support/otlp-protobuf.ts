/**
 * Just enough of the protobuf wire format to read an OTLP ExportTraceServiceRequest
 * (opentelemetry/proto/collector/trace/v1): resources, spans, attributes, events, status.
 */
type Field = { number: number; wireType: number; value: bigint | Buffer };

function readVarint(buffer: Buffer, offset: number): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    const byte = buffer[offset++];
    result |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return [result, offset];
    shift += 7n;
  }
}

function fields(buffer: Buffer): Field[] {
  const out: Field[] = [];
  let offset = 0;
  while (offset < buffer.length) {
    const [tag, next] = readVarint(buffer, offset);
    offset = next;
    const number = Number(tag >> 3n);
    const wireType = Number(tag & 7n);
    if (wireType === 0) {
      const [value, after] = readVarint(buffer, offset);
      out.push({ number, wireType, value });
      offset = after;
    } else if (wireType === 1) {
      out.push({ number, wireType, value: buffer.subarray(offset, offset + 8) });
      offset += 8;
    } else if (wireType === 2) {
      const [length, after] = readVarint(buffer, offset);
      out.push({ number, wireType, value: buffer.subarray(after, after + Number(length)) });
      offset = after + Number(length);
    } else if (wireType === 5) {
      out.push({ number, wireType, value: buffer.subarray(offset, offset + 4) });
      offset += 4;
    } else {
      throw new Error(`unsupported wire type ${wireType}`);
    }
  }
  return out;
}

const all = (buffer: Buffer, number: number) => fields(buffer).filter((f) => f.number === number).map((f) => f.value as Buffer);
const first = (buffer: Buffer, number: number) => fields(buffer).find((f) => f.number === number)?.value;

function anyValue(buffer: Buffer): unknown {
  const [field] = fields(buffer);
  if (!field) return undefined;
  switch (field.number) {
    case 1:
      return (field.value as Buffer).toString('utf8');
    case 2:
      return field.value !== 0n;
    case 3:
      return Number(BigInt.asIntN(64, field.value as bigint));
    case 4:
      return (field.value as Buffer).readDoubleLE(0);
    default:
      return '(unsupported)';
  }
}

function attributes(buffer: Buffer, number: number): Record<string, unknown> {
  return Object.fromEntries(
    all(buffer, number).map((keyValue) => [(first(keyValue, 1) as Buffer).toString('utf8'), anyValue((first(keyValue, 2) as Buffer) ?? Buffer.alloc(0))]),
  );
}

export interface DecodedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  startNanos: bigint;
  endNanos: bigint;
  attributes: Record<string, unknown>;
  events: Array<{ name: string; attributes: Record<string, unknown> }>;
  statusCode: number;
  resource: Record<string, unknown>;
  scope: string;
}

export function decodeTraceRequest(body: Buffer): DecodedSpan[] {
  const spans: DecodedSpan[] = [];
  for (const resourceSpans of all(body, 1)) {
    const resourceBuffer = first(resourceSpans, 1) as Buffer | undefined;
    const resource = resourceBuffer ? attributes(resourceBuffer, 1) : {};
    for (const scopeSpans of all(resourceSpans, 2)) {
      const scopeBuffer = first(scopeSpans, 1) as Buffer | undefined;
      const scope = scopeBuffer ? ((first(scopeBuffer, 1) as Buffer | undefined)?.toString('utf8') ?? '') : '';
      for (const span of all(scopeSpans, 2)) {
        const statusBuffer = first(span, 15) as Buffer | undefined;
        spans.push({
          traceId: (first(span, 1) as Buffer).toString('hex'),
          spanId: (first(span, 2) as Buffer).toString('hex'),
          parentSpanId: ((first(span, 4) as Buffer | undefined) ?? Buffer.alloc(0)).toString('hex'),
          name: (first(span, 5) as Buffer).toString('utf8'),
          kind: Number((first(span, 6) as bigint | undefined) ?? 0n),
          startNanos: (first(span, 7) as Buffer).readBigUInt64LE(0),
          endNanos: (first(span, 8) as Buffer).readBigUInt64LE(0),
          attributes: attributes(span, 9),
          events: all(span, 11).map((event) => ({ name: (first(event, 2) as Buffer).toString('utf8'), attributes: attributes(event, 3) })),
          statusCode: statusBuffer ? Number((first(statusBuffer, 3) as bigint | undefined) ?? 0n) : 0,
          resource,
          scope,
        });
      }
    }
  }
  return spans;
}
