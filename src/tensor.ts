/**
 * In-memory tensors and the shape arithmetic the readers share: element counts with overflow
 * checks, slice extents, copying a slice into a full tensor, byte swapping.
 *
 * Byte layout is always row-major (innermost dimension fastest), little-endian.
 *
 * @module
 */
import { type DTypeInfo, isFixedSize } from "./dtypes.js";
import { CorruptCheckpointError, type ErrorLocation, LimitExceededError } from "./errors.js";
import { MAX_TENSOR_ELEMENTS, MAX_TENSOR_RANK } from "./limits.js";
import type { TensorSliceProto } from "./proto/index.js";

/** A tensor of a fixed-size dtype: `data` holds elements × itemSize bytes, little-endian. */
export interface FixedTensor {
  readonly kind: "fixed";
  readonly dtype: DTypeInfo;
  readonly shape: readonly number[];
  readonly data: Uint8Array;
}

/** A `string` tensor: one byte string per element, row-major. */
export interface StringTensor {
  readonly kind: "string";
  readonly dtype: DTypeInfo;
  readonly shape: readonly number[];
  readonly strings: readonly Uint8Array[];
}

/**
 * A `variant` tensor, kept opaque (tfckpt does not interpret `VariantTensorDataProto`s): the
 * entry's stored bytes and masked CRC exactly as in the bundle, so it can be copied as it is,
 * and a view of each element's serialized proto (see `bundle/variants.ts`).
 */
export interface OpaqueTensor {
  readonly kind: "opaque";
  readonly dtype: DTypeInfo;
  readonly shape: readonly number[];
  /** The entry's stored bytes (`BundleEntryProto.size` of them). */
  readonly bytes: Uint8Array;
  /** The entry's masked `crc32c`, already checked against `bytes`. */
  readonly crc32c: number;
  /** One serialized `VariantTensorDataProto` per element, row-major (views into `bytes`). */
  readonly elements: readonly Uint8Array[];
}

/** A tensor's values. */
export type Tensor = FixedTensor | StringTensor | OpaqueTensor;

/**
 * Element count of `shape`, checked: rank ≤ {@link MAX_TENSOR_RANK}, dims ≥ 0, product ≤ 2^53 − 1.
 * @throws CorruptCheckpointError for negative dims; LimitExceededError for overflow
 */
export function numElements(shape: readonly number[], loc: ErrorLocation = {}): number {
  if (shape.length > MAX_TENSOR_RANK) {
    throw new LimitExceededError(`rank ${shape.length} exceeds MAX_TENSOR_RANK (${MAX_TENSOR_RANK})`, loc);
  }
  let n = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0)
      throw new CorruptCheckpointError(`invalid tensor shape [${shape.join(", ")}]`, loc);
    n *= d;
    if (n > MAX_TENSOR_ELEMENTS) {
      throw new LimitExceededError(`shape [${shape.join(", ")}] has more than 2^53 - 1 elements`, loc);
    }
  }
  return n;
}

/**
 * Bytes of a fixed-size tensor of `shape` (elements × itemSize), or undefined for string/variant.
 * @throws LimitExceededError when the byte count passes 2^53 − 1
 */
export function fixedByteSize(
  dtype: DTypeInfo,
  shape: readonly number[],
  loc: ErrorLocation = {},
): number | undefined {
  if (!isFixedSize(dtype)) return undefined;
  const bytes = numElements(shape, loc) * dtype.itemSize;
  if (!Number.isSafeInteger(bytes))
    throw new LimitExceededError(`tensor of shape [${shape.join(", ")}] is too large`, loc);
  return bytes;
}

/** Concrete extents of `slice` within `shape` (−1 lengths resolved to the whole dimension). */
export function sliceExtents(
  slice: TensorSliceProto,
  shape: readonly number[],
  loc: ErrorLocation = {},
): { starts: number[]; lengths: number[] } {
  if (slice.length !== shape.length) {
    throw new CorruptCheckpointError(
      `slice of rank ${slice.length} for a tensor of rank ${shape.length}`,
      loc,
    );
  }
  const starts: number[] = [];
  const lengths: number[] = [];
  slice.forEach((e, i) => {
    const dim = shape[i] as number;
    const len = e.length < 0 ? dim - e.start : e.length;
    if (e.start < 0 || len < 0 || e.start + len > dim) {
      throw new CorruptCheckpointError(
        `slice extent ${e.start},${e.length} outside dimension ${i} of size ${dim}`,
        loc,
      );
    }
    starts.push(e.start);
    lengths.push(len);
  });
  return { starts, lengths };
}

/**
 * The one tensor-type text: a dtype and shape as `float32[3, 4]` (in error messages), or
 * `float32[3,4]` with `compact` (in listings and drafted maps).
 */
