/**
 * `migrate`: the pipeline read → resolve → transform → write → report. Fills a TF2 object graph
 * (template checkpoint or JSON) from a name-based (or any) checkpoint as an assignment map says,
 * writes the object-based checkpoint TF2 restores with `assert_consumed()`, and reports exactly
 * what it did.
 *
 * Identity assignments stream byte range to byte range; only tensors with transforms are held in
 * memory, one at a time.
 *
 * @module
 */
import { statSync } from "node:fs";
import { basename, extname } from "node:path";
import { dataFilename, metaFilename } from "./bundle/naming.js";
import {
  checkManagedState,
  isDirectoryOutput,
  managedPrefixAfter,
  nextManagedPrefix,
  prefixNumber,
  recordManagedSave,
} from "./checkpoint/manager.js";
import { openCheckpoint } from "./checkpoint/open.js";
import { checkpointStatePath, withStateNotUpdated, writeCheckpointState } from "./checkpoint/state.js";
import { OutputExistsError, UnsupportedError, UsageError } from "./errors.js";
import { checkOutputPaths, LinkUnsupportedError } from "./io/atomic.js";
import { giveBack } from "./io/buffer-pool.js";
import { type KerasDataset, writeKerasWeights } from "./keras/writer.js";
import { type AssignmentMap, loadAssignmentMap, parseAssignmentMap } from "./mapping/document.js";
import { carryResolutionToKeras } from "./mapping/keras-carry.js";
import { type Assignment, type Resolution, resolveAssignments } from "./mapping/resolve.js";
import type { CheckpointReader, StoredTensor } from "./reader.js";
import { type MigrationReport, reportAssignment } from "./report/migration.js";
import { computeVerdicts } from "./report/verdicts.js";
import { pairKerasWithObjectGraph } from "./target/keras-pairing.js";
import { loadTarget } from "./target/load.js";
import {
  type TargetAttribute,
  type TargetGraph,
  withCheckpointValues,
  withSaveCounter,
} from "./target/target.js";
import { type AttributeValue, attributeValue, writeObjectCheckpoint } from "./target/write.js";
import type { FixedTensor } from "./tensor.js";
import { constantFill } from "./transforms/constant.js";
import { applyConcat, applyTransform } from "./transforms/index.js";

/** Options of {@link migrate}. */
export interface MigrateOptions {
  /** The old checkpoint (anything {@link openCheckpoint} accepts). */
  readonly source: string;
  /** A TF2 template checkpoint or a `.json` object graph. */
  readonly target: string;
  /** The assignment map: a file path, or an already parsed map / raw document. */
  readonly mapping: string | AssignmentMap | object;
  /**
   * Output checkpoint prefix (`out/ckpt-1`); required unless `dryRun`. A directory (ending in `/`,
   * or existing) gets the next `ckpt-N` in it and the save is recorded in its `checkpoint` state
   * file after the saves already there, as `tf.train.CheckpointManager` numbers and records its
   * saves (see `checkpoint/manager.ts`); `save_counter` defaults to that N. Without `force`, a
   * `ckpt-N` another writer takes before this one commits is left to it and the save goes to the
   * next free number (at most 5 tried; a report note says so).
   */
  readonly output?: string;
  /** Plan and report only. */
  readonly dryRun?: boolean;
  /** Overwrite an existing output checkpoint and state file. */
  readonly force?: boolean;
  /** Fill unmapped targets from the template checkpoint's values. */
  readonly keepUnmapped?: boolean;
  /** Write the checkpoint even when `assert_consumed` would fail (unassigned targets are left out). */
  readonly allowPartial?: boolean;
  /**
   * Add `save_counter` (as `Checkpoint.save` does) to a JSON authoring graph or a template that
   * lacks one (a template written by `Checkpoint.write()`).
   */
  readonly saveCounter?: boolean;
  /**
   * Write `<dir>/checkpoint` naming the output (default true): for a prefix, as
   * `Checkpoint.save` does (this save only; an existing state file is replaced only with
   * `force`); for a directory, as `CheckpointManager` does (appended to the saves recorded).
   */
  readonly writeState?: boolean;
  /** Number of data shards (default 1). */
  readonly shards?: number;
  /** Progress in attributes written. */
  readonly onProgress?: (done: number, total: number) => void;
  /**
   * What to write: `tf2` (an object-based checkpoint), `keras-weights-h5` (a Keras 3
   * `.weights.h5`) or `keras` (a `.keras` archive). Default: by the output's extension
   * (`.h5` → `keras-weights-h5`, `.keras` → `keras`, anything else `tf2`). Keras outputs need a
   * Keras 3 target (a `.weights.h5` or `.keras` template); `keras` needs a `.keras` one.
   */
  readonly format?: OutputFormat;
  /**
   * A TF2 template checkpoint (or `.json` object graph) of the same Keras 3 model as the Keras
   * `target`: the map is resolved against it (so maps and presets naming TF2 object paths apply),
   * then carried onto the Keras datasets holding the same variables
   * (`graph/keras-pairing.ts`). Only with a Keras target; not with `keepUnmapped`.
   */
  readonly via?: string;
  /**
   * Reuse the source's data shards instead of copying their bytes (TF2 output from a V2 source
   * only). `true`: every source data shard holding a tensor copied unchanged (a rename) becomes
   * an output shard by a reflink where the file system has them, else a hard link; the index
   * points into it at the source offsets, and one new shard holds the rest (the object graph,
   * `save_counter`, transformed tensors); `shards` is then ignored. Linked tensors are not read,
   * so their CRCs are not checked (run `validate` on the source for that). A hard-linked shard is
   * the source file under a second name: modifying either in place modifies both (TensorFlow
   * never does; it writes new files). `"auto"`: link when possible, else write fresh shards.
   * Default `false` (compact): fresh shards holding only what the output uses.
   */
  readonly link?: boolean | "auto";
}

