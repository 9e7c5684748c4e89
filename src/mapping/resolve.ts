/**
 * Resolution: which source variable(s) fill each target attribute, following the assignment
 * map's precedence (exact → scope → pattern → optimizer preset → template → default), then a type
 * plan for each (concat, transforms) checked against the target's dtype and shape. Nothing is
 * read here but names, dtypes and shapes. Mirrors `init_from_checkpoint`'s checks and messages
 * (`tensorflow/python/training/checkpoint_utils.py`).
 *
 * @module
 */

import { tfDtypeString } from "../dtypes.js";
import { objectPathFromString } from "../graph/keys.js";
import { nodeAtPath, PathTree } from "../graph/object-graph.js";
import type { VariableInfo } from "../reader.js";
import { OBJECT_GRAPH_PROTO_KEY } from "../reader.js";
import { optimizerPathOf, type TargetAttribute, type TargetGraph } from "../target/target.js";
import {
  formatType,
  planConcat,
  planTransform,
  type TensorType,
  type Transform,
  TransformError,
} from "../transforms/index.js";
import {
  type AssignmentMap,
  expandCaptures,
  type OptimizerSpec,
  type Rule,
  type TargetRef,
} from "./document.js";
import { OPTIMIZER_PRESETS, tf1SlotSuffix } from "./optimizer-presets.js";

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

/** Transforms that change values, not layout: an optimizer's state does not inherit them. */
const VALUE_TRANSFORMS = new Set(["add", "scale"]);

/** Names TF2 optimizers give their step counter (OptimizerV2 `iter`, new Keras `_iterations`). */
const ITERATION_NAMES = ["iter", "_iterations", "iterations"];

/**
 * Finds target variables by reference: an object path along any path of the graph (else a BFS
 * object path or a checkpoint key), or a full_name. Built once; each lookup costs the path's
 * length times the children per node.
 */
function targetIndex(target: TargetGraph) {
  const byNode = new Map<number, TargetAttribute>();
  const byPath = new Map<string, TargetAttribute>();
  const byFullName = new Map<string, TargetAttribute[]>();
  for (const t of target.attributes) {
    if (t.name === "VARIABLE_VALUE" && !byNode.has(t.nodeId)) byNode.set(t.nodeId, t);
    if (!byPath.has(t.objectPath)) byPath.set(t.objectPath, t);
    if (!byPath.has(t.checkpointKey)) byPath.set(t.checkpointKey, t);
    const same = byFullName.get(t.fullName);
    if (same === undefined) byFullName.set(t.fullName, [t]);
    else same.push(t); // not a copy per attribute: quadratic when many share a full name
  }
  // Each node's children by local name (the first of a name, as nodeAtPath finds), built on first
  // use: a scan of the children per path step is quadratic in a wide graph (10⁵ lookups × 10³ children).
  const childMaps = new Map<number, Map<string, number>>();
  const child = (id: number, name: string): number | undefined => {
    let m = childMaps.get(id);
    if (m === undefined) {
      m = new Map();
      for (const c of target.graph.nodes[id]?.children ?? [])
        if (!m.has(c.localName)) m.set(c.localName, c.nodeId);
      childMaps.set(id, m);
    }
    return m.get(name);
  };
  const nodeAt = (names: readonly string[]): number | undefined => {
    let id: number | undefined = 0;
    for (const name of names) {
      id = child(id, name);
      if (id === undefined) return undefined;
    }
    return id;
  };
  const at = (path: string): TargetAttribute | undefined => {
    const names = objectPathFromString(path);
    const node = names === undefined ? undefined : nodeAt(names);
    return (node === undefined ? undefined : byNode.get(node)) ?? byPath.get(path);
  };
  const matching = (ref: TargetRef): TargetAttribute[] => {
    if ("fullName" in ref) return byFullName.get(ref.fullName) ?? [];
    const t = at(ref.path);
    return t === undefined ? [] : [t];
  };
  return { at, matching, byFullName };
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
      return `#${r.index} pattern /${r.source}/ → ${r.toName ? "name:" : ""}${JSON.stringify(r.to)}`;
  }
}