export function formatType(
  t: { readonly dtype: { readonly name: string }; readonly shape: readonly number[] },
  compact = false,
): string {
  return `${t.dtype.name}[${t.shape.join(compact ? "," : ", ")}]`;
}

/** A slice as TF's Python spec text: `start,length` per dimension joined by `:` (`-` for whole). */
export function formatSlice(slice: TensorSliceProto): string {
  return slice.map((e) => (e.length < 0 ? "-" : `${e.start},${e.length}`)).join(":");
}

/**
 * Walks a row-major slice of extents `starts`/`lengths` inside a full row-major tensor of
 * `shape`, one innermost run at a time: `run(dstElement, srcElement, count)` says that `count`
 * consecutive elements of the slice, from its element `srcElement`, land at element `dstElement`
 * of the full tensor. Shared by byte copies ({@link copySliceInto}) and string copies.
 */
export function forEachSliceRun(
  shape: readonly number[],
  starts: readonly number[],
  lengths: readonly number[],
  run: (dstElement: number, srcElement: number, count: number) => void,
): void {
  const rank = shape.length;
  if (rank === 0) {
    run(0, 0, 1);
    return;
  }
  if (lengths.some((l) => l === 0)) return;
  // Strides (elements) of the full tensor.
  const strides = new Array<number>(rank);
  let s = 1;
  for (let i = rank - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i] as number;
  }
  const row = lengths[rank - 1] as number;
  const idx = new Array<number>(rank - 1).fill(0);
  let srcAt = 0;
  for (;;) {
    let dstEl = starts[rank - 1] as number;
    for (let i = 0; i < rank - 1; i++)
      dstEl += ((starts[i] as number) + (idx[i] as number)) * (strides[i] as number);
    run(dstEl, srcAt, row);
    srcAt += row;
    let d = rank - 2;
    while (d >= 0) {
      idx[d] = (idx[d] as number) + 1;
      if ((idx[d] as number) < (lengths[d] as number)) break;
      idx[d] = 0;
      d--;
    }
    if (d < 0) return;
  }
}

/**
 * Copies a row-major slice (`src`, shape `lengths`) into the full row-major tensor `dst` of
 * shape `shape` at offsets `starts`. `itemSize` in bytes.
 */
export function copySliceInto(
  dst: Uint8Array,
  shape: readonly number[],
  starts: readonly number[],
  lengths: readonly number[],
  src: Uint8Array,
  itemSize: number,
): void {
  forEachSliceRun(shape, starts, lengths, (d, s, n) =>
    dst.set(src.subarray(s * itemSize, (s + n) * itemSize), d * itemSize),
  );
}

/**
 * Copies the strings of a row-major slice (`src`, shape `lengths`) into `dst`, the elements of
 * the full row-major tensor of shape `shape`, at offsets `starts`.
 */
export function copyStringSliceInto(
  dst: Uint8Array[],
  shape: readonly number[],
  starts: readonly number[],
  lengths: readonly number[],
  src: readonly Uint8Array[],
): void {
  forEachSliceRun(shape, starts, lengths, (d, s, n) => {
    for (let i = 0; i < n; i++) dst[d + i] = src[s + i] as Uint8Array;
  });
}

/** Reverses the bytes of every `unit`-byte group of `data` in place (big-endian ↔ little-endian). */
export function swapBytesInPlace(data: Uint8Array, unit: number): void {
  if (unit <= 1) return;
  for (let i = 0; i + unit <= data.length; i += unit) {
    for (let a = i, b = i + unit - 1; a < b; a++, b--) {
      const t = data[a] as number;
      data[a] = data[b] as number;
      data[b] = t;
    }
  }
}

/** Extents of one slice: `starts` and `lengths` in elements, one per dimension. */
export interface SliceExtents {
  readonly starts: readonly number[];
  readonly lengths: readonly number[];
}

/**
 * Why a set of slices does not tile a tensor exactly: two slices share an element (`a` < `b`,
 * indices into the list given, `b` the later one), or they leave `total − covered` elements out.
 */
export type TilingProblem =
  | { readonly kind: "overlap"; readonly a: number; readonly b: number }
  | { readonly kind: "gap"; readonly covered: number; readonly total: number };

/** Most cells of the compressed grid {@link findTilingProblem} paints (4 bytes each). */
const MAX_TILING_GRID_CELLS = 1 << 20;