/** The output formats of {@link migrate}. */
export type OutputFormat = "tf2" | "keras-weights-h5" | "keras";

/** The output format `output` implies by its extension. */
export function outputFormatOf(output: string): OutputFormat {
  const e = extname(output).toLowerCase();
  return e === ".keras" ? "keras" : e === ".h5" || e === ".hdf5" ? "keras-weights-h5" : "tf2";
}

function isParsedMap(m: unknown): m is AssignmentMap {
  return typeof m === "object" && m !== null && "rules" in m && "ignore" in m;
}

/**
 * A tensor as it is: streamed byte range to byte range when the layout allows, else read whole.
 * A tensor stored whole in a V2 bundle keeps its stored CRC (the stream verifies it), so the
 * writer makes no second CRC pass over its bytes.
 */
async function whole(reader: CheckpointReader, name: string): Promise<AttributeValue> {
  const stream = reader.streamWhole?.(name);
  if (stream === undefined) return attributeValue(await reader.readTensor(name));
  const stored = reader.storedTensor?.(name);
  return stored !== undefined && stored.dtype.itemSize !== undefined
    ? { kind: "fixed", data: stream, crc32c: stored.crc32c }
    : { kind: "fixed", data: stream };
}

async function valueFor(
  a: Assignment,
  source: CheckpointReader,
  template: CheckpointReader | undefined,
): Promise<AttributeValue> {
  const t = a.target;
  switch (a.source.kind) {
    case "value":
    case "default": {
      // The constant in the target's dtype and shape, then the rule's transforms (resolve.ts
      // planned exactly this and checked that the result is the target's dtype and shape).
      // Streamed in bounded chunks without transforms: the shape is the template's claim.
      return {
        kind: "fixed",
        data: constantFill(a.source.value, t.dtype, t.shape, a.transforms, { key: t.checkpointKey }),
      };
    }
    case "template":
      if (t.tensors === undefined) return whole(template as CheckpointReader, t.checkpointKey);
      return {
        kind: "parts",
        parts: await Promise.all(
          t.tensors.map((p) => whole(template as CheckpointReader, t.checkpointKey + p.suffix)),
        ),
      };
    case "variables": {
      const names = a.source.names;
      const only = names[0] as string;
      const identity = names.length === 1 && a.transforms.length === 0 && a.source.concatAxis === undefined;
      if (identity) return whole(source, only);
      const inputs: FixedTensor[] = [];
      for (const n of names) {
        const x = await source.readTensor(n);
        if (x.kind !== "fixed")
          throw new UnsupportedError(`${n}: ${x.dtype.name} tensors cannot be transformed`, { key: n });
        inputs.push(x);
      }
      let x: FixedTensor =
        a.source.concatAxis !== undefined
          ? applyConcat(inputs, a.source.concatAxis)
          : (inputs[0] as FixedTensor);
      const steps: FixedTensor[] = [...inputs, x];
      for (const tr of a.transforms) {
        x = applyTransform(tr, x);
        steps.push(x);
      }
      // The inputs and intermediate results whose memory the result does not share are dead:
      // their buffers serve the next tensor (see io/buffer-pool).
      for (const t of steps) if (t.data.buffer !== x.data.buffer) giveBack(t.data);
      // Nothing keeps or changes these bytes after this (a reader's tensors are its caller's):
      // the writer writes them while the next tensor is read and transformed.
      return { kind: "fixed", data: x.data, owned: true, recycle: true };
    }
  }
}

