/**
 * Tensor values as numbers and text, for `inspect --tensor` (like `inspect_checkpoint
 * --tensor_name`, which prints numpy's summary): element decoding for every fixed-size dtype and
 * min / max / mean over real-valued ones.
 *
 * @module
 */
import { variantTypeName } from "./bundle/variants.js";
import type { DTypeInfo } from "./dtypes.js";
import { UnsupportedError } from "./errors.js";
import type { Tensor } from "./tensor.js";

/**
 * Element `i` of a little-endian real-valued tensor as a number, through the dtype table's reader
 * column ({@link DTypeInfo.read}: bigint for 64-bit integers; bool as 0/1; float8/float4 decoded
 * as `ml_dtypes` does; int4/int2 sign-extended from the low bits). Complex dtypes are not
 * real-valued: use {@link elementAt}.
 * @throws UnsupportedError for a dtype without a reader column (complex, string, variant, unknown)
 */
export function realAt(dtype: DTypeInfo, view: DataView, i: number): number | bigint {
  if (dtype.read === undefined) throw new UnsupportedError(`${dtype.name} elements are not real numbers`);
  return dtype.read(view, i);
}

/** Element `i` of a little-endian tensor for display: booleans as booleans, complex as `a+bj`. */
export function elementAt(dtype: DTypeInfo, view: DataView, i: number): number | bigint | boolean | string {
  switch (dtype.name) {
    case "bool":
      return view.getUint8(i) !== 0;
    case "complex64":
      return `${num(view.getFloat32(i * 8, true))}${sign(view.getFloat32(i * 8 + 4, true))}j`;
    case "complex128":
      return `${num(view.getFloat64(i * 16, true))}${sign(view.getFloat64(i * 16 + 8, true))}j`;
    default:
      return realAt(dtype, view, i);
  }
}

/** A number as text, −0 as `-0` (template strings print it as `0`). */
function num(v: number): string {
  return Object.is(v, -0) ? "-0" : `${v}`;
}

function sign(v: number): string {
  return v < 0 || Object.is(v, -0) ? num(v) : `+${v}`;
}

/**
 * The shortest decimal text that reads back to the same value of `dtype` (as numpy prints
 * float32 `0.977`, not the float64 expansion `0.9769999980926514`); `-0` for -0, as numpy prints
 * it. Display (`inspect`, value summaries); {@link shortestDecimal} is the same digits as a number.
 */
export function formatElement(dtype: DTypeInfo, v: number | bigint | boolean | string): string {
  if (Object.is(v, -0)) return "-0"; // as numpy prints it; String(-0) is "0"
  return typeof v === "number" ? String(shortestDecimal(dtype, v)) : String(v);
}

/**
 * The shortest decimal that `dtype` stores as it stores `v`, through the dtype table's rounding
 * column (`round(d) === round(v)`: float32, float16, bfloat16); `v` itself for other dtypes
 * (float64 prints shortest already) and non-finite values. -0 gives 0. For the values
 * `draft-mapping` pre-fills from a template, and {@link formatElement}'s digits. A float16 or
 * bfloat16 result also stores `round(v)` through the `cast` writer's float32 step (checked for
 * every float16 and bfloat16 value).
 */
export function shortestDecimal(dtype: DTypeInfo, v: number): number {
  const round = dtype.round;
  if (round === undefined || !Number.isFinite(v)) return v;
  const target = round(v);
  for (let p = 1; p < 17; p++) {
    const d = Number(v.toPrecision(p));
    if (round(d) === target) return d;
  }
  return v;
}

