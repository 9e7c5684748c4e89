/**
 * Writes Keras 3 weights: a `.weights.h5` file, or a `.keras` archive around one, with the groups,
 * group attributes and datasets of a Keras-written template (`KerasLayout`), each dataset's values
 * from a caller-given source. Keras 3's `H5IOStore` (`keras/src/saving/saving_lib.py`) makes one
 * group `<inner path>/vars` per saveable, carrying a `name` attribute (a variable-length UTF-8
 * string, as h5py stores a Python `str`), and stores the saveable's variables in it as contiguous
 * datasets `0`, `1`, …; copying the template's structure reproduces exactly that.
 *
 * Outputs are atomic: written under a temporary name and renamed into place when complete, never
 * over an existing file without `force`.
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { extname } from "node:path";
import type { DTypeInfo } from "../dtypes.js";
import { UnsupportedError, UsageError } from "../errors.js";
import { AtomicOutput } from "../io/atomic.js";
import type { H5Entry, KerasLayout } from "../reader.js";
import { fixedByteSize, numElements } from "../tensor.js";
import { KERAS_METADATA_ENTRY, KERAS_WEIGHTS_ENTRY, writeKerasArchive } from "./archive.js";
import { H5Writer, writableDtype } from "./hdf5.js";

/** A dataset's value: little-endian row-major bytes, whole or as a stream of pieces. */
export type KerasValue = Uint8Array | AsyncIterable<Uint8Array>;

/** One dataset to write. */
export type KerasDataset = Extract<H5Entry, { kind: "dataset" }>;

/** Options of {@link writeKerasWeights}. */
export interface KerasWriteOptions {
  /** Replace an existing output. Default false. */
  readonly force?: boolean;
  /** Write a `.keras` archive (default: when `output` ends in `.keras`). */
  readonly archive?: boolean;
  /**
   * Tensors above this many bytes are written as chunked datasets, row slab by row slab, so that
   * no more than about this much of one is held at once (h5wasm creates a contiguous dataset only
   * from all its data). Default 16 MiB.
   */
  readonly contiguousLimitBytes?: number;
  /** `metadata.json`'s `date_saved` (default: now, local time, as Keras writes it). */
  readonly now?: Date;
  /** Called after each dataset with the number written so far and the total. */
  readonly onProgress?: (done: number, total: number) => void;
}

/** Default of {@link KerasWriteOptions.contiguousLimitBytes}. */
export const CONTIGUOUS_LIMIT_BYTES = 16 << 20;
/** Bytes of one row slab appended to a chunked dataset (at most the contiguous limit). */
const SLAB_BYTES = 8 << 20;
/** Target bytes of one HDF5 chunk of a chunked dataset. */
const CHUNK_TARGET_BYTES = 4 << 20;

const pad = (n: number) => String(n).padStart(2, "0");

