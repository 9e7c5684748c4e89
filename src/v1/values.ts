/**
 * Values of a V1 `SavedSlice`: a `TensorProto` with only the typed repeated field for its dtype
 * filled, turned into little-endian bytes. Mirrors `tensorflow/core/util/saved_tensor_slice_util.h`
 * (`SaveTypeTraits`, `TensorProtoData`) and `tensor_slice_reader.cc`.
 *
 * @module
 */
import type { DTypeInfo } from "../dtypes.js";
import { CorruptCheckpointError, type ErrorLocation, UnsupportedError } from "../errors.js";
import type { TensorValuesProto } from "../proto/index.js";

/**
 * Converts the values of one slice to `count` elements of `dtype`.
 * @returns little-endian bytes (count × itemSize) for fixed-size dtypes, or strings
 * @throws CorruptCheckpointError when the number of values is not `count`;
 *         UnsupportedError for dtypes V1 cannot hold
 */
export function sliceValues(
  t: TensorValuesProto,
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
  if (item === undefined || dtype.kind === "variant" || dtype.kind === "resource") {
    throw new UnsupportedError(`${dtype.name} values in a V1 checkpoint are not supported`, loc);
  }
  if (t.tensorContent.length > 0) {
    check(t.tensorContent.length / item, "tensor_content");
    return { bytes: t.tensorContent };
  }
  const out = new Uint8Array(count * item);
  const view = new DataView(out.buffer);
  const put = <T>(
    values: readonly T[],
    field: string,
    perElement: number,
    set: (i: number, v: T) => void,
  ) => {
    check(values.length / perElement, field);
    for (let i = 0; i < values.length; i++) set(i, values[i] as T);
  };
  switch (dtype.name) {
    case "float32":
      put(t.floatVal, "float_val", 1, (i, v) => view.setFloat32(i * 4, v, true));
      break;
    case "float64":
      put(t.doubleVal, "double_val", 1, (i, v) => view.setFloat64(i * 8, v, true));
      break;
    case "complex64":
      put(t.scomplexVal, "scomplex_val", 2, (i, v) => view.setFloat32(i * 4, v, true));
      break;
    case "complex128":
      put(t.dcomplexVal, "dcomplex_val", 2, (i, v) => view.setFloat64(i * 8, v, true));
      break;
    case "int64":
      put(t.int64Val, "int64_val", 1, (i, v) => view.setBigInt64(i * 8, BigInt(v), true));
      break;
    case "uint64":
      put(t.uint64Val, "uint64_val", 1, (i, v) => view.setBigUint64(i * 8, BigInt(v), true));
      break;
    case "uint32":
      put(t.uint32Val, "uint32_val", 1, (i, v) => view.setUint32(i * 4, v, true));
      break;
    case "bool":
      put(t.boolVal, "bool_val", 1, (i, v) => view.setUint8(i, v ? 1 : 0));
      break;
    case "float16":
    case "bfloat16":
      put(t.halfVal, "half_val", 1, (i, v) => view.setUint16(i * 2, v & 0xffff, true));
      break;
    default:
      // int32, uint8, int8, int16, uint16 and the quantized types are stored one int32 each.
      put(t.intVal, "int_val", 1, (i, v) => {
        if (item === 4) view.setInt32(i * 4, v, true);
        else if (item === 2) view.setUint16(i * 2, v & 0xffff, true);
        else view.setUint8(i, v & 0xff);
      });
  }
  return { bytes: out };
}
