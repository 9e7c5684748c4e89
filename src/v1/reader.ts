/**
 * V1 checkpoint ("tensor slices") reader: one or more table files whose key `""` holds a
 * `SavedTensorSliceMeta` and whose other keys are slice keys holding `SavedSlice`s. Mirrors
 * `tensorflow/core/util/tensor_slice_reader.cc` (`TensorSliceReader`, `LoadShard`, `GetTensor`)
 * and `tensorflow/c/checkpoint_reader.cc` (V1 listing: each tensor once, with its full shape).
 *
 * V1 files carry no per-tensor checksum; every table block's CRC is verified.
 *
 * @module
 */

import { type DTypeInfo, dtypeOfEntry } from "../dtypes.js";
import { CorruptCheckpointError, LimitExceededError, NotFoundError, UnsupportedError } from "../errors.js";
import { type ObjectGraph, readObjectGraph } from "../graph/object-graph.js";
import { type ByteSource, FileSource } from "../io/byte-source.js";
import { compareUtf8Order } from "../io/utf8.js";
import { MAX_MATERIALIZED_TENSOR_BYTES, MAX_SLICES_PER_TENSOR } from "../limits.js";
import { decodeSavedTensorSlices, type TensorSliceProto } from "../proto/index.js";
import {
  type CheckpointReader,
  OBJECT_GRAPH_PROTO_KEY,
  type ProgressFn,
  toFailure,
  type VariableInfo,
  type VerifyFailure,
  type VerifyResult,
} from "../reader.js";
import { encodeSliceKey } from "../slices/slice-key.js";
import { TableReader } from "../table/reader.js";
import {
  copySliceInto,
  findTilingProblem,
  fixedByteSize,
  formatSlice,
  numElements,
  sliceExtents,
  type Tensor,
} from "../tensor.js";
import { rawFloatValues, sliceValues } from "./values.js";

/** `TF_CHECKPOINT_VERSION` of the reader (tensorflow/core/public/version.h). */
const CHECKPOINT_VERSION = 1;

interface V1Tensor {
  readonly name: string;
  readonly dtype: DTypeInfo;
  readonly shape: readonly number[];
  /** Each stored slice and the table (file) that holds it. */
  readonly slices: Array<{ slice: TensorSliceProto; table: TableReader }>;
}

/** An open V1 checkpoint (one file or a sharded set). Create with {@link TensorSliceReader.open}. */
export class TensorSliceReader implements CheckpointReader {
  readonly format = "v1" as const;
  readonly path: string;
  readonly files: readonly string[];
  readonly objectBased: boolean;
  readonly #tables: TableReader[];
  readonly #tensors: Map<string, V1Tensor>;
  readonly #list: VariableInfo[];
  readonly #byName: Map<string, VariableInfo>;

  private constructor(path: string, files: string[], tables: TableReader[], tensors: Map<string, V1Tensor>) {
    this.path = path;
    this.files = files;
    this.#tables = tables;
    this.#tensors = tensors;
    this.objectBased = tensors.has(OBJECT_GRAPH_PROTO_KEY);
    this.#list = [...tensors.values()]
      .sort((a, b) => compareUtf8Order(a.name, b.name))
      .map((t) => ({
        name: t.name,
        dtype: t.dtype,
        shape: t.shape,
        bytes: fixedByteSize(t.dtype, t.shape) ?? 0,
        slices:
          t.slices.length === 1 && isFull(t.slices[0]?.slice as TensorSliceProto)
            ? undefined
            : t.slices.map((s) => s.slice),
      }));
    this.#byName = new Map(this.#list.map((v) => [v.name, v]));
  }