/** Where each tensor copied unchanged sits in a linked source shard, and which shards to link. */
interface LinkPlan {
  /** Verifies the stored bytes of source tensors (the source's {@link CheckpointReader.checkStored}). */
  readonly check: (tensors: readonly StoredTensor[]) => Promise<void>;
  /** Source shard ids to link, in output shard order (output shard i is `sources[i]`). */
  readonly sources: readonly number[];
  /** The file of each source shard in {@link sources}. */
  readonly files: readonly string[];
  /** Output shard id of each source shard in {@link sources}. */
  readonly outShard: ReadonlyMap<number, number>;
  /** The assignments whose bytes are linked, with where their source tensors are stored. */
  readonly linked: ReadonlyMap<Assignment, StoredTensor>;
}

/** A reader with the {@link CheckpointReader.storedTensor} and `checkStored` capabilities. */
type LinkableReader = CheckpointReader & Required<Pick<CheckpointReader, "storedTensor" | "checkStored">>;

/** Whether `source` can say where its tensors are stored and check their bytes (a V2 bundle). */
function canLink(source: CheckpointReader): source is LinkableReader {
  return source.storedTensor !== undefined && source.checkStored !== undefined;
}

/**
 * The link plan of a migration: every assignment that copies one source tensor unchanged and
 * whose source is stored whole (the {@link CheckpointReader.storedTensor} capability of a V2
 * bundle); `keepShard` is given a source shard's file and the tensors planned from it. Undefined
 * when there is none.
 */
function planLinks(
  assignments: readonly Assignment[],
  source: CheckpointReader,
  keepShard: (file: string, tensors: readonly StoredTensor[]) => boolean = () => true,
): LinkPlan | undefined {
  if (!canLink(source)) return undefined;
  const all = new Map<Assignment, StoredTensor>();
  for (const a of assignments) {
    if (a.source.kind !== "variables" || a.source.names.length !== 1 || a.transforms.length > 0) continue;
    if (a.source.concatAxis !== undefined || a.target.tensors !== undefined) continue;
    const e = source.storedTensor(a.source.names[0] as string);
    if (e === undefined || e.dtype.enumValue !== a.target.dtype.enumValue) continue;
    if (!sameShape(e.shape, a.target.shape)) continue;
    all.set(a, e);
  }
  const byShard = new Map<number, { file: string; tensors: StoredTensor[] }>();
  for (const e of all.values()) {
    const shard = byShard.get(e.shard);
    if (shard === undefined) byShard.set(e.shard, { file: e.file, tensors: [e] });
    else shard.tensors.push(e);
  }
  const sources = [...byShard]
    .filter(([, { file, tensors }]) => keepShard(file, tensors))
    .map(([s]) => s)
    .sort((a, b) => a - b);
  if (sources.length === 0) return undefined;
  const kept = new Set(sources);
  const linked = new Map([...all].filter(([, e]) => kept.has(e.shard)));
  return {
    check: source.checkStored.bind(source),
    sources,
    files: sources.map((s) => byShard.get(s)?.file as string),
    outShard: new Map(sources.map((s, i) => [s, i])),
    linked,
  };
}

/** Whether two shapes are equal (element by element: no strings built per assignment). */
function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Whether `entries` (distinct byte ranges of one source shard) cover every byte of `file`, so
 * that the shard can be copied whole by the kernel instead of tensor by tensor.
 */
