/**
 * draft-mapping, stage 1 (classify): which source variables are model weights, optimizer slots
 * (by TF1 slot naming, `slot_creator`: `<var>/<Optimizer>`, `<var>/<Optimizer>_1`, …; BERT's
 * `<var>/adam_m`, `<var>/adam_v`), EMA copies or step counters; which target variables are model
 * weights, optimizer state (TF2 slot variables, a Keras 3 optimizer's lists beside
 * `_trainable_variables`, a Keras 3 weights file's `optimizer/vars/N`) or hyperparameters.
 *
 * @module
 */

import { objectPathToString } from "../../graph/keys.js";
import { breadthFirstPaths } from "../../graph/object-graph.js";
import { compareUtf8Order } from "../../io/utf8.js";
import type { VariableInfo } from "../../reader.js";
import { OBJECT_GRAPH_PROTO_KEY } from "../../reader.js";
import { optimizerPathOf, type TargetAttribute, type TargetGraph } from "../../target/target.js";
import type { OptimizerPreset } from "../document.js";
import {
  OPTIMIZER_PRESETS,
  type OptimizerPresetRow,
  tf1SlotCount,
  tf1SlotSuffix,
} from "../optimizer-presets.js";

/** One TF1 optimizer's slots in the source: every `<var>/<suffix>` of one naming. */
export interface SlotFamily {
  readonly preset: OptimizerPreset;
  /** The slot suffixes in the preset's slot order (`Adam`, `Adam_1`; `adam_m`, `adam_v`). */
  readonly suffixes: readonly string[];
  /** Set when the suffixes are not `<Optimizer>`, `<Optimizer>_1`, … (the map's `slotNames`). */
  readonly slotNames?: readonly string[];
  /** Source variables (model weights) that carry these slots, in name order. */
  readonly owners: readonly string[];
  /** The slot variables' names. */
  readonly slots: readonly string[];
}

/** The source's variables by role. */
export interface SourceClasses {
  /** Every variable but the object graph, in bytewise name order. */
  readonly all: readonly VariableInfo[];
  readonly byName: ReadonlyMap<string, VariableInfo>;
  /** Model weights (everything not below). */
  readonly model: readonly VariableInfo[];
  readonly families: readonly SlotFamily[];
  readonly ema: readonly string[];
  readonly globalStep: VariableInfo | undefined;
  /** TF1 Adam's `beta1_power`, `beta2_power` (non-slot state). */
  readonly betaPowers: readonly VariableInfo[];
}

/** One TF1 slot naming: regular expression on the name (owner, suffix) → naming key, preset, slot names. */
interface SlotNaming {
  readonly re: RegExp;
  readonly key: string;
  readonly preset: OptimizerPreset;
  readonly slotNames?: readonly string[];
}

/**
 * The TF1 slot namings, derived from the preset table: per slot base (`Adam`, `RMSProp`), the
 * first preset using it and every suffix any preset with that base gives (`RMSProp`,
 * `RMSProp_1`, `RMSProp_2`), in table order.
 */
function slotNamings(): SlotNaming[] {
  const out: SlotNaming[] = [];
  const seen = new Set<string>();
  for (const [preset, row] of Object.entries(OPTIMIZER_PRESETS) as Array<
    [OptimizerPreset, OptimizerPresetRow]
  >) {
    if (seen.has(row.base)) continue;
    seen.add(row.base);
    const count = Math.max(
      ...Object.values(OPTIMIZER_PRESETS)
        .filter((r) => r.base === row.base)
        .map((r) => Object.keys(r.slots).length),
    );
    const suffixes = Array.from({ length: count }, (_, i) => tf1SlotSuffix(row.base, i));
    out.push({ re: new RegExp(`^(.*)/(${suffixes.join("|")})$`), key: row.base, preset });
    // google-research/bert's AdamWeightDecayOptimizer names Adam's slots `<var>/adam_m`, `<var>/adam_v`.
    if (preset === "adam")
      out.push({ re: /^(.*)\/(adam_[mv])$/, key: "adam_m", preset, slotNames: ["adam_m", "adam_v"] });
  }
  return out;
}

const SLOT_NAMINGS: readonly SlotNaming[] = slotNamings();

