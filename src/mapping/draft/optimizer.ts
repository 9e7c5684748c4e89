/**
 * draft-mapping, stage 4 (optimizer state): which TF1 slot family fills which target optimizer
 * (by the variables each optimizer trains: an estimator's DNN Adagrad and linear Ftrl go to the
 * optimizers whose `_trainable_variables` hold the DNN's and the linear model's weights), as
 * optimizer presets of the map (`slots` or `keras3` layout, `slotNames` for BERT's
 * `adam_m`/`adam_v`, `variables` globs when there are several); `global_step` and
 * `beta1_power`/`beta2_power` onto targets that keep them; hyperparameters the source lacks from
 * the template's values at low confidence; the rest ignored with a reason.
 *
 * @module
 */
import type { TargetAttribute, TargetGraph } from "../../target/target.js";
import type { OptimizerPreset } from "../document.js";
import { OPTIMIZER_PRESETS } from "../optimizer-presets.js";
import type { SlotFamily, SourceClasses, TargetClasses, TargetOptimizer } from "./classify.js";
import { naturalCompare } from "./names.js";

/** An optimizer preset as the drafted map writes it. */
export interface DraftOptimizer {
  readonly preset: OptimizerPreset;
  readonly layout?: "keras3";
  readonly path: string;
  readonly slotNames?: readonly string[];
  readonly globalStep?: false;
  readonly learningRate?: number;
  readonly variables?: readonly string[];
}

/** A line the optimizer stage adds: from a source variable or a value. */
export type OptimizerLine =
  | { from: string; to: string; confidence: number; reason: string }
  | { value: number; to: string; confidence: number; reason: string };

/** What the optimizer stage decided. */
export interface OptimizerPlan {
  readonly optimizers: readonly DraftOptimizer[];
  readonly lines: readonly OptimizerLine[];
  readonly ignore: readonly string[];
  readonly ignored: ReadonlyArray<{ name: string; reason: string }>;
  /** Confidence of state that follows a preset, per optimizer path (below 1 when it rests on an assumption). */
  readonly stateCap: ReadonlyMap<string, number>;
  /** Things to review: an assumed value and how to fix it. */
  readonly review: ReadonlyArray<{ what: string; confidence: number; fix: string }>;
}

/** Names of step counters and learning rates in TF2 optimizers. */
const ITERATIONS = /^(iter|_iterations|iterations)$/;
const LEARNING_RATE = /^_?learning_rate$/;

/** Confidence of a value the source lacks, taken from the template. */
const TEMPLATE_VALUE_CONFIDENCE = 0.5;
/** Confidence of Keras 3 SGD momentum state: it is −learningRate × TF1's accumulator, the rate taken from the template. */
const SCALED_STATE_CONFIDENCE = 0.8;
/** Confidence of Keras 3 weights-file optimizer lines (order inferred from paths and shapes). */
const KERAS_H5_CONFIDENCE = 0.8;

const leaf = (p: string) => p.slice(p.lastIndexOf("/") + 1);

/** Globs naming each family's owners and no other family's: top-level scopes where they suffice. */
function variableGlobs(groups: ReadonlyArray<readonly string[]>): string[][] {
  const top = (n: string) => (n.includes("/") ? `${n.slice(0, n.indexOf("/"))}/*` : n);
  const scopes = groups.map((g) => [...new Set(g.map(top))].sort());
  return groups.map((g, k) => {
    const mine = scopes[k] as string[];
    const clash = groups.some(
      (other, m) =>
        m !== k &&
        other.some((n) => mine.some((s) => (s.endsWith("/*") ? n.startsWith(s.slice(0, -1)) : n === s))),
    );
    return clash ? [...g].sort() : mine;
  });
}