function coversShard(file: string, entries: readonly StoredTensor[]): boolean {
  const ranges = new Map(entries.map((e) => [`${e.offset}:${e.size}`, e]));
  const sorted = [...ranges.values()].sort((a, b) => a.offset - b.offset);
  let at = 0;
  for (const r of sorted) {
    if (r.offset !== at) return false;
    at += r.size;
  }
  try {
    return at === statSync(file).size;
  } catch {
    return false;
  }
}

/** A copy plan reduced to its first shard (one output shard can start as one copied source shard). */
function onlyFirst(p: LinkPlan | undefined): LinkPlan | undefined {
  if (p === undefined) return undefined;
  const first = p.sources[0] as number;
  return {
    check: p.check,
    sources: [first],
    files: [p.files[0] as string],
    outShard: new Map([[first, 0]]),
    linked: new Map([...p.linked].filter(([, e]) => e.shard === first)),
  };
}

/** The target with the attributes of unassigned variables removed (for --allow-partial). */
function partialTarget(target: TargetGraph, keep: ReadonlySet<TargetAttribute>): TargetGraph {
  const keys = new Set([...keep].map((a) => a.checkpointKey));
  const nodes = target.graph.nodes.map((n) => ({
    ...n,
    attributes: n.attributes.filter((a) => keys.has(a.checkpointKey)),
  }));
  const hadField = target.graph.nodes.every((n) => n.hasCheckpointValues !== undefined);
  return {
    graph: { nodes: hadField ? withCheckpointValues(nodes) : nodes },
    attributes: target.attributes.filter((a) => keep.has(a)),
  };
}

/** What to do about unassigned targets and unconsumed sources, in words. */
function unconsumedAdvice(unassigned: number, unmatched: number, hasTemplate: boolean): string {
  const parts: string[] = [];
  if (unassigned > 0)
    parts.push(
      `${unassigned} target variable(s) unassigned — add rules, a "value" line for constants${hasTemplate ? ", or --keep-unmapped to keep the template's values" : ", or give a template checkpoint and --keep-unmapped"}`,
    );
  if (unmatched > 0)
    parts.push(`${unmatched} source variable(s) unconsumed — add rules, or list them in "ignore"`);
  return parts.join("; ");
}

/** The loaded assignment map of `options`. */
function mapOf(options: MigrateOptions): AssignmentMap {
  if (isParsedMap(options.mapping)) return options.mapping;
  return typeof options.mapping === "string"
    ? loadAssignmentMap(options.mapping)
    : parseAssignmentMap(options.mapping);
}

/**
 * Refuses a target that cannot give the output format asked for.
 * @throws UsageError
 */
function checkTargetFormat(target: TargetGraph, format: OutputFormat, dryRun: boolean): void {
  const keras = format !== "tf2";
  if (keras && target.keras === undefined)
    throw new UsageError(
      `writing Keras 3 weights (${format}) needs a Keras 3 target: a .weights.h5 or .keras saved from the built model`,
    );
  if (format === "keras" && target.keras?.archive === undefined)
    throw new UsageError("writing a .keras archive needs a .keras target (it supplies config.json)");
  if (!keras && target.keras !== undefined && !dryRun)
    throw new UsageError(
      "a Keras 3 target writes Keras weights: name the output *.weights.h5 or *.keras (or pass --format keras-weights-h5)",
    );
}

/**
 * Resolves the map onto the target; with `via`, onto that TF2 graph of the same Keras 3 model and
 * then carried onto the Keras target's datasets.
 * @throws UsageError for `via` without a Keras target or with `keepUnmapped`
 */
