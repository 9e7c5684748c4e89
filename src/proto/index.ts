/**
 * The one typed wrapper over protobufjs for the TensorFlow protos in `protos/` (loaded from the
 * generated JSON descriptor in `generated/`). Decoders turn protobufjs objects into plain typed
 * objects, converting int64 fields to checked numbers and wrapping every protobufjs failure in a
 * {@link CorruptCheckpointError} naming file, key and offset. Encoders omit proto3 default values,
 * as TensorFlow's C++ serializer does, so encoded bytes match TF's.
 *
 * @module
 */
import protobuf from "protobufjs/light.js";
import { CorruptCheckpointError, type ErrorLocation } from "../errors.js";
import { descriptor } from "./generated/descriptor.js";

const root = protobuf.Root.fromJSON(descriptor as unknown as protobuf.INamespace);

function lookup(name: string): protobuf.Type {
  return root.lookupType(`tensorflow.${name}`);
}

const T = {
  header: lookup("BundleHeaderProto"),
  entry: lookup("BundleEntryProto"),
  graph: lookup("TrackableObjectGraph"),
  slices: lookup("SavedTensorSlices"),
  state: lookup("CheckpointState"),
  tensor: lookup("TensorProto"),
};

const TO_OBJECT: protobuf.IConversionOptions = {
  longs: String,
  enums: Number,
  defaults: true,
  arrays: true,
  oneofs: false,
};

type Obj = Record<string, unknown>;

function decode(type: protobuf.Type, bytes: Uint8Array, what: string, loc: ErrorLocation): Obj {
  try {
    return type.toObject(type.decode(bytes), TO_OBJECT) as Obj;
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw new CorruptCheckpointError(`cannot parse ${what}: ${msg}`, loc, { cause: e });
  }
}

/** Converts a decoded int64 (string) to a number, refusing values a file cannot hold. */
function int64(v: unknown, field: string, loc: ErrorLocation, allowNegative = false): number {
  const n = Number(v ?? 0);
  if (!Number.isSafeInteger(n) || (!allowNegative && n < 0)) {
    throw new CorruptCheckpointError(`${field} out of range: ${String(v)}`, loc);
  }
  return n;
}

function arr(v: unknown): Obj[] {
  return (Array.isArray(v) ? v : []) as Obj[];
}

function str(v: unknown): string {
  return typeof v === "string" ? v : "";
}

function num(v: unknown): number {
  return typeof v === "number" ? v : 0;
}

// ---------------------------------------------------------------------------------------------
// Shapes, slices, versions

/** A `TensorShapeProto`: dimension sizes (elements). `unknownRank` never occurs in checkpoints. */
export interface TensorShapeProto {
  readonly dims: number[];
  readonly unknownRank: boolean;
}

function toShape(o: unknown, loc: ErrorLocation): TensorShapeProto {
  const s = (o ?? {}) as Obj;
  return {
    dims: arr(s.dim).map((d) => int64(d.size, "shape dimension", loc, true)),
    unknownRank: s.unknown_rank === true,
  };
}

function fromShape(dims: readonly number[]): Obj {
  return { dim: dims.map((size) => (size === 0 ? {} : { size })) };
}

/**
 * One `TensorSliceProto.Extent`: `start` (elements) and `length` (elements), `length` −1 meaning
 * the whole dimension (the `has_length` oneof unset), as in `tensorflow/core/framework/tensor_slice.cc`.
 */
export interface Extent {
  readonly start: number;
  readonly length: number;
}

/** A `TensorSliceProto`: one extent per dimension (empty for a scalar's full slice). */
export type TensorSliceProto = readonly Extent[];

function toSlice(o: unknown, loc: ErrorLocation): TensorSliceProto {
  return arr((o as Obj | undefined)?.extent).map((e) => ({
    start: int64(e.start, "slice start", loc),
    length: Object.hasOwn(e, "length") && e.length !== null ? int64(e.length, "slice length", loc) : -1,
  }));
}

