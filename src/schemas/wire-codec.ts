// The Confluent wire format (docs/design.md, "Schemas"): a zero magic byte, the schema's id as four
// big-endian bytes, for Protobuf the message's place in its file, then the encoded value. Any
// Confluent-compatible consumer reads it; a JSON value never starts with a zero byte, so one topic
// may hold both.

/** The envelope as the contract validates it: plain values, dates as ISO strings. */
export type WireObject = Record<string, unknown>;

/** One schema's encoding of wire objects (the bytes after the framing). */
export interface WireCodec {
  encode(wire: WireObject): Buffer;
  decode(payload: Buffer): WireObject;
}

const MAGIC_BYTE = 0;
const HEADER_BYTES = 5;

/** Whether a value is framed for a schema registry (rather than plain JSON). */
export function isFramed(value: Buffer): boolean {
  return value.length >= HEADER_BYTES && value[0] === MAGIC_BYTE;
}

/** The schema id a framed value names. */
export function schemaIdOf(value: Buffer): number {
  return value.readUInt32BE(1);
}

/** The value after the magic byte and the schema id. */
export function framedPayload(value: Buffer): Buffer {
  return value.subarray(HEADER_BYTES);
}

/** Frames an encoded value under its schema id; `prefix` goes between (Protobuf's message indexes). */
export function frame(schemaId: number, payload: Uint8Array, prefix?: Uint8Array): Buffer {
  const extra = prefix?.length ?? 0;
  const out = Buffer.allocUnsafe(HEADER_BYTES + extra + payload.length);
  out[0] = MAGIC_BYTE;
  out.writeUInt32BE(schemaId, 1);
  if (prefix) out.set(prefix, HEADER_BYTES);
  out.set(payload, HEADER_BYTES + extra);
  return out;
}
