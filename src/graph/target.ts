/**
 * Target object graphs: the structure of the TF2 checkpoint to write, with a dtype and shape for
 * every attribute. Built from a TF2 template checkpoint, from the full JSON form (a lossless dump)
 * or from the authoring JSON form (nested objects by local name), following TF's rules for node
 * ids, child order, slot variables, checkpoint keys and `has_checkpoint_values`
 * (`tensorflow/python/checkpoint/trackable_view.py`, `save_util.py`, `util.py`,
 * `tensorflow/python/trackable/trackable_utils.py`).
 *
 * @module
 */

import { type CheckpointReader, OBJECT_GRAPH_KEY } from "../checkpoint/types.js";
import { type DTypeInfo, dtypeFromName } from "../dtypes.js";
import { CorruptCheckpointError, type DocumentProblem, InvalidDocumentError, UsageError } from "../errors.js";
import type { KerasLayout } from "../keras/reader.js";
import type { ObjectGraphProto, TrackableObjectProto } from "../proto/index.js";
import { validateDocument } from "../schema.js";
import { attributeKey, objectPathToString, slotVariablePath, VARIABLE_VALUE } from "./keys.js";
import { breadthFirstPaths, type ObjectGraph, prettyNames, validateObjectGraph } from "./object-graph.js";

/** One attribute (normally a variable's `VARIABLE_VALUE`) of the target graph. */
export interface TargetAttribute {
  readonly nodeId: number;
  /** Attribute name, `VARIABLE_VALUE` for variables. */
  readonly name: string;
  /** TF1-style variable name (what name-based restores match). */
  readonly fullName: string;
  /** Bundle key the value is written under. */
  readonly checkpointKey: string;
  readonly dtype: DTypeInfo;
  /** Shape in elements per dimension. */
  readonly shape: readonly number[];
  /** TF's pretty name of the node: `(root).model.dense.kernel`, or a slot's description. */
  readonly prettyName: string;
  /** Object path (escaped local names joined by `/`); for slot variables, their slot path. */
  readonly objectPath: string;
  /** Set for optimizer slot variables. */
  readonly slot?: {
    readonly optimizerNodeId: number;
    readonly originalNodeId: number;
    readonly slotName: string;
  };
}

/** A target: the object graph proto to write and its attributes in node-id order. */
export interface TargetGraph {
  readonly graph: ObjectGraph;
  readonly attributes: readonly TargetAttribute[];
  /**
   * The graph exactly as a template checkpoint stored it. Written verbatim in place of a fresh
   * encoding: TF 2.14 SavedModels serialize `ObjectReference` fields out of field-number order,
   * which a re-encoding would change (same message, other bytes).
   */
  readonly encoded?: Uint8Array;
  /**
   * Set when the target is a Keras 3 weights file (`.weights.h5`, `.keras`): its layout, which a
   * Keras output reproduces. Such a target has no real object graph (see `graph/keras.ts`).
   */
  readonly keras?: KerasLayout;
}

/**
 * Object path of the optimizer that owns the target's slot variables (the first one, in node
 * order), or undefined when the target has no slot variables or that optimizer is unreachable.
 */
export function optimizerPathOf(t: TargetGraph): string | undefined {
  const owner = t.attributes.find((a) => a.slot !== undefined)?.slot?.optimizerNodeId;
  const path = owner === undefined ? undefined : breadthFirstPaths(t.graph)[owner];
  return path === undefined ? undefined : objectPathToString(path);
}

/** Index of a target's attributes by checkpoint key. */
export function attributesByKey(t: TargetGraph): Map<string, TargetAttribute> {
  return new Map(t.attributes.map((a) => [a.checkpointKey, a]));
}