/** Classifies the source's variables (input order never matters: sorted bytewise by name). */
export function classifySources(unsorted: readonly VariableInfo[]): SourceClasses {
  const all = unsorted
    .filter((s) => s.name !== OBJECT_GRAPH_PROTO_KEY)
    .sort((a, b) => compareUtf8Order(a.name, b.name));
  const byName = new Map(all.map((s) => [s.name, s]));
  const found = new Map<string, { owners: Set<string>; slots: string[]; suffixes: Set<string> }>();
  const model: VariableInfo[] = [];
  const ema: string[] = [];
  const betaPowers: VariableInfo[] = [];
  let globalStep: VariableInfo | undefined;
  for (const s of all) {
    let slot = false;
    for (const n of SLOT_NAMINGS) {
      const m = n.re.exec(s.name);
      if (m === null || !byName.has(m[1] as string)) continue;
      const f = found.get(n.key) ?? { owners: new Set<string>(), slots: [], suffixes: new Set<string>() };
      f.owners.add(m[1] as string);
      f.slots.push(s.name);
      f.suffixes.add(m[2] as string);
      found.set(n.key, f);
      slot = true;
      break;
    }
    if (slot) continue;
    if (
      s.name.endsWith("/ExponentialMovingAverage") &&
      byName.has(s.name.slice(0, -"/ExponentialMovingAverage".length))
    ) {
      ema.push(s.name);
      continue;
    }
    if (s.name === "global_step" && s.shape.length === 0 && /^int/.test(s.dtype.name)) {
      globalStep = s;
      continue;
    }
    if (/^beta[12]_power(_\d+)?$/.test(s.name) && s.shape.length === 0) {
      betaPowers.push(s);
      continue;
    }
    model.push(s);
  }
  const families: SlotFamily[] = [];
  for (const n of SLOT_NAMINGS) {
    const f = found.get(n.key);
    if (f === undefined) continue;
    // TF1 centered RMSProp keeps rms, mg, momentum as RMSProp, RMSProp_1, RMSProp_2.
    const centered = n.key === "RMSProp" && f.suffixes.has("RMSProp_2");
    const preset: OptimizerPreset = centered ? "rmsprop-centered" : n.preset;
    const suffixes =
      n.slotNames ?? Array.from({ length: tf1SlotCount(preset) }, (_, i) => tf1SlotSuffix(n.key, i));
    families.push({
      preset,
      suffixes,
      ...(n.slotNames !== undefined ? { slotNames: n.slotNames } : {}),
      owners: [...f.owners],
      slots: f.slots,
    });
  }
  return { all, byName, model, families, ema, globalStep, betaPowers };
}

/** One optimizer of the target. */
export interface TargetOptimizer {
  /** Object path of the optimizer (`optimizer`, `dnn_optimizer`). */
  readonly path: string;
  /**
   * `slots`: TF2 slot variables; `keras3`: a Keras 3 optimizer in a TF2 checkpoint (lists parallel
   * to `_trainable_variables`); `keras3-h5`: a Keras 3 weights file's `optimizer/vars/N`.
   */
  readonly layout: "slots" | "keras3" | "keras3-h5";
  /** keras3: the names of its list children (`_momentums`, `_velocities`, …). */
  readonly lists: ReadonlySet<string>;
  /** keras3: the model variables of `_trainable_variables`, in list order. */
  readonly trainable: readonly TargetAttribute[];
  /** Its own variables that are not slots: step counter, learning rate, other hyperparameters, keras3 state. */
  readonly own: readonly TargetAttribute[];
}

/** The target's variables by role. */
export interface TargetClasses {
  readonly model: readonly TargetAttribute[];
  readonly optimizers: readonly TargetOptimizer[];
  /** A step counter outside any optimizer (`tf.train.Checkpoint(global_step=…)`). */
  readonly globalStep: TargetAttribute | undefined;
  /** The path written into the map for each attribute: one that is not under an optimizer when there is one. */
  readonly display: ReadonlyMap<TargetAttribute, string>;
  /** Every path of each attribute that is not under an optimizer (all of them when none is). */
  readonly paths: ReadonlyMap<TargetAttribute, readonly string[]>;
}

