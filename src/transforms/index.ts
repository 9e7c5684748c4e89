/**
 * Tensor transforms of an assignment map, one pure function each, every one checked against
 * dtypes and shapes ({@link planTransform}) before any byte moves ({@link applyTransform}).
 * Semantics follow the TF ops of the same name: `tf.transpose`, `tf.reshape`, `tf.cast`
 * (round-to-nearest-even), `tf.slice`, `tf.split` (equal parts), `tf.squeeze`, `tf.expand_dims`,
 * `tf.concat`; `permuteBlocks` reorders equal blocks along an axis (`tf.concat` of a reordered
 * `tf.split`), e.g. LSTM gates from TF1's i, j, f, o to Keras's i, f, c, o; `add` adds a constant
 * to every element or to one block along an axis (e.g. TF1's run-time LSTM `forget_bias`); `scale`
 * multiplies every element by a constant (`tf.multiply`); `splitHeads` / `mergeHeads` reshape one
 * axis into `[heads, size / heads]` and back, at any rank (a fused attention kernel `[d, h·k]` →
 * Keras `EinsumDense`'s `[d, h, k]`, its bias `[h·k]` → `[h, k]`, the output kernel `[h·k, d]` →
 * `[h, k, d]`).
 *
 * All tensors are row-major, little-endian ({@link FixedTensor}).
 *
 * @module
 */
import { type CastClass, castClassOf, type DTypeInfo, dtypeFromName, type ElementWriter } from "../dtypes.js";
import { UsageError } from "../errors.js";
import { takeBuffer } from "../io/buffer-pool.js";
import { type FixedTensor, formatType, numElements } from "../tensor.js";
import { realAt } from "../values.js";

/** One transform as written in an assignment map. */
export type Transform =
  | { readonly op: "transpose"; readonly perm: readonly number[] }
  | { readonly op: "reshape"; readonly shape: readonly number[] }
  | { readonly op: "cast"; readonly to: string; readonly allowLossy?: boolean }
  | { readonly op: "slice"; readonly begin: readonly number[]; readonly size: readonly number[] }
  | { readonly op: "split"; readonly axis: number; readonly parts: number; readonly index: number }
  | { readonly op: "squeeze"; readonly axis?: number | readonly number[] }
  | { readonly op: "expandDims"; readonly axis: number }
  | {
      readonly op: "permuteBlocks";
      readonly axis: number;
      readonly blocks: number;
      readonly order: readonly number[];
    }
  | {
      readonly op: "add";
      readonly value: number;
      readonly axis?: number;
      readonly blocks?: number;
      readonly block?: number;
    }
  | { readonly op: "scale"; readonly value: number }
  | { readonly op: "splitHeads"; readonly axis: number; readonly heads: number }
  | { readonly op: "mergeHeads"; readonly axis: number };

/** A dtype and shape: what a tensor will be, before its bytes exist. */
export interface TensorType {
  readonly dtype: DTypeInfo;
  readonly shape: readonly number[];
}

/** A transform that cannot apply to its input: the sentence says why (caught and located by callers). */
export class TransformError extends UsageError {
  override readonly name: string = "TransformError";
}

/** A tensor type as messages show it: `float32[3, 4]` (re-exported from `tensor.ts`). */
export { formatType };

function axisOf(axis: number, rank: number, what: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank)
    throw new TransformError(`${what} axis ${axis} is out of range for rank ${rank}`);
  return a;
}

// ---------------------------------------------------------------------------------------------
// Cast rules

/**
 * True when every value of `from` is exactly representable in `to`, both Python dtype names
 * (`float32`, not an alias); false when either is not a dtype `cast` converts.
 */
export function isLosslessCast(from: string, to: string): boolean {
  const a = castClassOf(from);
  const b = castClassOf(to);
  return a !== undefined && b !== undefined && isLosslessCastClass(a, b);
}

/**
 * True when class `b` holds every value of class `a` (the dtype table's `cast` column,
 * `src/dtypes.ts`): bool goes anywhere and nothing else goes to bool; a float needs as many
 * significand and exponent bits; an integer needs its value bits in the target's significand or
 * value bits, and a signed one a signed target. A class holds itself.
 */