function slotOwners(
  g: ObjectGraphProto,
): Map<number, { optimizerNodeId: number; originalNodeId: number; slotName: string }> {
  const m = new Map<number, { optimizerNodeId: number; originalNodeId: number; slotName: string }>();
  g.nodes.forEach((n, i) => {
    for (const s of n.slotVariables) {
      m.set(s.slotVariableNodeId, {
        optimizerNodeId: i,
        originalNodeId: s.originalVariableNodeId,
        slotName: s.slotName,
      });
    }
  });
  return m;
}

/** Object path of every node (slot nodes: their slot path), as TF derives checkpoint keys. */
function objectPaths(g: ObjectGraphProto): (string | undefined)[] {
  const paths = breadthFirstPaths(g).map((p) => (p === undefined ? undefined : objectPathToString(p)));
  for (const [slotId, s] of slotOwners(g)) {
    const v = paths[s.originalNodeId];
    const o = paths[s.optimizerNodeId];
    if (paths[slotId] === undefined && v !== undefined && o !== undefined)
      paths[slotId] = slotVariablePath(v, o, s.slotName);
  }
  return paths;
}

/** Builds the attribute list of `g`, taking each attribute's dtype and shape from `typeOf`. */
function collectAttributes(
  g: ObjectGraph,
  typeOf: (
    nodeId: number,
    attr: TrackableObjectProto["attributes"][number],
  ) => { dtype: DTypeInfo; shape: readonly number[] },
): TargetAttribute[] {
  const names = prettyNames(g);
  const paths = objectPaths(g);
  const slots = slotOwners(g);
  const out: TargetAttribute[] = [];
  g.nodes.forEach((node, nodeId) => {
    for (const a of node.attributes) {
      const { dtype, shape } = typeOf(nodeId, a);
      const slot = slots.get(nodeId);
      out.push({
        nodeId,
        name: a.name,
        fullName: a.fullName,
        checkpointKey: a.checkpointKey,
        dtype,
        shape,
        prettyName: names[nodeId] as string,
        objectPath: paths[nodeId] ?? `(node ${nodeId})`,
        ...(slot !== undefined ? { slot } : {}),
      });
    }
  });
  return out;
}

/**
 * The target described by an object-based checkpoint (its graph; dtypes and shapes from its
 * bundle entries).
 * @throws UsageError for a name-based checkpoint; CorruptCheckpointError when an attribute's key
 *         is not in the bundle
 */
export async function targetFromCheckpoint(reader: CheckpointReader): Promise<TargetGraph> {
  const g = await reader.objectGraph();
  if (g === undefined) {
    throw new UsageError(
      `${reader.path} is a name-based checkpoint: a target needs an object-based (TF2) checkpoint or a JSON graph`,
    );
  }
  const stored = await reader.readTensor(OBJECT_GRAPH_KEY);
  return {
    graph: g,
    ...(stored.kind === "string" && stored.strings[0] !== undefined ? { encoded: stored.strings[0] } : {}),
    attributes: collectAttributes(g, (_, a) => {
      const v = reader.get(a.checkpointKey);
      if (v === undefined) {
        throw new CorruptCheckpointError(`object graph attribute refers to a key the bundle does not hold`, {
          file: reader.path,
          key: a.checkpointKey,
        });
      }
      return { dtype: v.dtype, shape: v.shape };
    }),
  };
}

// ---------------------------------------------------------------------------------------------
// Full JSON form

/** The full JSON form (`mappings/object-graph.schema.json`). */
export interface FullGraphJson {
  readonly $schema?: string;
  readonly format: "tfckpt-object-graph";
  readonly version: 1;
  readonly nodes: ReadonlyArray<{
    readonly children?: ReadonlyArray<{ node: number; name: string }>;
    readonly attributes?: ReadonlyArray<{
      name: string;
      fullName?: string;
      checkpointKey: string;
      optionalRestore?: boolean;
      dtype: string;
      shape: number[];
    }>;
    readonly slotVariables?: ReadonlyArray<{ originalVariable: number; slot: string; slotVariable: number }>;
    readonly hasCheckpointValues?: boolean;
    readonly registeredSaver?: { name: string; objectName: string };
  }>;
}

