import type { ReceivedServiceSpan } from './otlp-receiver';

/**
 * OTLP/HTTP protobuf for the harness's trace receiver: a small reader of the protobuf wire format
 * (varint, 64-bit, length-delimited and 32-bit fields; groups are refused) and the walk of an
 * `ExportTraceServiceRequest` down to the span facts the JSON path reads. Only the fields used are
 * decoded; every other field is skipped by its wire type, so newer OTLP fields do not disturb it.
 * Pure: a truncated or malformed body is an `OtlpProtobufError` saying where it broke.
 *
 * Field numbers (opentelemetry-proto, trace/v1 and common/v1):
 *   ExportTraceServiceRequest  1 resource_spans
 *   ResourceSpans              1 resource, 2 scope_spans
 *   Resource                   1 attributes (KeyValue)
 *   KeyValue                   1 key, 2 value (AnyValue: 1 string_value, others ignored)
 *   ScopeSpans                 2 spans
 *   Span                       1 trace_id, 2 span_id, 4 parent_span_id, 5 name, 6 kind, 8 end_time_unix_nano (fixed64)
 */

export class OtlpProtobufError extends Error {
  override readonly name = 'OtlpProtobufError';
}

/** One field of a message: its number, and its payload by wire type. */
export type WireField =
  | { readonly field: number; readonly wire: 0; readonly varint: bigint }
  | { readonly field: number; readonly wire: 1; readonly fixed64: bigint }
  | { readonly field: number; readonly wire: 2; readonly bytes: Buffer }
  | { readonly field: number; readonly wire: 5; readonly fixed32: number };

/** The fields of one message, in order. `what` names the message in errors. */
export function wireFields(buf: Buffer, what: string): WireField[] {
  const out: WireField[] = [];
  let pos = 0;
  const varint = (): bigint => {
    let value = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (pos >= buf.length) throw new OtlpProtobufError(`${what}: truncated varint at byte ${pos} of ${buf.length}`);
      const b = buf[pos++]!;
      value |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return value;
      shift += 7n;
    }
    throw new OtlpProtobufError(`${what}: varint longer than 10 bytes at byte ${pos}`);
  };
  const take = (n: number, kind: string): Buffer => {
    if (n > buf.length - pos) throw new OtlpProtobufError(`${what}: truncated ${kind} at byte ${pos}: ${n} bytes announced, ${buf.length - pos} left`);
    const slice = buf.subarray(pos, pos + n);
    pos += n;
    return slice;
  };
  while (pos < buf.length) {
    const at = pos;
    const key = varint();
    const field = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (field === 0) throw new OtlpProtobufError(`${what}: field number 0 at byte ${at} (not protobuf, or a corrupted body)`);
    switch (wire) {
      case 0:
        out.push({ field, wire, varint: varint() });
        break;
      case 1:
        out.push({ field, wire, fixed64: take(8, 'fixed64').readBigUInt64LE(0) });
        break;
      case 2: {
        const len = varint();
        if (len > BigInt(buf.length)) throw new OtlpProtobufError(`${what}: truncated length-delimited field ${field} at byte ${at}: ${len} bytes announced, ${buf.length - pos} left`);
        out.push({ field, wire, bytes: take(Number(len), `length-delimited field ${field}`) });
        break;
      }
      case 5:
        out.push({ field, wire, fixed32: take(4, 'fixed32').readUInt32LE(0) });
        break;
      default:
        throw new OtlpProtobufError(`${what}: wire type ${wire} (field ${field}) at byte ${at} is not one OTLP uses (not protobuf, or a corrupted body)`);
    }
  }
  return out;
}

const bytesOf = (fields: readonly WireField[], n: number): Buffer[] => fields.filter((f): f is Extract<WireField, { wire: 2 }> => f.field === n && f.wire === 2).map((f) => f.bytes);
/** The last occurrence wins, as in protobuf for a non-repeated field. */
const lastOf = <W extends WireField['wire']>(fields: readonly WireField[], n: number, wire: W): Extract<WireField, { wire: W }> | undefined =>
  fields.filter((f): f is Extract<WireField, { wire: W }> => f.field === n && f.wire === wire).pop();

/** The string attributes of a Resource (KeyValue with a string AnyValue). */
function stringAttributes(resource: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  for (const kv of bytesOf(wireFields(resource, 'Resource'), 1)) {
    const f = wireFields(kv, 'KeyValue');
    const key = lastOf(f, 1, 2)?.bytes.toString('utf8');
    const value = lastOf(f, 2, 2);
    const str = value ? lastOf(wireFields(value.bytes, 'AnyValue'), 1, 2) : undefined;
    if (key !== undefined && str) out.set(key, str.bytes.toString('utf8'));
  }
  return out;
}

/** OTLP span kinds (proto enum): 4 producer, 5 consumer. */
const kindOf = (k: bigint | undefined): ReceivedServiceSpan['kind'] => (k === 4n ? 'producer' : k === 5n ? 'consumer' : 'other');

/** The spans of one OTLP/protobuf `ExportTraceServiceRequest` body, as the JSON path reads them. */
export function spansOfOtlpProtobuf(body: Buffer): ReceivedServiceSpan[] {
  const out: ReceivedServiceSpan[] = [];
  for (const rs of bytesOf(wireFields(body, 'ExportTraceServiceRequest'), 1)) {
    const rsFields = wireFields(rs, 'ResourceSpans');
    const resource = lastOf(rsFields, 1, 2);
    const attributes = resource ? stringAttributes(resource.bytes) : new Map<string, string>();
    const serviceName = attributes.get('service.name');
    const serviceVersion = attributes.get('service.version');
    for (const ss of bytesOf(rsFields, 2)) {
      for (const span of bytesOf(wireFields(ss, 'ScopeSpans'), 2)) {
        const f = wireFields(span, 'Span');
        const hex = (n: number): string => lastOf(f, n, 2)?.bytes.toString('hex') ?? '';
        const parent = hex(4);
        const end = lastOf(f, 8, 1)?.fixed64 ?? 0n;
        out.push({
          serviceName,
          ...(serviceVersion === undefined ? {} : { serviceVersion }),
          name: lastOf(f, 5, 2)?.bytes.toString('utf8') ?? '',
          kind: kindOf(lastOf(f, 6, 0)?.varint),
          traceId: hex(1),
          spanId: hex(2),
          parentSpanId: parent === '' ? undefined : parent,
          endMs: Math.round(Number(end) / 1e6),
        });
      }
    }
  }
  return out;
}
