/**
 * A bounds-checked cursor over a byte view that knows its absolute position in a file, so every
 * error names the file and byte offset. Mirrors the decoders of `tensorflow/core/lib/core/coding.cc`
 * (`GetVarint32`, `GetVarint64`, `DecodeFixed32`).
 *
 * @module
 */
import { CorruptCheckpointError, type ErrorLocation, UsageError } from "../errors.js";

/** Reads little-endian fixed-width integers and LEB128 varints from a `Uint8Array`. */
export class Cursor {
  readonly bytes: Uint8Array;
  /** Absolute file offset of `bytes[0]`. */
  readonly base: number;
  readonly file: string | undefined;
  readonly key: string | undefined;
  pos: number;
  readonly end: number;

  /**
   * @param bytes  the view to read
   * @param base   absolute file offset of `bytes[0]` (for errors)
   * @param loc    file and key named in errors
   */
  constructor(bytes: Uint8Array, base = 0, loc: ErrorLocation = {}, start = 0, end = bytes.length) {
    this.bytes = bytes;
    this.base = base;
    this.file = loc.file;
    this.key = loc.key;
    this.pos = start;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  /** Absolute file offset of the current position. */
  get absolute(): number {
    return this.base + this.pos;
  }

  /** A {@link CorruptCheckpointError} at the current position (or `at`, relative to `bytes`). */
  error(detail: string, at = this.pos): CorruptCheckpointError {
    return new CorruptCheckpointError(detail, { file: this.file, key: this.key, offset: this.base + at });
  }

  private need(n: number, what: string): void {
    if (n > this.end - this.pos)
      throw this.error(`${what} needs ${n} bytes but only ${this.end - this.pos} remain`);
  }

  u8(): number {
    this.need(1, "byte");
    return this.bytes[this.pos++] as number;
  }

  fixed32(): number {
    this.need(4, "fixed32");
    const b = this.bytes;
    const p = this.pos;
    this.pos += 4;
    return (
      ((b[p] as number) |
        ((b[p + 1] as number) << 8) |
        ((b[p + 2] as number) << 16) |
        ((b[p + 3] as number) << 24)) >>>
      0
    );
  }

  /** Unsigned LEB128 of at most 5 bytes, value < 2^32 (TF `GetVarint32`). */
  varint32(): number {
    const start = this.pos;
    let result = 0;
    for (let shift = 0; shift <= 28; shift += 7) {
      if (this.pos >= this.end) throw this.error("varint32 runs past the end of its data", start);
      const byte = this.bytes[this.pos++] as number;
      if (shift === 28 && byte > 0x0f) throw this.error("varint32 overflows 32 bits", start);
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return result;
    }
    throw this.error("varint32 longer than 5 bytes", start);
  }

  /**
   * Unsigned LEB128 of at most 10 bytes (TF `GetVarint64`), returned as a number: values above
   * 2^53 − 1 cannot describe a byte count or offset in a real file and are reported as corrupt.
   */
  varint64(): number {
    const start = this.pos;
    let result = 0;
    for (let shift = 0; shift <= 63; shift += 7) {
      if (this.pos >= this.end) throw this.error("varint64 runs past the end of its data", start);
      const byte = this.bytes[this.pos++] as number;
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) {
        if (!Number.isSafeInteger(result)) throw this.error("varint64 value exceeds 2^53 - 1", start);
        return result;
      }
    }
    throw this.error("varint64 longer than 10 bytes", start);
  }

  /**
   * A LEB128 varint of at most 10 bytes, returning its low 32 bits as an unsigned number: how
   * protobuf reads an int32 field, whose negative values take ten bytes on the wire.
   */
  varintLow32(): number {
    const start = this.pos;
    let result = 0;
    for (let shift = 0; shift <= 63; shift += 7) {
      if (this.pos >= this.end) throw this.error("varint runs past the end of its data", start);
      const byte = this.bytes[this.pos++] as number;
      if (shift < 32) result = (result | ((byte & 0x7f) << shift)) >>> 0;
      if ((byte & 0x80) === 0) return result;
    }
    throw this.error("varint longer than 10 bytes", start);
  }