/** The full JSON form of a target (what `tfckpt graph --json` prints). */
export function targetToFullJson(t: TargetGraph): FullGraphJson {
  const types = new Map(t.attributes.map((a) => [`${a.nodeId}\u0000${a.name}\u0000${a.checkpointKey}`, a]));
  return {
    format: "tfckpt-object-graph",
    version: 1,
    nodes: t.graph.nodes.map((n, id) => ({
      ...(n.children.length > 0
        ? { children: n.children.map((c) => ({ node: c.nodeId, name: c.localName })) }
        : {}),
      ...(n.attributes.length > 0
        ? {
            attributes: n.attributes.map((a) => {
              const ty = types.get(`${id}\u0000${a.name}\u0000${a.checkpointKey}`) as TargetAttribute;
              return {
                name: a.name,
                ...(a.fullName !== "" ? { fullName: a.fullName } : {}),
                checkpointKey: a.checkpointKey,
                ...(a.optionalRestore ? { optionalRestore: true } : {}),
                dtype: ty.dtype.name,
                shape: [...ty.shape],
              };
            }),
          }
        : {}),
      ...(n.slotVariables.length > 0
        ? {
            slotVariables: n.slotVariables.map((s) => ({
              originalVariable: s.originalVariableNodeId,
              slot: s.slotName,
              slotVariable: s.slotVariableNodeId,
            })),
          }
        : {}),
      ...(n.hasCheckpointValues !== undefined ? { hasCheckpointValues: n.hasCheckpointValues } : {}),
      ...(n.registeredSaver !== undefined ? { registeredSaver: { ...n.registeredSaver } } : {}),
    })),
  };
}

function fromFullJson(doc: FullGraphJson, file?: string): TargetGraph {
  const graph: ObjectGraphProto = {
    nodes: doc.nodes.map((n) => ({
      children: (n.children ?? []).map((c) => ({ nodeId: c.node, localName: c.name })),
      attributes: (n.attributes ?? []).map((a) => ({
        name: a.name,
        fullName: a.fullName ?? "",
        checkpointKey: a.checkpointKey,
        optionalRestore: a.optionalRestore === true,
      })),
      slotVariables: (n.slotVariables ?? []).map((s) => ({
        originalVariableNodeId: s.originalVariable,
        slotName: s.slot,
        slotVariableNodeId: s.slotVariable,
      })),
      registeredSaver: n.registeredSaver,
      hasCheckpointValues: n.hasCheckpointValues,
    })),
  };
  try {
    validateObjectGraph(graph);
  } catch (e) {
    throw new InvalidDocumentError("object graph", file, [
      { path: "$.nodes", message: e instanceof Error ? e.message : String(e) },
    ]);
  }
  return {
    graph,
    attributes: collectAttributes(graph, (nodeId, a) => {
      const j = doc.nodes[nodeId]?.attributes?.find(
        (x) => x.name === a.name && x.checkpointKey === a.checkpointKey,
      );
      return { dtype: dtypeFromName(j?.dtype ?? "float32"), shape: j?.shape ?? [] };
    }),
  };
}

// ---------------------------------------------------------------------------------------------
// Authoring JSON form

interface VariableSpec {
  dtype: string;
  shape: number[];
  fullName?: string;
  slots?: Record<string, Record<string, { dtype?: string; shape?: number[]; fullName?: string }>>;
}

interface TreeNode {
  readonly jsonPath: string;
  readonly children: Array<[string, TreeNode]>;
  readonly variable?: VariableSpec;
  readonly names: readonly string[];
  /** `"$name"` of an object: the TF name of an optimizer, used in default slot full names. */
  readonly optimizerName?: string;
}

function isVariable(v: unknown): v is VariableSpec {
  return typeof v === "object" && v !== null && "dtype" in v && "shape" in v;
}