async function resolveFor(
  map: AssignmentMap,
  source: CheckpointReader,
  target: TargetGraph,
  template: CheckpointReader | undefined,
  options: MigrateOptions,
  saveCounter: number,
): Promise<Resolution> {
  if (options.via === undefined)
    return resolveAssignments(map, source.list(), target, {
      keepUnmapped: options.keepUnmapped ?? false,
      hasTemplate: template !== undefined,
      ...(template !== undefined ? { templateKeys: new Set(template.list().map((v) => v.name)) } : {}),
      saveCounter,
    });
  if (target.keras === undefined)
    throw new UsageError("--via needs a Keras 3 target (a .weights.h5 or .keras of the same model)");
  if (options.keepUnmapped) throw new UsageError("--keep-unmapped cannot be combined with --via");
  const via = await loadTarget(options.via, { saveCounter: false });
  try {
    return carryResolutionToKeras(
      resolveAssignments(map, source.list(), via.target, {
        hasTemplate: via.template !== undefined,
        saveCounter,
      }),
      pairKerasWithObjectGraph(target, via.target),
      target,
      map.ignore,
    );
  } finally {
    await via.template?.close();
  }
}

/** Why nothing is written (null: write), in words that name the fix. */
function whyNotWritten(
  options: MigrateOptions,
  output: string | undefined,
  resolution: Resolution,
  consumed: boolean,
  hasTemplate: boolean,
): string | null {
  if (options.dryRun) return "dry run";
  if (output === undefined) return "no output prefix given";
  if (resolution.problems.length > 0)
    return `the map has ${resolution.problems.length} problem(s) (${[...new Set(resolution.problems.map((p) => p.kind))].join(", ")}); --allow-partial covers only unassigned targets and unconsumed sources`;
  if (!consumed && !options.allowPartial)
    return `the result would not pass assert_consumed: ${unconsumedAdvice(resolution.unassigned.length, resolution.unmatchedSources.length, hasTemplate)} (or --allow-partial to write it anyway)`;
  if (resolution.assignments.length === 0) return "nothing to write: no target variable was assigned";
  return null;
}

/** What the inputs of one write are. */
interface WriteInput {
  readonly options: MigrateOptions;
  readonly output: string;
  readonly source: CheckpointReader;
  readonly template: CheckpointReader | undefined;
  readonly target: TargetGraph;
  readonly resolution: Resolution;
  readonly notes: string[];
}

/** What a write produced, for the report. */
interface Written {
  files: string[];
  stateFile: string | null;
  linked?: NonNullable<MigrationReport["output"]["linked"]>;
  crcs: Map<string, number>;
}

/** Writes a Keras 3 `.weights.h5` (or `.keras` archive) laid out as the Keras target. */
async function writeKerasOutput(w: WriteInput, format: OutputFormat): Promise<Written> {
  const { options, output, source, template } = w;
  const layout = w.target.keras as NonNullable<TargetGraph["keras"]>;
  const byPath = new Map(w.resolution.assignments.map((a) => [a.target.checkpointKey, a]));
  const entries = layout.entries.filter((e) => e.kind === "group" || byPath.has(e.path));
  await checkOutputPaths([output], { force: options.force ?? false });
  await writeKerasWeights(
    output,
    {
      entries,
      ...(format === "keras" && layout.archive !== undefined ? { archive: layout.archive } : {}),
    },
    async (d: KerasDataset) => {
      const v = await valueFor(byPath.get(d.path) as Assignment, source, template);
      if (v.kind !== "fixed")
        throw new UnsupportedError("Keras weights hold no string tensors", { key: d.path });
      return v.data;
    },
    {
      force: options.force ?? false,
      archive: format === "keras",
      ...(options.onProgress !== undefined ? { onProgress: options.onProgress } : {}),
    },
  );
  return { files: [output], stateFile: null, crcs: new Map() };
}