function fromSlice(s: TensorSliceProto): Obj {
  return {
    extent: s.map((e) => {
      const x: Obj = {};
      if (e.start !== 0) x.start = e.start;
      if (e.length >= 0) x.length = e.length;
      return x;
    }),
  };
}

/** A `VersionDef`. */
export interface VersionDef {
  readonly producer: number;
  readonly minConsumer: number;
  readonly badConsumers: number[];
}

function toVersion(o: unknown): VersionDef {
  const v = (o ?? {}) as Obj;
  return {
    producer: num(v.producer),
    minConsumer: num(v.min_consumer),
    badConsumers: (v.bad_consumers as number[]) ?? [],
  };
}

// ---------------------------------------------------------------------------------------------
// Tensor bundle

/** `BundleHeaderProto` (tensor_bundle.proto): the value under key `""` of a V2 `.index`. */
export interface BundleHeaderProto {
  readonly numShards: number;
  readonly endianness: "little" | "big";
  readonly version: VersionDef;
}

/** Decodes a `BundleHeaderProto`. @throws CorruptCheckpointError */
export function decodeBundleHeader(bytes: Uint8Array, loc: ErrorLocation = {}): BundleHeaderProto {
  const o = decode(T.header, bytes, "bundle header", loc);
  const e = num(o.endianness);
  if (e !== 0 && e !== 1) throw new CorruptCheckpointError(`unknown bundle endianness ${e}`, loc);
  return {
    numShards: num(o.num_shards),
    endianness: e === 0 ? "little" : "big",
    version: toVersion(o.version),
  };
}

/** Encodes a `BundleHeaderProto` as TF's `BundleWriter` does (`08 01 1A 02 08 01` for one shard). */
export function encodeBundleHeader(h: BundleHeaderProto): Uint8Array {
  const version: Obj = {};
  if (h.version.producer !== 0) version.producer = h.version.producer;
  if (h.version.minConsumer !== 0) version.min_consumer = h.version.minConsumer;
  if (h.version.badConsumers.length > 0) version.bad_consumers = h.version.badConsumers;
  const msg: Obj = { version };
  if (h.numShards !== 0) msg.num_shards = h.numShards;
  if (h.endianness === "big") msg.endianness = 1;
  return T.header.encode(T.header.fromObject(msg)).finish();
}

/**
 * `BundleEntryProto` (tensor_bundle.proto). `crc32c` is the stored *masked* CRC; `offset` and
 * `size` are bytes in data shard `shardId`. A partitioned tensor's full-name entry has `slices`
 * and no data of its own.
 */
export interface BundleEntryProto {
  readonly dtype: number;
  readonly shape: TensorShapeProto;
  readonly shardId: number;
  readonly offset: number;
  readonly size: number;
  readonly crc32c: number;
  readonly slices: TensorSliceProto[];
}

/** An int64 as protobufjs decodes it: a number, or a `Long` when the `long` package is present. */
type RawLong = number | { low: number; high: number; unsigned?: boolean };

/** Converts a decoded int64 to a checked number without going through strings. */
function long(
  v: RawLong | null | undefined,
  field: string,
  loc: ErrorLocation,
  allowNegative = false,
): number {
  let n: number;
  if (v == null) n = 0;
  else if (typeof v === "number") n = v;
  else n = (v.unsigned ? v.high >>> 0 : v.high) * 4294967296 + (v.low >>> 0);
  if (!Number.isSafeInteger(n) || (!allowNegative && n < 0)) {
    throw new CorruptCheckpointError(`${field} out of range: ${String(n)}`, loc);
  }
  return n;
}

interface RawEntry {
  dtype?: number;
  shape?: { dim?: Array<{ size?: RawLong }>; unknown_rank?: boolean } | null;
  shard_id?: number;
  offset?: RawLong;
  size?: RawLong;
  crc32c?: number;
  slices?: Array<{ extent?: Array<{ start?: RawLong; length?: RawLong | null }> }>;
}

