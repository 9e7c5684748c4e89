/**
 * `inspect`: what a checkpoint holds, the offline equivalent of `tf.train.list_variables` and
 * `python -m tensorflow.python.tools.inspect_checkpoint` (`--tensor_name`, `--all_tensors`).
 *
 * @module
 */
import { openCheckpoint } from "./checkpoint/open.js";
import { NotFoundError } from "./errors.js";
import { renderTree } from "./graph/object-graph.js";
import type { CheckpointFormat, CheckpointReader, ProgressFn, VerifyResult } from "./reader.js";
import { didYouMean } from "./suggest.js";
import { summarizeStream, summarizeTensor, type TensorSummary } from "./values.js";

/** Options of {@link inspectCheckpoint}. */
export interface InspectOptions {
  /**
   * Tensors whose values to summarise; `"all"` for every one.
   * A name the checkpoint lacks is a NotFoundError suggesting the closest name (a typo).
   */
  readonly tensors?: readonly string[] | "all";
  /** How many leading elements each summary shows (default 10; Infinity for all). */
  readonly elements?: number;
  /** Read every byte and check every checksum. */
  readonly verify?: boolean;
  /** Decode the object graph and render it as a tree. */
  readonly graph?: boolean;
  readonly onProgress?: ProgressFn;
}

/** One variable in an inspect listing. `bytes` as in {@link VariableInfo}. */
export interface InspectedVariable {
  readonly name: string;
  /** TF Python dtype name (`float32`, `bfloat16`, `string`, …). */
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly bytes: number;
  /** Number of stored slices of a partitioned variable (absent otherwise). */
  readonly slices?: number;
}

/** Everything `inspect` reports. */
export interface InspectResult {
  readonly path: string;
  readonly format: CheckpointFormat;
  readonly objectBased: boolean;
  readonly shards: number;
  readonly variables: readonly InspectedVariable[];
  /** Sum of `bytes` over all variables. */
  readonly totalBytes: number;
  readonly notes: readonly string[];
  readonly tensors?: ReadonlyArray<{ readonly name: string } & TensorSummary>;
  readonly verify?: VerifyResult;
  /** Tree lines of the object graph (object-based checkpoints, with `graph`). */
  readonly graph?: readonly string[];
}

/**
 * The summary of one tensor. A tensor the reader can stream ({@link CheckpointReader.streamWhole}:
 * a V2 tensor stored whole or partitioned along its first axis, a Keras dataset) is summarised
 * chunk by chunk, never materialised: memory stays at one read chunk whatever the tensor's size.
 * Other tensors are read whole.
 */
async function summarize(r: CheckpointReader, name: string, limit: number): Promise<TensorSummary> {
  const v = r.get(name);
  const stream = v !== undefined ? r.streamWhole?.(name) : undefined;
  if (v !== undefined && stream !== undefined) return summarizeStream(v.dtype, stream, limit);
  return summarizeTensor(await r.readTensor(name), limit);
}

/**
 * Inspects the checkpoint at `path` (anything {@link openCheckpoint} accepts). Without
 * `tensors`/`verify` only the index (V2) or table metadata (V1) is read.
 * @throws NotFoundError for a missing checkpoint or tensor name; format errors of the readers
 *         (a `verify` pass reports bad data instead of throwing)
 */
export async function inspectCheckpoint(path: string, options: InspectOptions = {}): Promise<InspectResult> {
  const r = await openCheckpoint(path);
  try {
    const variables = r.list().map((v) => ({
      name: v.name,
      dtype: v.dtype.name,
      shape: v.shape,
      bytes: v.bytes,
      ...(v.slices !== undefined ? { slices: v.slices.length } : {}),
    }));
    const result: InspectResult = {
      path: r.path,
      format: r.format,
      objectBased: r.objectBased,
      shards: r.shards,
      variables,
      totalBytes: variables.reduce((a, v) => a + v.bytes, 0),
      notes: r.notes,
    };
    const extra: { -readonly [K in "tensors" | "verify" | "graph"]?: InspectResult[K] } = {};
    if (options.tensors !== undefined) {
      const names = options.tensors === "all" ? variables.map((v) => v.name) : options.tensors;
      if (options.tensors !== "all") {
        const known = new Set(variables.map((v) => v.name));
        for (const name of names) {
          if (known.has(name)) continue;
          const near = didYouMean(
            name,
            variables.map((v) => v.name),
          );
          throw new NotFoundError(
            `no tensor named ${JSON.stringify(name)} in the checkpoint${near !== undefined ? `; did you mean ${JSON.stringify(near)}?` : " (tfckpt inspect PATH --names lists them)"}`,
            { file: r.path },
          );
        }
      }
      const out = [];
      for (const name of names) out.push({ name, ...(await summarize(r, name, options.elements ?? 10)) });
      extra.tensors = out;
    }
    if (options.verify) extra.verify = await r.verify(options.onProgress);
    if (options.graph) {
      const g = await r.objectGraph();
      if (g !== undefined) extra.graph = renderTree(g);
    }
    return { ...result, ...extra };
  } finally {
    await r.close();
  }
}