function toTree(obj: Record<string, unknown>, names: readonly string[], jsonPath: string): TreeNode {
  const children: Array<[string, TreeNode]> = [];
  for (const [k, v] of Object.entries(obj)) {
    if (k.startsWith("$")) continue;
    const p = `${jsonPath}[${JSON.stringify(k)}]`;
    if (isVariable(v)) children.push([k, { jsonPath: p, children: [], variable: v, names: [...names, k] }]);
    else children.push([k, toTree(v as Record<string, unknown>, [...names, k], p)]);
  }
  const name = obj.$name;
  return { jsonPath, children, names, ...(typeof name === "string" ? { optimizerName: name } : {}) };
}

/** Options of {@link targetFromJson} for the authoring form. */
export interface AuthoringOptions {
  /** Add `save_counter` (int64 scalar) as the root's last child, as `Checkpoint.save` does. */
  readonly saveCounter?: boolean;
  /**
   * Write `has_checkpoint_values` on every node, as TF ≥ 2.4 or so does (default true); false
   * leaves the field out, as older TF 2 releases did (e.g. the TF 2.0/2.1 Keras checkpoints in
   * the fixtures).
   */
  readonly hasCheckpointValues?: boolean;
}

function fromAuthoring(doc: Record<string, unknown>, options: AuthoringOptions, file?: string): TargetGraph {
  const root = toTree(doc, [], "$");
  if (options.saveCounter && !root.children.some(([k]) => k === "save_counter")) {
    root.children.push([
      "save_counter",
      {
        jsonPath: "$.save_counter",
        children: [],
        variable: { dtype: "int64", shape: [], fullName: "save_counter" },
        names: ["save_counter"],
      },
    ]);
  }
  // Breadth-first ids, children in key order (TrackableView._descendants_with_paths).
  const order: TreeNode[] = [root];
  for (let i = 0; i < order.length; i++) for (const [, c] of (order[i] as TreeNode).children) order.push(c);
  const id = new Map(order.map((n, i) => [n, i]));
  const byPath = new Map(order.map((n) => [objectPathToString(n.names), n]));
  const nodes: Array<{
    children: TrackableObjectProto["children"];
    attributes: TrackableObjectProto["attributes"];
    slotVariables: TrackableObjectProto["slotVariables"];
  }> = order.map((n) => ({
    children: n.children.map(([k, c]) => ({ nodeId: id.get(c) as number, localName: k })),
    attributes: n.variable
      ? [
          {
            name: VARIABLE_VALUE,
            fullName: n.variable.fullName ?? n.names.join("/"),
            checkpointKey: attributeKey(objectPathToString(n.names)),
            optionalRestore: false,
          },
        ]
      : [],
    slotVariables: [],
  }));
  const types: Array<{ dtype: DTypeInfo; shape: readonly number[] } | undefined> = order.map((n) =>
    n.variable ? { dtype: dtypeFromName(n.variable.dtype), shape: n.variable.shape } : undefined,
  );
  // Slot variables: appended after all BFS nodes, for each optimizer in id order, each slot name
  // in order of first appearance, each variable in id order (util.serialize_slot_variables).
  const problems: DocumentProblem[] = [];
  const requests = new Map<
    number,
    Map<string, Array<{ variable: TreeNode; spec: { dtype?: string; shape?: number[]; fullName?: string } }>>
  >();
  for (const n of order) {
    for (const [optPath, slots] of Object.entries(n.variable?.slots ?? {})) {
      const opt = byPath.get(optPath);
      if (opt === undefined) {
        problems.push({
          path: `${n.jsonPath}.slots[${JSON.stringify(optPath)}]`,
          message: `no object at path ${JSON.stringify(optPath)} to be the optimizer`,
        });
        continue;
      }
      const optId = id.get(opt) as number;
      const bySlot = requests.get(optId) ?? new Map();
      requests.set(optId, bySlot);
      for (const [slotName, spec] of Object.entries(slots)) {
        const list = bySlot.get(slotName) ?? [];
        bySlot.set(slotName, list);
        list.push({ variable: n, spec });
      }
    }
  }
  if (problems.length > 0) throw new InvalidDocumentError("object graph", file, problems);
  for (const optId of [...requests.keys()].sort((a, b) => a - b)) {
    const opt = order[optId] as TreeNode;
    for (const [slotName, list] of requests.get(optId) as Map<
      string,
      Array<{ variable: TreeNode; spec: { dtype?: string; shape?: number[]; fullName?: string } }>
    >) {
      for (const { variable, spec } of list) {
        const v = variable.variable as VariableSpec;
        const slotId = nodes.length;
        const varPath = objectPathToString(variable.names);
        // Keras names slots `<optimizer name>/<variable name>/<slot>`; the optimizer object may give
        // its name as "$name" (e.g. "Adam"), else its local name is used.
        const optName = opt.optimizerName ?? opt.names.at(-1) ?? "optimizer";
        nodes.push({
          children: [],
          attributes: [
            {
              name: VARIABLE_VALUE,
              fullName: spec.fullName ?? `${optName}/${v.fullName ?? variable.names.join("/")}/${slotName}`,
              checkpointKey: attributeKey(slotVariablePath(varPath, objectPathToString(opt.names), slotName)),
              optionalRestore: false,
            },
          ],
          slotVariables: [],
        });
        types.push({ dtype: dtypeFromName(spec.dtype ?? v.dtype), shape: spec.shape ?? v.shape });
        (nodes[optId] as (typeof nodes)[number]).slotVariables.push({
          originalVariableNodeId: id.get(variable) as number,
          slotName,
          slotVariableNodeId: slotId,
        });
      }
    }
  }
  const plain = nodes.map((n) => ({ ...n, registeredSaver: undefined, hasCheckpointValues: undefined }));
  const graph: ObjectGraphProto = {
    nodes: options.hasCheckpointValues === false ? plain : withCheckpointValues(plain),
  };
  return {
    graph,
    attributes: collectAttributes(
      graph,
      (nodeId) => types[nodeId] as { dtype: DTypeInfo; shape: readonly number[] },
    ),
  };
}

