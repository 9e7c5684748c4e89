/**
 * Values of a V1 `SavedSlice`: a `TensorProto` with only the typed repeated field for its dtype
 * filled, turned into little-endian bytes. Mirrors `tensorflow/core/util/saved_tensor_slice_util.h`
 * (`SaveTypeTraits`, `TensorProtoData`) and `tensor_slice_reader.cc`.
 *
 * @module
 */
import type { DTypeInfo, V1ValueField } from "../dtypes.js";
import { CorruptCheckpointError, type ErrorLocation, UnsupportedError } from "../errors.js";
import { Cursor } from "../io/cursor.js";
import type { TensorProto } from "../proto/index.js";

/**
 * The little-endian bit patterns of a V1 slice's floating-point values, read straight from the
 * protobuf wire (`SavedTensorSlices.data` 2 → `SavedSlice.data` 3 → `TensorProto` `float_val` 5,
 * `double_val` 6, `scomplex_val` 9, `dcomplex_val` 12; packed or not). Decoding them through JS
 * numbers would quiet signalling NaNs and so change their bits.
 */
export interface RawFloatValues {
  /** float_val: 4 bytes per value. */
  readonly float: Uint8Array;
  /** double_val: 8 bytes per value. */
  readonly double: Uint8Array;
  /** scomplex_val: 4 bytes per real or imaginary part. */
  readonly scomplex: Uint8Array;
  /** dcomplex_val: 8 bytes per real or imaginary part. */
  readonly dcomplex: Uint8Array;
}

/** Visits every field of one message: `(field, wireType, payload)`; payload of length-delimited and fixed fields. */
function forEachField(
  bytes: Uint8Array,
  loc: ErrorLocation,
  visit: (field: number, wire: number, payload: Uint8Array) => void,
): void {
  const c = new Cursor(bytes, 0, loc);
  while (c.remaining > 0) {
    const tag = c.varint64();
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    switch (wire) {
      case 0:
        c.varint64();
        visit(field, wire, new Uint8Array(0));
        break;
      case 1:
        visit(field, wire, c.take(8, "fixed64 field"));
        break;
      case 2:
        visit(field, wire, c.take(c.varint64(), "length-delimited field"));
        break;
      case 5:
        visit(field, wire, c.take(4, "fixed32 field"));
        break;
      default:
        throw c.error(`unsupported protobuf wire type ${wire}`);
    }
  }
}

const FLOAT_FIELDS: Readonly<Record<number, { name: keyof RawFloatValues; width: number }>> = {
  5: { name: "float", width: 4 },
  6: { name: "double", width: 8 },
  9: { name: "scomplex", width: 4 },
  12: { name: "dcomplex", width: 8 },
};

/**
 * Collects {@link RawFloatValues} from the bytes of one serialized V1 `SavedTensorSlices`.
 * @throws CorruptCheckpointError for malformed wire data
 */
export function rawFloatValues(savedTensorSlices: Uint8Array, loc: ErrorLocation = {}): RawFloatValues {
  const parts: Record<keyof RawFloatValues, Uint8Array[]> = {
    float: [],
    double: [],
    scomplex: [],
    dcomplex: [],
  };
  forEachField(savedTensorSlices, loc, (f, w, slice) => {
    if (f !== 2 || w !== 2) return;
    forEachField(slice, loc, (g, w2, tensor) => {
      if (g !== 3 || w2 !== 2) return;
      forEachField(tensor, loc, (h, w3, payload) => {
        const spec = FLOAT_FIELDS[h];
        if (spec === undefined) return;
        const packed = w3 === 2;
        if (!packed && w3 !== (spec.width === 4 ? 5 : 1)) return;
        if (payload.length % spec.width !== 0) {
          throw new CorruptCheckpointError(
            `packed ${spec.name} values of ${payload.length} bytes are not whole ${spec.width}-byte words`,
            loc,
          );
        }
        parts[spec.name].push(payload);
      });
    });
  });
  const join = (xs: Uint8Array[]) => (xs.length === 1 ? (xs[0] as Uint8Array) : Buffer.concat(xs));
  return {
    float: join(parts.float),
    double: join(parts.double),
    scomplex: join(parts.scomplex),
    dcomplex: join(parts.dcomplex),
  };
}

/**
 * How a V1 slice's values of one `TensorProto` typed value field (the dtype table's
 * {@link DTypeInfo.v1Field} column names it) are counted and turned into little-endian elements of `out`.
 */
