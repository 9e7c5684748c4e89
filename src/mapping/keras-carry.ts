/**
 * A map written for a TF2 object graph, applied to a Keras 3 weights file of the same model: the
 * map is resolved against the TF2 template (`migrate --via`), then every assignment is carried
 * onto the Keras dataset that holds the same variable ({@link pairKerasWithObjectGraph}). The
 * presets in `mappings/presets/` (which name TF2 object paths) so fill `.weights.h5` files too.
 *
 * @module
 */
import type { KerasPairing } from "../target/keras-pairing.js";
import type { TargetAttribute, TargetGraph } from "../target/target.js";
import { formatType } from "../tensor.js";
import type { Assignment, Resolution, ResolutionProblem } from "./resolve.js";

const SAVE_COUNTER = "save_counter/.ATTRIBUTES/VARIABLE_VALUE";

/**
 * Carries `resolution` (against the TF2 template) onto the Keras target `keras` through `pairing`.
 * Assignments of TF2 variables no Keras dataset holds become `no-target` problems (except
 * `save_counter`, which Keras files do not have, and values whose sources all match the map's
 * `ignore` globs); Keras datasets no carried assignment reaches are
 * unassigned. Multi-tensor saveables and template copies cannot be carried (problems).
 */
export function carryResolutionToKeras(
  resolution: Resolution,
  pairing: KerasPairing,
  keras: TargetGraph,
  ignore: readonly { readonly re: { test(s: string): boolean } }[] = [],
): Resolution {
  const toKeras = new Map<TargetAttribute, TargetAttribute>();
  const byKey = new Map(keras.attributes.map((k) => [k.checkpointKey, k]));
  for (const [path, t] of pairing.pairs) {
    const k = byKey.get(path);
    if (k !== undefined) toKeras.set(t, k);
  }
  const problems: ResolutionProblem[] = [...resolution.problems];
  const assignments: Assignment[] = [];
  let dropped = 0;
  for (const a of resolution.assignments) {
    if (a.target.checkpointKey === SAVE_COUNTER) continue;
    const k = toKeras.get(a.target);
    // The map's `ignore` covers every source of this value: it is left out as asked (a TF2
    // optimizer's slots when the Keras file has no optimizer).
    if (
      k === undefined &&
      a.source.kind === "variables" &&
      a.source.names.every((n) => ignore.some((i) => i.re.test(n)))
    ) {
      dropped++;
      continue;
    }
    if (k === undefined) {
      problems.push({
        kind: "no-target",
        target: a.target.checkpointKey,
        message: `${a.target.prettyName} (${a.target.fullName}) has no dataset in the Keras weights file: no dataset pairs with it`,
      });
      continue;
    }
    if (a.source.kind === "template") {
      problems.push({
        kind: "no-target",
        target: k.checkpointKey,
        message: `${k.checkpointKey}: a value copied from the TF2 template cannot be carried into Keras weights`,
      });
      continue;
    }
    assignments.push({ ...a, target: k });
  }
  const done = new Set(assignments.map((a) => a.target));
  const evidence = [...pairing.evidence.values()];
  const byPath = evidence.filter((e) => e.startsWith("path ")).length;
  const byOptimizer = evidence.filter((e) => e.startsWith("optimizer ")).length;
  const byLayer = evidence.filter((e) => e.startsWith("layer ")).length;
  const notes = [
    ...resolution.notes,
    `Keras weights through the TF2 template: ${pairing.pairs.size} of ${keras.attributes.length} datasets paired (${byOptimizer} optimizer variables by index, ${byLayer} by layer object path, ${byPath} by Keras variable path, ${pairing.pairs.size - byOptimizer - byLayer - byPath} by the only dtype and shape under their layer's name scope)`,
  ];
  if (dropped > 0)
    notes.push(
      `${dropped} value(s) of the TF2 template with no Keras dataset left out: the map ignores their sources`,
    );
  for (const k of pairing.unpairedKeras)
    notes.push(`${k.checkpointKey} (${formatType(k, true)}) pairs with no variable of the TF2 template`);
  return {
    ...resolution,
    assignments,
    problems,
    unassigned: keras.attributes.filter((k) => !done.has(k)),
    notes,
  };
}