function isLosslessCastClass(a: CastClass, b: CastClass): boolean {
  if (a.kind === "bool") return true;
  if (b.kind === "bool") return false;
  if (a.kind === "float") return b.kind === "float" && b.mant >= a.mant && b.exp >= a.exp;
  if (b.kind === "float") return b.mant >= a.bits - (a.signed ? 1 : 0);
  if (a.signed && !b.signed) return false;
  return b.bits - (b.signed ? 1 : 0) >= a.bits - (a.signed ? 1 : 0);
}

// ---------------------------------------------------------------------------------------------
// Planning (types only)

/** Dimension `a` of `input` (size `d`) divided into `n` equal parts, or a TransformError naming `what`. */
function equalParts(input: TensorType, a: number, n: number, what: string): number {
  const d = input.shape[a] as number;
  if (n < 1 || d % n !== 0)
    throw new TransformError(
      `dimension ${a} of ${formatType(input)} (${d}) does not split into ${n} ${what}`,
    );
  return d / n;
}

/** True when `xs` is a permutation of 0 … n−1. */
function isPermutation(xs: readonly number[], n: number): boolean {
  const sorted = [...xs].sort((a, b) => a - b);
  return xs.length === n && sorted.every((v, i) => v === i);
}

type Planner<K extends Transform["op"]> = (t: Extract<Transform, { op: K }>, input: TensorType) => TensorType;