type PatternHit = { readonly rule: Rule & { kind: "pattern" }; readonly source: string };
type ScopeHit = { readonly rule: Rule & { kind: "scope" }; readonly name: string };
type Keras3State = {
  readonly spec: OptimizerSpec;
  readonly original: TargetAttribute;
  readonly slot: number;
  readonly list: string;
};

/** What the precedence stages share: the inputs, the candidates per target, and the results so far. */
interface Context {
  readonly map: AssignmentMap;
  readonly target: TargetGraph;
  readonly options: ResolveOptions;
  /** Source variables by name (the object graph left out). */
  readonly src: ReadonlyMap<string, VariableInfo>;
  readonly problems: ResolutionProblem[];
  readonly notes: string[];
  /** Indices of the map's rules that assigned something. */
  readonly fired: Set<number>;
  readonly assigned: Map<TargetAttribute, Assignment>;
  /** Exact and value rules naming each target. */
  readonly exact: ReadonlyMap<TargetAttribute, readonly Rule[]>;
  /** Pattern rules reaching each target, with the source name that matched. */
  readonly patterned: ReadonlyMap<TargetAttribute, readonly PatternHit[]>;
  /** Scope rules covering each target, innermost scope first, with the source name they give. */
  readonly scoped: ReadonlyMap<TargetAttribute, readonly ScopeHit[]>;
  /** Keras 3 optimizer variables and the trainable variable each follows. */
  readonly keras3: ReadonlyMap<TargetAttribute, Keras3State>;
  readonly defaultOptimizerPath: string;
  /** The first attribute of each target node (a slot's original variable is looked up here). */
  readonly firstAttributeOf: ReadonlyMap<number, TargetAttribute>;
}

/** The first attribute of each node, as `attributes.find` by node id would give (linear, not per slot). */
function firstAttributeOf(target: TargetGraph): Map<number, TargetAttribute> {
  const m = new Map<number, TargetAttribute>();
  for (const a of target.attributes) if (!m.has(a.nodeId)) m.set(a.nodeId, a);
  return m;
}

/** Exact/value rules and pattern rules, as candidates per target; a rule naming no target is a problem. */
function ruleCandidates(c: Pick<Context, "map" | "src" | "problems" | "notes">, target: TargetGraph) {
  const index = targetIndex(target);
  const exact = new Map<TargetAttribute, Rule[]>();
  const patterned = new Map<TargetAttribute, PatternHit[]>();
  for (const r of c.map.rules) {
    if (r.kind === "exact" || r.kind === "value") {
      const hits = index.matching(r.to);
      if (hits.length === 0) {
        c.problems.push({
          kind: "no-target",
          rule: r.index,
          message: `rule ${describeRule(r)}: the target graph has no variable ${"path" in r.to ? `at ${JSON.stringify(r.to.path)}` : `named ${JSON.stringify(r.to.fullName)}`}`,
        });
      }
      for (const t of hits) exact.set(t, [...(exact.get(t) ?? []), r]);
    } else if (r.kind === "pattern") {
      for (const name of c.src.keys()) {
        const m = r.pattern.exec(name);
        if (m === null) continue;
        const to = expandCaptures(r.to, m);
        if (to === undefined) {
          c.notes.push(
            `pattern rule ${describeRule(r)}: ${JSON.stringify(name)} has no integer capture for the arithmetic`,
          );
          continue;
        }
        const hits = r.toName ? (index.byFullName.get(to) ?? []) : [index.at(to)];
        for (const t of hits)
          if (t !== undefined) patterned.set(t, [...(patterned.get(t) ?? []), { rule: r, source: name }]);
      }
    }
  }
  return { exact, patterned };
}

/** Each node's variable (`VARIABLE_VALUE`, not a slot). */
function variablesByNode(target: TargetGraph): Map<number, TargetAttribute> {
  const byNode = new Map<number, TargetAttribute>();
  for (const t of target.attributes)
    if (t.name === "VARIABLE_VALUE" && t.slot === undefined) byNode.set(t.nodeId, t);
  return byNode;
}

