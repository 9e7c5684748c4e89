/**
 * `draft-mapping`: open an old checkpoint and a target, draft an assignment map, write it.
 *
 * @module
 */

import { openCheckpoint } from "./checkpoint/open.js";
import { UsageError } from "./errors.js";
import { checkOutputPaths, writeTextFileAtomic } from "./io/atomic.js";
import { type DraftMap, draftMapping, SURE } from "./mapping/draft.js";
import type { CheckpointReader } from "./reader.js";
import { schemaUrl } from "./schema-urls.js";
import { loadTarget } from "./target/load.js";
import type { TargetGraph } from "./target/target.js";
import { realAt, shortestDecimal } from "./values.js";

/** What {@link draftMappingFiles} produced. */
export interface DraftSummary {
  readonly map: DraftMap;
  /** Assignments (after folding) at or above the "sure" confidence, and below it. */
  readonly sure: number;
  readonly unsure: number;
  /** Target variables the resolved map fills, of all. */
  readonly assignedTargets: number;
  readonly targets: number;
  readonly notes: readonly string[];
}

/**
 * Drafts a map from the checkpoint at `source` to `target` (template checkpoint or `.json` graph)
 * and, with `output`, writes it there (atomically; an existing file only with `force`).
 */
export async function draftMappingFiles(
  source: string,
  target: string,
  options: { output?: string; force?: boolean; schema?: string } = {},
): Promise<DraftSummary> {
  if (options.output !== undefined) {
    if (!options.output.endsWith(".json")) throw new UsageError("the mapping file should end in .json");
    await checkOutputPaths([options.output], { force: options.force ?? false });
  }
  const src = await openCheckpoint(source);
  try {
    const { target: t, template, notes } = await loadTarget(target);
    let templateValues: Map<string, number>;
    try {
      templateValues = template === undefined ? new Map() : await templateScalars(template, t);
    } finally {
      await template?.close();
    }
    const { map, resolution } = draftMapping(
      src.list(),
      t,
      options.schema ?? schemaUrl("assignment-map.schema.json"),
      { templateValues },
    );
    if (options.output !== undefined) {
      await writeTextFileAtomic(options.output, `${JSON.stringify(map, null, 2)}\n`, {
        force: options.force ?? false,
      });
    }
    const sure = map.assignments.filter((a) => a.confidence >= SURE).length;
    return {
      map,
      sure,
      unsure: map.assignments.length - sure,
      assignedTargets: resolution.assignments.length,
      targets: t.attributes.length,
      notes: [...src.notes, ...notes],
    };
  } finally {
    await src.close();
  }
}

/**
 * The template's real scalar values of the target's non-model variables (optimizer
 * hyperparameters: learning rate, beta_1, …), by checkpoint key, for draft-mapping to pre-fill
 * what the source lacks, each as the shortest decimal the target's dtype stores as it stores
 * the template's value ({@link shortestDecimal}: `0.05`, not `0.05000000074505806`). Reads only
 * scalars (one element each); a scalar that cannot be read is left out.
 */
export async function templateScalars(
  template: CheckpointReader,
  target: TargetGraph,
): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const a of target.attributes) {
    if (a.shape.length !== 0 || a.slot !== undefined || a.tensors !== undefined) continue;
    if (!/^(float|bfloat|half|double)/.test(a.dtype.name) && !/^float/.test(a.dtype.name)) continue;
    try {
      const t = await template.readTensor(a.checkpointKey);
      if (t.kind !== "fixed") continue;
      const v = realAt(t.dtype, new DataView(t.data.buffer, t.data.byteOffset, t.data.byteLength), 0);
      if (typeof v === "number" && Number.isFinite(v)) out.set(a.checkpointKey, shortestDecimal(a.dtype, v));
    } catch {
      // Not readable from the template: nothing is pre-filled for it.
    }
  }
  return out;
}
