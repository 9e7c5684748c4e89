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

import { type DTypeInfo, dtypeFromName } from "../dtypes.js";
import {
  CorruptCheckpointError,
  type DocumentProblem,
  InvalidDocumentError,
  LimitExceededError,
  TfckptError,
  UsageError,
} from "../errors.js";
import { attributeKey, objectPathToString, slotVariablePath, VARIABLE_VALUE } from "../graph/keys.js";
import {
  encodedObjectGraph,
  keyPathOf,
  type ObjectGraph,
  ObjectPathIndex,
  PathTree,
  pathBudget,
  prettyNamer,
  slotOwners,
  validateObjectGraph,
} from "../graph/object-graph.js";
import type { ObjectGraphProto, TrackableObjectProto } from "../proto/index.js";
import { type CheckpointReader, type KerasLayout, OBJECT_GRAPH_PROTO_KEY } from "../reader.js";
import { validateDocument } from "../schema.js";
import { fixedByteSize } from "../tensor.js";
import { storedAttributes } from "./stored.js";

/** One bundle tensor of a multi-tensor attribute: stored under `checkpointKey + suffix`. */
export interface TargetTensor {
  /** What follows the attribute's checkpoint key (`-keys`, `-values`, `_STATE`). */
  readonly suffix: string;
  readonly dtype: DTypeInfo;
  /** Shape in elements per dimension. */
  readonly shape: readonly number[];
}

/** One attribute (normally a variable's `VARIABLE_VALUE`) of the target graph. */
export interface TargetAttribute {
  readonly nodeId: number;
  /** Attribute name, `VARIABLE_VALUE` for variables. */
  readonly name: string;
  /** TF1-style variable name (what name-based restores match). */
  readonly fullName: string;
  /** Bundle key the value is written under (for a multi-tensor attribute, the prefix of its keys). */
  readonly checkpointKey: string;
  /** The value's dtype (for a multi-tensor attribute, that of its first tensor). */
  readonly dtype: DTypeInfo;
  /** Shape in elements per dimension (for a multi-tensor attribute, that of its first tensor). */
  readonly shape: readonly number[];
  /**
   * Set for a multi-tensor saveable (a `MutableHashTable`'s `table` → `-keys`, `-values`; a
   * `tf.data` iterator's `ITERATOR` → `_STATE`): the tensors stored, in key order, under
   * `checkpointKey + suffix`; `checkpointKey` itself is not a bundle key
   * (`tensorflow/python/checkpoint/save_util_v1.py`). Such values are opaque to mappings: a
   * migration copies them from a template checkpoint.
   */
  readonly tensors?: readonly TargetTensor[];
  /** TF's pretty name of the node: `(root).model.dense.kernel`, or a slot's description. */
  readonly prettyName: string;
  /** Object path (escaped local names joined by `/`); for slot variables, their slot path. */
  readonly objectPath: string;
  /**
   * Other object paths that reach the same object (at most 7), when it is reached by several
   * edges: a Keras 3 kernel keyed `optimizer/_trainable_variables/0` is also
   * `model/_functional/_operations/1/_kernel`. Mappings may name it by any of them.
   */
  readonly aliases?: readonly string[];
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
   * Keras output reproduces. Such a target has no real object graph (see `target/keras.ts`).
   */
  readonly keras?: KerasLayout;
}

/**
 * Object path of the optimizer that owns the target's slot variables (the first one, in node
 * order), or undefined when the target has no slot variables or that optimizer is unreachable.
 */
export function optimizerPathOf(t: TargetGraph): string | undefined {
  const owner = t.attributes.find((a) => a.slot !== undefined)?.slot?.optimizerNodeId;
  return owner === undefined ? undefined : new PathTree(t.graph).objectPath(owner);
}

/** Whether some node of `g` is the end of two child edges (or the root of one): it then has several paths. */
function reachedTwice(g: ObjectGraph): boolean {
  const seen = new Uint8Array(g.nodes.length);
  seen[0] = 1;
  for (const n of g.nodes)
    for (const c of n.children) {
      if (seen[c.nodeId] === 1) return true;
      seen[c.nodeId] = 1;
    }
  return false;
}