const under = (path: string, scope: string) => path.startsWith(`${scope}/`);

/** Where the target's optimizers are, and their layout. */
function findOptimizers(
  target: TargetGraph,
): Array<{ path: string; layout: TargetOptimizer["layout"]; nodeId?: number }> {
  const optimizers: Array<{ path: string; layout: TargetOptimizer["layout"]; nodeId?: number }> = [];
  if (target.keras !== undefined) {
    if (target.attributes.some((a) => /^optimizer\/vars\/\d+$/.test(a.objectPath)))
      optimizers.push({ path: "optimizer", layout: "keras3-h5" });
    return optimizers;
  }
  const paths = breadthFirstPaths(target.graph);
  target.graph.nodes.forEach((n, i) => {
    const names = new Set(n.children.map((c) => c.localName));
    const p = paths[i];
    if (p === undefined || !names.has("_trainable_variables")) return;
    if (!names.has("_iterations") && !names.has("iterations")) return;
    optimizers.push({ path: objectPathToString(p), layout: "keras3", nodeId: i });
  });
  const slotsAt = optimizerPathOf(target);
  if (slotsAt !== undefined && !optimizers.some((o) => o.path === slotsAt))
    optimizers.push({ path: slotsAt, layout: "slots" });
  return optimizers;
}

/** A Keras 3 optimizer node's list children (`_momentums`, …) and `_trainable_variables` in order. */
function kerasLists(
  target: TargetGraph,
  nodeId: number | undefined,
): { lists: Set<string>; trainable: TargetAttribute[] } {
  const node = nodeId === undefined ? undefined : target.graph.nodes[nodeId];
  const byNode = new Map<number, TargetAttribute>();
  for (const a of target.attributes)
    if (a.name === "VARIABLE_VALUE" && a.slot === undefined) byNode.set(a.nodeId, a);
  const lists = new Set<string>();
  let trainable: TargetAttribute[] = [];
  for (const c of node?.children ?? []) {
    const items = target.graph.nodes[c.nodeId]?.children ?? [];
    if (c.localName === "_trainable_variables")
      trainable = [...items]
        .sort((a, b) => Number(a.localName) - Number(b.localName))
        .flatMap((x) => {
          const t = byNode.get(x.nodeId);
          return t === undefined ? [] : [t];
        });
    else if (items.length > 0 && c.localName !== "_variables") lists.add(c.localName);
  }
  return { lists, trainable };
}

/** Classifies the target's variables. */
export function classifyTargets(target: TargetGraph): TargetClasses {
  const optimizers = findOptimizers(target);
  const pathsOf = (a: TargetAttribute) => [a.objectPath, ...(a.aliases ?? [])];
  const display = new Map<TargetAttribute, string>();
  const outside = new Map<TargetAttribute, readonly string[]>();
  for (const a of target.attributes) {
    const free = pathsOf(a).filter((p) => !optimizers.some((o) => under(p, o.path)));
    outside.set(a, free.length > 0 ? free : pathsOf(a));
    display.set(a, free[0] ?? a.objectPath);
  }
  const own = new Map<string, TargetAttribute[]>();
  const model: TargetAttribute[] = [];
  let globalStep: TargetAttribute | undefined;
  for (const a of target.attributes) {
    if (a.slot !== undefined || a.tensors !== undefined) continue;
    const o = optimizers.find((x) => pathsOf(a).every((p) => under(p, x.path)));
    if (o !== undefined) own.set(o.path, [...(own.get(o.path) ?? []), a]);
    else if (a.objectPath === "save_counter") continue;
    else if (globalStep === undefined && isStepCounter(a)) globalStep = a;
    else model.push(a);
  }
  return {
    model,
    globalStep,
    display,
    paths: outside,
    optimizers: optimizers.map((o) => ({
      path: o.path,
      layout: o.layout,
      ...kerasLists(target, o.nodeId),
      own: own.get(o.path) ?? [],
    })),
  };
}

/** A step counter outside any optimizer: an integer scalar named global_step. */
function isStepCounter(a: TargetAttribute): boolean {
  return /(^|\/)global_step$/.test(a.objectPath) && a.shape.length === 0 && /^int/.test(a.dtype.name);
}
