// The protobuf wire format, as far as criu's RPC needs it: varints, length-delimited fields
// (strings, bytes, nested messages) and booleans. A message is written field by field; reading
// gives each field number's raw values, for the caller to interpret by its schema.

/** Wire types (the low 3 bits of a field's key). */
const VARINT = 0, FIXED64 = 1, LENGTH_DELIMITED = 2, FIXED32 = 5;

function varint(value: bigint): number[] {
  // Negative int32/int64 travel as their 64-bit two's complement: ten bytes.
  let v = BigInt.asUintN(64, value);
  const bytes: number[] = [];
  while (v >= 0x80n) {
    bytes.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  bytes.push(Number(v));
  return bytes;
}

/** Builds one message; fields whose value is undefined are left out (proto2's "not set"). */
export class MessageWriter {
  private readonly parts: Buffer[] = [];

  private key(field: number, wireType: number): void {
    this.parts.push(Buffer.from(varint(BigInt((field << 3) | wireType))));
  }

  /** int32, uint32, int64 and enums alike. */
  int(field: number, value: number | undefined): this {
    if (value === undefined) return this;
    this.key(field, VARINT);
    this.parts.push(Buffer.from(varint(BigInt(value))));
    return this;
  }

  bool(field: number, value: boolean | undefined): this {
    return this.int(field, value === undefined ? undefined : value ? 1 : 0);
  }

  bytes(field: number, value: Buffer | undefined): this {
    if (value === undefined) return this;
    this.key(field, LENGTH_DELIMITED);
    this.parts.push(Buffer.from(varint(BigInt(value.length))), value);
    return this;
  }

  string(field: number, value: string | undefined): this {
    return this.bytes(field, value === undefined ? undefined : Buffer.from(value));
  }

  /** A repeated string: one field per value. */
  strings(field: number, values: readonly string[] = []): this {
    for (const value of values) this.string(field, value);
    return this;
  }

  message(field: number, value: MessageWriter | undefined): this {
    return this.bytes(field, value?.finish());
  }

  finish(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** A decoded message: each field number's values in order (varints as bigint, the rest as bytes). */
export type Fields = Map<number, (bigint | Buffer)[]>;

export function readMessage(data: Buffer): Fields {
  const fields: Fields = new Map();
  let at = 0;
  const readVarint = (): bigint => {
    let value = 0n;
    for (let shift = 0n; ; shift += 7n) {
      if (at >= data.length) throw new Error('protobuf: truncated varint');
      const byte = data[at++]!;
      value |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return value;
    }
  };
  const take = (length: number): Buffer => {
    if (at + length > data.length) throw new Error('protobuf: truncated field');
    const value = data.subarray(at, at + length);
    at += length;
    return value;
  };
  while (at < data.length) {
    const key = Number(readVarint());
    const field = key >>> 3;
    let value: bigint | Buffer;
    switch (key & 7) {
      case VARINT: value = readVarint(); break;
      case LENGTH_DELIMITED: value = take(Number(readVarint())); break;
      case FIXED64: value = take(8); break;
      case FIXED32: value = take(4); break;
      default: throw new Error(`protobuf: wire type ${key & 7} of field ${field} is not supported`);
    }
    fields.set(field, [...(fields.get(field) ?? []), value]);
  }
  return fields;
}

/** The last value of a varint field (proto2: the last one wins), as a signed 32-bit number. */
export function int32Field(fields: Fields, field: number): number | undefined {
  const value = fields.get(field)?.at(-1);
  return typeof value === 'bigint' ? Number(BigInt.asIntN(32, value)) : undefined;
}

export function stringField(fields: Fields, field: number): string | undefined {
  const value = fields.get(field)?.at(-1);
  return Buffer.isBuffer(value) ? value.toString('utf8') : undefined;
}

export function messageField(fields: Fields, field: number): Fields | undefined {
  const value = fields.get(field)?.at(-1);
  return Buffer.isBuffer(value) ? readMessage(value) : undefined;
}