/**
 * Builds the attribute list of `g` (or only of node `only`), taking each attribute's dtype and
 * shape from `typeOf`. Object paths (slot nodes: their slot path, as TF derives checkpoint keys),
 * pretty names and aliases are spelled out only for nodes holding attributes.
 * @throws LimitExceededError when those strings would total more than {@link pathBudget} allows
 *         (a deep graph whose attributes' keys are not their paths)
 */
function collectAttributes(
  g: ObjectGraph,
  typeOf: (
    nodeId: number,
    attr: TrackableObjectProto["attributes"][number],
  ) => { dtype: DTypeInfo; shape: readonly number[]; tensors?: readonly TargetTensor[] },
  only?: number,
): TargetAttribute[] {
  const tree = new PathTree(g);
  const name = prettyNamer(g, tree);
  // Every path to each node, for aliases: only a node reached by two edges has more than one.
  const every = reachedTwice(g) ? new ObjectPathIndex(g) : undefined;
  const count = (id: number) => every?.count(id) ?? 1;
  const slots = slotOwners(g);
  const pathOf = (id: number): string | undefined => keyPathOf(tree, slots, id);
  let cost = 0;
  g.nodes.forEach((node, id) => {
    if (node.attributes.length > 0 && (only === undefined || id === only))
      cost +=
        2 * Math.max(0, tree.pathLength[id] as number) + (count(id) > 1 ? (every?.totalLength(id) ?? 0) : 0);
  });
  for (const [id, s] of slots)
    if (g.nodes[id]?.attributes.length && (only === undefined || id === only))
      cost +=
        2 * Math.max(0, (tree.pathLength[s.originalNodeId] ?? 0) + (tree.pathLength[s.optimizerNodeId] ?? 0));
  const budget = pathBudget(g);
  if (cost > budget)
    throw new LimitExceededError(
      `object graph: the object paths of its attributes total ${cost} characters, more than ${budget} (MAX_PATH_EXPANSION × the graph's size)`,
    );
  const out: TargetAttribute[] = [];
  g.nodes.forEach((node, nodeId) => {
    if (node.attributes.length === 0 || (only !== undefined && nodeId !== only)) return;
    const objectPath = pathOf(nodeId);
    const prettyName = name(nodeId);
    const aliases =
      every !== undefined && count(nodeId) > 1
        ? every.paths(nodeId).filter((p) => p !== objectPath)
        : undefined;
    for (const a of node.attributes) {
      const { dtype, shape, tensors } = typeOf(nodeId, a);
      const slot = slots.get(nodeId);
      const attr: { -readonly [K in keyof TargetAttribute]: TargetAttribute[K] } = {
        nodeId,
        name: a.name,
        fullName: a.fullName,
        checkpointKey: a.checkpointKey,
        dtype,
        shape,
        prettyName,
        objectPath: objectPath ?? `(node ${nodeId})`,
      };
      // Optional keys set one by one, in this order (no spread per attribute).
      if (aliases !== undefined) attr.aliases = aliases;
      if (slot !== undefined) attr.slot = slot;
      if (tensors !== undefined) attr.tensors = tensors;
      out.push(attr);
    }
  });
  return out;
}

/** The stored `_CHECKPOINTABLE_OBJECT_GRAPH` bytes of `reader`, read from its entry (undefined if not a string). */
async function storedGraphBytes(reader: CheckpointReader): Promise<Uint8Array | undefined> {
  const stored = await reader.readTensor(OBJECT_GRAPH_PROTO_KEY);
  return stored.kind === "string" ? stored.strings[0] : undefined;
}

/**
 * The target described by an object-based checkpoint (its graph; dtypes and shapes from its
 * bundle entries; multi-tensor attributes with their parts, see `stored.ts`).
 * @throws UsageError for a name-based checkpoint; CorruptCheckpointError when an attribute's key
 *         is not in the bundle and prefixes no bundle key
 */