/**
 * Scope rules: every variable under the `to` scope's object (by any path to it), with the source
 * name its path below the scope gives (local names renamed back as `rename` says).
 */
function scopeCandidates(c: Pick<Context, "map" | "problems">, target: TargetGraph) {
  const scoped = new Map<TargetAttribute, ScopeHit[]>();
  const byNode = variablesByNode(target);
  for (const r of c.map.rules) {
    if (r.kind !== "scope") continue;
    const names = objectPathFromString(r.toScope.replace(/\/$/, ""));
    const from = names === undefined ? undefined : nodeAtPath(target.graph, names);
    if (from === undefined) {
      c.problems.push({
        kind: "no-target",
        rule: r.index,
        message: `rule ${describeRule(r)}: the target graph has no object at ${JSON.stringify(r.toScope)}`,
      });
      continue;
    }
    const back = new Map(Object.entries(r.rename).map(([k, v]) => [v, k]));
    // Paths below the scope as parent links; spelled out only for the nodes holding a variable.
    const under = new PathTree(target.graph, from);
    for (const node of under.order) {
      const t = byNode.get(node);
      if (t === undefined) continue;
      const rest = under.path(node) as string[];
      const name = r.fromScope + rest.map((n) => back.get(n) ?? n).join("/");
      scoped.set(t, [...(scoped.get(t) ?? []), { rule: r, name }]);
    }
  }
  for (const list of scoped.values()) list.sort((a, b) => b.rule.toScope.length - a.rule.toScope.length);
  return scoped;
}

/** Keras 3 optimizer state: `<optimizer>/<list>/i` follows `<optimizer>/_trainable_variables/i`. */
function keras3Candidates(c: Pick<Context, "map" | "notes">, target: TargetGraph) {
  const keras3 = new Map<TargetAttribute, Keras3State>();
  const byNode = variablesByNode(target);
  for (const spec of c.map.optimizers) {
    if (spec.layout !== "keras3") continue;
    const opt = nodeAtPath(target.graph, objectPathFromString(spec.path ?? "optimizer") ?? []);
    const tv = opt === undefined ? undefined : nodeAtPath(target.graph, ["_trainable_variables"], opt);
    if (opt === undefined || tv === undefined) {
      c.notes.push(
        `optimizer preset ${spec.preset} (keras3): no ${spec.path ?? "optimizer"}/_trainable_variables in the target`,
      );
      continue;
    }
    for (const [list, slot] of Object.entries(OPTIMIZER_PRESETS[spec.preset].keras3)) {
      const listNode = nodeAtPath(target.graph, [list], opt);
      if (listNode === undefined) continue;
      for (const ch of target.graph.nodes[listNode]?.children ?? []) {
        const state = byNode.get(ch.nodeId);
        const origNode = nodeAtPath(target.graph, [ch.localName], tv);
        const original = origNode === undefined ? undefined : byNode.get(origNode);
        if (state !== undefined && original !== undefined) keras3.set(state, { spec, original, slot, list });
      }
    }
  }
  return keras3;
}

function assign(c: Context, a: Assignment): true {
  c.assigned.set(a.target, a);
  if (a.rule.index !== undefined) c.fired.add(a.rule.index);
  return true;
}