/** One planner per transform: the type it produces from its input, or a TransformError saying why not. */
const PLANS: { readonly [K in Transform["op"]]: Planner<K> } = {
  transpose: (t, input) => {
    const { shape, dtype } = input;
    if (!isPermutation(t.perm, shape.length)) {
      throw new TransformError(
        `perm [${t.perm.join(", ")}] is not a permutation of the ${shape.length} axes of ${formatType(input)}`,
      );
    }
    return { dtype, shape: t.perm.map((p) => shape[p] as number) };
  },
  reshape: (t, input) => {
    const n = numElements(input.shape);
    const unknown = t.shape.filter((d) => d === -1).length;
    if (unknown > 1 || t.shape.some((d) => d < -1 || !Number.isInteger(d))) {
      throw new TransformError(
        `reshape to [${t.shape.join(", ")}]: only one -1 and no other negative sizes are allowed`,
      );
    }
    const known = t.shape.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
    const out = t.shape.map((d) => (d === -1 ? (known === 0 ? 0 : n / known) : d));
    if (out.some((d) => !Number.isInteger(d)) || numElements(out) !== n) {
      throw new TransformError(
        `cannot reshape ${formatType(input)} (${n} elements) to [${t.shape.join(", ")}]`,
      );
    }
    return { dtype: input.dtype, shape: out };
  },
  cast: (t, { dtype, shape }) => {
    const to = dtypeFromName(t.to);
    if (dtype.cast === undefined || to.cast === undefined) {
      throw new TransformError(
        `cannot cast ${dtype.name} to ${to.name}: only real numeric and bool dtypes cast`,
      );
    }
    if (!t.allowLossy && !isLosslessCastClass(dtype.cast, to.cast)) {
      throw new TransformError(
        `cast ${dtype.name} → ${to.name} can lose information; add "allowLossy": true to accept rounding`,
      );
    }
    return { dtype: to, shape };
  },
  slice: (t, input) => {
    const { shape, dtype } = input;
    const rank = shape.length;
    if (t.begin.length !== rank || t.size.length !== rank) {
      throw new TransformError(`slice begin/size need ${rank} entries for ${formatType(input)}`);
    }
    const out = t.size.map((s, i) => {
      const b = t.begin[i] as number;
      const d = shape[i] as number;
      const len = s === -1 ? d - b : s;
      if (b < 0 || len < 0 || b + len > d)
        throw new TransformError(
          `slice begin ${b} size ${s} is out of range for dimension ${i} of ${formatType(input)}`,
        );
      return len;
    });
    return { dtype, shape: out };
  },
  split: (t, input) => {
    const a = axisOf(t.axis, input.shape.length, "split");
    const part = equalParts(input, a, t.parts, "equal parts");
    if (t.index < 0 || t.index >= t.parts)
      throw new TransformError(`split index ${t.index} is out of range for ${t.parts} parts`);
    return { dtype: input.dtype, shape: input.shape.map((v, i) => (i === a ? part : v)) };
  },
  squeeze: (t, input) => {
    const { shape, dtype } = input;
    const axes =
      t.axis === undefined
        ? shape.flatMap((d, i) => (d === 1 ? [i] : []))
        : (Array.isArray(t.axis) ? t.axis : [t.axis]).map((x) =>
            axisOf(x as number, shape.length, "squeeze"),
          );
    for (const a of axes)
      if (shape[a] !== 1)
        throw new TransformError(`cannot squeeze dimension ${a} of ${formatType(input)}: its size is not 1`);
    return { dtype, shape: shape.filter((_, i) => !axes.includes(i)) };
  },
  permuteBlocks: (t, input) => {
    const a = axisOf(t.axis, input.shape.length, "permuteBlocks");
    equalParts(input, a, t.blocks, "equal blocks");
    if (!isPermutation(t.order, t.blocks)) {
      throw new TransformError(
        `order [${t.order.join(", ")}] is not a permutation of the ${t.blocks} blocks`,
      );
    }
    return { dtype: input.dtype, shape: input.shape };
  },
  add: (t, input) => {
    if (input.dtype.kind !== "float")
      throw new TransformError(`add works on floating-point tensors, not ${input.dtype.name}`);
    if (input.dtype.write === undefined)
      throw new TransformError(`add cannot write ${input.dtype.name} elements: tfckpt does not round to it`);
    if (t.blocks !== undefined || t.block !== undefined) {
      if (t.axis === undefined || t.blocks === undefined || t.block === undefined) {
        throw new TransformError('add on one block needs "axis", "blocks" and "block"');
      }
      equalParts(input, axisOf(t.axis, input.shape.length, "add"), t.blocks, "equal blocks");
      if (t.block < 0 || t.block >= t.blocks)
        throw new TransformError(`block ${t.block} is out of range for ${t.blocks} blocks`);
    }
    return { dtype: input.dtype, shape: input.shape };
  },
  scale: (_t, input) => {
    if (input.dtype.kind !== "float")
      throw new TransformError(`scale works on floating-point tensors, not ${input.dtype.name}`);
    if (input.dtype.write === undefined)
      throw new TransformError(
        `scale cannot write ${input.dtype.name} elements: tfckpt does not round to it`,
      );
    return { dtype: input.dtype, shape: input.shape };
  },
  splitHeads: (t, input) => {
    const { shape, dtype } = input;
    const a = axisOf(t.axis, shape.length, "splitHeads");
    const width = equalParts(input, a, t.heads, "heads");
    return { dtype, shape: [...shape.slice(0, a), t.heads, width, ...shape.slice(a + 1)] };
  },
  mergeHeads: (t, input) => {
    const { shape, dtype } = input;
    const a = axisOf(t.axis, shape.length, "mergeHeads");
    if (a + 1 >= shape.length)
      throw new TransformError(
        `mergeHeads axis ${t.axis} of ${formatType(input)} has no next axis to merge with`,
      );
    return {
      dtype,
      shape: [...shape.slice(0, a), (shape[a] as number) * (shape[a + 1] as number), ...shape.slice(a + 2)],
    };
  },
  expandDims: (t, { shape, dtype }) => {
    const rank = shape.length;
    const a = t.axis < 0 ? t.axis + rank + 1 : t.axis;
    if (!Number.isInteger(a) || a < 0 || a > rank)
      throw new TransformError(`expandDims axis ${t.axis} is out of range for rank ${rank}`);
    return { dtype, shape: [...shape.slice(0, a), 1, ...shape.slice(a)] };
  },
};

/**
 * The type a transform produces from `input` (one planner per transform in {@link PLANS}).
 * @throws TransformError saying why the transform cannot apply
 */
export function planTransform(t: Transform, input: TensorType): TensorType {
  return (PLANS[t.op] as (t: Transform, input: TensorType) => TensorType)(t, input);
}

/**
 * The type `tf.concat(inputs, axis)` produces.
 * @throws TransformError for different dtypes, ranks or non-axis dimensions
 */