/** One V2 bundle write: with a link plan (`copy`: its one shard copied by the kernel), or fresh. */
async function writeBundleOnce(
  w: WriteInput,
  writeTarget: TargetGraph,
  managed: boolean,
  p: LinkPlan | undefined,
  copy: boolean,
) {
  const { options, output } = w;
  const writeState = options.writeState ?? true;
  const numShards = p === undefined || copy ? (options.shards ?? 1) : p.sources.length + 1;
  // Every output path, before the first byte: the state file is written after the bundle.
  if (writeState && managed) await checkManagedState(output, { force: options.force ?? false });
  await checkOutputPaths(
    [
      ...(writeState && !managed ? [checkpointStatePath(output)] : []),
      metaFilename(output),
      ...Array.from({ length: numShards }, (_, i) => dataFilename(output, i, numShards)),
    ],
    { force: options.force ?? false },
  );
  const byTarget = new Map(w.resolution.assignments.map((a) => [a.target, a]));
  // Position of each attribute (indexOf per attribute would be quadratic in 10⁵ variables).
  const attrIndex = new Map(writeTarget.attributes.map((a, i) => [a, i]));
  const total = Math.max(1, writeTarget.attributes.length);
  const fresh = numShards - 1; // with a link plan, the one shard written
  // The copied shard's CRCs are checked while the kernel copies it (from the moment the copy
  // starts: the copy is the longer of the two), before the commit.
  let checking: Promise<void> | undefined;
  const startCheck = (): Promise<void> => {
    if (!copy || p === undefined) return Promise.resolve();
    checking ??= p.check([...p.linked.values()]); // a tensor linked twice is checked once
    checking.catch(() => undefined); // awaited before the commit; must not go unhandled meanwhile
    return checking;
  };
  const { linked: usage, entries } = await writeObjectCheckpoint(
    output,
    writeTarget,
    async (attr) => {
      const a = byTarget.get(attr) as Assignment;
      const e = p?.linked.get(a);
      if (p === undefined || e === undefined) return valueFor(a, w.source, w.template);
      const shard = copy ? 0 : (p.outShard.get(e.shard) as number);
      return { kind: "linked", shard, offset: e.offset, size: e.size, crc32c: e.crc32c };
    },
    {
      force: options.force ?? false,
      numShards,
      beforeCommit: startCheck, // (never skipped: started here if the copy did not start it)
      readAhead: true, // valueFor gives each value its own buffers
      ...(p === undefined
        ? {
            shardOf: (attr: TargetAttribute) =>
              Math.min(numShards - 1, Math.floor(((attrIndex.get(attr) ?? 0) * numShards) / total)),
          }
        : copy
          ? { copied: [{ shard: 0, source: p.files[0] as string, onStart: startCheck }] }
          : {
              shardOf: () => fresh,
              graphShard: fresh,
              linked: p.files.map((f, i) => ({ shard: i, source: f })),
            }),
      ...(options.onProgress !== undefined ? { onProgress: options.onProgress } : {}),
    },
  ).catch((e: unknown) => Promise.reject(writeState ? withStateNotUpdated(e, output) : e));
  return { numShards, usage, entries };
}

/**
 * Writes the object-based checkpoint: linked shards with `--link`, else fresh shards (a source
 * shard every byte of which is reused unchanged copied by the kernel), then the state file.
 * @throws UsageError when `--link` cannot link; OutputExistsError; reader and write errors
 */
async function writeBundleOutput(w: WriteInput, managed: boolean): Promise<Written> {
  const { options, output, source } = w;
  const byTarget = new Set(w.resolution.assignments.map((a) => a.target));
  const writeTarget = w.resolution.unassigned.length === 0 ? w.target : partialTarget(w.target, byTarget);
  let plan = options.link ? planLinks(w.resolution.assignments, source) : undefined;
  if (options.link === true && plan === undefined)
    throw new UsageError(
      canLink(source)
        ? "--link: no tensor is copied unchanged from the source, so there is no shard to link"
        : `--link needs a V2 source checkpoint (this one is ${source.format})`,
    );
  if (options.link === true && (options.shards ?? 1) > 1)
    throw new UsageError("--link and --shards: a linked output has the linked shards plus one new shard");
  // Without --link, into one output shard: a source shard whose every byte is reused unchanged
  // (a rename-only migration) is copied by the kernel, its CRCs checked meanwhile, and the rest
  // appended after it; the entries keep the source offsets.
  const copyPlan =
    !options.link && (options.shards ?? 1) === 1 && canLink(source)
      ? planLinks(w.resolution.assignments, source, coversShard)
      : undefined;
  let written: Awaited<ReturnType<typeof writeBundleOnce>>;
  try {
    written =
      plan !== undefined
        ? await writeBundleOnce(w, writeTarget, managed, plan, false)
        : await writeBundleOnce(w, writeTarget, managed, onlyFirst(copyPlan), true);
  } catch (e) {
    if (!(options.link === "auto" && plan !== undefined && e instanceof LinkUnsupportedError)) throw e;
    w.notes.push(`--link auto: ${e.message}; wrote fresh shards instead`);
    plan = undefined;
    written = await writeBundleOnce(w, writeTarget, managed, onlyFirst(copyPlan), true);
  }
  const { numShards } = written;
  // The CRCs the committed index holds, as the writer recorded them (no second read of the output).
  const crcs = new Map<string, number>();
  for (const a of writeTarget.attributes) {
    const e = written.entries.get(a.checkpointKey);
    if (e !== undefined) crcs.set(a.checkpointKey, e.crc32c);
  }
  const writeState = options.writeState ?? true;
  const stateFile = !writeState
    ? null
    : managed
      ? await recordManagedSave(output, { force: options.force ?? false })
      : await writeCheckpointState(output, { force: true });
  return {
    files: [
      metaFilename(output),
      ...Array.from({ length: numShards }, (_, i) => dataFilename(output, i, numShards)),
    ],
    stateFile,
    crcs,
    ...(written.usage.length > 0
      ? {
          linked: written.usage.map((u) => ({
            path: u.path,
            source: u.source,
            method: u.method,
            bytes: u.bytes,
            usedBytes: u.usedBytes,
          })),
        }
      : {}),
  };
}