/** The assignment rule `r` gives `t` (from `names` for scope and pattern rules); undefined, with a problem, when a source is missing. */
function fromRule(
  c: Context,
  t: TargetAttribute,
  r: Rule,
  names?: readonly string[],
): Assignment | undefined {
  if (r.kind === "value")
    return {
      target: t,
      source: { kind: "value", value: r.value },
      rule: { kind: "value", index: r.index, description: describeRule(r) },
      transforms: r.transforms,
    };
  const list = names ?? (r.kind === "exact" ? r.from : []);
  const missing = list.filter((n) => !c.src.has(n));
  if (missing.length > 0) {
    c.problems.push({
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
}

/** The preset holding `names`' optimizer state (the first whose `variables` globs match). */
function specFor(c: Context, layout: OptimizerSpec["layout"], names: readonly string[]) {
  return c.map.optimizers.find(
    (o) =>
      o.layout === layout &&
      (o.variables === undefined || names.some((n) => o.variables?.some((re) => re.test(n)))),
  );
}

/** TF1 slot variables holding optimizer state number `slot` of the variable assigned by `of`. */
function stateSource(
  spec: OptimizerSpec,
  slot: number,
  of: Assignment | undefined,
): { names: string[]; suffix: string; transforms: Transform[] } | undefined {
  if (of === undefined || of.source.kind !== "variables") return undefined;
  const base = spec.slotSuffix ?? OPTIMIZER_PRESETS[spec.preset].base;
  const suffix = spec.slotNames?.[slot] ?? tf1SlotSuffix(base, slot);
  return {
    names: of.source.names.map((n) => `${n}/${suffix}`),
    suffix,
    transforms: of.transforms.filter((tr) => !VALUE_TRANSFORMS.has(tr.op)),
  };
}

/**
 * One precedence stage: assigns `t` (or records why it cannot be) and returns true to end the
 * search for `t`, or returns false to let the next stage try.
 */
type Stage = (c: Context, t: TargetAttribute) => boolean;

/** A multi-tensor saveable (lookup table, iterator) is opaque to the map: copied from the template when there is one, else left unassigned. */
const multiTensorSaveable: Stage = (c, t) => {
  if (t.tensors === undefined) return false;
  const suffixes = t.tensors.map((x) => x.suffix).join(", ");
  if (c.options.hasTemplate)
    assign(c, {
      target: t,
      source: { kind: "template" },
      rule: {
        kind: "template",
        description: `copied from the template: a multi-tensor saveable (${suffixes})`,
      },
      transforms: [],
    });
  else
    c.notes.push(
      `${t.prettyName} is a multi-tensor saveable (${suffixes}): only a template checkpoint can fill it`,
    );
  return true;
};

/** An exact or value rule naming the target; two are a problem. */
const exactRule: Stage = (c, t) => {
  const ex = c.exact.get(t) ?? [];
  if (ex.length > 1) {
    c.problems.push({
      kind: "assigned-twice",
      target: t.checkpointKey,
      message: `${t.prettyName} is assigned by ${ex.length} rules: ${ex.map(describeRule).join("; ")}`,
    });
    return true;
  }
  if (ex.length === 0) return false;
  const a = fromRule(c, t, ex[0] as Rule);
  if (a !== undefined) assign(c, a);
  return true;
};

/** The innermost scope rule whose source name the source has. */
const scopeRule: Stage = (c, t) => {
  if (t.slot !== undefined) return false;
  for (const { rule: s, name } of c.scoped.get(t) ?? []) {
    if (c.src.has(name)) return assign(c, fromRule(c, t, s, [name]) as Assignment);
    c.notes.push(
      `scope rule ${describeRule(s)} would fill ${t.prettyName} from ${JSON.stringify(name)}, which the source does not have`,
    );
  }
  return false;
};

/** The pattern rules reaching the target, when they agree on one source variable. */
const patternRule: Stage = (c, t) => {
  const pc = c.patterned.get(t) ?? [];
  const distinct = [...new Set(pc.map((p) => p.source))];
  if (distinct.length > 1) {
    c.problems.push({
      kind: "assigned-twice",
      target: t.checkpointKey,
      message: `${t.prettyName} is reached by ${distinct.length} source variables through patterns: ${pc.map((p) => `${JSON.stringify(p.source)} (${describeRule(p.rule)})`).join("; ")}`,
    });
    return true;
  }
  const first = pc[0];
  return first !== undefined && assign(c, fromRule(c, t, first.rule, [first.source]) as Assignment);
};

/** A TF2 slot variable, from the TF1 slot of its variable's source (`<var>/Adam`, …). */
const slotPreset: Stage = (c, t) => {
  if (t.slot === undefined) return false;
  const original = c.firstAttributeOf.get(t.slot.originalNodeId);
  const of = original === undefined ? undefined : c.assigned.get(original);
  const spec = of?.source.kind === "variables" ? specFor(c, "slots", of.source.names) : undefined;
  const index = spec === undefined ? undefined : OPTIMIZER_PRESETS[spec.preset].slots[t.slot.slotName];
  const st = spec === undefined || index === undefined ? undefined : stateSource(spec, index, of);
  if (spec === undefined || st === undefined || of?.source.kind !== "variables") return false;
  if (st.names.every((n) => c.src.has(n)))
    return assign(c, {
      target: t,
      source: { ...of.source, names: st.names },
      rule: {
        kind: "optimizer",
        description: `optimizer preset ${spec.preset}: slot '${t.slot.slotName}' ← <var>/${st.suffix}`,
      },
      transforms: st.transforms,
    });
  c.notes.push(`optimizer preset: no ${st.names.join(", ")} in the source for ${t.prettyName}`);
  return false;
};

/** A Keras 3 optimizer variable, from the TF1 slot of the trainable variable it follows. */
const keras3Slot: Stage = (c, t) => {
  const k3 = c.keras3.get(t);
  if (k3 === undefined) return false;
  const of = c.assigned.get(k3.original);
  const owns = of?.source.kind === "variables" && specFor(c, "keras3", of.source.names) === k3.spec;
  const st = owns ? stateSource(k3.spec, k3.slot, of) : undefined;
  if (st === undefined || of?.source.kind !== "variables") return false;
  const momentum = k3.spec.preset === "momentum";
  const lr = k3.spec.learningRate;
  if (momentum && lr === undefined) {
    c.notes.push(
      `optimizer preset momentum (keras3): ${t.prettyName} needs "learningRate" (Keras 3 SGD keeps −lr × TF1's accumulator)`,
    );
    return false;
  }
  if (!st.names.every((n) => c.src.has(n))) {
    c.notes.push(`optimizer preset: no ${st.names.join(", ")} in the source for ${t.prettyName}`);
    return false;
  }
  const scale: Transform[] = momentum ? [{ op: "scale", value: -(lr as number) }] : [];
  return assign(c, {
    target: t,
    source: { ...of.source, names: st.names },
    rule: {
      kind: "optimizer",
      description: `optimizer preset ${k3.spec.preset} (keras3): ${k3.list} ← <var>/${st.suffix}${momentum ? ` × ${-(lr as number)}` : ""}`,
    },
    transforms: [...st.transforms, ...scale],
  });
};

/** A Keras 3 optimizer's `_learning_rate`, from the preset's `learningRate`. */
const keras3LearningRate: Stage = (c, t) => {
  const lr = c.map.optimizers.find(
    (o) =>
      o.layout === "keras3" &&
      o.learningRate !== undefined &&
      t.objectPath === `${o.path ?? "optimizer"}/_learning_rate`,
  );
  if (lr?.learningRate === undefined) return false;
  return assign(c, {
    target: t,
    source: { kind: "value", value: lr.learningRate },
    rule: {
      kind: "optimizer",
      description: `optimizer preset ${lr.preset} (keras3): learningRate ${lr.learningRate}`,
    },
    transforms: [],
  });
};

/** An optimizer's iteration counter, from TF1's `global_step`. */
const globalStep: Stage = (c, t) => {
  const counter = c.map.optimizers.some(
    (o) =>
      o.globalStep &&
      ITERATION_NAMES.some((n) => t.objectPath === `${o.path ?? c.defaultOptimizerPath}/${n}`),
  );
  if (!c.src.has("global_step") || !counter) return false;
  return assign(c, {
    target: t,
    source: { kind: "variables", names: ["global_step"] },
    rule: { kind: "global-step", description: "optimizer preset: global_step → iteration counter" },
    transforms: [],
  });
};

/** `--keep-unmapped`: the template's value, when the template holds the key. */
const keptFromTemplate: Stage = (c, t) => {
  const o = c.options;
  if (
    !o.keepUnmapped ||
    !o.hasTemplate ||
    (o.templateKeys !== undefined && !o.templateKeys.has(t.checkpointKey))
  )
    return false;
  return assign(c, {
    target: t,
    source: { kind: "template" },
    rule: { kind: "template", description: "kept from the template (--keep-unmapped)" },
    transforms: [],
  });
};

/** An unmapped `save_counter`, as after `Checkpoint.save()` numbered the checkpoint. */
const saveCounterDefault: Stage = (c, t) => {
  // TF's save_counter is an int64 scalar; anything else of that name is not one to number.
  if (t.objectPath !== "save_counter" || t.dtype.name !== "int64" || t.shape.length !== 0) return false;
  const n = c.options.saveCounter ?? 1;
  return assign(c, {
    target: t,
    source: { kind: "default", value: n },
    rule: { kind: "default", description: `save_counter = ${n}, as Checkpoint.save() numbers ckpt-${n}` },
    transforms: [],
  });
};

/** The precedence, highest first: the first stage that decides a target ends its search. */
const STAGES: readonly Stage[] = [
  multiTensorSaveable,
  exactRule,
  scopeRule,
  patternRule,
  slotPreset,
  keras3Slot,
  keras3LearningRate,
  globalStep,
  keptFromTemplate,
  saveCounterDefault,
];

/** EMA: takes `<var>/ExponentialMovingAverage` in place of `<var>`; returns the variables replaced. */
function applyEma(c: Context): Set<string> {
  const emaReplaced = new Set<string>();
  if (!c.map.ema) return emaReplaced;
  for (const [t, a] of c.assigned) {
    if (a.source.kind !== "variables" || a.rule.kind === "optimizer" || a.rule.kind === "global-step")
      continue;
    const names = a.source.names.map((n) =>
      c.src.has(`${n}/ExponentialMovingAverage`) ? `${n}/ExponentialMovingAverage` : n,
    );
    if (names.some((n, i) => n !== (a.source as { names: readonly string[] }).names[i])) {
      for (const n of a.source.names) if (c.src.has(`${n}/ExponentialMovingAverage`)) emaReplaced.add(n);
      c.assigned.set(t, { ...a, source: { ...a.source, names }, emaOf: a.source.names });
    }
  }
  return emaReplaced;
}

/** The type an assignment produces: its sources concatenated, then transformed. @throws TransformError */
function plannedType(c: Context, t: TargetAttribute, a: Assignment): TensorType {
  let type: TensorType;
  if (a.source.kind === "variables") {
    const inputs = a.source.names.map((n) => {
      const v = c.src.get(n) as VariableInfo;
      return { dtype: v.dtype, shape: v.shape };
    });
    type =
      a.source.concatAxis !== undefined ? planConcat(inputs, a.source.concatAxis) : (inputs[0] as TensorType);
    if ((a.transforms.length > 0 || a.source.concatAxis !== undefined) && type.dtype.itemSize === undefined) {
      throw new TransformError(`${type.dtype.name} tensors cannot be transformed`);
    }
  } else {
    type = { dtype: t.dtype, shape: t.shape };
  }
  for (const tr of a.transforms) type = planTransform(tr, type);
  return type;
}

/** Type plans: concat, transforms, then the target's dtype and shape; a mismatch unassigns the target. */
function planTypes(c: Context): void {
  for (const [t, a] of [...c.assigned]) {
    const fail = (kind: ResolutionProblem["kind"], message: string) => {
      c.problems.push({
        kind,
        target: t.checkpointKey,
        ...(a.rule.index !== undefined ? { rule: a.rule.index } : {}),
        message,
      });
      c.assigned.delete(t);
    };
    let type: TensorType;
    try {
      type = plannedType(c, t, a);
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
        `Shape of variable ${t.prettyName} (${formatType(t)}) doesn't match with shape of tensor ${from} (${formatType(type)}) from checkpoint reader${a.transforms.length > 0 ? " after its transforms" : ""} (${a.rule.description})`,
      );
    } else if (type.dtype !== t.dtype) {
      fail(
        "dtype-mismatch",
        `tensor_name = ${t.checkpointKey}; expected dtype ${tfDtypeString(t.dtype)} does not equal original dtype ${tfDtypeString(type.dtype)} (variable ${t.prettyName} from ${from}; add {"op": "cast", "to": "${t.dtype.name}"}) (${a.rule.description})`,
      );
    }
  }
}

/** Which sources were used, ignored (and why) or left unmatched; the resolution as returned. */
function accountSources(
  c: Context,
  sources: readonly VariableInfo[],
  emaReplaced: ReadonlySet<string>,
): Resolution {
  const used = new Set<string>();
  for (const a of c.assigned.values())
    if (a.source.kind === "variables") for (const n of a.source.names) used.add(n);
  const ignored: Array<{ name: string; reason: string }> = [];
  const unmatched: string[] = [];
  for (const s of sources) {
    if (used.has(s.name)) continue;
    if (s.name === OBJECT_GRAPH_PROTO_KEY)
      ignored.push({ name: s.name, reason: "the source's object graph (not a variable)" });
    else if (emaReplaced.has(s.name))
      ignored.push({ name: s.name, reason: "replaced by its ExponentialMovingAverage (ema)" });
    else {
      const g = c.map.ignore.find((i) => i.re.test(s.name));
      if (g !== undefined) ignored.push({ name: s.name, reason: `ignore ${JSON.stringify(g.glob)}` });
      else unmatched.push(s.name);
    }
  }
  const attributes = c.target.attributes;
  return {
    assignments: assignedInOrder(attributes, c.assigned),
    unassigned: attributes.filter((t) => !c.assigned.has(t)),
    problems: c.problems,
    usedSources: [...used],
    ignoredSources: ignored,
    unmatchedSources: unmatched,
    rulesNeverFired: c.map.rules.map((r) => r.index).filter((i) => !c.fired.has(i)),
    notes: c.notes,
  };
}

/** The assignments of `attributes`, in their order (a loop: no array per attribute). */
function assignedInOrder(
  attributes: readonly TargetAttribute[],
  assigned: ReadonlyMap<TargetAttribute, Assignment>,
): Assignment[] {
  const out: Assignment[] = [];
  for (const t of attributes) {
    const a = assigned.get(t);
    if (a !== undefined) out.push(a);
  }
  return out;
}

/**
 * Resolves `map` for every attribute of `target` from the variables `sources`: each target goes
 * through {@link STAGES} in precedence order (exact → scope → pattern → optimizer presets →
 * global step → template → default); variables first, then optimizer state, which follows its
 * variable's assignment. Then EMA substitution, type plans, and the accounting of sources.
 * Never throws for mapping problems: they are returned in `problems`.
 */
export function resolveAssignments(
  map: AssignmentMap,
  sources: readonly VariableInfo[],
  target: TargetGraph,
  options: ResolveOptions = {},
): Resolution {
  const src = new Map(sources.filter((s) => s.name !== OBJECT_GRAPH_PROTO_KEY).map((s) => [s.name, s]));
  const base = { map, src, problems: [] as ResolutionProblem[], notes: [] as string[] };
  const { exact, patterned } = ruleCandidates(base, target);
  const scoped = scopeCandidates(base, target);
  const keras3 = keras3Candidates(base, target);
  const c: Context = {
    ...base,
    target,
    options,
    fired: new Set(),
    assigned: new Map(),
    exact,
    patterned,
    scoped,
    keras3,
    defaultOptimizerPath: optimizerPathOf(target) ?? "optimizer",
    firstAttributeOf: firstAttributeOf(target),
  };
  // Pass 1: every variable; pass 2: optimizer state (slots, Keras 3 optimizer variables).
  for (const pass of [1, 2])
    for (const t of target.attributes) {
      if ((pass === 1) === (t.slot !== undefined || keras3.has(t))) continue;
      STAGES.some((stage) => stage(c, t));
    }
  const emaReplaced = applyEma(c);
  planTypes(c);
  return accountSources(c, sources, emaReplaced);
}