/**
 * Decodes a `BundleEntryProto` (the hot path of listing: read straight from the decoded message,
 * no object conversion). @throws CorruptCheckpointError ("Entry for key … not parseable")
 */
export function decodeBundleEntry(bytes: Uint8Array, loc: ErrorLocation = {}): BundleEntryProto {
  let m: RawEntry;
  try {
    m = T.entry.decode(bytes) as unknown as RawEntry;
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw new CorruptCheckpointError(`cannot parse bundle entry: ${msg}`, loc, { cause: e });
  }
  const dims = (m.shape?.dim ?? []).map((d) => long(d.size, "shape dimension", loc, true));
  return {
    dtype: m.dtype ?? 0,
    shape: { dims, unknownRank: m.shape?.unknown_rank === true },
    shardId: m.shard_id ?? 0,
    offset: long(m.offset, "entry offset", loc),
    size: long(m.size, "entry size", loc),
    crc32c: (m.crc32c ?? 0) >>> 0,
    slices: (m.slices ?? []).map((s) =>
      (s.extent ?? []).map((e) => ({
        start: long(e.start, "slice start", loc),
        length: Object.hasOwn(e, "length") && e.length != null ? long(e.length, "slice length", loc) : -1,
      })),
    ),
  };
}

/** Encodes a `BundleEntryProto`; `shape` is always written (a scalar as `12 00`), zeros omitted. */
export function encodeBundleEntry(e: BundleEntryProto): Uint8Array {
  const msg: Obj = { shape: fromShape(e.shape.dims) };
  if (e.dtype !== 0) msg.dtype = e.dtype;
  if (e.shardId !== 0) msg.shard_id = e.shardId;
  if (e.offset !== 0) msg.offset = e.offset;
  if (e.size !== 0) msg.size = e.size;
  if (e.crc32c !== 0) msg.crc32c = e.crc32c;
  if (e.slices.length > 0) msg.slices = e.slices.map(fromSlice);
  // The plain object already holds protobufjs's field names and JavaScript types (numbers for
  // enums and int64s), so it is encoded as it is: fromObject's copy took most of the time of an
  // index with many entries, and the bytes are the same.
  return T.entry.encode(msg).finish();
}

// ---------------------------------------------------------------------------------------------
// Object graph

/** `TrackableObjectGraph.TrackableObject.ObjectReference`. */
export interface ObjectReferenceProto {
  readonly nodeId: number;
  readonly localName: string;
}
/** `TrackableObjectGraph.TrackableObject.SerializedTensor`. */
export interface SerializedTensorProto {
  readonly name: string;
  readonly fullName: string;
  readonly checkpointKey: string;
  readonly optionalRestore: boolean;
}
/** `TrackableObjectGraph.TrackableObject.SlotVariableReference`. */
export interface SlotVariableReferenceProto {
  readonly originalVariableNodeId: number;
  readonly slotName: string;
  readonly slotVariableNodeId: number;
}
/** `TrackableObjectGraph.TrackableObject`. `hasCheckpointValues` is undefined when the field is absent. */
export interface TrackableObjectProto {
  readonly children: ObjectReferenceProto[];
  readonly attributes: SerializedTensorProto[];
  readonly slotVariables: SlotVariableReferenceProto[];
  readonly registeredSaver: { readonly name: string; readonly objectName: string } | undefined;
  readonly hasCheckpointValues: boolean | undefined;
}
/** `TrackableObjectGraph` (trackable_object_graph.proto): node 0 is the root. */
export interface ObjectGraphProto {
  readonly nodes: TrackableObjectProto[];
}