/** A short description of a tensor's values. */
export interface TensorSummary {
  readonly elements: number;
  /** The first `limit` elements, as printable text. */
  readonly first: readonly string[];
  /** Numeric summary over real-valued dtypes (NaNs excluded); bigint for int64/uint64, exact. */
  readonly min?: number | bigint;
  readonly max?: number | bigint;
  readonly mean?: number;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Longest string shown in full; longer ones are cut with their length given. */
const MAX_SHOWN_STRING_BYTES = 64;

function printString(s: Uint8Array): string {
  const cut = s.length > MAX_SHOWN_STRING_BYTES;
  const shown = cut ? s.subarray(0, MAX_SHOWN_STRING_BYTES) : s;
  const more = cut ? `… (${s.length} bytes)` : "";
  try {
    return JSON.stringify(utf8.decode(shown)) + more;
  } catch {
    return `b'${Buffer.from(shown).toString("hex")}'${more}`;
  }
}

/** A variant element shown opaque: `<variant TYPE_NAME, N bytes>` (type name from its proto). */
function printOpaque(e: Uint8Array): string {
  return `<variant ${variantTypeName(e) ?? "?"}, ${e.length} bytes>`;
}

/**
 * Summarises `t`: its first `limit` elements (all when `limit` is Infinity) and, for real
 * numbers, min / max / mean over every element.
 */
export function summarizeTensor(t: Tensor, limit = 10): TensorSummary {
  if (t.kind === "string") {
    return { elements: t.strings.length, first: t.strings.slice(0, limit).map(printString) };
  }
  if (t.kind === "opaque")
    return { elements: t.elements.length, first: t.elements.slice(0, limit).map(printOpaque) };
  const s = new FixedSummarizer(t.dtype, limit);
  s.push(t.data);
  return s.finish();
}

/**
 * Summarises a fixed-size tensor streamed as little-endian byte chunks (any chunk boundaries),
 * with the same result as {@link summarizeTensor} on the whole tensor, holding only the shown
 * elements and one partial element: memory independent of the tensor's size.
 */
export async function summarizeStream(
  dtype: DTypeInfo,
  chunks: AsyncIterable<Uint8Array>,
  limit = 10,
): Promise<TensorSummary> {
  const s = new FixedSummarizer(dtype, limit);
  for await (const c of chunks) s.push(c);
  return s.finish();
}

/** The running state of a fixed-size tensor's summary (first elements, min / max / sum). */
class FixedSummarizer {
  readonly #dtype: DTypeInfo;
  readonly #limit: number;
  readonly #item: number;
  readonly #real: boolean;
  readonly #wide: boolean;
  readonly #first: string[] = [];
  #n = 0;
  #carry = new Uint8Array(0);
  #min = Number.POSITIVE_INFINITY;
  #max = Number.NEGATIVE_INFINITY;
  #sum = 0;
  #count = 0;
  #lo: bigint | undefined;
  #hi: bigint | undefined;
  #total = 0n;

  constructor(dtype: DTypeInfo, limit: number) {
    this.#dtype = dtype;
    this.#limit = limit;
    this.#item = dtype.itemSize ?? 1;
    this.#real =
      dtype.kind === "float" || dtype.kind === "int" || dtype.kind === "uint" || dtype.kind === "quantized";
    // int64 / uint64: exact min and max (a double cannot hold 2^63 - 1).
    this.#wide = dtype.itemSize === 8 && (dtype.kind === "int" || dtype.kind === "uint");
  }

  push(chunk: Uint8Array): void {
    let bytes = chunk;
    if (this.#carry.length > 0) {
      bytes = new Uint8Array(this.#carry.length + chunk.length);
      bytes.set(this.#carry);
      bytes.set(chunk, this.#carry.length);
    }
    const whole = Math.floor(bytes.length / this.#item);
    this.#carry = bytes.slice(whole * this.#item);
    const view = new DataView(bytes.buffer, bytes.byteOffset, whole * this.#item);
    const dtype = this.#dtype;
    for (let i = 0; i < whole && this.#first.length < this.#limit; i++)
      this.#first.push(formatElement(dtype, elementAt(dtype, view, i)));
    this.#n += whole;
    if (!this.#real) return;
    if (this.#wide) {
      for (let i = 0; i < whole; i++) {
        const v = elementAt(dtype, view, i) as bigint;
        if (this.#lo === undefined || v < this.#lo) this.#lo = v;
        if (this.#hi === undefined || v > this.#hi) this.#hi = v;
        this.#total += v;
      }
      return;
    }
    for (let i = 0; i < whole; i++) {
      const v = Number(elementAt(dtype, view, i));
      if (Number.isNaN(v)) continue;
      if (v < this.#min) this.#min = v;
      if (v > this.#max) this.#max = v;
      this.#sum += v;
      this.#count++;
    }
  }

  finish(): TensorSummary {
    const n = this.#n;
    const first = this.#first;
    if (!this.#real || n === 0) return { elements: n, first };
    if (this.#wide)
      return {
        elements: n,
        first,
        min: this.#lo as bigint,
        max: this.#hi as bigint,
        mean: Number(this.#total) / n,
      };
    return this.#count === 0
      ? { elements: n, first }
      : { elements: n, first, min: this.#min, max: this.#max, mean: this.#sum / this.#count };
  }
}
