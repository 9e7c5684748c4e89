/**
 * The entries of a V2 `.index` held as columns: one name string per key plus typed arrays (dtype,
 * shape, shard, offset, size, CRC, index block), so a 10⁶-key bundle costs a few objects, not
 * several per key. A {@link BundleEntry} or {@link VariableInfo} is built only when a caller asks
 * for that entry. Entries are validated as `BundleReader` opens the index, exactly as
 * `tensorflow/core/util/tensor_bundle/tensor_bundle.cc` (`BundleReader::GetBundleEntryProto`,
 * `GetValue`) would refuse them; the common encoding is read here without protobufjs, anything
 * else (slices, unknown fields, repeated fields, large varints) by `decodeBundleEntry`.
 *
 * @module
 */
import { type DTypeInfo, dtypeOfEntry } from "../dtypes.js";
import { compareUtf8Order } from "../io/utf8.js";
import { MAX_TENSOR_RANK } from "../limits.js";
import type { BundleHeaderProto, TensorSliceProto } from "../proto/index.js";
import type { VariableInfo } from "../reader.js";
import { fixedByteSize, numElements } from "../tensor.js";
import type { BundleEntry } from "./reader.js";

/**
 * A `BundleEntryProto` in its plain encoding (fields 1–6 at most once each; shape as dims with a
 * size only; varints short enough to be exact), decoded into reused fields. {@link decode}
 * returns false for anything else, which then goes through `decodeBundleEntry`.
 */
export class PlainEntryDecoder {
  dtype = 0;
  shardId = 0;
  offset = 0;
  size = 0;
  crc32c = 0;
  rank = 0;
  readonly dims: number[] = [];
  #p = 0;