/** Decodes a serialized `TrackableObjectGraph`. @throws CorruptCheckpointError */
export function decodeObjectGraph(bytes: Uint8Array, loc: ErrorLocation = {}): ObjectGraphProto {
  let msg: protobuf.Message;
  try {
    msg = T.graph.decode(bytes);
  } catch (e) {
    const m = e instanceof Error ? e.message : String(e);
    throw new CorruptCheckpointError(`cannot parse object graph: ${m}`, loc, { cause: e });
  }
  // Presence of message fields is read from the decoded message, before defaults are filled in.
  const raw = msg as unknown as {
    nodes?: Array<{ has_checkpoint_values?: unknown; registered_saver?: unknown }>;
  };
  const o = T.graph.toObject(msg, TO_OBJECT) as Obj;
  return {
    nodes: arr(o.nodes).map((n, i) => {
      const rawNode = raw.nodes?.[i];
      const hcv =
        rawNode?.has_checkpoint_values == null ? undefined : (n.has_checkpoint_values as Obj).value === true;
      const rs = rawNode?.registered_saver == null ? undefined : (n.registered_saver as Obj);
      return {
        children: arr(n.children).map((c) => ({ nodeId: num(c.node_id), localName: str(c.local_name) })),
        attributes: arr(n.attributes).map((a) => ({
          name: str(a.name),
          fullName: str(a.full_name),
          checkpointKey: str(a.checkpoint_key),
          optionalRestore: a.optional_restore === true,
        })),
        slotVariables: arr(n.slot_variables).map((s) => ({
          originalVariableNodeId: num(s.original_variable_node_id),
          slotName: str(s.slot_name),
          slotVariableNodeId: num(s.slot_variable_node_id),
        })),
        registeredSaver:
          rs === undefined ? undefined : { name: str(rs.name), objectName: str(rs.object_name) },
        hasCheckpointValues: hcv,
      };
    }),
  };
}

/** Encodes a `TrackableObjectGraph` the way TF's Python saver serializes it (defaults omitted). */
export function encodeObjectGraph(g: ObjectGraphProto): Uint8Array {
  const nodes = g.nodes.map((n) => {
    const o: Obj = {
      children: n.children.map((c) => {
        const r: Obj = {};
        if (c.nodeId !== 0) r.node_id = c.nodeId;
        if (c.localName !== "") r.local_name = c.localName;
        return r;
      }),
      attributes: n.attributes.map((a) => {
        const r: Obj = {};
        if (a.name !== "") r.name = a.name;
        if (a.fullName !== "") r.full_name = a.fullName;
        if (a.checkpointKey !== "") r.checkpoint_key = a.checkpointKey;
        if (a.optionalRestore) r.optional_restore = true;
        return r;
      }),
      slot_variables: n.slotVariables.map((s) => {
        const r: Obj = {};
        if (s.originalVariableNodeId !== 0) r.original_variable_node_id = s.originalVariableNodeId;
        if (s.slotName !== "") r.slot_name = s.slotName;
        if (s.slotVariableNodeId !== 0) r.slot_variable_node_id = s.slotVariableNodeId;
        return r;
      }),
    };
    if (n.registeredSaver !== undefined) {
      const r: Obj = {};
      if (n.registeredSaver.name !== "") r.name = n.registeredSaver.name;
      if (n.registeredSaver.objectName !== "") r.object_name = n.registeredSaver.objectName;
      o.registered_saver = r;
    }
    if (n.hasCheckpointValues !== undefined)
      o.has_checkpoint_values = n.hasCheckpointValues ? { value: true } : {};
    return o;
  });
  return T.graph.encode({ nodes }).finish(); // plain objects as they are: see encodeBundleEntry
}

// ---------------------------------------------------------------------------------------------
// V1 tensor slices

/** `SavedSliceMeta`: one tensor of a V1 checkpoint. */
export interface SavedSliceMetaProto {
  readonly name: string;
  readonly shape: TensorShapeProto;
  readonly type: number;
  readonly slices: TensorSliceProto[];
}

/** `TensorProto`'s typed value fields as V1 stores them (only the one for the dtype is set). */
export interface TensorProto {
  readonly dtype: number;
  readonly tensorContent: Uint8Array;
  readonly floatVal: number[];
  readonly doubleVal: number[];
  readonly intVal: number[];
  readonly stringVal: Uint8Array[];
  readonly scomplexVal: number[];
  /** int64 values as decimal strings (exact). */
  readonly int64Val: string[];
  readonly boolVal: boolean[];
  readonly dcomplexVal: number[];
  readonly halfVal: number[];
  readonly uint32Val: number[];
  /** uint64 values as decimal strings (exact). */
  readonly uint64Val: string[];
}

