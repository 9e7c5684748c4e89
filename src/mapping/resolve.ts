/**
 * Resolution: which source variable(s) fill each target attribute, following the assignment
 * map's precedence (exact → scope → pattern → optimizer preset → template → default), then a type
 * plan for each (concat, transforms) checked against the target's dtype and shape. Nothing is
 * read here but names, dtypes and shapes. Mirrors `init_from_checkpoint`'s checks and messages
 * (`tensorflow/python/training/checkpoint_utils.py`).
 *
 * @module
 */
import type { VariableInfo } from "../checkpoint/types.js";
import { OBJECT_GRAPH_KEY } from "../checkpoint/types.js";
import { tfDtypeString } from "../dtypes.js";
import { objectPathFromString } from "../graph/keys.js";
import { optimizerPathOf, type TargetAttribute, type TargetGraph } from "../graph/target.js";
import {
  planConcat,
  planTransform,
  type TensorType,
  type Transform,
  TransformError,
} from "../transforms/index.js";
import type { AssignmentMap, OptimizerPreset, Rule, TargetRef } from "./document.js";

/** Where an assignment's value comes from. */
export type SourceSpec =
  | { readonly kind: "variables"; readonly names: readonly string[]; readonly concatAxis?: number }
  | { readonly kind: "value"; readonly value: number }
  | { readonly kind: "template" }
  | { readonly kind: "default"; readonly value: number };

/** Which rule produced an assignment, in words for the report. */
export interface RuleRef {
  readonly kind:
    | "exact"
    | "value"
    | "scope"
    | "pattern"
    | "optimizer"
    | "global-step"
    | "template"
    | "default";
  /** Index in the map's `assignments`, for rules from the file. */
  readonly index?: number;
  readonly description: string;
}

/** One target attribute and how it is filled. */
export interface Assignment {
  readonly target: TargetAttribute;
  readonly source: SourceSpec;
  readonly rule: RuleRef;
  readonly transforms: readonly Transform[];
  /** The source variable the EMA option replaced, if any. */
  readonly emaOf?: readonly string[];
}

/** Why a target could not be assigned, or what went wrong with a rule. */
export interface ResolutionProblem {
  readonly kind:
    | "missing-source"
    | "assigned-twice"
    | "shape-mismatch"
    | "dtype-mismatch"
    | "transform"
    | "no-target";
  readonly target?: string;
  readonly rule?: number;
  readonly message: string;
}

/** The outcome of resolving a map against a source and a target. */
export interface Resolution {
  readonly assignments: readonly Assignment[];
  readonly unassigned: readonly TargetAttribute[];
  readonly problems: readonly ResolutionProblem[];
  readonly usedSources: readonly string[];
  readonly ignoredSources: readonly { readonly name: string; readonly reason: string }[];
  readonly unmatchedSources: readonly string[];
  /** Indices of rules in `assignments` that assigned nothing. */
  readonly rulesNeverFired: readonly number[];
  readonly notes: readonly string[];
}

/** Options of {@link resolveAssignments}. */
export interface ResolveOptions {
  /** Fill unmapped targets from the template checkpoint (requires one). */
  readonly keepUnmapped?: boolean;
  /** True when the target came from a template checkpoint. */
  readonly hasTemplate?: boolean;
  /** Checkpoint keys the template holds, when known: only those can be kept from it. */
  readonly templateKeys?: ReadonlySet<string>;
  /** Value for an unmapped `save_counter` (default 1, as after one `Checkpoint.save()`). */
  readonly saveCounter?: number;
}

/** TF1 slot-name suffixes (`slot_creator`: `<var>/<Optimizer>`, `<var>/<Optimizer>_1`, …) per TF2 slot name. */
const PRESETS: Record<OptimizerPreset, { readonly base: string; readonly slots: Record<string, number> }> = {
  adam: { base: "Adam", slots: { m: 0, v: 1 } },
  momentum: { base: "Momentum", slots: { momentum: 0 } },
  rmsprop: { base: "RMSProp", slots: { rms: 0, momentum: 1 } },
  "rmsprop-centered": { base: "RMSProp", slots: { rms: 0, mg: 1, momentum: 2 } },
  adagrad: { base: "Adagrad", slots: { accumulator: 0 } },
  ftrl: { base: "Ftrl", slots: { accumulator: 0, linear: 1 } },
};

/** Names TF2 optimizers give their step counter (OptimizerV2 `iter`, new Keras `_iterations`). */
const ITERATION_NAMES = ["iter", "_iterations", "iterations"];

const fmt = (t: TensorType) => `${t.dtype.name}[${t.shape.join(", ")}]`;