  /**
   * Opens the V1 table files `files` (one, or every shard of a sharded save; paths, or byte
   * sources for in-memory reading) and merges their metadata.
   * @param path  the name shown for this checkpoint (file or pattern)
   * @throws NotFoundError for a missing file; CorruptCheckpointError for a bad table or meta
   *         ("Failed to find the saved tensor slices at the beginning of the checkpoint file");
   *         UnsupportedError for a newer checkpoint version or an unknown dtype; CorruptCheckpointError
   *         for a tensor whose slices overlap or repeat (naming the file of the later slice)
   */
  static async open(path: string, files: ReadonlyArray<string | ByteSource>): Promise<TensorSliceReader> {
    const tables: TableReader[] = [];
    try {
      const tensors = new Map<string, V1Tensor>();
      for (const f of files) {
        const file = typeof f === "string" ? f : f.name;
        const table = await TableReader.open(typeof f === "string" ? await FileSource.open(f) : f);
        tables.push(table);
        const metaBytes = await table.get(new Uint8Array(0));
        const meta =
          metaBytes === undefined ? undefined : decodeSavedTensorSlices(metaBytes, { file, key: "" }).meta;
        if (meta === undefined) {
          throw new CorruptCheckpointError(
            "failed to find the saved tensor slices at the beginning of the checkpoint file",
            {
              file,
              key: "",
            },
          );
        }
        if (
          meta.versions.minConsumer > CHECKPOINT_VERSION ||
          meta.versions.badConsumers.includes(CHECKPOINT_VERSION)
        ) {
          throw new UnsupportedError(
            `checkpoint needs a newer reader (producer ${meta.versions.producer}, min_consumer ${meta.versions.minConsumer})`,
            { file, key: "" },
          );
        }
        for (const t of meta.tensors) {
          const loc = { file, key: t.name };
          const dtype = dtypeOfEntry(t.type, loc);
          if (t.shape.unknownRank)
            throw new CorruptCheckpointError("invalid tensor shape: unknown rank", loc);
          const shape = t.shape.dims;
          numElements(shape, loc);
          const slices = t.slices.map((s) =>
            s.length === 0 && shape.length > 0 ? shape.map(() => ({ start: 0, length: -1 })) : s,
          );
          if (slices.length > MAX_SLICES_PER_TENSOR) {
            throw new LimitExceededError(
              `${slices.length} slices exceed MAX_SLICES_PER_TENSOR (${MAX_SLICES_PER_TENSOR})`,
              loc,
            );
          }
          for (const s of slices) sliceExtents(s, shape, loc);
          const prev = tensors.get(t.name);
          if (prev === undefined) {
            tensors.set(t.name, {
              name: t.name,
              dtype,
              shape,
              slices: slices.map((slice) => ({ slice, table })),
            });
          } else {
            if (prev.dtype !== dtype || prev.shape.join() !== shape.join()) {
              throw new CorruptCheckpointError(
                `tensor is ${dtype.name}[${shape.join(", ")}] here but ${prev.dtype.name}[${prev.shape.join(", ")}] in another shard`,
                loc,
              );
            }
            for (const slice of slices) prev.slices.push({ slice, table }); // no spread into a call
          }
        }
      }
      for (const t of tensors.values()) checkNoOverlap(t);
      return new TensorSliceReader(
        path,
        files.map((f) => (typeof f === "string" ? f : f.name)),
        tables,
        tensors,
      );
    } catch (e) {
      for (const t of tables) await t.source.close();
      throw e;
    }
  }

  get shards(): number {
    return this.files.length;
  }

  list(): readonly VariableInfo[] {
    return this.#list;
  }

  get(name: string): VariableInfo | undefined {
    return this.#byName.get(name);
  }