/** Which slot family each target optimizer takes: the unused one owning most of the variables it trains. */
function matchFamilies(
  src: SourceClasses,
  tgt: TargetClasses,
  target: TargetGraph,
  modelSourceOf: ReadonlyMap<TargetAttribute, string>,
): Array<{ o: TargetOptimizer; f: SlotFamily; owners: string[] }> {
  const chosen: Array<{ o: TargetOptimizer; f: SlotFamily; owners: string[] }> = [];
  const used = new Set<SlotFamily>();
  const slotNames = new Set(
    target.attributes.flatMap((a) => (a.slot === undefined ? [] : [a.slot.slotName])),
  );
  for (const o of tgt.optimizers) {
    const trains =
      o.layout === "keras3"
        ? o.trainable.flatMap((t) => {
            const s = modelSourceOf.get(t);
            return s === undefined ? [] : [s];
          })
        : [...modelSourceOf.values()];
    let best: { f: SlotFamily; owners: string[] } | undefined;
    for (const f of src.families) {
      if (used.has(f)) continue;
      if (o.layout === "keras3" && !o.lists.has(OPTIMIZER_PRESETS[f.preset].keras3Marker)) continue;
      if (
        o.layout === "slots" &&
        !Object.keys(OPTIMIZER_PRESETS[f.preset].slots).some((n) => slotNames.has(n))
      )
        continue;
      const owners = new Set(f.owners);
      const mine = trains.filter((s) => owners.has(s));
      if (mine.length > 0 && (best === undefined || mine.length > best.owners.length))
        best = { f, owners: mine };
    }
    if (best === undefined) continue;
    used.add(best.f);
    chosen.push({ o, ...best });
  }
  return chosen;
}

/**
 * The preset for optimizer `o` filled from family `f`, with what it assumes: the learning rate
 * from the template, the Keras 3 SGD momentum rescaling; and value lines for the hyperparameters
 * no preset fills (slot-variable optimizers keep them as variables), from the template.
 */
function presetFor(
  o: TargetOptimizer,
  f: SlotFamily,
  variables: readonly string[] | undefined,
  stepElsewhere: boolean,
  templateValue: (t: TargetAttribute) => number | undefined,
): { optimizer: DraftOptimizer; lines: OptimizerLine[]; review: OptimizerPlan["review"]; cap?: number } {
  const lrTarget = o.own.find((a) => LEARNING_RATE.test(leaf(a.objectPath)) && a.shape.length === 0);
  const lr = lrTarget === undefined ? undefined : templateValue(lrTarget);
  const keras3 = o.layout === "keras3";
  const review: Array<{ what: string; confidence: number; fix: string }> = [];
  if (keras3 && lr !== undefined)
    review.push({
      what: `${o.path}: learningRate ${lr}`,
      confidence: TEMPLATE_VALUE_CONFIDENCE,
      fix: `the template's value (TF1 checkpoints do not keep the learning rate): set "learningRate" of the ${f.preset} optimizer to the TF1 optimizer's`,
    });
  const momentum = keras3 && f.preset === "momentum";
  if (momentum && lr === undefined)
    review.push({
      what: `${o.path}: momentums`,
      confidence: 0,
      fix: "Keras 3 SGD keeps −learningRate × TF1's Momentum accumulator: add \"learningRate\" (the TF1 optimizer's) to the momentum optimizer",
    });
  const lines: OptimizerLine[] = [];
  for (const a of keras3 ? [] : o.own) {
    const name = leaf(a.objectPath);
    if (ITERATIONS.test(name) || /^beta[12]_power$/.test(name) || a.shape.length !== 0) continue;
    const v = templateValue(a);
    if (v !== undefined)
      lines.push({
        value: v,
        to: a.objectPath,
        confidence: TEMPLATE_VALUE_CONFIDENCE,
        reason: `optimizer hyperparameter the TF1 checkpoint does not keep: the template's value; set the TF1 optimizer's ${name} here`,
      });
  }
  return {
    optimizer: {
      preset: f.preset,
      ...(keras3 ? { layout: "keras3" as const } : {}),
      path: o.path,
      ...(f.slotNames !== undefined ? { slotNames: f.slotNames } : {}),
      ...(stepElsewhere ? { globalStep: false as const } : {}),
      ...(keras3 && lr !== undefined ? { learningRate: lr } : {}),
      ...(variables !== undefined ? { variables } : {}),
    },
    lines,
    review,
    ...(momentum ? { cap: SCALED_STATE_CONFIDENCE } : {}),
  };
}

