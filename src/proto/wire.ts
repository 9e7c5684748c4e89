/**
 * Protocol-buffer wire encoding, written directly, for the three messages every save writes:
 * `BundleHeaderProto`, `BundleEntryProto` and `TrackableObjectGraph`, and the header every open
 * reads. protobufjs's reflection builds its root from the JSON descriptor and generates an
 * encoder per message type on first use (~50 ms of a short run's CPU, more than a hard-linked
 * 2 GiB migration's own work); these hand-written paths produce the same bytes (a property test
 * checks them against protobufjs on generated messages) and leave reflection to the rarer
 * messages (object-graph decoding, V1 slices, checkpoint state).
 *
 * The bytes follow TF's C++ serializer (`google/protobuf` `SerializeToString`): fields in number
 * order, proto3 defaults omitted, set message fields written even when empty, negative int32/int64
 * as ten-byte two's-complement varints, repeated scalars of a proto3 message packed.
 * See https://protobuf.dev/programming-guides/encoding/.
 *
 * Strings are encoded as `TextEncoder` encodes them, like the bundle index's keys: a lone
 * surrogate (a string that is not well-formed UTF-16) becomes U+FFFD (EF BF BD), so an object
 * graph's `checkpoint_key` has the bytes of the index key it names. Names that are not
 * well-formed never get this far from a user's document: `validateDocument` (src/schema.ts)
 * refuses them with their JSON path.
 *
 * @module
 */
import { CorruptCheckpointError, type ErrorLocation, UsageError } from "../errors.js";
import { ByteWriter, Cursor } from "../io/cursor.js";

const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;

/** Largest message {@link ProtoWriter.finish} copies out of its reused buffer (1 MiB); larger ones are handed over. */
const KEEP_BUFFER_BYTES = 1 << 20;

function notSafeInteger(v: number): UsageError {
  return new UsageError(`varint of ${v}: not a safe integer`);
}

/**
 * Appends protobuf fields to a growing buffer. A nested message is opened with {@link begin} and
 * closed with {@link end}: its fields go to a per-depth scratch buffer, copied into the parent once
 * its length is known (each byte is copied once per nesting level: linear in the message's size).
 * One writer may encode many messages: {@link finish} returns the bytes and resets it.
 */
export class ProtoWriter {
  readonly #levels: ByteWriter[] = [new ByteWriter(256)];
  readonly #fields: number[] = [];
  #w: ByteWriter = this.#levels[0] as ByteWriter;