/**
 * Checks that slices (extents already within `shape`, see {@link sliceExtents}) tile a tensor of
 * `shape` exactly: no element in two slices, none in no slice. Empty slices never overlap. Mirrors
 * TF's `TensorSliceSet::Register` ("Overlapping slices", `tensorflow/core/util/tensor_slice_set.cc`)
 * plus the coverage check of `BundleReader::GetSliceValue` ("Does not have sufficient slices").
 *
 * Cost: the slices' start/end coordinates cut every dimension into intervals; when that grid has at
 * most 2^20 cells every slice paints its cells (a repeat or overlap is found at its first shared
 * cell), so the work is O(cells + n·rank·log n). Larger grids (only irregular, non-grid layouts
 * of hundreds of slices) fall back to a sweep over dimension 0 that compares only slices whose
 * dimension-0 ranges meet: O(n log n) for the one-axis partitions TF writes, at worst
 * O(n² × rank), bounded by `MAX_SLICES_PER_TENSOR`.
 * @returns the first problem found, or undefined when the slices tile the tensor exactly
 * @throws LimitExceededError / CorruptCheckpointError only for a bad `shape` (see {@link numElements})
 */
export function findTilingProblem(
  exts: readonly SliceExtents[],
  shape: readonly number[],
  loc: ErrorLocation = {},
): TilingProblem | undefined {
  const total = numElements(shape, loc);
  const rank = shape.length;
  const live: number[] = [];
  let covered = 0;
  exts.forEach((e, i) => {
    const n = numElements(e.lengths, loc);
    covered += n;
    if (n > 0) live.push(i);
  });
  // Interval boundaries of every dimension, from the non-empty slices.
  const bounds: number[][] = [];
  let cells = 1;
  for (let d = 0; d < rank; d++) {
    const set = new Set<number>();
    for (const i of live) {
      const e = exts[i] as SliceExtents;
      set.add(e.starts[d] as number);
      set.add((e.starts[d] as number) + (e.lengths[d] as number));
    }
    const b = [...set].sort((x, y) => x - y);
    bounds.push(b);
    cells *= Math.max(b.length - 1, 1);
  }
  const overlap =
    cells <= MAX_TILING_GRID_CELLS ? paintGrid(exts, live, bounds, cells) : sweepOverlap(exts, live);
  if (overlap !== undefined) return overlap;
  return covered === total ? undefined : { kind: "gap", covered, total };
}

/** Index of `v` in the sorted array `a` (present by construction). */
function indexIn(a: readonly number[], v: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((a[mid] as number) < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function paintGrid(
  exts: readonly SliceExtents[],
  live: readonly number[],
  bounds: readonly (readonly number[])[],
  cells: number,
): TilingProblem | undefined {
  const rank = bounds.length;
  const owner = new Int32Array(cells).fill(-1);
  const strides = new Array<number>(rank);
  let s = 1;
  for (let d = rank - 1; d >= 0; d--) {
    strides[d] = s;
    s *= Math.max((bounds[d] as number[]).length - 1, 1);
  }
  for (const i of live) {
    const e = exts[i] as SliceExtents;
    const lo: number[] = [];
    const hi: number[] = [];
    for (let d = 0; d < rank; d++) {
      const b = bounds[d] as number[];
      lo.push(indexIn(b, e.starts[d] as number));
      hi.push(indexIn(b, (e.starts[d] as number) + (e.lengths[d] as number)));
    }
    const idx = [...lo];
    for (;;) {
      let cell = 0;
      for (let d = 0; d < rank; d++) cell += (idx[d] as number) * (strides[d] as number);
      const prev = owner[cell] as number;
      if (prev >= 0) return { kind: "overlap", a: prev, b: i };
      owner[cell] = i;
      let d = rank - 1;
      while (d >= 0) {
        idx[d] = (idx[d] as number) + 1;
        if ((idx[d] as number) < (hi[d] as number)) break;
        idx[d] = lo[d] as number;
        d--;
      }
      if (d < 0) break;
    }
  }
  return undefined;
}

function sweepOverlap(exts: readonly SliceExtents[], live: readonly number[]): TilingProblem | undefined {
  const s0 = (i: number) => (exts[i] as SliceExtents).starts[0] as number;
  const order = [...live].sort((x, y) => s0(x) - s0(y) || x - y);
  let found: { kind: "overlap"; a: number; b: number } | undefined;
  for (let p = 0; p < order.length; p++) {
    const i = order[p] as number;
    const a = exts[i] as SliceExtents;
    const end0 = (a.starts[0] as number) + (a.lengths[0] as number);
    for (let q = p + 1; q < order.length && s0(order[q] as number) < end0; q++) {
      const j = order[q] as number;
      const b = exts[j] as SliceExtents;
      const meet = a.starts.every(
        (st, d) =>
          st < (b.starts[d] as number) + (b.lengths[d] as number) &&
          (b.starts[d] as number) < st + (a.lengths[d] as number),
      );
      if (meet && (found === undefined || Math.max(i, j) < found.b)) {
        found = { kind: "overlap", a: Math.min(i, j), b: Math.max(i, j) };
      }
    }
  }
  return found;
}