export function planConcat(inputs: readonly TensorType[], axis: number): TensorType {
  const first = inputs[0];
  if (first === undefined) throw new TransformError("concat needs at least one source");
  const a = axisOf(axis, first.shape.length, "concat");
  for (const t of inputs) {
    if (t.dtype !== first.dtype)
      throw new TransformError(`cannot concat ${formatType(t)} with ${formatType(first)}: dtypes differ`);
    if (t.shape.length !== first.shape.length || t.shape.some((d, i) => i !== a && d !== first.shape[i])) {
      throw new TransformError(`cannot concat ${formatType(t)} with ${formatType(first)} on axis ${a}`);
    }
  }
  return {
    dtype: first.dtype,
    shape: first.shape.map((d, i) => (i === a ? inputs.reduce((s, t) => s + (t.shape[i] as number), 0) : d)),
  };
}

// ---------------------------------------------------------------------------------------------
// Application

function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i] as number;
  }
  return s;
}

/**
 * Copies a strided view of `src` into a dense row-major output: output element at multi-index
 * `i` comes from source element `offset + Σ i[k]·srcStrides[k]`. Rows of the innermost
 * dimension are copied as one block when contiguous in the source.
 */
function gather(
  src: Uint8Array,
  item: number,
  outShape: readonly number[],
  srcStrides: readonly number[],
  offset: number,
): Uint8Array {
  const n = numElements(outShape);
  // Every byte is written below: no zero-fill (a pooled or new uninitialised buffer, see io/buffer-pool).
  const out = takeBuffer(n * item);
  if (n === 0) return out;
  const rank = outShape.length;
  if (rank === 0) {
    out.set(src.subarray(offset * item, offset * item + item));
    return out;
  }
  const inner = outShape[rank - 1] as number;
  const innerStride = srcStrides[rank - 1] as number;
  if (rank === 2 && innerStride !== 1 && (item === 1 || item === 2 || item === 4 || item === 8)) {
    gather2d(src, item, outShape[0] as number, inner, srcStrides[0] as number, innerStride, offset, out);
    return out;
  }
  const idx = new Array<number>(rank).fill(0);
  let base = offset;
  let o = 0;
  for (;;) {
    if (innerStride === 1) {
      out.set(src.subarray(base * item, (base + inner) * item), o);
      o += inner * item;
    } else if (item === 4 && src.byteOffset % 4 === 0) {
      const s32 = new Uint32Array(src.buffer, src.byteOffset, src.length / 4);
      const o32 = new Uint32Array(out.buffer, o, inner);
      for (let j = 0, p = base; j < inner; j++, p += innerStride) o32[j] = s32[p] as number;
      o += inner * 4;
    } else {
      for (let j = 0, p = base; j < inner; j++, p += innerStride) {
        out.set(src.subarray(p * item, p * item + item), o);
        o += item;
      }
    }
    let d = rank - 2;
    while (d >= 0) {
      idx[d] = (idx[d] as number) + 1;
      base += srcStrides[d] as number;
      if ((idx[d] as number) < (outShape[d] as number)) break;
      base -= (idx[d] as number) * (srcStrides[d] as number);
      idx[d] = 0;
      d--;
    }
    if (d < 0) return out;
  }
}

/**
 * `gather` for rank 2 with a strided inner axis (a matrix transpose): out[i, j] = src[offset +
 * i·s0 + j·s1], in 64 × 64 tiles so that both sides stay in cache, over typed arrays of the item
 * width (8-byte items as two 32-bit halves, so NaN payloads are copied bit for bit). Each width
 * has its own loop ({@link tiles}), so every element access is monomorphic.
 */
function gather2d(
  src: Uint8Array,
  item: number,
  rows: number,
  cols: number,
  s0: number,
  s1: number,
  offset: number,
  out: Uint8Array,
): void {
  const unit = item === 8 ? 4 : item;
  const at = src.byteOffset % unit === 0 ? src : src.slice();
  if (item === 1) tiles(at, out, rows, cols, s0, s1, offset);
  else if (item === 2) tiles(u16(at), u16(out), rows, cols, s0, s1, offset);
  else if (item === 4) tiles(u32(at), u32(out), rows, cols, s0, s1, offset);
  else tiles64(u32(at), u32(out), rows, cols, s0, s1, offset);
}