  /** Decodes `b[start, end)`; false when the bytes are not in the plain encoding. */
  decode(b: Uint8Array, start: number, end: number): boolean {
    this.dtype = 0;
    this.shardId = 0;
    this.offset = 0;
    this.size = 0;
    this.crc32c = 0;
    this.rank = 0;
    this.#p = start;
    let seen = 0;
    while (this.#p < end) {
      const tag = b[this.#p++] as number;
      const field = tag >>> 3;
      if (field < 1 || field > 6 || (seen & (1 << field)) !== 0) return false;
      seen |= 1 << field;
      const wire = tag & 7;
      if (field === 6) {
        if (wire !== 5 || this.#p + 4 > end) return false;
        const p = this.#p;
        this.crc32c =
          ((b[p] as number) |
            ((b[p + 1] as number) << 8) |
            ((b[p + 2] as number) << 16) |
            ((b[p + 3] as number) << 24)) >>>
          0;
        this.#p += 4;
      } else if (field === 2) {
        const len = wire === 2 ? this.#varint(b, end, 21) : -1;
        if (len < 0 || this.#p + len > end || !this.#shape(b, this.#p + len)) return false;
      } else {
        const v = wire === 0 ? this.#varint(b, end, field >= 4 ? 42 : 21) : -1;
        if (v < 0) return false;
        if (field === 1) this.dtype = v;
        else if (field === 3) this.shardId = v;
        else if (field === 4) this.offset = v;
        else this.size = v;
      }
    }
    return true;
  }

  /** An unsigned varint of at most `maxShift` / 7 + 1 bytes ending before `end`, or -1. */
  #varint(b: Uint8Array, end: number, maxShift: number): number {
    let v = 0;
    let mul = 1;
    for (let shift = 0; shift <= maxShift; shift += 7) {
      if (this.#p >= end) return -1;
      const byte = b[this.#p++] as number;
      v += (byte & 0x7f) * mul;
      if (byte < 0x80) return v;
      mul *= 128;
    }
    return -1;
  }

  /** `TensorShapeProto` with `dim { size }` fields only. */
  #shape(b: Uint8Array, end: number): boolean {
    while (this.#p < end) {
      if (b[this.#p++] !== 0x12) return false;
      const len = this.#varint(b, end, 21);
      if (len < 0 || this.#p + len > end || this.rank >= MAX_TENSOR_RANK) return false;
      const dimEnd = this.#p + len;
      let size = 0;
      if (this.#p < dimEnd) {
        if (b[this.#p++] !== 0x08) return false;
        size = this.#varint(b, dimEnd, 42);
        if (size < 0 || this.#p !== dimEnd) return false;
      }
      this.dims[this.rank++] = size;
    }
    return true;
  }
}

/** Growable typed arrays, one slot per entry. */
interface Columns {
  dtype: Uint32Array;
  shape: Uint32Array;
  shard: Int32Array;
  offset: Float64Array;
  size: Float64Array;
  crc: Uint32Array;
  block: Uint32Array;
}

function columns(n: number, old?: Columns): Columns {
  const c: Columns = {
    dtype: new Uint32Array(n),
    shape: new Uint32Array(n),
    shard: new Int32Array(n),
    offset: new Float64Array(n),
    size: new Float64Array(n),
    crc: new Uint32Array(n),
    block: new Uint32Array(n),
  };
  if (old !== undefined) for (const k of Object.keys(c) as (keyof Columns)[]) c[k].set(old[k] as never);
  return c;
}

/**
 * The named (non-slice) entries of one bundle, in table order. Dtypes and shapes are interned:
 * entries of one shape share its array.
 */
export class EntryTable {
  /** Checkpoint keys in table (UTF-8 byte) order. */
  readonly names: string[] = [];
  /** File offset of each index block, by block number. */
  readonly blockOffsets: number[] = [];
  #c = columns(1024);
  readonly #dtypes: DTypeInfo[] = [];
  readonly #dtypeIds = new Map<number, number>();
  readonly #shapes: (readonly number[])[] = [];
  readonly #shapeIds = new Map<string, number>();
  /** Elements of each shape (`numElements`), or -1 when that throws. */
  readonly #shapeElements: number[] = [];
  /** Slices of the partitioned tensors' full-name entries, by entry number. */
  readonly #slices = new Map<number, TensorSliceProto[]>();
  #infos: Array<VariableInfo | undefined> | undefined;

  get length(): number {
    return this.names.length;
  }

  /** Entry number of `name`, or -1 (binary search: no map by name is kept). */
  find(name: string): number {
    let lo = 0;
    let hi = this.names.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareUtf8Order(this.names[mid] as string, name) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo < this.names.length && this.names[lo] === name ? lo : -1;
  }

  /**
   * Adds the entry just decoded by `d` when it passes every check `makeEntry` makes; false
   * otherwise (the caller then decodes it the slow way, which throws the error).
   */
  addPlain(name: string, d: PlainEntryDecoder, block: number, header: BundleHeaderProto): boolean {
    let dtypeId = this.#dtypeIds.get(d.dtype);
    if (dtypeId === undefined) {
      if (d.dtype === 0) return false;
      dtypeId = this.#internDtype(dtypeOfEntry(d.dtype));
    }
    const dtype = this.#dtypes[dtypeId] as DTypeInfo;
    const shapeId = this.#internShape(d.dims, d.rank);
    const elements = this.#shapeElements[shapeId] as number;
    if (elements < 0) return false;
    const expected = dtype.itemSize !== undefined ? elements * dtype.itemSize : undefined;
    if (expected !== undefined && !Number.isSafeInteger(expected)) return false;
    if (d.shardId >= header.numShards) return false;
    if (expected !== undefined && expected !== d.size) return false;
    if (dtype.kind === "string" && d.size < elements + 4) return false;
    this.#push(name, dtypeId, shapeId, d.shardId, d.offset, d.size, d.crc32c, block);
    return true;
  }

  /** Adds an entry decoded and checked the slow way (`decodeBundleEntry`, `makeEntry`). */
  addEntry(e: BundleEntry, block: number): void {
    const dtypeId = this.#dtypeIds.get(e.dtype.enumValue) ?? this.#internDtype(e.dtype);
    const shapeId = this.#internShape(e.shape, e.shape.length);
    if (e.proto.slices.length > 0) this.#slices.set(this.names.length, e.proto.slices);
    const p = e.proto;
    this.#push(e.key, dtypeId, shapeId, p.shardId, p.offset, p.size, p.crc32c, block);
  }

  #push(
    name: string,
    dtype: number,
    shape: number,
    shard: number,
    offset: number,
    size: number,
    crc: number,
    block: number,
  ): void {
    const i = this.names.length;
    if (i === this.#c.dtype.length) this.#c = columns(2 * i, this.#c);
    const c = this.#c;
    this.names.push(name);
    c.dtype[i] = dtype;
    c.shape[i] = shape;
    c.shard[i] = shard;
    c.offset[i] = offset;
    c.size[i] = size;
    c.crc[i] = crc;
    c.block[i] = block;
  }

  #internDtype(d: DTypeInfo): number {
    this.#dtypes.push(d);
    this.#dtypeIds.set(d.enumValue, this.#dtypes.length - 1);
    return this.#dtypes.length - 1;
  }

  /** The id of the shape `dims[0, rank)`; the last entry's shape is checked first (no key built). */
  #internShape(dims: readonly number[], rank: number): number {
    const n = this.names.length;
    if (n > 0) {
      const last = this.#c.shape[n - 1] as number;
      const s = this.#shapes[last] as readonly number[];
      let same = s.length === rank;
      for (let i = 0; same && i < rank; i++) same = s[i] === dims[i];
      if (same) return last;
    }
    const key = dims.slice(0, rank).join(",") + (rank === 0 ? "" : ",");
    let id = this.#shapeIds.get(key);
    if (id === undefined) {
      id = this.#shapes.length;
      const shape = Object.freeze(dims.slice(0, rank));
      this.#shapes.push(shape);
      let elements = -1;
      try {
        elements = numElements(shape);
      } catch {
        // refused by the slow path, which throws the error
      }
      this.#shapeElements.push(elements);
      this.#shapeIds.set(key, id);
    }
    return id;
  }

  /** Entry `i` as a {@link BundleEntry} (a new object each call). */
  entry(i: number): BundleEntry {
    const c = this.#c;
    const shape = this.#shapes[c.shape[i] as number] as number[];
    const slices = this.#slices.get(i) ?? [];
    return {
      key: this.names[i] as string,
      proto: {
        dtype: (this.#dtypes[c.dtype[i] as number] as DTypeInfo).enumValue,
        shape: { dims: shape, unknownRank: false },
        shardId: c.shard[i] as number,
        offset: c.offset[i] as number,
        size: c.size[i] as number,
        crc32c: c.crc[i] as number,
        slices,
      },
      dtype: this.#dtypes[c.dtype[i] as number] as DTypeInfo,
      shape,
      indexOffset: this.blockOffsets[c.block[i] as number] as number,
    };
  }

  /** True when entry `i` is a partitioned tensor's full-name entry (it has slices, no data). */
  partitioned(i: number): boolean {
    return this.#slices.has(i);
  }

  /** Entry numbers of the partitioned tensors' full-name entries, in table order. */
  partitionedEntries(): number[] {
    return [...this.#slices.keys()].sort((a, b) => a - b);
  }

  /** The dtype of entry `i`. */
  dtype(i: number): DTypeInfo {
    return this.#dtypes[this.#c.dtype[i] as number] as DTypeInfo;
  }

  /**
   * Entry `i` as `tf.train.list_variables` lists it, built once.
   * @param sliceBytes  stored bytes of each partitioned tensor's slices, by full name
   */
  info(i: number, sliceBytes: () => ReadonlyMap<string, number>): VariableInfo {
    this.#infos ??= new Array<VariableInfo | undefined>(this.names.length);
    let v = this.#infos[i];
    if (v === undefined) {
      const c = this.#c;
      const name = this.names[i] as string;
      const dtype = this.#dtypes[c.dtype[i] as number] as DTypeInfo;
      const shape = this.#shapes[c.shape[i] as number] as readonly number[];
      const slices = this.#slices.get(i);
      v = {
        name,
        dtype,
        shape,
        bytes:
          slices !== undefined
            ? (fixedByteSize(dtype, shape) ?? sliceBytes().get(name) ?? 0)
            : (c.size[i] as number),
        slices,
      };
      this.#infos[i] = v;
    }
    return v;
  }
}
