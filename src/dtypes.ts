/**
 * The one table of TensorFlow dtypes: enum value (`tensorflow/core/framework/types.proto`), the
 * Python name users see (`tf.float32.name`), bytes per element on disk, and how values are read.
 * Element widths and byte-swap units follow `tensorflow/core/util/tensor_bundle/byte_swap_tensor.cc`.
 *
 * @module
 */
import { f16round, getFloat16, setFloat16 } from "@petamoriken/float16";
import { type ErrorLocation, UnsupportedError } from "./errors.js";

/** How a dtype's elements are stored. */
export type DTypeKind =
  | "float" // IEEE binary16/32/64, bfloat16, float8
  | "int"
  | "uint"
  | "bool"
  | "complex" // (real, imaginary) pairs
  | "quantized" // same bytes as the underlying integer
  | "string" // varint lengths + checksum + bytes (tensor_bundle.cc WriteStringTensor)
  | "variant" // opaque: framing and CRCs checked, bytes copied as they are (bundle/variants.ts)
  | "resource" // never saved by TensorFlow
  | "unknown"; // an enum value tfckpt does not know: listed, its values refused

/** One row of the dtype table. */
export interface DTypeInfo {
  /** `DataType` enum value, e.g. 1 for `DT_FLOAT`. */
  readonly enumValue: number;
  /** The TensorFlow Python name, e.g. `float32`, `bfloat16`, `string`. */
  readonly name: string;
  /** The `DataType` enum name, e.g. `DT_FLOAT`. */
  readonly protoName: string;
  /** Bytes per element on disk; `undefined` for string/variant/resource. */
  readonly itemSize: number | undefined;
  readonly kind: DTypeKind;
  /** Width (bytes) of each unit swapped on a big-endian bundle; 1 means never swapped. */
  readonly swapUnit: number;
  /** How exactly the dtype holds numbers, for the `cast` transform; absent for dtypes it does not convert. */
  readonly cast?: CastClass;
  /** Reader column: element `i` as a real number; absent for complex, string, variant, resource, unknown. */
  readonly read?: ElementReader;
  /** Writer column: present exactly for the dtypes with a {@link cast} class. */
  readonly write?: ElementWriter;
  /** Rounding column: the nearest value of this float dtype, for shortest printing (float32, float16, bfloat16). */
  readonly round?: (v: number) => number;
  /** V1 value field column: where a V1 `SavedSlice` stores this dtype's values; absent where V1 holds none. */
  readonly v1Field?: V1ValueField;
}

/**
 * Reads element `i` of a little-endian array: a number, a bigint for int64 / uint64, bool as 0 or
 * 1, float8 / float4 decoded as `ml_dtypes` does, int4 / int2 sign-extended from the low bits.
 */
export type ElementReader = (view: DataView, i: number) => number | bigint;

/**
 * Stores `v` as element `i` of a little-endian array, converted as `tf.cast` converts: floats
 * rounded to nearest even (float16 and bfloat16 through float32, as Eigen does), integers
 * truncated toward zero and saturated (NaN gives 0), bool as `v != 0`.
 */
export type ElementWriter = (view: DataView, i: number, v: number | bigint) => void;

/**
 * The `TensorProto` typed value field a V1 checkpoint stores a dtype's values in
 * (`tensorflow/core/util/saved_tensor_slice_util.h`, `SaveTypeTraits`); the narrow integer,
 * quantized and small float types go in `int_val`.
 */
export type V1ValueField =
  | "float_val"
  | "double_val"
  | "scomplex_val"
  | "dcomplex_val"
  | "int64_val"
  | "uint64_val"
  | "uint32_val"
  | "bool_val"
  | "half_val"
  | "int_val"
  | "string_val";

/**
 * The cast-class column: how exactly a dtype the `cast` transform converts holds numbers. A
 * float's significand bits (the implicit bit included) and exponent bits, an integer's width and
 * signedness, or bool. A cast is lossless when the target class holds every value of the source
 * class (`src/transforms/index.ts`, `isLosslessCastClass`).
 */