const u16 = (b: Uint8Array) => new Uint16Array(b.buffer, b.byteOffset, b.byteLength / 2);
const u32 = (b: Uint8Array) => new Uint32Array(b.buffer, b.byteOffset, b.byteLength / 4);

/** Transpose tile edge, in elements: a 64 × 64 tile of 8-byte items (32 KiB) stays in L1/L2. */
const TILE = 64;

/**
 * The tiled loop of {@link gather2d} for one element width (`i` and `o` of one typed-array
 * class, so V8 compiles a monomorphic copy per width).
 */
function tiles<A extends Uint8Array | Uint16Array | Uint32Array>(
  i: A,
  o: A,
  rows: number,
  cols: number,
  s0: number,
  s1: number,
  offset: number,
): void {
  for (let r0 = 0; r0 < rows; r0 += TILE) {
    const r1 = Math.min(rows, r0 + TILE);
    for (let c0 = 0; c0 < cols; c0 += TILE) {
      const c1 = Math.min(cols, c0 + TILE);
      let r = r0;
      // Four output rows per pass: for a matrix transpose (s0 = 1) their inputs share a cache line.
      for (; r + 4 <= r1; r += 4) {
        let q = r * cols + c0;
        let p = offset + r * s0 + c0 * s1;
        for (let c = c0; c < c1; c++, p += s1, q++) {
          o[q] = i[p] as number;
          o[q + cols] = i[p + s0] as number;
          o[q + 2 * cols] = i[p + 2 * s0] as number;
          o[q + 3 * cols] = i[p + 3 * s0] as number;
        }
      }
      for (; r < r1; r++) {
        let q = r * cols + c0;
        let p = offset + r * s0 + c0 * s1;
        for (let c = c0; c < c1; c++, p += s1) o[q++] = i[p] as number;
      }
    }
  }
}

/** {@link tiles} for 8-byte items, each as two 32-bit words. */
function tiles64(
  i: Uint32Array,
  o: Uint32Array,
  rows: number,
  cols: number,
  s0: number,
  s1: number,
  offset: number,
): void {
  for (let r0 = 0; r0 < rows; r0 += TILE) {
    const r1 = Math.min(rows, r0 + TILE);
    for (let c0 = 0; c0 < cols; c0 += TILE) {
      const c1 = Math.min(cols, c0 + TILE);
      for (let r = r0; r < r1; r++) {
        let q = (r * cols + c0) * 2;
        let p = (offset + r * s0 + c0 * s1) * 2;
        for (let c = c0; c < c1; c++, p += 2 * s1) {
          o[q++] = i[p] as number;
          o[q++] = i[p + 1] as number;
        }
      }
    }
  }
}

function aligned(t: FixedTensor): Uint8Array {
  return t.data.byteOffset % 8 === 0 ? t.data : t.data.slice();
}

/** The dtype table's writer column of `dtype` (planning made sure it has one). */
function writerOf(dtype: DTypeInfo): ElementWriter {
  return dtype.write as ElementWriter;
}

/**
 * Applies `t` to `input`. Call {@link planTransform} first: this assumes the plan succeeded.
 * @returns a new tensor (or a view of the input's bytes for reshape/squeeze/expandDims)
 */