interface V1FieldReader {
  readonly held: (t: TensorProto, raw: RawFloatValues, item: number) => number;
  readonly fill: (t: TensorProto, raw: RawFloatValues, out: Uint8Array, view: DataView, item: number) => void;
}

/** Floating-point values: copied as raw little-endian words, never through JS numbers. */
function words(pick: (raw: RawFloatValues) => Uint8Array): V1FieldReader {
  return {
    held: (_t, raw, item) => pick(raw).length / item,
    fill: (_t, raw, out) => out.set(pick(raw)),
  };
}

/** Values stored one proto number each, written by `set` as element `i`. */
function numbers<T>(
  pick: (t: TensorProto) => readonly T[],
  set: (view: DataView, i: number, v: T, item: number) => void,
): V1FieldReader {
  return {
    held: (t) => pick(t).length,
    fill: (t, _raw, _out, view, item) => {
      const values = pick(t);
      for (let i = 0; i < values.length; i++) set(view, i, values[i] as T, item);
    },
  };
}

/** The reader of each fixed-size value field. */
const V1_FIELD_READERS: Readonly<Record<Exclude<V1ValueField, "string_val">, V1FieldReader>> = {
  float_val: words((raw) => raw.float),
  double_val: words((raw) => raw.double),
  scomplex_val: words((raw) => raw.scomplex),
  dcomplex_val: words((raw) => raw.dcomplex),
  int64_val: numbers(
    (t) => t.int64Val,
    (view, i, v) => view.setBigInt64(i * 8, BigInt(v), true),
  ),
  uint64_val: numbers(
    (t) => t.uint64Val,
    (view, i, v) => view.setBigUint64(i * 8, BigInt(v), true),
  ),
  uint32_val: numbers(
    (t) => t.uint32Val,
    (view, i, v) => view.setUint32(i * 4, v, true),
  ),
  bool_val: numbers(
    (t) => t.boolVal,
    (view, i, v) => view.setUint8(i, v ? 1 : 0),
  ),
  // float16 and bfloat16: the 16 bits in the low half of each int32.
  half_val: numbers(
    (t) => t.halfVal,
    (view, i, v) => view.setUint16(i * 2, v & 0xffff, true),
  ),
  // int32 and the narrower integer, quantized and small float types: one int32 per value,
  // truncated to the item size.
  int_val: numbers(
    (t) => t.intVal,
    (view, i, v, item) => {
      if (item === 4) view.setInt32(i * 4, v, true);
      else if (item === 2) view.setUint16(i * 2, v & 0xffff, true);
      else view.setUint8(i, v & 0xff);
    },
  ),
};

/**
 * Converts the values of one slice to `count` elements of `dtype`.
 * @returns little-endian bytes (count × itemSize) for fixed-size dtypes, or strings
 * @throws CorruptCheckpointError when the number of values is not `count`;
 *         UnsupportedError for dtypes V1 cannot hold
 */
export function sliceValues(
  t: TensorProto,
  raw: RawFloatValues,
  dtype: DTypeInfo,
  count: number,
  loc: ErrorLocation,
): { bytes: Uint8Array } | { strings: Uint8Array[] } {
  const check = (n: number, field: string) => {
    if (n !== count) {
      throw new CorruptCheckpointError(
        `slice holds ${n} values in ${field}, expected ${count} (${dtype.name})`,
        loc,
      );
    }
  };
  if (dtype.kind === "string") {
    check(t.stringVal.length, "string_val");
    return { strings: t.stringVal };
  }
  const item = dtype.itemSize;
  const field = dtype.v1Field;
  if (item === undefined || field === undefined || field === "string_val") {
    throw new UnsupportedError(`${dtype.name} values in a V1 checkpoint are not supported`, loc);
  }
  if (t.tensorContent.length > 0) {
    check(t.tensorContent.length / item, "tensor_content");
    return { bytes: t.tensorContent };
  }
  // How many values the proto holds, checked against `count` before `count` sizes anything: a
  // slice's extent is declared by the meta, its values are what the file holds.
  const f = V1_FIELD_READERS[field];
  check(f.held(t, raw, item), field);
  const out = new Uint8Array(count * item);
  f.fill(t, raw, out, new DataView(out.buffer), item);
  return { bytes: out };
}
