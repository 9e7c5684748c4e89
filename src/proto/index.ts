/**
 * The one typed wrapper over protobufjs for the TensorFlow protos in `protos/` (loaded from the
 * generated JSON descriptor in `generated/`, on first use). Decoders turn protobufjs objects into
 * plain typed objects, converting int64 fields to checked numbers and wrapping every protobufjs
 * failure in a {@link CorruptCheckpointError} naming file, key and offset. Encoders omit proto3
 * default values, as TensorFlow's C++ serializer does, so encoded bytes match TF's. The messages
 * of every save (bundle header and entries, object graph) and the header every open reads are
 * coded by `wire.ts` without reflection, so a short run does not load protobufjs at all.
 *
 * @module
 */
import { createRequire } from "node:module";
import type protobuf from "protobufjs/light.js";
import { CorruptCheckpointError, type ErrorLocation } from "../errors.js";
import { descriptor } from "./generated/descriptor.js";
import { decodeBundleHeaderWire, ProtoWriter, wireError } from "./wire.js";

interface Types {
  readonly entry: protobuf.Type;
  readonly graph: protobuf.Type;
  readonly slices: protobuf.Type;
}

let types: Types | undefined;

/**
 * protobufjs's reflection types, built from the JSON descriptor on first use: the messages every
 * save writes and every open reads first go through `wire.ts` instead, so a short run never
 * loads protobufjs (its load, root and generated coders cost ~50 ms of CPU).
 */
function reflection(): Types {
  if (types !== undefined) return types;
  const pb = createRequire(import.meta.url)("protobufjs/light.js") as typeof protobuf;
  const root = pb.Root.fromJSON(descriptor as unknown as protobuf.INamespace);
  const lookup = (name: string): protobuf.Type => root.lookupType(`tensorflow.${name}`);
  types = {
    entry: lookup("BundleEntryProto"),
    graph: lookup("TrackableObjectGraph"),
    slices: lookup("SavedTensorSlices"),
  };
  return types;
}

const TO_OBJECT: protobuf.IConversionOptions = {
  longs: String,
  enums: Number,
  defaults: true,
  arrays: true,
  oneofs: false,
};

type Obj = Record<string, unknown>;

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

/** Decodes a `BundleHeaderProto` (through `wire.ts`, no reflection). @throws CorruptCheckpointError */
export function decodeBundleHeader(bytes: Uint8Array, loc: ErrorLocation = {}): BundleHeaderProto {
  let h: ReturnType<typeof decodeBundleHeaderWire>;
  try {
    h = decodeBundleHeaderWire(bytes, loc);
  } catch (e) {
    throw wireError("bundle header", e, loc);
  }
  const e = h.endianness;
  if (e !== 0 && e !== 1) throw new CorruptCheckpointError(`unknown bundle endianness ${e}`, loc);
  return { numShards: h.numShards, endianness: e === 0 ? "little" : "big", version: h.version };
}

/** Writes a `VersionDef` message's fields (producer 1, min_consumer 2, bad_consumers 3 packed). */
function writeVersion(w: ProtoWriter, v: VersionDef): void {
  w.int(1, v.producer).int(2, v.minConsumer);
  if (v.badConsumers.length > 0) {
    w.begin(3);
    for (const b of v.badConsumers) w.rawVarint(b);
    w.end();
  }
}

/** One writer for every message this module encodes (reset at the start of each, so a throw leaves nothing behind). */
const out = new ProtoWriter();