/**
 * Sets `has_checkpoint_values` on every node as `util.add_checkpoint_values_check` does: true for
 * nodes with attributes, slot variables or a registered saver and for their ancestors.
 */
export function withCheckpointValues(nodes: readonly TrackableObjectProto[]): TrackableObjectProto[] {
  const parents: number[][] = nodes.map(() => []);
  nodes.forEach((n, i) => {
    for (const c of n.children) parents[c.nodeId]?.push(i);
  });
  const has = nodes.map(
    (n) => n.attributes.length > 0 || n.slotVariables.length > 0 || n.registeredSaver !== undefined,
  );
  const stack = has.flatMap((h, i) => (h ? [i] : []));
  while (stack.length > 0) {
    for (const p of parents[stack.pop() as number] ?? []) {
      if (!has[p]) {
        has[p] = true;
        stack.push(p);
      }
    }
  }
  return nodes.map((n, i) => ({ ...n, hasCheckpointValues: has[i] as boolean }));
}

/**
 * A target from a JSON document: the full form (has `"format": "tfckpt-object-graph"`) or the
 * authoring form. Validated against its schema in `mappings/`.
 * @throws InvalidDocumentError with every problem and its JSON path
 */
export function targetFromJson(doc: unknown, options: AuthoringOptions = {}, file?: string): TargetGraph {
  if (
    typeof doc === "object" &&
    doc !== null &&
    (doc as { format?: unknown }).format === "tfckpt-object-graph"
  ) {
    validateDocument("object-graph.schema.json", doc, "object graph", file);
    return fromFullJson(doc as FullGraphJson, file);
  }
  validateDocument("object-graph-authoring.schema.json", doc, "object graph", file);
  return fromAuthoring(doc as Record<string, unknown>, options, file);
}