/** `SavedTensorSlices`: either `meta` (key `""`) or `data` (a slice key). */
export interface SavedTensorSlicesProto {
  readonly meta: { readonly tensors: SavedSliceMetaProto[]; readonly versions: VersionDef } | undefined;
  readonly data:
    | { readonly name: string; readonly slice: TensorSliceProto; readonly data: TensorProto }
    | undefined;
}

function toTensorValues(o: unknown): TensorProto {
  const t = (o ?? {}) as Obj;
  const nums = (v: unknown) => (Array.isArray(v) ? (v as number[]) : []);
  const strs = (v: unknown) => (Array.isArray(v) ? (v as unknown[]).map(String) : []);
  return {
    dtype: num(t.dtype),
    tensorContent: t.tensor_content instanceof Uint8Array ? t.tensor_content : new Uint8Array(0),
    floatVal: nums(t.float_val),
    doubleVal: nums(t.double_val),
    intVal: nums(t.int_val),
    stringVal: Array.isArray(t.string_val) ? (t.string_val as Uint8Array[]) : [],
    scomplexVal: nums(t.scomplex_val),
    int64Val: strs(t.int64_val),
    boolVal: Array.isArray(t.bool_val) ? (t.bool_val as boolean[]) : [],
    dcomplexVal: nums(t.dcomplex_val),
    halfVal: nums(t.half_val),
    uint32Val: nums(t.uint32_val),
    uint64Val: strs(t.uint64_val),
  };
}

/** Decodes a `SavedTensorSlices` (V1 table value). @throws CorruptCheckpointError */
export function decodeSavedTensorSlices(bytes: Uint8Array, loc: ErrorLocation = {}): SavedTensorSlicesProto {
  let msg: protobuf.Message;
  try {
    msg = T.slices.decode(bytes);
  } catch (e) {
    const m = e instanceof Error ? e.message : String(e);
    throw new CorruptCheckpointError(`cannot parse SavedTensorSlices: ${m}`, loc, { cause: e });
  }
  const raw = msg as unknown as { meta?: unknown; data?: unknown };
  const o = T.slices.toObject(msg, TO_OBJECT) as Obj;
  const meta = raw.meta == null ? undefined : (o.meta as Obj);
  const data = raw.data == null ? undefined : (o.data as Obj);
  return {
    meta:
      meta === undefined
        ? undefined
        : {
            tensors: arr(meta.tensor).map((t) => ({
              name: str(t.name),
              shape: toShape(t.shape, loc),
              type: num(t.type),
              slices: arr(t.slice).map((s) => toSlice(s, loc)),
            })),
            versions: toVersion(meta.versions),
          },
    data:
      data === undefined
        ? undefined
        : { name: str(data.name), slice: toSlice(data.slice, loc), data: toTensorValues(data.data) },
  };
}

/** Encodes a `SavedTensorSlices` (for byte-built V1 fixtures). Values are given as a plain TensorProto object. */
export function encodeSavedTensorSlices(m: {
  meta?: { tensors: SavedSliceMetaProto[]; versions: VersionDef };
  data?: { name: string; slice: TensorSliceProto; data: Record<string, unknown> };
}): Uint8Array {
  const msg: Obj = {};
  if (m.meta !== undefined) {
    msg.meta = {
      tensor: m.meta.tensors.map((t) => ({
        name: t.name,
        shape: fromShape(t.shape.dims),
        type: t.type,
        slice: t.slices.map(fromSlice),
      })),
      versions: { producer: m.meta.versions.producer, min_consumer: m.meta.versions.minConsumer },
    };
  }
  if (m.data !== undefined) {
    msg.data = { name: m.data.name, slice: fromSlice(m.data.slice), data: m.data.data };
  }
  return T.slices.encode(T.slices.fromObject(msg)).finish();
}