/** Encodes a `BundleHeaderProto` as TF's `BundleWriter` does (`08 01 1A 02 08 01` for one shard). */
export function encodeBundleHeader(h: BundleHeaderProto): Uint8Array {
  out
    .reset()
    .int(1, h.numShards)
    .uint(2, h.endianness === "big" ? 1 : 0)
    .begin(3);
  writeVersion(out, h.version);
  return out.end().finish();
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
    m = reflection().entry.decode(bytes) as unknown as RawEntry;
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

/** Writes a `TensorShapeProto` (field `field`): each dim a `Dim` with `size` 1, a 0 size as an empty `Dim`. */
function writeShape(w: ProtoWriter, field: number, dims: readonly number[]): void {
  w.begin(field);
  for (let i = 0; i < dims.length; i++)
    w.begin(2)
      .int(1, dims[i] as number)
      .end();
  w.end();
}

/** Writes a `TensorSliceProto` (field `field`): extents with `start` 1 and, when the oneof is set, `length` 2. */
function writeSlice(w: ProtoWriter, field: number, s: TensorSliceProto): void {
  w.begin(field);
  for (const e of s) {
    w.begin(1).int(1, e.start);
    if (e.length >= 0) w.intAlways(2, e.length); // a set oneof is written even when 0
    w.end();
  }
  w.end();
}

/**
 * Encodes a `BundleEntryProto` as TF's `BundleWriter` does: `shape` always written (a scalar as
 * `12 00`), zeros omitted, fields in number order.
 */
export function encodeBundleEntry(e: BundleEntryProto): Uint8Array {
  out.reset().uint(1, e.dtype);
  writeShape(out, 2, e.shape.dims);
  out.int(3, e.shardId).int(4, e.offset).int(5, e.size).fixed32(6, e.crc32c);
  for (const s of e.slices) writeSlice(out, 7, s);
  return out.finish();
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
    msg = reflection().graph.decode(bytes);
  } catch (e) {
    const m = e instanceof Error ? e.message : String(e);
    throw new CorruptCheckpointError(`cannot parse object graph: ${m}`, loc, { cause: e });
  }
  // Presence of message fields is read from the decoded message, before defaults are filled in.
  const raw = msg as unknown as {
    nodes?: Array<{ has_checkpoint_values?: unknown; registered_saver?: unknown }>;
  };
  const o = reflection().graph.toObject(msg, TO_OBJECT) as Obj;
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

/** Writes one `TrackableObject`'s fields (children 1, attributes 2, slot_variables 3, registered_saver 4, has_checkpoint_values 5). */
function writeTrackable(w: ProtoWriter, n: TrackableObjectProto): void {
  for (const c of n.children) w.begin(1).int(1, c.nodeId).string(2, c.localName).end();
  for (const a of n.attributes) {
    w.begin(2).string(1, a.name).string(2, a.fullName).string(3, a.checkpointKey);
    w.bool(4, a.optionalRestore).end();
  }
  for (const s of n.slotVariables) {
    w.begin(3).int(1, s.originalVariableNodeId).string(2, s.slotName);
    w.int(3, s.slotVariableNodeId).end();
  }
  const rs = n.registeredSaver;
  if (rs !== undefined) w.begin(4).string(1, rs.name).string(2, rs.objectName).end();
  if (n.hasCheckpointValues !== undefined) w.begin(5).bool(1, n.hasCheckpointValues).end();
}

/**
 * Encodes a `TrackableObjectGraph` the way TF's Python saver serializes it (defaults omitted,
 * `has_checkpoint_values` written when present, as a `BoolValue`).
 */
export function encodeObjectGraph(g: ObjectGraphProto): Uint8Array {
  out.reset();
  for (const n of g.nodes) {
    out.begin(1);
    writeTrackable(out, n);
    out.end();
  }
  return out.finish();
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
    msg = reflection().slices.decode(bytes);
  } catch (e) {
    const m = e instanceof Error ? e.message : String(e);
    throw new CorruptCheckpointError(`cannot parse SavedTensorSlices: ${m}`, loc, { cause: e });
  }
  const raw = msg as unknown as { meta?: unknown; data?: unknown };
  const o = reflection().slices.toObject(msg, TO_OBJECT) as Obj;
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
  return reflection().slices.encode(reflection().slices.fromObject(msg)).finish();
}