/**
 * Plans the optimizer state. `modelSourceOf` gives the source variable drafted for each model
 * target; `templateValue` a scalar of the template, when one was read.
 */
export function planOptimizers(
  src: SourceClasses,
  tgt: TargetClasses,
  target: TargetGraph,
  modelSourceOf: ReadonlyMap<TargetAttribute, string>,
  templateValue: (t: TargetAttribute) => number | undefined,
): OptimizerPlan {
  const lines: OptimizerLine[] = [];
  const review: Array<{ what: string; confidence: number; fix: string }> = [];
  const stateCap = new Map<string, number>();
  const chosen = matchFamilies(src, tgt, target, modelSourceOf);
  const globs = variableGlobs(chosen.map((c) => c.owners));
  const optimizers: DraftOptimizer[] = [];
  const stepElsewhere = src.globalStep === undefined || tgt.globalStep !== undefined;
  chosen.forEach(({ o, f }, k) => {
    if (o.layout === "keras3-h5") {
      lines.push(...kerasH5Lines(o, f, tgt, modelSourceOf, src));
      return;
    }
    const p = presetFor(o, f, chosen.length > 1 ? globs[k] : undefined, stepElsewhere, templateValue);
    optimizers.push(p.optimizer);
    lines.push(...p.lines);
    review.push(...p.review);
    if (p.cap !== undefined) stateCap.set(o.path, p.cap);
  });
  const rest = leftovers(
    src,
    tgt,
    new Set(chosen.map((c) => c.f)),
    optimizers,
    chosen.some((c) => c.o.layout === "keras3-h5"),
  );
  return {
    optimizers,
    lines: [...lines, ...rest.lines],
    ignore: rest.ignore,
    ignored: rest.ignored,
    stateCap,
    review,
  };
}

/**
 * What no preset took: slot families (ignored, with the reason), `global_step` (onto a step
 * counter outside the optimizers, else ignored when no preset takes it), TF1 Adam's beta powers
 * (onto the same names, kept by `tf.compat.v1` optimizers in eager mode; else ignored: TF2
 * optimizers derive them from the step), EMA copies.
 */
function leftovers(
  src: SourceClasses,
  tgt: TargetClasses,
  used: ReadonlySet<SlotFamily>,
  optimizers: readonly DraftOptimizer[],
  h5: boolean,
): { lines: OptimizerLine[]; ignore: string[]; ignored: Array<{ name: string; reason: string }> } {
  const lines: OptimizerLine[] = [];
  const ignore: string[] = [];
  const ignored: Array<{ name: string; reason: string }> = [];
  for (const f of src.families) {
    if (used.has(f)) continue;
    const why =
      tgt.optimizers.length === 0
        ? "the target has no optimizer"
        : `no optimizer of the target trains these variables with ${f.preset} state`;
    for (const s of f.suffixes) ignore.push(`*/${s}`);
    ignored.push({ name: `*/${f.suffixes.join(", */")}`, reason: `TF1 ${f.preset} slots: ${why}` });
  }
  const step = src.globalStep;
  if (step !== undefined && tgt.globalStep !== undefined)
    lines.push({
      from: step.name,
      to: tgt.display.get(tgt.globalStep) ?? tgt.globalStep.objectPath,
      confidence: 0.95,
      reason: "same name: the step counter",
    });
  else if (step !== undefined && !h5 && !optimizers.some((o) => o.globalStep !== false)) {
    ignore.push(step.name);
    ignored.push({ name: step.name, reason: "the target has no optimizer step counter to receive it" });
  }
  for (const b of src.betaPowers) {
    const base = b.name.replace(/_\d+$/, "");
    const t = tgt.optimizers
      .flatMap((o) => o.own)
      .find((a) => leaf(a.objectPath) === base && a.dtype === b.dtype && a.shape.length === 0);
    if (t !== undefined)
      lines.push({
        from: b.name,
        to: t.objectPath,
        confidence: 0.95,
        reason: `same name: TF1 Adam's ${base}`,
      });
    else {
      ignore.push(b.name);
      ignored.push({
        name: b.name,
        reason: "TF1 Adam's running beta power: TF2 optimizers derive it from the step counter",
      });
    }
  }
  if (src.ema.length > 0) {
    ignore.push("*/ExponentialMovingAverage");
    ignored.push({
      name: "*/ExponentialMovingAverage",
      reason: `${src.ema.length} EMA copies: set "ema": true to migrate them in place of the raw values`,
    });
  }
  return { lines, ignore, ignored };
}