/** The report of a migration from what was resolved, decided and written. */
function reportOf(r: {
  readonly options: MigrateOptions;
  readonly source: CheckpointReader;
  readonly target: TargetGraph;
  readonly template: CheckpointReader | undefined;
  readonly output: string | undefined;
  readonly reason: string | null;
  readonly written: Written;
  readonly verdicts: MigrationReport["verdicts"];
  readonly resolution: Resolution;
  readonly notes: readonly string[];
}): MigrationReport {
  const { options, source, target, template, output, reason, written, verdicts, resolution, notes } = r;
  return {
    tool: "tfckpt",
    reportVersion: 1,
    source: { path: source.path, format: source.format, variables: source.list().length },
    target: {
      path: options.target,
      kind: target.keras !== undefined ? "keras" : template !== undefined ? "checkpoint" : "json",
      variables: target.attributes.length,
    },
    mapping: typeof options.mapping === "string" ? options.mapping : "<inline>",
    output: {
      prefix: output ?? null,
      written: reason === null,
      files: written.files,
      stateFile: written.stateFile,
      reason,
      ...(written.linked !== undefined ? { linked: written.linked } : {}),
    },
    verdicts,
    assignments: resolution.assignments.map((a) =>
      reportAssignment(a, written.crcs.get(a.target.checkpointKey)),
    ),
    unusedSources: { ignored: resolution.ignoredSources, unmatched: resolution.unmatchedSources },
    unassignedTargets: resolution.unassigned.map((t) => ({
      target: t.checkpointKey,
      object: t.prettyName,
      fullName: t.fullName,
      dtype: t.dtype.name,
      shape: t.shape,
    })),
    problems: resolution.problems,
    rulesNeverFired: resolution.rulesNeverFired.map((index) => ({ index })),
    notes,
  };
}

/** What every attempt of one migration shares: everything that does not depend on the output prefix. */
interface Loaded {
  readonly options: MigrateOptions;
  readonly map: AssignmentMap;
  readonly format: OutputFormat;
  readonly managed: boolean;
  readonly source: CheckpointReader;
  readonly template: CheckpointReader | undefined;
  readonly target: TargetGraph;
  readonly notes: readonly string[];
}

/**
 * One attempt of a migration into `output` (undefined: none given): resolves (the resolution
 * takes the `save_counter` value, N of a `…-N` prefix), decides, writes and reports; `extraNotes`
 * end the report's notes.
 * @throws OutputExistsError; as {@link migrate}
 */