  #tag(field: number, wire: number): void {
    this.#w.varint(field * 8 + wire);
  }

  /**
   * A varint field (int32, enum, bool, uint) of a safe integer, normally non-negative; omitted
   * when 0 (proto3). A negative value is written as {@link int} writes it (ten bytes, as protobuf
   * writes a negative int32 or enum), never truncated.
   * @throws UsageError for a value that is not a safe integer (a fraction, NaN, ±Infinity, ≥ 2^53)
   */
  uint(field: number, v: number): this {
    return this.int(field, v);
  }

  /**
   * A signed int32/int64 field of a safe integer; omitted when 0. Negative values take ten bytes
   * (the 64-bit two's complement), as protobuf writes them for both widths.
   * @throws UsageError for a value that is not a safe integer
   */
  int(field: number, v: number): this {
    return v === 0 ? this : this.intAlways(field, v);
  }

  /** A signed int32/int64 field written even when 0 (a set `oneof` member). @throws UsageError as {@link int} */
  intAlways(field: number, v: number): this {
    this.#tag(field, VARINT);
    return this.rawVarint(v);
  }

  /**
   * A bare signed varint with no tag (an element of a packed repeated field).
   * @throws UsageError for a value that is not a safe integer
   */
  rawVarint(v: number): this {
    if (!Number.isSafeInteger(v)) throw notSafeInteger(v);
    const w = this.#w;
    if (v >= 0) {
      w.varint(v);
      return this;
    }
    let hi = Math.floor(v / 4294967296);
    let lo = v - hi * 4294967296;
    hi >>>= 0;
    while (hi !== 0 || lo >= 0x80) {
      w.u8((lo & 0x7f) | 0x80);
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    w.u8(lo);
    return this;
  }

  /** A bool field; omitted when false. */
  bool(field: number, v: boolean): this {
    return v ? this.uint(field, 1) : this;
  }

  /** A fixed32 field (e.g. a masked CRC32C); omitted when 0. */
  fixed32(field: number, v: number): this {
    if (v !== 0) {
      this.#tag(field, FIXED32);
      this.#w.fixed32(v >>> 0);
    }
    return this;
  }

  /** A string field, UTF-8 encoded as `TextEncoder` does (a lone surrogate → U+FFFD); omitted when empty. */
  string(field: number, s: string): this {
    if (s.length === 0) return this;
    this.#tag(field, LENGTH_DELIMITED);
    this.#w.utf8(s);
    return this;
  }

  /** Opens a message field (written even when it stays empty); close it with {@link end}. */
  begin(field: number): this {
    this.#fields.push(field);
    const depth = this.#fields.length;
    if (depth === this.#levels.length) this.#levels.push(new ByteWriter(256));
    this.#w = this.#levels[depth] as ByteWriter;
    this.#w.length = 0;
    return this;
  }

  /** Closes the innermost message opened by {@link begin}: its tag, length and bytes go to its parent. */
  end(): this {
    const field = this.#fields.pop();
    if (field === undefined) throw new RangeError("ProtoWriter.end without begin");
    const inner = this.#w;
    this.#w = this.#levels[this.#fields.length] as ByteWriter;
    this.#tag(field, LENGTH_DELIMITED);
    this.#w.varint(inner.length).bytes(inner.view());
    return this;
  }

  /** Empties the writer, closing any message left open (by an encoder that threw). */
  reset(): this {
    this.#fields.length = 0;
    this.#w = this.#levels[0] as ByteWriter;
    this.#w.length = 0;
    return this;
  }

  /**
   * The top-level message written so far; the writer is then empty, ready for the next. A message
   * of up to {@link KEEP_BUFFER_BYTES} is copied out (the buffer is reused); a larger one is handed
   * over without a copy and the writer takes a fresh small buffer, so a long-lived writer does not
   * keep the largest message it ever wrote (an object graph of 10⁵ variables: tens of MB); nor
   * does it keep a nested message's scratch buffer grown past that size.
   */
  finish(): Uint8Array {
    if (this.#fields.length !== 0) throw new RangeError("ProtoWriter.finish inside an open message");
    // A nested message's scratch buffer grown past the limit (a root with 10⁵ children) goes too.
    for (let i = 1; i < this.#levels.length; i++)
      if ((this.#levels[i] as ByteWriter).capacity > KEEP_BUFFER_BYTES) this.#levels[i] = new ByteWriter(256);
    const w = this.#w;
    if (w.length > KEEP_BUFFER_BYTES) return w.detach();
    const out = w.finish();
    w.length = 0;
    return out;
  }
}

/**
 * Calls `onField(field, wire, cursor)` for each field of the message in `bytes[start, end)`; the
 * callback must consume the value (or return false to have it skipped). Groups (wire types 3, 4)
 * and unknown wire types are refused.
 * @throws CorruptCheckpointError naming `loc` and the byte offset
 */
function readFields(
  bytes: Uint8Array,
  what: string,
  loc: ErrorLocation,
  onField: (field: number, wire: number, c: Cursor) => boolean,
  start = 0,
  end = bytes.length,
): void {
  const c = new Cursor(bytes, loc.offset ?? 0, loc, start, end);
  while (c.remaining > 0) {
    const at = c.pos;
    const key = c.varint64();
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (field === 0) throw c.error(`${what}: field number 0`, at);
    if (onField(field, wire, c)) continue;
    if (wire === VARINT) c.varintLow32();
    else if (wire === FIXED64) c.take(8);
    else if (wire === LENGTH_DELIMITED) c.take(c.varint64());
    else if (wire === FIXED32) c.take(4);
    else throw c.error(`${what}: unsupported wire type ${wire} for field ${field}`, at);
  }
}

/** A varint field's value read as a signed int32 (protobuf truncates to the low 32 bits). */
function int32(c: Cursor): number {
  return c.varintLow32() | 0;
}

/** `VersionDef` (versions.proto): producer, min_consumer, bad_consumers (packed or not). */
function decodeVersion(
  bytes: Uint8Array,
  start: number,
  end: number,
  loc: ErrorLocation,
): { producer: number; minConsumer: number; badConsumers: number[] } {
  const v = { producer: 0, minConsumer: 0, badConsumers: [] as number[] };
  readFields(
    bytes,
    "VersionDef",
    loc,
    (field, wire, c) => {
      if (field === 1 && wire === VARINT) v.producer = int32(c);
      else if (field === 2 && wire === VARINT) v.minConsumer = int32(c);
      else if (field === 3 && wire === VARINT) v.badConsumers.push(int32(c));
      else if (field === 3 && wire === LENGTH_DELIMITED) {
        const len = c.varint64();
        const stop = c.pos + len;
        if (stop > c.end) throw c.error("VersionDef: packed bad_consumers run past the message");
        while (c.pos < stop) v.badConsumers.push(int32(c));
        if (c.pos !== stop) throw c.error("VersionDef: packed bad_consumers overrun");
      } else return false;
      return true;
    },
    start,
    end,
  );
  return v;
}

/**
 * Decodes a `BundleHeaderProto` (`num_shards` 1, `endianness` 2, `version` 3) into its fields;
 * `endianness` is returned as stored (the caller checks it).
 * @throws CorruptCheckpointError for malformed wire data
 */
export function decodeBundleHeaderWire(
  bytes: Uint8Array,
  loc: ErrorLocation,
): { numShards: number; endianness: number; version: ReturnType<typeof decodeVersion> } {
  const h = {
    numShards: 0,
    endianness: 0,
    version: { producer: 0, minConsumer: 0, badConsumers: [] as number[] },
  };
  readFields(bytes, "BundleHeaderProto", loc, (field, wire, c) => {
    if (field === 1 && wire === VARINT) h.numShards = int32(c);
    else if (field === 2 && wire === VARINT) h.endianness = int32(c);
    else if (field === 3 && wire === LENGTH_DELIMITED) {
      const len = c.varint64();
      if (len > c.remaining) throw c.error("BundleHeaderProto: version runs past the message");
      const at = c.pos;
      c.take(len);
      h.version = decodeVersion(bytes, at, at + len, loc);
    } else return false;
    return true;
  });
  return h;
}

/**
 * The error for a message that did not decode: `cannot parse <what>: <detail>`, at the failing
 * byte's offset when the cursor knew it, else at `loc`.
 */
export function wireError(what: string, e: unknown, loc: ErrorLocation): CorruptCheckpointError {
  if (e instanceof CorruptCheckpointError) {
    const at = { file: e.file ?? loc.file, key: e.key ?? loc.key, offset: e.offset ?? loc.offset };
    return new CorruptCheckpointError(`cannot parse ${what}: ${e.detail}`, at, { cause: e });
  }
  const msg = e instanceof Error ? e.message : String(e);
  return new CorruptCheckpointError(`cannot parse ${what}: ${msg}`, loc, { cause: e });
}