/**
 * Exact lines filling a Keras 3 weights file's `optimizer/vars/N` from TF1 Adam slots: Keras
 * stores iterations (`vars/0`), the learning rate (`vars/1`), then for each trainable variable in
 * model order its momentum and velocity (`keras/src/optimizers/adam.py`, `build`). The model order
 * is taken to be the natural order of the HDF5 paths (`dense` < `dense_1` < `dense_10`), accepted
 * only when every slot's shape agrees with its variable's; otherwise no line is drafted.
 * Non-trainable variables (BatchNormalization's moving statistics) are skipped.
 */
function kerasH5Lines(
  o: TargetOptimizer,
  f: SlotFamily,
  tgt: TargetClasses,
  modelSourceOf: ReadonlyMap<TargetAttribute, string>,
  src: SourceClasses,
): OptimizerLine[] {
  if (f.preset !== "adam") return [];
  const opt = [...o.own].sort((a, b) => Number(leaf(a.objectPath)) - Number(leaf(b.objectPath)));
  const trainable = tgt.model
    .filter((t) => !/\/moving_(mean|variance)$/.test(t.fullName))
    .sort((a, b) => naturalCompare(a.objectPath, b.objectPath));
  if (trainable.length === 0 || opt.length !== 2 + 2 * trainable.length) return [];
  const same = (a: TargetAttribute, b: TargetAttribute) =>
    a.dtype === b.dtype && a.shape.join() === b.shape.join();
  if (
    !trainable.every(
      (t, i) => same(t, opt[2 + 2 * i] as TargetAttribute) && same(t, opt[3 + 2 * i] as TargetAttribute),
    )
  )
    return [];
  const lines: OptimizerLine[] = [];
  const iterations = opt[0] as TargetAttribute;
  if (src.globalStep !== undefined && /^int/.test(iterations.dtype.name) && iterations.shape.length === 0)
    lines.push({
      from: src.globalStep.name,
      to: iterations.objectPath,
      confidence: KERAS_H5_CONFIDENCE,
      reason: "Keras 3 optimizer iterations ← TF1 global_step",
    });
  trainable.forEach((t, i) => {
    const v = modelSourceOf.get(t);
    if (v === undefined) return;
    (["momentum", "velocity"] as const).forEach((slot, k) => {
      const from = `${v}/${f.suffixes[k]}`;
      const to = opt[2 + k + 2 * i] as TargetAttribute;
      if (!src.byName.has(from)) return;
      lines.push({
        from,
        to: to.objectPath,
        confidence: KERAS_H5_CONFIDENCE,
        reason: `Keras 3 Adam ${slot} of ${t.objectPath} (#${i + 1} of ${trainable.length} trainable variables in path order; shapes agree)`,
      });
    });
  });
  return lines;
}