/** Keras's `date_saved`: `datetime.now().strftime("%Y-%m-%d@%H:%M:%S")`. */
export function kerasDateSaved(d: Date): string {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}@${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** True when `path` should be written as a `.keras` archive (by its extension). */
export function isKerasArchivePath(path: string): boolean {
  return extname(path).toLowerCase() === ".keras";
}

async function collect(v: KerasValue, bytes: number): Promise<Uint8Array> {
  if (v instanceof Uint8Array) {
    if (v.length !== bytes) throw new UsageError(`value has ${v.length} bytes, the dataset ${bytes}`);
    return v;
  }
  const out = new Uint8Array(bytes);
  let at = 0;
  for await (const part of v) {
    if (at + part.length > bytes) throw new UsageError(`value has more than ${bytes} bytes`);
    out.set(part, at);
    at += part.length;
  }
  if (at !== bytes) throw new UsageError(`value has ${at} bytes, the dataset ${bytes}`);
  return out;
}

async function writeChunked(
  h5: H5Writer,
  d: KerasDataset,
  v: KerasValue,
  bytes: number,
  slabBytes: number,
): Promise<void> {
  const item = d.dtype.itemSize as number;
  const rowBytes = numElements(d.shape.slice(1)) * item;
  const rows = d.shape[0] as number;
  h5.chunkedDataset(
    d.path,
    d.dtype,
    d.shape,
    Math.max(1, Math.floor(CHUNK_TARGET_BYTES / Math.max(1, rowBytes))),
  );
  const slabRows = Math.max(1, Math.floor(slabBytes / Math.max(1, rowBytes)));
  const slab = new Uint8Array(slabRows * rowBytes);
  let fill = 0;
  let have = 0;
  let seen = 0;
  const flush = () => {
    const n = fill / rowBytes;
    if (n > 0) h5.appendRows(d.path, d.shape, have, n, slab.subarray(0, fill));
    have += n;
    fill = 0;
  };
  const pieces: AsyncIterable<Uint8Array> | Uint8Array[] = v instanceof Uint8Array ? [v] : v;
  for await (const part of pieces) {
    seen += part.length;
    if (seen > bytes) throw new UsageError(`value of ${d.path} has more than ${bytes} bytes`);
    let off = 0;
    while (off < part.length) {
      const n = Math.min(part.length - off, slab.length - fill);
      slab.set(part.subarray(off, off + n), fill);
      fill += n;
      off += n;
      if (fill === slab.length) flush();
    }
  }
  if (seen !== bytes) throw new UsageError(`value of ${d.path} has ${seen} bytes, the dataset ${bytes}`);
  flush();
  if (have !== rows) throw new UsageError(`wrote ${have} of ${rows} rows of ${d.path}`);
}

/**
 * Writes the HDF5 weights file at `h5Path` (an existing temporary file is truncated).
 * @throws UnsupportedError for a dtype h5wasm cannot write; UsageError when a value's size
 *         disagrees with its dataset
 */
async function writeH5(
  h5Path: string,
  entries: readonly H5Entry[],
  valueFor: (d: KerasDataset) => Promise<KerasValue>,
  options: KerasWriteOptions,
): Promise<void> {
  const limit = options.contiguousLimitBytes ?? CONTIGUOUS_LIMIT_BYTES;
  for (const e of entries) {
    if (e.kind === "dataset" && !writableDtype(e.dtype))
      throw new UnsupportedError(
        `h5wasm cannot write ${e.dtype.name} datasets (h5wasm 0.10.3, the latest release, creates no float16, opaque (bfloat16) or enum (bool) HDF5 types): build the template's layers in float32 and cast in Keras after load_weights`,
        { key: e.path },
      );
  }
  const h5 = await H5Writer.create(h5Path);
  try {
    const datasets = entries.filter((e): e is KerasDataset => e.kind === "dataset");
    let done = 0;
    for (const e of entries) {
      if (e.kind === "group") {
        if (e.path !== "") h5.group(e.path);
        for (const [k, v] of Object.entries(e.attrs)) h5.attr(e.path, k, v);
        continue;
      }
      const bytes = fixedByteSize(e.dtype as DTypeInfo, e.shape, { key: e.path }) ?? 0;
      const v = await valueFor(e);
      if (bytes > limit && e.shape.length > 0)
        await writeChunked(h5, e, v, bytes, Math.min(limit, SLAB_BYTES));
      else h5.dataset(e.path, e.dtype, e.shape, await collect(v, bytes));
      for (const [k, val] of Object.entries(e.attrs)) h5.attr(e.path, k, val);
      options.onProgress?.(++done, datasets.length);
    }
  } finally {
    h5.close();
  }
}

/**
 * Writes Keras 3 weights at `output`: a `.weights.h5` file, or (for a path ending in `.keras`) a
 * `.keras` archive holding the layout's archive entries (`config.json`, assets; `metadata.json`
 * with `date_saved` set to now) and the weights as `model.weights.h5`. `layout.entries` gives the
 * groups to make (parents before children) and the datasets to fill; `valueFor` is called once
 * per dataset, in that order. On failure nothing is left at `output`.
 * @throws OutputExistsError without `force`; UsageError for a `.keras` output without archive
 *         entries, or a value of the wrong size; UnsupportedError for a dtype h5wasm cannot write
 */
export async function writeKerasWeights(
  output: string,
  layout: KerasLayout,
  valueFor: (d: KerasDataset) => Promise<KerasValue>,
  options: KerasWriteOptions = {},
): Promise<void> {
  const archive = options.archive ?? isKerasArchivePath(output);
  if (archive && layout.archive === undefined)
    throw new UsageError(
      `${output}: a .keras archive needs the model config; give a .keras template (a .weights.h5 template has none)`,
    );
  const out = await AtomicOutput.create([output], { force: options.force ?? false });
  const h5Temp = `${output}.tfckpt-h5-${randomBytes(6).toString("hex")}`;
  try {
    const file = await out.open(output);
    if (!archive) {
      await writeH5(file.tempPath, layout.entries, valueFor, options);
    } else {
      await writeH5(h5Temp, layout.entries, valueFor, options);
      const entries = (layout.archive ?? [])
        .filter((e) => e.name !== KERAS_WEIGHTS_ENTRY)
        .map((e) =>
          e.name === KERAS_METADATA_ENTRY ? { name: e.name, data: metadataNow(e.data, options.now) } : e,
        );
      await writeKerasArchive(file, entries, h5Temp);
    }
    await out.commit();
  } catch (e) {
    await out.abort();
    throw e;
  } finally {
    rmSync(h5Temp, { force: true });
  }
}

/** The template's `metadata.json` with `date_saved` set to `now` (other keys kept, in order). */
function metadataNow(data: Uint8Array, now: Date = new Date()): Uint8Array {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(new TextDecoder().decode(data)) as Record<string, unknown>;
  } catch {
    return data;
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) return data;
  const next = { ...doc, date_saved: kerasDateSaved(now) };
  // Python's json.dumps separators (", ", ": "), as Keras writes the file.
  const text = `{${Object.entries(next)
    .map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`)
    .join(", ")}}`;
  return new TextEncoder().encode(text);
}