function matches(ref: TargetRef, t: TargetAttribute): boolean {
  if ("fullName" in ref) return t.fullName === ref.fullName;
  return (
    (t.name === "VARIABLE_VALUE" && (t.objectPath === ref.path || (t.aliases ?? []).includes(ref.path))) ||
    t.checkpointKey === ref.path
  );
}

function describeRule(r: Rule): string {
  switch (r.kind) {
    case "exact":
      return `#${r.index} ${JSON.stringify(r.from.length === 1 ? r.from[0] : r.from)} → ${JSON.stringify("path" in r.to ? r.to.path : `name:${r.to.fullName}`)}`;
    case "value":
      return `#${r.index} value ${r.value} → ${JSON.stringify("path" in r.to ? r.to.path : `name:${r.to.fullName}`)}`;
    case "scope":
      return `#${r.index} scope ${JSON.stringify(r.fromScope || "/")} → ${JSON.stringify(r.toScope || "/")}`;
    case "pattern":
      return `#${r.index} pattern /${r.source}/ → ${JSON.stringify(r.to)}`;
  }
}

/**
 * Resolves `map` for every attribute of `target` from the variables `sources`.
 * Never throws for mapping problems: they are returned in `problems`.
 */
export function resolveAssignments(
  map: AssignmentMap,
  sources: readonly VariableInfo[],
  target: TargetGraph,
  options: ResolveOptions = {},
): Resolution {
  const src = new Map(sources.filter((s) => s.name !== OBJECT_GRAPH_KEY).map((s) => [s.name, s]));
  const problems: ResolutionProblem[] = [];
  const notes: string[] = [];
  const fired = new Set<number>();
  const assigned = new Map<TargetAttribute, Assignment>();

  // Candidates from exact/value rules and from patterns, per target.
  const exact = new Map<TargetAttribute, Rule[]>();
  const patterned = new Map<TargetAttribute, Array<{ rule: Rule & { kind: "pattern" }; source: string }>>();
  for (const r of map.rules) {
    if (r.kind === "exact" || r.kind === "value") {
      const hits = target.attributes.filter((t) => matches(r.to, t));
      if (hits.length === 0) {
        problems.push({
          kind: "no-target",
          rule: r.index,
          message: `rule ${describeRule(r)}: the target graph has no variable ${"path" in r.to ? `at ${JSON.stringify(r.to.path)}` : `named ${JSON.stringify(r.to.fullName)}`}`,
        });
      }
      for (const t of hits) exact.set(t, [...(exact.get(t) ?? []), r]);
    } else if (r.kind === "pattern") {
      const byPath = new Map(
        target.attributes.flatMap((t) => [t.objectPath, ...(t.aliases ?? [])].map((p) => [p, t] as const)),
      );
      for (const name of src.keys()) {
        if (!r.pattern.test(name)) continue;
        const path = name.replace(r.pattern, r.to);
        const t = byPath.get(path) ?? target.attributes.find((a) => a.checkpointKey === path);
        if (t !== undefined) patterned.set(t, [...(patterned.get(t) ?? []), { rule: r, source: name }]);
      }
    }
  }
  const scopes = map.rules
    .filter((r): r is Rule & { kind: "scope" } => r.kind === "scope")
    .sort((a, b) => b.toScope.length - a.toScope.length);

  const assign = (a: Assignment) => {
    assigned.set(a.target, a);
    if (a.rule.index !== undefined) fired.add(a.rule.index);
  };
  const fromRule = (t: TargetAttribute, r: Rule, names?: readonly string[]): Assignment | undefined => {
    if (r.kind === "value")
      return {
        target: t,
        source: { kind: "value", value: r.value },
        rule: { kind: "value", index: r.index, description: describeRule(r) },
        transforms: r.transforms,
      };
    const list = names ?? (r.kind === "exact" ? r.from : []);
    const missing = list.filter((n) => !src.has(n));
    if (missing.length > 0) {
      problems.push({
        kind: "missing-source",
        target: t.checkpointKey,
        rule: r.index,
        message: `Tensor ${missing.join(", ")} is not found in the source checkpoint (rule ${describeRule(r)})`,
      });
      return undefined;
    }
    return {
      target: t,
      source: {
        kind: "variables",
        names: list,
        ...(r.kind === "exact" && r.concatAxis !== undefined ? { concatAxis: r.concatAxis } : {}),
      },
      rule: {
        kind: r.kind === "exact" ? "exact" : r.kind === "scope" ? "scope" : "pattern",
        index: r.index,
        description: describeRule(r),
      },
      transforms: r.transforms,
    };
  };

  const optimizerPath = map.optimizer?.path ?? optimizerPathOf(target) ?? "optimizer";

  // Pass 1: every non-slot target; pass 2: slots (which follow their variable's assignment).
  for (const pass of [1, 2]) {
    for (const t of target.attributes) {
      if ((pass === 1) === (t.slot !== undefined)) continue;
      if (t.tensors !== undefined) {
        // A multi-tensor saveable (lookup table, iterator) is opaque to the map: copied from
        // the template when there is one, else left unassigned.
        if (options.hasTemplate)
          assign({
            target: t,
            source: { kind: "template" },
            rule: {
              kind: "template",
              description: `copied from the template: a multi-tensor saveable (${t.tensors.map((x) => x.suffix).join(", ")})`,
            },
            transforms: [],
          });
        else
          notes.push(
            `${t.prettyName} is a multi-tensor saveable (${t.tensors.map((x) => x.suffix).join(", ")}): only a template checkpoint can fill it`,
          );
        continue;
      }
      const ex = exact.get(t) ?? [];
      if (ex.length > 1) {
        problems.push({
          kind: "assigned-twice",
          target: t.checkpointKey,
          message: `${t.prettyName} is assigned by ${ex.length} rules: ${ex.map(describeRule).join("; ")}`,
        });
        continue;
      }
      if (ex.length === 1) {
        const a = fromRule(t, ex[0] as Rule);
        if (a !== undefined) assign(a);
        continue;
      }
      if (t.slot === undefined) {
        let done = false;
        for (const s of scopes) {
          // Any path reaching the object may lie under the scope (objects reached by two edges).
          const path = [t.objectPath, ...(t.aliases ?? [])].find(
            (p) => s.toScope === "" || p.startsWith(s.toScope),
          );
          if (path === undefined) continue;
          const rest = objectPathFromString(path.slice(s.toScope.length));
          if (rest === undefined) continue;
          const name = s.fromScope + rest.join("/");
          if (src.has(name)) {
            assign(fromRule(t, s, [name]) as Assignment);
            done = true;
            break;
          }
          notes.push(
            `scope rule ${describeRule(s)} would fill ${t.prettyName} from ${JSON.stringify(name)}, which the source does not have`,
          );
        }
        if (done) continue;
      }
      const pc = patterned.get(t) ?? [];
      const distinct = [...new Set(pc.map((p) => p.source))];
      if (distinct.length > 1) {
        problems.push({
          kind: "assigned-twice",
          target: t.checkpointKey,
          message: `${t.prettyName} is reached by ${distinct.length} source variables through patterns: ${pc.map((p) => `${JSON.stringify(p.source)} (${describeRule(p.rule)})`).join("; ")}`,
        });
        continue;
      }
      if (pc.length > 0) {
        const first = pc[0] as { rule: Rule & { kind: "pattern" }; source: string };
        assign(fromRule(t, first.rule, [first.source]) as Assignment);
        continue;
      }
      if (t.slot !== undefined && map.optimizer !== undefined) {
        const preset = PRESETS[map.optimizer.preset];
        const index = preset.slots[t.slot.slotName];
        const original = target.attributes.find((a) => a.nodeId === t.slot?.originalNodeId);
        const of = original === undefined ? undefined : assigned.get(original);
        if (index !== undefined && of !== undefined && of.source.kind === "variables") {
          const base = map.optimizer.slotSuffix ?? preset.base;
          const suffix = index === 0 ? base : `${base}_${index}`;
          const names = of.source.names.map((n) => `${n}/${suffix}`);
          if (names.every((n) => src.has(n))) {
            assign({
              target: t,
              source: { ...of.source, names },
              rule: {
                kind: "optimizer",
                description: `optimizer preset ${map.optimizer.preset}: slot '${t.slot.slotName}' ← <var>/${suffix}`,
              },
              transforms: of.transforms,
            });
            continue;
          }
          notes.push(`optimizer preset: no ${names.join(", ")} in the source for ${t.prettyName}`);
        }
      }
      if (
        map.optimizer?.globalStep !== false &&
        map.optimizer !== undefined &&
        src.has("global_step") &&
        ITERATION_NAMES.some((n) => t.objectPath === `${optimizerPath}/${n}`)
      ) {
        assign({
          target: t,
          source: { kind: "variables", names: ["global_step"] },
          rule: { kind: "global-step", description: "optimizer preset: global_step → iteration counter" },
          transforms: [],
        });
        continue;
      }
      if (
        options.keepUnmapped &&
        options.hasTemplate &&
        (options.templateKeys === undefined || options.templateKeys.has(t.checkpointKey))
      ) {
        assign({
          target: t,
          source: { kind: "template" },
          rule: { kind: "template", description: "kept from the template (--keep-unmapped)" },
          transforms: [],
        });
        continue;
      }
      if (t.objectPath === "save_counter" && t.dtype.name === "int64") {
        assign({
          target: t,
          source: { kind: "default", value: options.saveCounter ?? 1 },
          rule: {
            kind: "default",
            description: `save_counter = ${options.saveCounter ?? 1}, as Checkpoint.save() numbers ckpt-${options.saveCounter ?? 1}`,
          },
          transforms: [],
        });
      }
    }
  }

  // EMA: take <var>/ExponentialMovingAverage in place of <var>.
  const emaReplaced = new Set<string>();
  if (map.ema) {
    for (const [t, a] of assigned) {
      if (a.source.kind !== "variables" || a.rule.kind === "optimizer" || a.rule.kind === "global-step")
        continue;
      const names = a.source.names.map((n) =>
        src.has(`${n}/ExponentialMovingAverage`) ? `${n}/ExponentialMovingAverage` : n,
      );
      if (names.some((n, i) => n !== (a.source as { names: readonly string[] }).names[i])) {
        for (const n of a.source.names) if (src.has(`${n}/ExponentialMovingAverage`)) emaReplaced.add(n);
        assigned.set(t, { ...a, source: { ...a.source, names }, emaOf: a.source.names });
      }
    }
  }

  // Type plans: concat, transforms, then the target's dtype and shape.
  for (const [t, a] of [...assigned]) {
    const fail = (kind: ResolutionProblem["kind"], message: string) => {
      problems.push({
        kind,
        target: t.checkpointKey,
        ...(a.rule.index !== undefined ? { rule: a.rule.index } : {}),
        message,
      });
      assigned.delete(t);
    };
    let type: TensorType;
    try {
      if (a.source.kind === "variables") {
        const inputs = a.source.names.map((n) => {
          const v = src.get(n) as VariableInfo;
          return { dtype: v.dtype, shape: v.shape };
        });
        type =
          a.source.concatAxis !== undefined
            ? planConcat(inputs, a.source.concatAxis)
            : (inputs[0] as TensorType);
        if (
          (a.transforms.length > 0 || a.source.concatAxis !== undefined) &&
          type.dtype.itemSize === undefined
        ) {
          throw new TransformError(`${type.dtype.name} tensors cannot be transformed`);
        }
      } else {
        type = { dtype: t.dtype, shape: t.shape };
      }
      for (const tr of a.transforms) type = planTransform(tr, type);
    } catch (e) {
      fail(
        "transform",
        `${t.prettyName}: ${e instanceof Error ? e.message : String(e)} (${a.rule.description})`,
      );
      continue;
    }
    const from = a.source.kind === "variables" ? a.source.names.join(" + ") : a.rule.description;
    if (type.shape.join() !== t.shape.join()) {
      fail(
        "shape-mismatch",
        `Shape of variable ${t.prettyName} (${fmt(t)}) doesn't match with shape of tensor ${from} (${fmt(type)}) from checkpoint reader${a.transforms.length > 0 ? " after its transforms" : ""} (${a.rule.description})`,
      );
    } else if (type.dtype !== t.dtype) {
      fail(
        "dtype-mismatch",
        `tensor_name = ${t.checkpointKey}; expected dtype ${tfDtypeString(t.dtype)} does not equal original dtype ${tfDtypeString(type.dtype)} (variable ${t.prettyName} from ${from}; add {"op": "cast", "to": "${t.dtype.name}"}) (${a.rule.description})`,
      );
    }
  }

  const used = new Set<string>();
  for (const a of assigned.values())
    if (a.source.kind === "variables") for (const n of a.source.names) used.add(n);
  const ignored: Array<{ name: string; reason: string }> = [];
  const unmatched: string[] = [];
  for (const s of sources) {
    if (used.has(s.name)) continue;
    if (s.name === OBJECT_GRAPH_KEY)
      ignored.push({ name: s.name, reason: "the source's object graph (not a variable)" });
    else if (emaReplaced.has(s.name))
      ignored.push({ name: s.name, reason: "replaced by its ExponentialMovingAverage (ema)" });
    else {
      const g = map.ignore.find((i) => i.re.test(s.name));
      if (g !== undefined) ignored.push({ name: s.name, reason: `ignore ${JSON.stringify(g.glob)}` });
      else unmatched.push(s.name);
    }
  }
  return {
    assignments: target.attributes.flatMap((t) => {
      const a = assigned.get(t);
      return a === undefined ? [] : [a];
    }),
    unassigned: target.attributes.filter((t) => !assigned.has(t)),
    problems,
    usedSources: [...used],
    ignoredSources: ignored,
    unmatchedSources: unmatched,
    rulesNeverFired: map.rules.map((r) => r.index).filter((i) => !fired.has(i)),
    notes,
  };
}