export type CastClass =
  | { readonly kind: "float"; readonly mant: number; readonly exp: number }
  | { readonly kind: "int"; readonly bits: number; readonly signed: boolean }
  | { readonly kind: "bool" };

const CAST_CLASS: Readonly<Record<string, CastClass>> = {
  float16: { kind: "float", mant: 11, exp: 5 },
  bfloat16: { kind: "float", mant: 8, exp: 8 },
  float32: { kind: "float", mant: 24, exp: 8 },
  float64: { kind: "float", mant: 53, exp: 11 },
  int8: { kind: "int", bits: 8, signed: true },
  int16: { kind: "int", bits: 16, signed: true },
  int32: { kind: "int", bits: 32, signed: true },
  int64: { kind: "int", bits: 64, signed: true },
  uint8: { kind: "int", bits: 8, signed: false },
  uint16: { kind: "int", bits: 16, signed: false },
  uint32: { kind: "int", bits: 32, signed: false },
  uint64: { kind: "int", bits: 64, signed: false },
  bool: { kind: "bool" },
};

// ---------------------------------------------------------------------------------------------
// The reader, writer and rounding columns

/** Layout of a small float format: exponent and mantissa bits, bias, and how it spells inf/NaN. */
interface MiniFloat {
  readonly exp: number;
  readonly mant: number;
  readonly bias: number;
  /**
   * `ieee`: all-ones exponent is inf (mantissa 0) or NaN; `fn`: no inf, only all-ones
   * exponent and mantissa is NaN; `fnuz`: no inf, no −0, the −0 pattern (0x80) is the one NaN;
   * `finite`: every pattern is a number.
   */
  readonly special: "ieee" | "fn" | "fnuz" | "finite";
}

/**
 * The small float dtypes, as `ml_dtypes` (which TF uses) defines them; TF stores one element
 * per byte, in the low bits.
 */
const MINIFLOATS: Readonly<Record<string, MiniFloat>> = {
  float8_e5m2: { exp: 5, mant: 2, bias: 15, special: "ieee" },
  float8_e4m3fn: { exp: 4, mant: 3, bias: 7, special: "fn" },
  float8_e4m3fnuz: { exp: 4, mant: 3, bias: 8, special: "fnuz" },
  float8_e4m3b11fnuz: { exp: 4, mant: 3, bias: 11, special: "fnuz" },
  float8_e5m2fnuz: { exp: 5, mant: 2, bias: 16, special: "fnuz" },
  float4_e2m1fn: { exp: 2, mant: 1, bias: 1, special: "finite" },
};

/** Decodes one small float from the low `1 + exp + mant` bits of `byte`. */
function decodeMiniFloat(f: MiniFloat, byte: number): number {
  const bits = 1 + f.exp + f.mant;
  const v = byte & ((1 << bits) - 1);
  const negative = (v >> (bits - 1)) & 1;
  const e = (v >> f.mant) & ((1 << f.exp) - 1);
  const m = v & ((1 << f.mant) - 1);
  const maxE = (1 << f.exp) - 1;
  if (f.special === "fnuz" && negative === 1 && e === 0 && m === 0) return Number.NaN;
  if (f.special === "ieee" && e === maxE) return m === 0 ? (negative ? -Infinity : Infinity) : Number.NaN;
  if (f.special === "fn" && e === maxE && m === (1 << f.mant) - 1) return Number.NaN;
  const magnitude = e === 0 ? m * 2 ** (1 - f.bias - f.mant) : (1 + m / (1 << f.mant)) * 2 ** (e - f.bias);
  return negative ? -magnitude : magnitude;
}

/** A bfloat16's 16 bits as the float32 value they are the top half of. */
function bfloat16Value(bits: number): number {
  return new Float32Array(new Uint32Array([(bits << 16) >>> 0]).buffer)[0] as number;
}

/**
 * The one bfloat16 rounding: a float32 value's 16 bfloat16 bits, rounded to nearest even on the
 * float32 bits (NaN kept a quiet NaN), as `tensorflow/core/platform/bfloat16.h` (Eigen's
 * `float_to_bfloat16_rtne`) does.
 */