  async #readSlice(t: V1Tensor, s: { slice: TensorSliceProto; table: TableReader }, count: number) {
    const file = s.table.source.name;
    const key = encodeSliceKey(t.name, s.slice);
    const loc = { file, key: `${t.name} [slice ${formatSlice(s.slice)}]` };
    const value = await s.table.get(key);
    if (value === undefined)
      throw new CorruptCheckpointError("slice listed in the meta has no data entry", loc);
    const data = decodeSavedTensorSlices(value, loc).data;
    if (data === undefined || data.name !== t.name) {
      throw new CorruptCheckpointError(`data entry does not hold ${JSON.stringify(t.name)}`, loc);
    }
    return sliceValues(data.data, rawFloatValues(value, loc), t.dtype, count, loc);
  }

  /**
   * Reads stored slice `index` of `name` (`VariableInfo.slices[index]`) as a tensor of the
   * slice's shape, as `TensorSliceReader` holds it.
   * @throws NotFoundError for an unknown name or slice index; the errors of {@link readTensor}
   */
  async readSlice(name: string, index: number): Promise<Tensor> {
    const t = this.#tensors.get(name);
    const s = t?.slices[index];
    if (t === undefined || s === undefined)
      throw new NotFoundError(`slice ${index} of key ${name} not found in checkpoint`, { file: this.path });
    const { lengths } = sliceExtents(s.slice, t.shape, { file: s.table.source.name, key: name });
    const values = await this.#readSlice(t, s, numElements(lengths));
    return "strings" in values
      ? { kind: "string", dtype: t.dtype, shape: lengths, strings: values.strings }
      : { kind: "fixed", dtype: t.dtype, shape: lengths, data: values.bytes };
  }

  async readTensor(name: string): Promise<Tensor> {
    const t = this.#tensors.get(name);
    if (t === undefined) throw new NotFoundError(`key ${name} not found in checkpoint`, { file: this.path });
    const { dtype, shape } = t;
    const pieces = [];
    for (const s of t.slices) {
      const ext = sliceExtents(s.slice, shape, { file: s.table.source.name, key: name });
      pieces.push({ ext, values: await this.#readSlice(t, s, numElements(ext.lengths)) });
    }
    if (dtype.kind === "string") {
      const only = pieces[0];
      if (pieces.length !== 1 || only === undefined || !("strings" in only.values)) {
        throw new UnsupportedError("sliced string tensors are not supported", { file: this.path, key: name });
      }
      return { kind: "string", dtype, shape, strings: only.values.strings };
    }
    const total = fixedByteSize(dtype, shape, { file: this.path, key: name }) as number;
    const problem = findTilingProblem(
      pieces.map((p) => p.ext),
      shape,
      { file: this.path, key: name },
    );
    if (problem !== undefined) {
      // Overlaps were refused by open(); what is left is a gap, which TF also finds only on read.
      throw new CorruptCheckpointError(
        problem.kind === "gap"
          ? `slices cover ${problem.covered} of ${problem.total} elements`
          : "slices overlap",
        { file: this.path, key: name },
      );
    }
    if (total > MAX_MATERIALIZED_TENSOR_BYTES) {
      throw new LimitExceededError(`tensor of ${total} bytes exceeds MAX_MATERIALIZED_TENSOR_BYTES`, {
        file: this.path,
        key: name,
      });
    }
    const first = pieces[0];
    if (pieces.length === 1 && first !== undefined && "bytes" in first.values) {
      return { kind: "fixed", dtype, shape, data: first.values.bytes };
    }
    const data = new Uint8Array(total);
    for (const p of pieces) {
      if ("bytes" in p.values)
        copySliceInto(data, shape, p.ext.starts, p.ext.lengths, p.values.bytes, dtype.itemSize as number);
    }
    return { kind: "fixed", dtype, shape, data };
  }

  async verify(onProgress?: ProgressFn): Promise<VerifyResult> {
    const failures: VerifyFailure[] = [];
    let checked = 0;
    let bytes = 0;
    // Every block of every file: block CRCs, entry framing, key order.
    for (const table of this.#tables) {
      try {
        for await (const e of table.entries()) bytes += e.value.length;
      } catch (e) {
        failures.push(toFailure(e, ""));
      }
    }
    // Every tensor: every slice present and holding the right number of values.
    const total = this.#tensors.size;
    for (const t of this.#tensors.values()) {
      try {
        await this.readTensor(t.name);
        checked++;
      } catch (e) {
        failures.push(toFailure(e, t.name));
      }
      onProgress?.(checked, total, "tensors");
    }
    return { tensorsChecked: checked, bytesChecked: bytes, failures };
  }

  async objectGraph(): Promise<ObjectGraph | undefined> {
    if (!this.objectBased) return undefined;
    return readObjectGraph((key) => this.readTensor(key), this.path);
  }

  async close(): Promise<void> {
    for (const t of this.#tables) await t.source.close();
  }
}

/**
 * Refuses a tensor whose slices share an element (a slice listed twice, or two that overlap): TF's
 * `TensorSliceReader::LoadShard` fails the whole open the same way (`TensorSliceSet::Register`,
 * "Overlapping slices"), and assembling them would give made-up values. Gaps are left to
 * {@link TensorSliceReader.readTensor}, as TF leaves them to `GetTensor`/restore.
 * @throws CorruptCheckpointError naming the file holding the later slice and the tensor
 */
function checkNoOverlap(t: V1Tensor): void {
  const exts = t.slices.map((s) =>
    sliceExtents(s.slice, t.shape, { file: s.table.source.name, key: t.name }),
  );
  const problem = findTilingProblem(exts, t.shape, { key: t.name });
  if (problem?.kind !== "overlap") return;
  const a = t.slices[problem.a] as { slice: TensorSliceProto; table: TableReader };
  const b = t.slices[problem.b] as { slice: TensorSliceProto; table: TableReader };
  const where = a.table === b.table ? "" : ` of ${a.table.source.name}`;
  throw new CorruptCheckpointError(
    `slice ${formatSlice(b.slice)} overlaps slice ${formatSlice(a.slice)}${where} (TF: "Overlapping slices")`,
    { file: b.table.source.name, key: t.name },
  );
}

function isFull(slice: TensorSliceProto): boolean {
  return slice.every((e) => e.start === 0 && e.length < 0);
}