  /** A view of the next `n` bytes (no copy). */
  take(n: number, what = "bytes"): Uint8Array {
    this.need(n, what);
    const v = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }
}

const UTF8 = new TextEncoder();

/** Appends LEB128 varints and little-endian fixed-width integers to a growing byte list. */
export class ByteWriter {
  #buf: Uint8Array;
  length = 0;

  constructor(initialCapacity = 256) {
    this.#buf = new Uint8Array(initialCapacity);
  }

  private ensure(n: number): void {
    if (this.length + n <= this.#buf.length) return;
    let cap = this.#buf.length * 2;
    while (cap < this.length + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.#buf.subarray(0, this.length));
    this.#buf = next;
  }

  u8(v: number): this {
    this.ensure(1);
    this.#buf[this.length++] = v & 0xff;
    return this;
  }

  fixed32(v: number): this {
    this.ensure(4);
    const b = this.#buf;
    b[this.length++] = v & 0xff;
    b[this.length++] = (v >>> 8) & 0xff;
    b[this.length++] = (v >>> 16) & 0xff;
    b[this.length++] = (v >>> 24) & 0xff;
    return this;
  }

  /** Unsigned LEB128 of a non-negative safe integer (TF `PutVarint32` / `PutVarint64`). @throws UsageError for any other value */
  varint(v: number): this {
    if ((v & 0x7f) === v) return this.u8(v); // one byte: most tags, lengths and small values
    if (!Number.isSafeInteger(v) || v < 0) throw new UsageError(`varint out of range: ${v}`);
    let x = v;
    while (x >= 0x80) {
      this.u8((x % 0x80) | 0x80);
      x = Math.floor(x / 0x80);
    }
    return this.u8(x);
  }

  /**
   * Appends `s` as a length-delimited UTF-8 string: its byte length as a varint, then its bytes.
   * ASCII (almost every checkpoint key) is copied code unit by code unit; anything else through
   * `TextEncoder.encodeInto`, which writes a lone surrogate as U+FFFD (EF BF BD), as the index
   * keys are written.
   */
  utf8(s: string): this {
    const n = s.length;
    if (n < 0x80) {
      this.ensure(n + 1);
      const b = this.#buf;
      const at = this.length;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        b[at + 1 + i] = c;
      }
      if (i === n) {
        b[at] = n;
        this.length = at + 1 + n;
        return this;
      }
    }
    const byteLength = Buffer.byteLength(s, "utf8");
    this.varint(byteLength);
    this.ensure(byteLength);
    this.length += UTF8.encodeInto(s, this.#buf.subarray(this.length, this.length + byteLength)).written;
    return this;
  }

  bytes(data: Uint8Array): this {
    this.ensure(data.length);
    this.#buf.set(data, this.length);
    this.length += data.length;
    return this;
  }

  /** A view of everything written so far (valid until the next write). */
  view(): Uint8Array {
    return this.#buf.subarray(0, this.length);
  }

  /** Bytes the writer holds (grown by doubling as needed). */
  get capacity(): number {
    return this.#buf.length;
  }

  /** A copy of everything written so far. */
  finish(): Uint8Array {
    return this.#buf.slice(0, this.length);
  }

  /**
   * Everything written so far, handed over without a copy (a view of the buffer, which may be up
   * to twice as long); the writer starts again empty with a fresh buffer of `initialCapacity`
   * bytes, so a large result is not kept alive by the writer.
   */
  detach(initialCapacity = 256): Uint8Array {
    const out = this.#buf.subarray(0, this.length);
    this.#buf = new Uint8Array(initialCapacity);
    this.length = 0;
    return out;
  }

  reset(): void {
    this.length = 0;
  }
}