export async function targetFromCheckpoint(reader: CheckpointReader): Promise<TargetGraph> {
  const g = await reader.objectGraph();
  if (g === undefined) {
    throw new UsageError(
      `${reader.path} is a name-based checkpoint: a target needs an object-based (TF2) checkpoint or a JSON graph`,
    );
  }
  // The bytes the reader decoded the graph from (read once); a reader that decodes some other way
  // has its entry read again.
  const encoded = encodedObjectGraph(g) ?? (await storedGraphBytes(reader));
  const { multi } = storedAttributes(g, reader.list());
  return {
    graph: g,
    ...(encoded !== undefined ? { encoded } : {}),
    attributes: collectAttributes(g, (_, a) => {
      const v = reader.get(a.checkpointKey);
      const parts = multi.get(a.checkpointKey);
      if (v === undefined && parts !== undefined) {
        const tensors = parts.map((p) => ({ suffix: p.suffix, dtype: p.info.dtype, shape: p.info.shape }));
        const first = tensors[0] as TargetTensor;
        return { dtype: first.dtype, shape: first.shape, tensors };
      }
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
      tensors?: Array<{ suffix: string; dtype: string; shape: number[] }>;
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
                ...(ty.tensors !== undefined
                  ? {
                      tensors: ty.tensors.map((x) => ({
                        suffix: x.suffix,
                        dtype: x.dtype.name,
                        shape: [...x.shape],
                      })),
                    }
                  : {}),
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
      return {
        dtype: dtypeFromName(j?.dtype ?? "float32"),
        shape: j?.shape ?? [],
        ...(j?.tensors !== undefined
          ? {
              tensors: j.tensors.map((x) => ({
                suffix: x.suffix,
                dtype: dtypeFromName(x.dtype),
                shape: x.shape,
              })),
            }
          : {}),
      };
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

/**
 * An object defined in the authoring document. Its JSON path and local names are spelled out
 * from the parent links only when asked for (errors, full names): not one string and one array
 * per object of a 10⁵-variable document.
 */
class TreeNode {
  /** Children in key order: objects defined here, or `$ref` edges to an object defined elsewhere. */
  readonly children: Array<[string, TreeNode | RefEdge]> = [];
  readonly parent: TreeNode | undefined;
  /** Local name under `parent`. */
  readonly key: string;
  readonly variable: VariableSpec | undefined;
  /** `"$name"` of an object: the TF name of an optimizer, used in default slot full names. */
  readonly optimizerName: string | undefined;
  readonly #jsonPath: string | undefined;

  constructor(
    parent: TreeNode | undefined,
    key: string,
    extra: { variable?: VariableSpec; optimizerName?: string; jsonPath?: string } = {},
  ) {
    this.parent = parent;
    this.key = key;
    this.variable = extra.variable;
    this.optimizerName = extra.optimizerName;
    this.#jsonPath = extra.jsonPath;
  }

  get jsonPath(): string {
    return (
      this.#jsonPath ??
      (this.parent === undefined ? "$" : `${this.parent.jsonPath}[${JSON.stringify(this.key)}]`)
    );
  }

  /** Local names of the path where the object is defined in the document. */
  get names(): string[] {
    const out: string[] = [];
    for (let n: TreeNode = this; n.parent !== undefined; n = n.parent) out.push(n.key);
    return out.reverse();
  }
}

/** `{"$ref": "a/b"}`: one more edge to the object defined at object path `a/b`. */
interface RefEdge {
  readonly jsonPath: string;
  readonly ref: string;
}

const isRef = (c: TreeNode | RefEdge): c is RefEdge => "ref" in c;

function isVariable(v: unknown): v is VariableSpec {
  return typeof v === "object" && v !== null && "dtype" in v && "shape" in v;
}

function toTree(obj: Record<string, unknown>, parent?: TreeNode, key = ""): TreeNode {
  const name = obj.$name;
  const node = new TreeNode(parent, key, typeof name === "string" ? { optimizerName: name } : {});
  for (const k in obj) {
    if (!Object.hasOwn(obj, k) || k.startsWith("$")) continue;
    const v = obj[k];
    const ref = (v as { $ref?: unknown }).$ref;
    if (typeof ref === "string")
      node.children.push([k, { jsonPath: `${node.jsonPath}[${JSON.stringify(k)}]`, ref }]);
    else if (isVariable(v)) node.children.push([k, new TreeNode(node, k, { variable: v })]);
    else node.children.push([k, toTree(v as Record<string, unknown>, node, k)]);
  }
  return node;
}

/**
 * The authoring form of a target (`mappings/object-graph-authoring.schema.json`): each object is
 * defined at the path that first reaches it breadth-first (where its checkpoint key comes from)
 * and every other edge to it is a `{"$ref": …}`, so reading the document back gives the same node
 * ids, children, keys and full names. Variables carry `fullName` always; slot variables are listed
 * on their variable under the optimizer's path, each with its `fullName`.
 * @throws UsageError for what the form cannot say: attributes other than one `VARIABLE_VALUE`
 *         under its conventional key (tables, iterators, Python state), a variable with
 *         children, an unreachable object, a slot variable also reached by a child edge, or child
 *         names whose order a JSON object cannot keep
 *         (integer-like names after other names, or out of numeric order)
 */
export function targetToAuthoringJson(t: TargetGraph): Record<string, unknown> {
  const g = t.graph;
  // Parent links, not path copies: a path is spelled out only where the document prints it.
  const tree = new PathTree(g);
  const slots = slotOwners(g);
  const types = new Map(t.attributes.map((a) => [a.nodeId, a]));
  const fail = (why: string) => {
    throw new UsageError(`this graph cannot be written in the authoring form: ${why} (use the full form)`);
  };
  const pathOf = (id: number) => tree.objectPath(id) ?? "";
  // Keys are local names from the checkpoint (`__proto__`, `constructor`): null-prototype objects,
  // so every name is an own key and none reaches Object.prototype.
  const obj = (entries: Record<string, unknown> = {}): Record<string, unknown> =>
    Object.assign(Object.create(null) as Record<string, unknown>, entries);
  const docs = new Map<number, Record<string, unknown>>();
  g.nodes.forEach((n, id) => {
    if (!tree.reached(id)) {
      if (!slots.has(id)) fail(`node ${id} is not reachable from the root`);
      return;
    }
    if (n.attributes.length === 0) {
      docs.set(id, obj());
      return;
    }
    const a = n.attributes[0] as TrackableObjectProto["attributes"][number];
    const ty = types.get(id);
    if (
      id === 0 ||
      n.attributes.length > 1 ||
      a.name !== VARIABLE_VALUE ||
      a.checkpointKey !== attributeKey(pathOf(id)) ||
      ty === undefined ||
      ty.tensors !== undefined
    )
      fail(`${pathOf(id) || "(root)"} holds a value that is not one variable under its conventional key`);
    if (n.children.length > 0) fail(`variable ${pathOf(id)} has children`);
    const ty2 = ty as TargetAttribute;
    docs.set(id, obj({ dtype: ty2.dtype.name, shape: [...ty2.shape], fullName: a.fullName }));
  });
  // Slot variables, on their variable: { "<optimizer path>": { "<slot>": {…} } }.
  g.nodes.forEach((n, optId) => {
    for (const sv of n.slotVariables) {
      const v = docs.get(sv.originalVariableNodeId);
      const slot = types.get(sv.slotVariableNodeId);
      if (v === undefined || !("dtype" in v) || slot === undefined || !tree.reached(optId)) {
        fail(`slot '${sv.slotName}' of node ${optId} is not on a variable`);
        return;
      }
      if (tree.reached(sv.slotVariableNodeId))
        fail(`slot variable ${pathOf(sv.slotVariableNodeId)} is also reached by a child edge`);
      v.slots ??= obj();
      const bySlot = v.slots as Record<string, Record<string, unknown>>;
      bySlot[pathOf(optId)] ??= obj();
      const mine = bySlot[pathOf(optId)] as Record<string, unknown>;
      mine[sv.slotName] = {
        ...(slot.dtype.name !== v.dtype ? { dtype: slot.dtype.name } : {}),
        ...(slot.shape.join() !== (v.shape as number[]).join() ? { shape: [...slot.shape] } : {}),
        fullName: slot.fullName,
      };
    }
  });
  g.nodes.forEach((n, id) => {
    const doc = docs.get(id);
    if (doc === undefined || n.children.length === 0) return;
    for (const c of n.children) {
      // This edge defines the child when it is the child's breadth-first edge.
      const defines = tree.parent[c.nodeId] === id && tree.edge[c.nodeId] === c.localName;
      if (Object.hasOwn(doc, c.localName))
        fail(`${pathOf(id) || "(root)"} has two children named ${JSON.stringify(c.localName)}`);
      doc[c.localName] = defines ? docs.get(c.nodeId) : { $ref: pathOf(c.nodeId) };
    }
    const order = Object.keys(doc);
    if (order.join("\u0000") !== n.children.map((c) => c.localName).join("\u0000"))
      fail(`the children of ${pathOf(id) || "(root)"} are in an order a JSON object cannot keep`);
  });
  return docs.get(0) as Record<string, unknown>;
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
  const root = toTree(doc);
  if (options.saveCounter && !root.children.some(([k]) => k === "save_counter")) {
    const variable = { dtype: "int64", shape: [], fullName: "save_counter" };
    root.children.push([
      "save_counter",
      new TreeNode(root, "save_counter", { variable, jsonPath: "$.save_counter" }),
    ]);
  }
  const { byPath, resolve } = resolveRefs(root, file);
  const { order, bfsPath } = numberBreadthFirst(root, resolve);
  const id = new Map<TreeNode, number>();
  for (let i = 0; i < order.length; i++) id.set(order[i] as TreeNode, i);
  const nodes: GraphNode[] = order.map((n) => ({
    children: n.children.map(([k, c]) => ({
      nodeId: id.get(resolve(c) as TreeNode) as number,
      localName: k,
    })),
    attributes: n.variable
      ? [
          {
            name: VARIABLE_VALUE,
            fullName: n.variable.fullName ?? n.names.join("/"),
            checkpointKey: attributeKey(bfsPath.get(n) as string),
            optionalRestore: false,
          },
        ]
      : [],
    slotVariables: [],
  }));
  const types: Array<VariableType | undefined> = order.map((n) =>
    n.variable ? { dtype: dtypeFromName(n.variable.dtype), shape: n.variable.shape } : undefined,
  );
  const requests = slotRequests(order, byPath, id, file);
  appendSlotVariables(requests, order, bfsPath, id, nodes, types);
  const plain = nodes.map(plainNode);
  const graph: ObjectGraphProto = {
    nodes: options.hasCheckpointValues === false ? plain : withCheckpointValues(plain),
  };
  return {
    graph,
    attributes: collectAttributes(graph, (nodeId) => types[nodeId] as VariableType),
  };
}

/** A node of the object graph being built from the authoring form. */
type GraphNode = {
  children: TrackableObjectProto["children"];
  attributes: TrackableObjectProto["attributes"];
  slotVariables: TrackableObjectProto["slotVariables"];
};

/** A variable's dtype and shape. */
type VariableType = { dtype: DTypeInfo; shape: readonly number[] };

/** A slot the document asks for: its variable and its own dtype, shape or full name if given. */
type SlotRequest = { variable: TreeNode; spec: { dtype?: string; shape?: number[]; fullName?: string } };

/**
 * Every defined object by the path where the document defines it (what `$ref` and `slots` name),
 * and `resolve`, which follows a `$ref` to its object.
 * @throws InvalidDocumentError naming each `$ref` to no defined object
 */
function resolveRefs(
  root: TreeNode,
  file: string | undefined,
): { byPath: () => Map<string, TreeNode>; resolve: (c: TreeNode | RefEdge) => TreeNode | undefined } {
  const defined: TreeNode[] = [root];
  for (let i = 0; i < defined.length; i++)
    for (const [, c] of (defined[i] as TreeNode).children) if (!isRef(c)) defined.push(c);
  // By path only when a `$ref` or `slots` names one: most documents have neither.
  let paths: Map<string, TreeNode> | undefined;
  const byPath = () => {
    paths ??= new Map(defined.map((n) => [objectPathToString(n.names), n]));
    return paths;
  };
  const refProblems: DocumentProblem[] = [];
  const resolve = (c: TreeNode | RefEdge): TreeNode | undefined => {
    if (!isRef(c)) return c;
    const n = byPath().get(c.ref);
    if (n === undefined)
      refProblems.push({
        path: `${c.jsonPath}.$ref`,
        message: `no object is defined at path ${JSON.stringify(c.ref)} (a $ref names where an object is defined, not another $ref)`,
      });
    return n;
  };
  for (const n of defined) for (const [, c] of n.children) resolve(c);
  if (refProblems.length > 0) throw new InvalidDocumentError("object graph", file, refProblems);
  return { byPath, resolve };
}

/**
 * Breadth-first ids over every edge, children in key order, each object numbered where first
 * reached and keyed by that path (TrackableView._descendants_with_paths).
 */
function numberBreadthFirst(
  root: TreeNode,
  resolve: (c: TreeNode | RefEdge) => TreeNode | undefined,
): { order: TreeNode[]; bfsPath: Map<TreeNode, string> } {
  const order: TreeNode[] = [root];
  const bfsPath = new Map<TreeNode, string>([[root, ""]]);
  for (let i = 0; i < order.length; i++) {
    const n = order[i] as TreeNode;
    const base = bfsPath.get(n) as string;
    for (const [k, c] of n.children) {
      const t = resolve(c) as TreeNode;
      if (bfsPath.has(t)) continue;
      bfsPath.set(t, base === "" ? objectPathToString([k]) : `${base}/${objectPathToString([k])}`);
      order.push(t);
    }
  }
  return { order, bfsPath };
}

/**
 * The slots the document's variables ask for, by optimizer id, then slot name in order of first
 * appearance, variables in id order.
 * @throws InvalidDocumentError naming each `slots` key that is no object's path
 */
function slotRequests(
  order: readonly TreeNode[],
  byPath: () => ReadonlyMap<string, TreeNode>,
  id: ReadonlyMap<TreeNode, number>,
  file: string | undefined,
): Map<number, Map<string, SlotRequest[]>> {
  const problems: DocumentProblem[] = [];
  const requests = new Map<number, Map<string, SlotRequest[]>>();
  for (const n of order) {
    if (n.variable?.slots === undefined) continue;
    for (const [optPath, slots] of Object.entries(n.variable.slots)) {
      const opt = byPath().get(optPath);
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
  return requests;
}

/**
 * Slot variables: appended after all BFS nodes, for each optimizer in id order, each slot name
 * in order of first appearance, each variable in id order (util.serialize_slot_variables).
 */
function appendSlotVariables(
  requests: ReadonlyMap<number, ReadonlyMap<string, readonly SlotRequest[]>>,
  order: readonly TreeNode[],
  bfsPath: ReadonlyMap<TreeNode, string>,
  id: ReadonlyMap<TreeNode, number>,
  nodes: GraphNode[],
  types: Array<VariableType | undefined>,
): void {
  for (const optId of [...requests.keys()].sort((a, b) => a - b)) {
    const opt = order[optId] as TreeNode;
    for (const [slotName, list] of requests.get(optId) as ReadonlyMap<string, readonly SlotRequest[]>) {
      for (const { variable, spec } of list) {
        const v = variable.variable as VariableSpec;
        const slotId = nodes.length;
        const varPath = bfsPath.get(variable) as string;
        // Keras names slots `<optimizer name>/<variable name>/<slot>`; the optimizer object may give
        // its name as "$name" (e.g. "Adam"), else its local name is used.
        const optName = opt.optimizerName ?? opt.names.at(-1) ?? "optimizer";
        nodes.push({
          children: [],
          attributes: [
            {
              name: VARIABLE_VALUE,
              fullName: spec.fullName ?? `${optName}/${v.fullName ?? variable.names.join("/")}/${slotName}`,
              checkpointKey: attributeKey(slotVariablePath(varPath, bfsPath.get(opt) as string, slotName)),
              optionalRestore: false,
            },
          ],
          slotVariables: [],
        });
        types.push({ dtype: dtypeFromName(spec.dtype ?? v.dtype), shape: spec.shape ?? v.shape });
        (nodes[optId] as GraphNode).slotVariables.push({
          originalVariableNodeId: id.get(variable) as number,
          slotName,
          slotVariableNodeId: slotId,
        });
      }
    }
  }
}

/**
 * A node of the authoring form as a `TrackableObject` with neither a registered saver nor
 * `has_checkpoint_values`. Fields are named one by one, not spread: 10⁵ spreads were a visible
 * share of a 100 000-variable migrate.
 */
function plainNode(
  n: Pick<TrackableObjectProto, "children" | "attributes" | "slotVariables">,
): TrackableObjectProto {
  return {
    children: n.children,
    attributes: n.attributes,
    slotVariables: n.slotVariables,
    registeredSaver: undefined,
    hasCheckpointValues: undefined,
  };
}

/**
 * The program `tf.train.Checkpoint(...).restore()` restores into: the target plus the root's
 * `save_counter` (an int64 scalar variable, full name `save_counter`), which `Checkpoint.restore`
 * always creates (`checkpoint.py`: `restore` calls `_maybe_create_save_counter` after `read`),
 * appended as the root's last child when the target has no root child of that name.
 * `Checkpoint.read` and Keras `load_weights` create none.
 */
export function withSaveCounter(t: TargetGraph): TargetGraph {
  const root = t.graph.nodes[0] as TrackableObjectProto;
  if (root.children.some((c) => c.localName === "save_counter")) return t;
  const id = t.graph.nodes.length;
  const field = t.graph.nodes.every((n) => n.hasCheckpointValues !== undefined) ? true : undefined;
  const nodes: TrackableObjectProto[] = t.graph.nodes.map((n, i) =>
    i === 0
      ? {
          ...n,
          children: [...n.children, { nodeId: id, localName: "save_counter" }],
          ...(field ? { hasCheckpointValues: true } : {}),
        }
      : n,
  );
  nodes.push({
    children: [],
    attributes: [
      {
        name: VARIABLE_VALUE,
        fullName: "save_counter",
        checkpointKey: attributeKey("save_counter"),
        optionalRestore: false,
      },
    ],
    slotVariables: [],
    registeredSaver: undefined,
    hasCheckpointValues: field,
  });
  const graph: ObjectGraphProto = { nodes };
  const int64 = { dtype: dtypeFromName("int64"), shape: [] as readonly number[] };
  const added = collectAttributes(graph, () => int64, id);
  return { graph, attributes: [...t.attributes, ...added] };
}

/**
 * Sets `has_checkpoint_values` on every node as `util.add_checkpoint_values_check` does: true for
 * nodes with attributes, slot variables or a registered saver and for their ancestors.
 */
export function withCheckpointValues(nodes: readonly TrackableObjectProto[]): TrackableObjectProto[] {
  // Parents as one flat array (`parentStart[i]` … `parentStart[i + 1]`): no array per node.
  const parentStart = new Uint32Array(nodes.length + 1);
  for (const n of nodes)
    for (const c of n.children)
      if (c.nodeId < nodes.length) parentStart[c.nodeId + 1] = (parentStart[c.nodeId + 1] as number) + 1;
  for (let i = 0; i < nodes.length; i++)
    parentStart[i + 1] = (parentStart[i + 1] as number) + (parentStart[i] as number);
  const parents = new Uint32Array(parentStart[nodes.length] as number);
  const fill = parentStart.slice(0, nodes.length);
  nodes.forEach((n, i) => {
    for (const c of n.children) if (c.nodeId < nodes.length) parents[(fill[c.nodeId] as number)++] = i;
  });
  const has = nodes.map(
    (n) => n.attributes.length > 0 || n.slotVariables.length > 0 || n.registeredSaver !== undefined,
  );
  const stack: number[] = [];
  has.forEach((h, i) => {
    if (h) stack.push(i);
  });
  while (stack.length > 0) {
    const i = stack.pop() as number;
    for (let k = parentStart[i] as number; k < (parentStart[i + 1] as number); k++) {
      const p = parents[k] as number;
      if (!has[p]) {
        has[p] = true;
        stack.push(p);
      }
    }
  }
  // Fields named one by one, not spread (10⁵ spreads cost a visible share of a large migrate).
  return nodes.map((n, i) => ({
    children: n.children,
    attributes: n.attributes,
    slotVariables: n.slotVariables,
    registeredSaver: n.registeredSaver,
    hasCheckpointValues: has[i] as boolean,
  }));
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
    return checkShapes(fromFullJson(doc as FullGraphJson, file), true, file);
  }
  validateDocument("object-graph-authoring.schema.json", doc, "object graph", file);
  return checkShapes(fromAuthoring(doc as Record<string, unknown>, options, file), false, file);
}

/**
 * Refuses shapes no tensor can have (more than 2^53 − 1 elements or bytes, rank past
 * MAX_TENSOR_RANK): a JSON graph's shapes are not backed by any bytes, and a migration sizes
 * constant fills by them.
 * @throws InvalidDocumentError naming each such attribute
 */
function checkShapes(t: TargetGraph, full: boolean, file: string | undefined): TargetGraph {
  const problems: DocumentProblem[] = [];
  for (const a of t.attributes) {
    for (const x of a.tensors ?? [a]) {
      try {
        fixedByteSize(x.dtype, x.shape);
      } catch (e) {
        if (!(e instanceof TfckptError)) throw e;
        problems.push({
          path: full ? `$.nodes[${a.nodeId}].attributes` : `$ object ${a.objectPath}`,
          message: `${a.checkpointKey}: ${e.detail}`,
        });
      }
    }
  }
  if (problems.length > 0) throw new InvalidDocumentError("object graph", file, problems);
  return t;
}