async function migrateTo(
  l: Loaded,
  output: string | undefined,
  extraNotes: readonly string[],
): Promise<MigrationReport> {
  const { options, source, template, target, format } = l;
  const keras = format !== "tf2";
  const saveCounter = output === undefined || keras ? 1 : (prefixNumber(output) ?? 1);
  const resolution = await resolveFor(l.map, source, target, template, options, saveCounter);
  const verdicts = computeVerdicts({
    unboundObjects: resolution.unassigned.map((t) => t.prettyName),
    unresolvedCheckpointValues: resolution.unmatchedSources,
    boundObjects: resolution.assignments.filter((a) => a.source.kind === "variables").length,
  });
  const notes = [...l.notes, ...resolution.notes];
  const hasSaveCounter = (target.graph.nodes[0]?.children ?? []).some((c) => c.localName === "save_counter");
  if (!hasSaveCounter && target.keras === undefined)
    notes.push(
      "the output has no save_counter: tf.train.Checkpoint(...).restore() creates one and then fails assert_consumed and assert_existing_objects_matched on it (TF 2.21); restore with Checkpoint.read(), or migrate with --save-counter",
    );
  notes.push(...extraNotes);
  const reason = whyNotWritten(
    options,
    output,
    resolution,
    verdicts.assertConsumed.passed,
    template !== undefined,
  );
  const input = { options, output: output as string, source, template, target, resolution, notes };
  const written: Written =
    reason !== null
      ? { files: [], stateFile: null, crcs: new Map() }
      : keras
        ? await writeKerasOutput(input, format)
        : await writeBundleOutput(input, l.managed);
  return reportOf({
    options,
    source,
    target,
    template,
    output,
    reason,
    written,
    verdicts,
    resolution,
    notes,
  });
}

/** How many prefixes a managed save tries before it gives up on a directory other writers fill. */
const MANAGED_SAVE_ATTEMPTS = 5;

/**
 * A migration into the directory `dir` numbered as `CheckpointManager.save` does: into the next
 * `ckpt-N`, and when another writer takes that prefix between its choice and the commit (the
 * output checks or the commit's links find it; nothing of either save is overwritten), into the
 * next free one after it, at most {@link MANAGED_SAVE_ATTEMPTS} prefixes in all, each attempt
 * resolved afresh for its `save_counter`. A report note names the prefixes found taken.
 * @throws OutputExistsError when every attempt found its prefix taken; as {@link migrate}
 */
async function migrateManaged(l: Loaded, dir: string): Promise<MigrationReport> {
  const taken: string[] = [];
  let output = nextManagedPrefix(dir);
  for (;;) {
    const note =
      taken.length === 0
        ? []
        : [
            `${taken.map((p) => basename(p)).join(", ")} ${taken.length === 1 ? "was" : "were"} taken by another writer; saved as ${basename(output)}`,
          ];
    try {
      return await migrateTo(l, output, note);
    } catch (e) {
      if (!(e instanceof OutputExistsError) || taken.length + 1 >= MANAGED_SAVE_ATTEMPTS) throw e;
      taken.push(output);
      output = managedPrefixAfter(dir, output);
    }
  }
}

/**
 * Runs a migration and returns its report. Writes only when the result passes
 * `assert_consumed` (or `allowPartial`), and never over existing files without `force`.
 * @throws InvalidDocumentError for a bad mapping or graph; OutputExistsError; reader errors
 */
export async function migrate(options: MigrateOptions): Promise<MigrationReport> {
  const map = mapOf(options);
  const format = options.format ?? (options.output === undefined ? "tf2" : outputFormatOf(options.output));
  // `--output DIR/`: number and record the save as tf.train.CheckpointManager does.
  const managed = format === "tf2" && options.output !== undefined && isDirectoryOutput(options.output);
  const source = await openCheckpoint(options.source);
  let template: CheckpointReader | undefined;
  try {
    const loaded = await loadTarget(options.target, { saveCounter: options.saveCounter ?? false });
    template = loaded.template;
    // A template written by Checkpoint.write() has no save_counter; --save-counter adds it there too.
    const target =
      options.saveCounter && template !== undefined ? withSaveCounter(loaded.target) : loaded.target;
    checkTargetFormat(target, format, options.dryRun ?? false);
    const notes = [...source.notes, ...loaded.notes];
    const l: Loaded = { options, map, format, managed, source, template, target, notes };
    if (!managed) return await migrateTo(l, options.output, []);
    // --force replaces an existing ckpt-N rather than finding it taken: one attempt, as before.
    if (options.force) return await migrateTo(l, nextManagedPrefix(options.output as string), []);
    return await migrateManaged(l, options.output as string);
  } finally {
    await source.close();
    await template?.close();
  }
}