export function applyTransform(t: Transform, input: FixedTensor): FixedTensor {
  const out = planTransform(t, input);
  const item = input.dtype.itemSize as number;
  switch (t.op) {
    case "reshape":
    case "squeeze":
    case "expandDims":
    case "splitHeads":
    case "mergeHeads":
      return { ...input, shape: out.shape };
    case "scale": {
      const n = numElements(input.shape);
      const src = new DataView(input.data.buffer, input.data.byteOffset, input.data.byteLength);
      const data = new Uint8Array(input.data.length);
      const dst = new DataView(data.buffer);
      const write = writerOf(input.dtype);
      for (let i = 0; i < n; i++) write(dst, i, (realAt(input.dtype, src, i) as number) * t.value);
      return { kind: "fixed", dtype: input.dtype, shape: input.shape, data };
    }
    case "transpose": {
      const s = strides(input.shape);
      return {
        kind: "fixed",
        dtype: input.dtype,
        shape: out.shape,
        data: gather(
          aligned(input),
          item,
          out.shape,
          t.perm.map((p) => s[p] as number),
          0,
        ),
      };
    }
    case "slice": {
      const s = strides(input.shape);
      const offset = t.begin.reduce((a, b, i) => a + b * (s[i] as number), 0);
      return {
        kind: "fixed",
        dtype: input.dtype,
        shape: out.shape,
        data: gather(input.data, item, out.shape, s, offset),
      };
    }
    case "split": {
      const a = axisOf(t.axis, input.shape.length, "split");
      const s = strides(input.shape);
      const offset = t.index * (out.shape[a] as number) * (s[a] as number);
      return {
        kind: "fixed",
        dtype: input.dtype,
        shape: out.shape,
        data: gather(input.data, item, out.shape, s, offset),
      };
    }
    case "permuteBlocks": {
      // Output block k is input block order[k]: split into equal blocks, concatenate reordered.
      const parts = t.order.map((index) =>
        applyTransform({ op: "split", axis: t.axis, parts: t.blocks, index }, input),
      );
      return applyConcat(parts, t.axis);
    }
    case "add":
      return applyAdd(t, input);
    case "cast": {
      if (out.dtype === input.dtype) return input;
      const n = numElements(input.shape);
      const src = new DataView(input.data.buffer, input.data.byteOffset, input.data.byteLength);
      const data = new Uint8Array(n * (out.dtype.itemSize as number));
      const dst = new DataView(data.buffer);
      const write = writerOf(out.dtype);
      for (let i = 0; i < n; i++) write(dst, i, realAt(input.dtype, src, i));
      return { kind: "fixed", dtype: out.dtype, shape: out.shape, data };
    }
  }
}

/** `add` (to every element, or to those in block `t.block` of `t.blocks` along `t.axis`). */
function applyAdd(t: Extract<Transform, { op: "add" }>, input: FixedTensor): FixedTensor {
  const n = numElements(input.shape);
  const src = new DataView(input.data.buffer, input.data.byteOffset, input.data.byteLength);
  const data = new Uint8Array(input.data.length);
  const dst = new DataView(data.buffer);
  // Which elements: all, or those whose coordinate on `axis` falls in block `block`.
  let inBlock = (_: number) => true;
  if (t.axis !== undefined && t.blocks !== undefined && t.block !== undefined) {
    const a = axisOf(t.axis, input.shape.length, "add");
    const d = input.shape[a] as number;
    const stride = input.shape.slice(a + 1).reduce((x, y) => x * y, 1);
    const size = d / t.blocks;
    const block = t.block;
    inBlock = (i) => Math.floor((Math.floor(i / stride) % d) / size) === block;
  }
  const write = writerOf(input.dtype);
  for (let i = 0; i < n; i++) {
    const v = realAt(input.dtype, src, i) as number;
    write(dst, i, inBlock(i) ? v + t.value : v);
  }
  return { kind: "fixed", dtype: input.dtype, shape: input.shape, data };
}

/** `tf.concat(inputs, axis)`. Call {@link planConcat} first. */
export function applyConcat(inputs: readonly FixedTensor[], axis: number): FixedTensor {
  const out = planConcat(inputs, axis);
  const first = inputs[0] as FixedTensor;
  const a = axisOf(axis, first.shape.length, "concat");
  const item = first.dtype.itemSize as number;
  // Rows: the product of dims before the axis; each input contributes a contiguous chunk per row.
  const rows = first.shape.slice(0, a).reduce((x, y) => x * y, 1);
  const chunk = (t: FixedTensor) => t.shape.slice(a).reduce((x, y) => x * y, 1) * item;
  const data = new Uint8Array(numElements(out.shape) * item);
  let o = 0;
  for (let r = 0; r < rows; r++) {
    for (const t of inputs) {
      const c = chunk(t);
      data.set(t.data.subarray(r * c, (r + 1) * c), o);
      o += c;
    }
  }
  return { kind: "fixed", dtype: out.dtype, shape: out.shape, data };
}