export function bfloat16Bits(v: number): number {
  const bits = new Uint32Array(new Float32Array([v]).buffer)[0] as number;
  if (Number.isNaN(v)) return ((bits >>> 16) | 0x40) & 0xffff;
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

const getInt8: ElementReader = (v, i) => v.getInt8(i);
const getInt16: ElementReader = (v, i) => v.getInt16(i * 2, true);
const getUint16: ElementReader = (v, i) => v.getUint16(i * 2, true);
const getInt32: ElementReader = (v, i) => v.getInt32(i * 4, true);
const getUint8: ElementReader = (v, i) => v.getUint8(i);

/** The reader column, by Python name. */
const READERS: Readonly<Record<string, ElementReader>> = {
  float32: (v, i) => v.getFloat32(i * 4, true),
  float64: (v, i) => v.getFloat64(i * 8, true),
  float16: (v, i) => getFloat16(v, i * 2, true),
  bfloat16: (v, i) => bfloat16Value(v.getUint16(i * 2, true)),
  int8: getInt8,
  qint8: getInt8,
  int16: getInt16,
  qint16: getInt16,
  uint16: getUint16,
  quint16: getUint16,
  int32: getInt32,
  qint32: getInt32,
  uint32: (v, i) => v.getUint32(i * 4, true),
  int64: (v, i) => v.getBigInt64(i * 8, true),
  uint64: (v, i) => v.getBigUint64(i * 8, true),
  uint8: getUint8,
  quint8: getUint8,
  bool: (v, i) => (v.getUint8(i) !== 0 ? 1 : 0),
  // One element per byte, in the low bits; TF does not sign-extend them on disk (-8 is 0x08).
  int4: (v, i) => ((v.getUint8(i) & 0x0f) << 28) >> 28,
  uint4: (v, i) => v.getUint8(i) & 0x0f,
  int2: (v, i) => ((v.getUint8(i) & 0x03) << 30) >> 30,
  uint2: (v, i) => v.getUint8(i) & 0x03,
  ...Object.fromEntries(
    Object.entries(MINIFLOATS).map(([name, f]): [string, ElementReader] => [
      name,
      (v, i) => decodeMiniFloat(f, v.getUint8(i)),
    ]),
  ),
};

/** `v` as a number truncated toward zero and clamped to [lo, hi]; NaN gives 0. */
function saturate(v: number | bigint, lo: number, hi: number): number {
  const num = typeof v === "bigint" ? Number(v) : v;
  return Number.isNaN(num) ? 0 : Math.min(hi, Math.max(lo, Math.trunc(num)));
}

/** The writer column, by Python name. */
const WRITERS: Readonly<Record<string, ElementWriter>> = {
  // tf.cast rounds float64 → float32 → float16 (Eigen's half conversion goes through float),
  // which differs from one rounding for about 6 values in 100 000.
  float16: (v, i, x) => setFloat16(v, i * 2, f16round(Math.fround(Number(x))), true),
  bfloat16: (v, i, x) => v.setUint16(i * 2, bfloat16Bits(Math.fround(Number(x))), true),
  float32: (v, i, x) => v.setFloat32(i * 4, Number(x), true),
  float64: (v, i, x) => v.setFloat64(i * 8, Number(x), true),
  int8: (v, i, x) => v.setInt8(i, saturate(x, -128, 127)),
  uint8: (v, i, x) => v.setUint8(i, saturate(x, 0, 255)),
  int16: (v, i, x) => v.setInt16(i * 2, saturate(x, -32768, 32767), true),
  uint16: (v, i, x) => v.setUint16(i * 2, saturate(x, 0, 65535), true),
  int32: (v, i, x) => v.setInt32(i * 4, saturate(x, -(2 ** 31), 2 ** 31 - 1), true),
  uint32: (v, i, x) => v.setUint32(i * 4, saturate(x, 0, 2 ** 32 - 1), true),
  // 2^63 - 1024 and 2^64 - 2048 are the largest doubles below 2^63 and 2^64.
  int64: (v, i, x) =>
    v.setBigInt64(
      i * 8,
      typeof x === "bigint" ? BigInt.asIntN(64, x) : BigInt(saturate(x, -(2 ** 63), 2 ** 63 - 1024)),
      true,
    ),
  uint64: (v, i, x) =>
    v.setBigUint64(
      i * 8,
      typeof x === "bigint" ? BigInt.asUintN(64, x) : BigInt(saturate(x, 0, 2 ** 64 - 2048)),
      true,
    ),
  bool: (v, i, x) => v.setUint8(i, Number(x) !== 0 ? 1 : 0),
};

/** The rounding column: float32, float16 and bfloat16 (rounded as {@link bfloat16Bits} rounds). */
const ROUNDERS: Readonly<Record<string, (v: number) => number>> = {
  float32: Math.fround,
  float16: f16round,
  bfloat16: (v) => bfloat16Value(bfloat16Bits(v)),
};

/** The V1 value field column, by Python name; other fixed-size dtypes use `int_val`. */
const V1_FIELDS: Readonly<Record<string, V1ValueField>> = {
  float32: "float_val",
  float64: "double_val",
  complex64: "scomplex_val",
  complex128: "dcomplex_val",
  int64: "int64_val",
  uint64: "uint64_val",
  uint32: "uint32_val",
  bool: "bool_val",
  float16: "half_val",
  bfloat16: "half_val",
  string: "string_val",
};

/** The optional columns of the dtype named `name` of kind `kind`. */
function columnsOf(name: string, kind: DTypeKind, itemSize: number | undefined): Partial<DTypeInfo> {
  const v1Field = V1_FIELDS[name] ?? (itemSize !== undefined ? "int_val" : undefined);
  const cols: Record<string, unknown> = {
    cast: CAST_CLASS[name],
    read: READERS[name],
    write: WRITERS[name],
    round: ROUNDERS[name],
    v1Field: kind === "variant" || kind === "resource" ? undefined : v1Field,
  };
  return Object.fromEntries(Object.entries(cols).filter(([, v]) => v !== undefined)) as Partial<DTypeInfo>;
}

// ---------------------------------------------------------------------------------------------
// The table

const rows = [
  [1, "float32", "DT_FLOAT", 4, "float", 4],
  [2, "float64", "DT_DOUBLE", 8, "float", 8],
  [3, "int32", "DT_INT32", 4, "int", 4],
  [4, "uint8", "DT_UINT8", 1, "uint", 1],
  [5, "int16", "DT_INT16", 2, "int", 2],
  [6, "int8", "DT_INT8", 1, "int", 1],
  [7, "string", "DT_STRING", undefined, "string", 1],
  [8, "complex64", "DT_COMPLEX64", 8, "complex", 4],
  [9, "int64", "DT_INT64", 8, "int", 8],
  [10, "bool", "DT_BOOL", 1, "bool", 1],
  [11, "qint8", "DT_QINT8", 1, "quantized", 1],
  [12, "quint8", "DT_QUINT8", 1, "quantized", 1],
  [13, "qint32", "DT_QINT32", 4, "quantized", 4],
  [14, "bfloat16", "DT_BFLOAT16", 2, "float", 2],
  [15, "qint16", "DT_QINT16", 2, "quantized", 2],
  [16, "quint16", "DT_QUINT16", 2, "quantized", 2],
  [17, "uint16", "DT_UINT16", 2, "uint", 2],
  [18, "complex128", "DT_COMPLEX128", 16, "complex", 8],
  [19, "float16", "DT_HALF", 2, "float", 2],
  [20, "resource", "DT_RESOURCE", undefined, "resource", 1],
  [21, "variant", "DT_VARIANT", undefined, "variant", 1],
  [22, "uint32", "DT_UINT32", 4, "uint", 4],
  [23, "uint64", "DT_UINT64", 8, "uint", 8],
  [24, "float8_e5m2", "DT_FLOAT8_E5M2", 1, "float", 1],
  [25, "float8_e4m3fn", "DT_FLOAT8_E4M3FN", 1, "float", 1],
  [26, "float8_e4m3fnuz", "DT_FLOAT8_E4M3FNUZ", 1, "float", 1],
  [27, "float8_e4m3b11fnuz", "DT_FLOAT8_E4M3B11FNUZ", 1, "float", 1],
  [28, "float8_e5m2fnuz", "DT_FLOAT8_E5M2FNUZ", 1, "float", 1],
  [29, "int4", "DT_INT4", 1, "int", 1],
  [30, "uint4", "DT_UINT4", 1, "uint", 1],
  [31, "int2", "DT_INT2", 1, "int", 1],
  [32, "uint2", "DT_UINT2", 1, "uint", 1],
  // One element per byte (low 4 bits), as TF 2.21 saves ml_dtypes.float4_e2m1fn arrays.
  [33, "float4_e2m1fn", "DT_FLOAT4_E2M1FN", 1, "float", 1],
] as const satisfies ReadonlyArray<readonly [number, string, string, number | undefined, DTypeKind, number]>;

/** Every dtype, by enum value. */
export const DTYPES: ReadonlyMap<number, DTypeInfo> = new Map(
  rows.map(([enumValue, name, protoName, itemSize, kind, swapUnit]) => [
    enumValue,
    { enumValue, name, protoName, itemSize, kind, swapUnit, ...columnsOf(name, kind, itemSize) },
  ]),
);

const byName = new Map<string, DTypeInfo>();
for (const d of DTYPES.values()) {
  byName.set(d.name, d);
  byName.set(d.protoName, d);
}
byName.set("half", DTYPES.get(19) as DTypeInfo);
byName.set("float", DTYPES.get(1) as DTypeInfo);
byName.set("double", DTYPES.get(2) as DTypeInfo);

/**
 * The dtype with enum value `v`. Reference types (`DT_FLOAT_REF` = 101, …) are never stored in
 * checkpoints and are refused like unknown values.
 * @throws UnsupportedError for an unknown enum value (message names the value).
 */
export function dtypeFromEnum(v: number, loc: ErrorLocation = {}): DTypeInfo {
  const d = DTYPES.get(v);
  if (d === undefined || v === 0) throw new UnsupportedError(`unknown or invalid dtype enum value ${v}`, loc);
  return d;
}

/**
 * The dtype of a stored entry: as {@link dtypeFromEnum}, except that an enum value tfckpt does not
 * know (a newer TF's dtype) gives a placeholder of kind `unknown` (name `unknown_N`, no element
 * size), so the checkpoint still opens and lists; reading such a tensor's values is refused.
 * @throws UnsupportedError for 0 (`DT_INVALID`)
 */
export function dtypeOfEntry(v: number, loc: ErrorLocation = {}): DTypeInfo {
  const d = DTYPES.get(v);
  if (d !== undefined) return d;
  if (!Number.isSafeInteger(v) || v <= 0) return dtypeFromEnum(v, loc);
  return {
    enumValue: v,
    name: `unknown_${v}`,
    protoName: `DT_UNKNOWN_${v}`,
    itemSize: undefined,
    kind: "unknown",
    swapUnit: 1,
  };
}

/**
 * The dtype named `name`: a Python name (`float32`, `float16`), an alias (`half`, `float`,
 * `double`) or a proto name (`DT_FLOAT`).
 * @throws UnsupportedError for an unknown name.
 */
export function dtypeFromName(name: string): DTypeInfo {
  const d = byName.get(name);
  if (d === undefined) throw new UnsupportedError(`unknown dtype ${JSON.stringify(name)}`);
  return d;
}

/** The cast class of the dtype whose Python name is `name` (`float32`, not an alias), if `cast` converts it. */
export function castClassOf(name: string): CastClass | undefined {
  const d = byName.get(name);
  return d?.name === name ? d.cast : undefined;
}

/** True for dtypes whose bytes are a fixed-size array (everything but string/variant/resource/unknown). */
export function isFixedSize(d: DTypeInfo): d is DTypeInfo & { readonly itemSize: number } {
  return d.itemSize !== undefined;
}

/**
 * The name TF's C++ `DataTypeString` gives a dtype, as restore errors print it: the enum name
 * without `DT_`, lower-cased (`float`, `double`, `half`, `int64`, `bfloat16`).
 */
export function tfDtypeString(d: DTypeInfo): string {
  return d.protoName.replace(/^DT_/, "").toLowerCase();
}
