/**
 * The object graph of a TF2 object-based checkpoint (`TrackableObjectGraph`, stored under
 * `_CHECKPOINTABLE_OBJECT_GRAPH`), validated, with BFS paths and a printable tree. Mirrors
 * `tensorflow/python/checkpoint/checkpoint.py` (`ObjectGraphProtoPrettyPrinter`) and
 * `tensorflow/python/checkpoint/trackable_view.py` (breadth-first paths).
 *
 * @module
 */
import { CorruptCheckpointError, type ErrorLocation, LimitExceededError } from "../errors.js";
import { MAX_GRAPH_NODES, MAX_PATH_CHARS_FLOOR, MAX_PATH_EXPANSION } from "../limits.js";
import { decodeObjectGraph, type ObjectGraphProto, type TrackableObjectProto } from "../proto/index.js";
import type { Tensor } from "../tensor.js";
import { escapeLocalName, OBJECT_GRAPH_PROTO_KEY, slotVariablePath } from "./keys.js";

/** A validated object graph: node 0 is the root; every node id referenced is in range. */
export type ObjectGraph = ObjectGraphProto;

/**
 * Decodes and validates a serialized `TrackableObjectGraph`.
 * @throws CorruptCheckpointError for node references out of range or an empty graph;
 *         LimitExceededError beyond {@link MAX_GRAPH_NODES}
 */
export function parseObjectGraph(bytes: Uint8Array, loc: ErrorLocation = {}): ObjectGraph {
  const g = decodeObjectGraph(bytes, loc);
  validateObjectGraph(g, loc);
  return g;
}

/**
 * The one object-graph decoder every format reader uses: reads the string scalar stored under
 * `_CHECKPOINTABLE_OBJECT_GRAPH` through the reader's own `readTensor`, then decodes and
 * validates it ({@link parseObjectGraph}), as `tensorflow/python/checkpoint/checkpoint.py`
 * (`_get_checkpoint_object_graph` via `CheckpointReader.get_tensor`) does.
 * @param file the file errors name (the index of a V2 bundle, the V1 file pattern)
 * @throws what `readTensor` throws; CorruptCheckpointError (naming `file`) when the entry is not a
 *         string scalar, or (naming `file` and the key) for a malformed graph; LimitExceededError
 */
export async function readObjectGraph(
  readTensor: (key: string) => Promise<Tensor>,
  file: string,
): Promise<ObjectGraph> {
  const t = await readTensor(OBJECT_GRAPH_PROTO_KEY);
  if (t.kind !== "string" || t.strings.length !== 1)
    throw new CorruptCheckpointError(`${OBJECT_GRAPH_PROTO_KEY} is not a string scalar`, { file });
  const bytes = t.strings[0] as Uint8Array;
  const g = parseObjectGraph(bytes, { file, key: OBJECT_GRAPH_PROTO_KEY });
  ENCODED.set(g, bytes);
  return g;
}

/**
 * The serialized bytes each graph {@link readObjectGraph} returned was decoded from, kept as long
 * as the graph is (a reader that caches its graph keeps them until it is dropped).
 */
const ENCODED = new WeakMap<ObjectGraph, Uint8Array>();

/**
 * The `TrackableObjectGraph` bytes `g` was decoded from, as the checkpoint stores them under
 * `_CHECKPOINTABLE_OBJECT_GRAPH`, when {@link readObjectGraph} decoded it (else undefined): a
 * writer reproduces them byte for byte without reading the entry a second time.
 */
export function encodedObjectGraph(g: ObjectGraph): Uint8Array | undefined {
  return ENCODED.get(g);
}

/**
 * Checks node references of a decoded graph, and that the object paths its attributes and slot
 * variables are named by stay within {@link pathBudget} (so that spelling them out is linear in
 * the graph's size).
 * @throws CorruptCheckpointError; LimitExceededError
 */
export function validateObjectGraph(g: ObjectGraphProto, loc: ErrorLocation = {}): void {
  const n = g.nodes.length;
  if (n === 0) throw new CorruptCheckpointError("object graph has no nodes (no root)", loc);
  if (n > MAX_GRAPH_NODES)
    throw new LimitExceededError(`object graph has ${n} nodes (> MAX_GRAPH_NODES)`, loc);
  const inRange = (id: number) => Number.isInteger(id) && id >= 0 && id < n;
  g.nodes.forEach((node, i) => {
    for (const c of node.children) {
      if (!inRange(c.nodeId)) {
        throw new CorruptCheckpointError(
          `object graph node ${i} child ${JSON.stringify(c.localName)} refers to node ${c.nodeId} of ${n}`,
          loc,
        );
      }
    }
    for (const s of node.slotVariables) {
      if (!inRange(s.originalVariableNodeId) || !inRange(s.slotVariableNodeId)) {
        throw new CorruptCheckpointError(
          `object graph node ${i} slot ${JSON.stringify(s.slotName)} refers to nodes ${s.originalVariableNodeId}/${s.slotVariableNodeId} of ${n}`,
          loc,
        );
      }
    }
  });
  const tree = new PathTree(g);
  let cost = 0;
  g.nodes.forEach((node, i) => {
    // A slot variable is named by its variable's and its optimizer's paths.
    for (const s of node.slotVariables)
      cost +=
        2 *
        (Math.max(0, tree.pathLength[s.originalVariableNodeId] as number) +
          Math.max(0, tree.pathLength[i] as number));
  });
  g.nodes.forEach((node, i) => {
    cost += 2 * node.attributes.length * Math.max(0, tree.pathLength[i] as number);
  });
  const budget = pathBudget(g);
  if (cost > budget)
    throw new LimitExceededError(
      `object graph: the object paths of its attributes and slots total ${cost} characters, more than ${budget} (MAX_PATH_EXPANSION × the graph's size + MAX_PATH_CHARS_FLOOR)`,
      loc,
    );
}

/**
 * The breadth-first spanning tree TF keys objects by (`trackable_view.py`,
 * `_descendants_with_paths`): each node reached through children keeps the first edge that reaches
 * it. Paths are parent links, not copies, so building it is linear in the graph's size (a chain of
 * n nodes has paths totalling n²/2 names; copying each one cost gigabytes at 15 000 nodes). Path
 * strings are built on demand, one node at a time, in time proportional to that path.
 */
export class PathTree {
  /** BFS parent of each node: −1 for the root, −2 for nodes not reached through children. */
  readonly parent: Int32Array;
  /** Local name of the edge from the parent (empty for the root and unreached nodes). */
  readonly edge: readonly string[];
  /** Nodes in the order breadth-first search reached them (the root first). */
  readonly order: readonly number[];
  /** Length in UTF-16 units of each reached node's escaped object path (−1 when unreached). */
  readonly pathLength: Float64Array;

  constructor(g: ObjectGraph, from = 0) {
    const n = g.nodes.length;
    const parent = new Int32Array(n).fill(-2);
    const edge: string[] = new Array(n).fill("");
    const pathLength = new Float64Array(n).fill(-1);
    parent[from] = -1;
    pathLength[from] = 0;
    const order = [from];
    for (let head = 0; head < order.length; head++) {
      const id = order[head] as number;
      const base = pathLength[id] as number;
      for (const c of g.nodes[id]?.children ?? []) {
        if (parent[c.nodeId] !== -2) continue;
        parent[c.nodeId] = id;
        edge[c.nodeId] = c.localName;
        pathLength[c.nodeId] = base + (id === from ? 0 : 1) + escapeLocalName(c.localName).length;
        order.push(c.nodeId);
      }
    }
    this.parent = parent;
    this.edge = edge;
    this.order = order;
    this.pathLength = pathLength;
  }

  /** True when `id` is the tree's root or reached from it through children. */
  reached(id: number): boolean {
    return (this.parent[id] ?? -2) !== -2;
  }

  /** The local names from the root to `id` (undefined when unreached). Linear in the path. */
  path(id: number): string[] | undefined {
    if (!this.reached(id)) return undefined;
    const out: string[] = [];
    for (let x = id; (this.parent[x] as number) >= 0; x = this.parent[x] as number)
      out.push(this.edge[x] as string);
    return out.reverse();
  }

  /** The escaped object path string of `id` (`a/b..c`), as {@link objectPathToString} gives it. */
  objectPath(id: number): string | undefined {
    const p = this.path(id);
    return p === undefined ? undefined : p.map(escapeLocalName).join("/");
  }
}

/** A slot variable node's owners: the optimizer node that lists it, its original variable node, its slot name. */
export interface SlotOwner {
  readonly optimizerNodeId: number;
  readonly originalNodeId: number;
  readonly slotName: string;
}

/** Every slot variable node of `g` with its owners (the optimizers' `slot_variables`; the last listing wins). */
export function slotOwners(g: ObjectGraph): Map<number, SlotOwner> {
  const m = new Map<number, SlotOwner>();
  g.nodes.forEach((n, i) => {
    for (const s of n.slotVariables)
      m.set(s.slotVariableNodeId, {
        optimizerNodeId: i,
        originalNodeId: s.originalVariableNodeId,
        slotName: s.slotName,
      });
  });
  return m;
}

/**
 * The one slot-path derivation: the object path TF derives node `id`'s checkpoint keys from. A
 * node reached through children keeps its own path; a slot variable reached only through its
 * optimizer gets `<variable path>/.OPTIMIZER_SLOT/<optimizer path>/<slot>`
 * (`tensorflow/python/checkpoint/save_util_v1.py`, `_add_attributes_to_object_graph` via
 * `trackable_utils.slot_variable_key`) when both its variable and its optimizer are reached;
 * otherwise undefined.
 */
export function keyPathOf(
  tree: PathTree,
  slots: ReadonlyMap<number, SlotOwner>,
  id: number,
): string | undefined {
  const p = tree.objectPath(id);
  if (p !== undefined) return p;
  const s = slots.get(id);
  if (s === undefined || !tree.reached(s.originalNodeId) || !tree.reached(s.optimizerNodeId))
    return undefined;
  return slotVariablePath(
    tree.objectPath(s.originalNodeId) as string,
    tree.objectPath(s.optimizerNodeId) as string,
    s.slotName,
  );
}

/**
 * The graph's size as its proto would encode it, roughly (UTF-16 units of its strings plus a few
 * bytes per field), without encoding it: what {@link pathBudget} scales with.
 */
function graphSize(g: ObjectGraph): number {
  let n = 0;
  for (const node of g.nodes) {
    n += 4;
    for (const c of node.children) n += 8 + c.localName.length;
    for (const a of node.attributes) n += 12 + a.name.length + a.fullName.length + a.checkpointKey.length;
    for (const s of node.slotVariables) n += 12 + s.slotName.length;
  }
  return n;
}

/**
 * Most path characters (object paths, pretty names, aliases) tfckpt spells out for one graph:
 * `MAX_PATH_EXPANSION` × {@link graphSize} + `MAX_PATH_CHARS_FLOOR` (see `limits.ts`).
 */
export function pathBudget(g: ObjectGraph): number {
  return MAX_PATH_EXPANSION * graphSize(g) + MAX_PATH_CHARS_FLOOR;
}

/**
 * Breadth-first paths from the root, as TF assigns them: each node keeps the first path that
 * reaches it. Nodes not reachable through children (slot variables) have `undefined`. The result
 * holds every path in full (quadratic in a deep graph's depth): use {@link PathTree} for large
 * graphs.
 */
export function breadthFirstPaths(g: ObjectGraph): (readonly string[] | undefined)[] {
  const tree = new PathTree(g);
  return g.nodes.map((_, i) => tree.path(i));
}

/**
 * The node an object path reaches by following children from `from` (default the root), one
 * local name per step; any path works, not only the first breadth-first one TF keeps (Keras 3
 * reaches a weight both through its layer and through `optimizer/_trainable_variables/N`).
 * Linear in the path's length times the children per node. Undefined when a name is missing.
 */
export function nodeAtPath(g: ObjectGraph, path: readonly string[], from = 0): number | undefined {
  let id: number | undefined = from;
  for (const name of path) {
    id = g.nodes[id]?.children.find((c) => c.localName === name)?.nodeId;
    if (id === undefined) return undefined;
  }
  return id;
}

/**
 * Pretty names as `ObjectGraphProtoPrettyPrinter` gives them: `(root).a.b`, and for slot nodes
 * `<optimizer>'s state '<slot>' for <variable>`; nodes with neither are `(node N)`. Built one at a
 * time on demand, each in time proportional to its length (a function, not an array: all names of
 * a deep graph together are quadratic in its depth). A slot node's optimizer and variable are
 * named by their paths; one that is itself an unreached slot node is `(node N)` (TF's printer
 * cannot name such graphs at all).
 */
export function prettyNamer(g: ObjectGraph, tree: PathTree = new PathTree(g)): (id: number) => string {
  // The last slot reference to each unreached node names it (as the old array form overwrote).
  const slotOf = new Map<number, { opt: number; slot: string; orig: number }>();
  g.nodes.forEach((node, i) => {
    for (const s of node.slotVariables)
      if (!tree.reached(s.slotVariableNodeId))
        slotOf.set(s.slotVariableNodeId, { opt: i, slot: s.slotName, orig: s.originalVariableNodeId });
  });
  const plain = (id: number) => {
    const p = tree.path(id);
    return p === undefined ? `(node ${id})` : ["(root)", ...p].join(".");
  };
  return (id) => {
    const s = slotOf.get(id);
    return s === undefined ? plain(id) : `${plain(s.opt)}'s state '${s.slot}' for ${plain(s.orig)}`;
  };
}

/**
 * Every node's pretty name (see {@link prettyNamer}); quadratic in a deep graph's depth, so
 * internal callers name only the nodes they print.
 */
export function prettyNames(g: ObjectGraph): string[] {
  const name = prettyNamer(g);
  return g.nodes.map((_, i) => name(i));
}

/**
 * Deepest level {@link renderTree} indents to. Past it a line keeps this indentation and says its
 * depth (`[depth 300] name`), so the tree of an n-deep chain is O(n) text, not O(n²) spaces.
 */
export const MAX_TREE_INDENT = 128;

/** Two spaces per level up to {@link MAX_TREE_INDENT}, then the depth in words. */
function indentFor(depth: number): string {
  return depth <= MAX_TREE_INDENT ? "  ".repeat(depth) : `${"  ".repeat(MAX_TREE_INDENT)}[depth ${depth}] `;
}

/**
 * The graph as an indented tree, one line per edge: `name → checkpoint key` for attributes,
 * shared nodes shown once and referenced after, slot variables listed under their optimizer.
 * Indentation stops at {@link MAX_TREE_INDENT} levels (deeper lines say their depth).
 */
export function renderTree(g: ObjectGraph): string[] {
  const name = prettyNamer(g);
  const lines: string[] = ["(root)"];
  const seen = new Set<number>([0]);
  // Iterative depth-first walk (no recursion: graphs are untrusted input).
  const stack: Array<{ id: number; depth: number; label: string }> = [];
  const pushChildren = (id: number, depth: number) => {
    const node = g.nodes[id] as TrackableObjectProto;
    for (let i = node.children.length - 1; i >= 0; i--) {
      const c = node.children[i] as { nodeId: number; localName: string };
      stack.push({ id: c.nodeId, depth, label: c.localName });
    }
  };
  const describe = (id: number) =>
    (g.nodes[id] as TrackableObjectProto).attributes
      .map(
        (a) =>
          ` → ${a.checkpointKey}${a.fullName !== "" ? ` (${a.fullName})` : ""}${a.name !== "VARIABLE_VALUE" ? ` [${a.name}]` : ""}`,
      )
      .join(",");
  const emitSlots = (id: number, depth: number) => {
    for (const s of (g.nodes[id] as TrackableObjectProto).slotVariables) {
      lines.push(
        `${indentFor(depth)}slot '${s.slotName}' for ${name(s.originalVariableNodeId)}${describe(s.slotVariableNodeId)}`,
      );
    }
  };
  const root = g.nodes[0] as TrackableObjectProto;
  if (root.attributes.length > 0) lines[0] += describe(0);
  emitSlots(0, 1);
  pushChildren(0, 1);
  while (stack.length > 0) {
    const { id, depth, label } = stack.pop() as { id: number; depth: number; label: string };
    const indent = indentFor(depth);
    if (seen.has(id)) {
      lines.push(`${indent}${label} = ${name(id)}`);
      continue;
    }
    seen.add(id);
    lines.push(`${indent}${label}${describe(id)}`);
    emitSlots(id, depth + 1);
    pushChildren(id, depth + 1);
  }
  return lines;
}

/** A string as protobuf's text format writes it (`text_format.CEscape`, UTF-8 bytes escaped in octal). */
function textString(s: string): string {
  let out = '"';
  for (const b of new TextEncoder().encode(s)) {
    if (b === 0x0a) out += "\\n";
    else if (b === 0x0d) out += "\\r";
    else if (b === 0x09) out += "\\t";
    else if (b === 0x22) out += '\\"';
    else if (b === 0x27) out += "\\'";
    else if (b === 0x5c) out += "\\\\";
    else if (b < 0x20 || b >= 0x7f) out += `\\${b.toString(8).padStart(3, "0")}`;
    else out += String.fromCharCode(b);
  }
  return `${out}"`;
}

/**
 * One node as Python's `str(TrackableObject)` prints it (protobuf text format: fields in field
 * number order, proto3 defaults left out, two-space indentation), as TF's
 * `assert_consumed` quotes it in "Unresolved object in checkpoint …: <node>".
 */
export function trackableObjectText(node: TrackableObjectProto): string {
  const lines: string[] = [];
  const block = (name: string, fields: Array<[string, string | undefined]>) => {
    lines.push(`${name} {`);
    for (const [k, v] of fields) if (v !== undefined) lines.push(`  ${k}: ${v}`);
    lines.push("}");
  };
  const str = (s: string) => (s === "" ? undefined : textString(s));
  const int = (n: number) => (n === 0 ? undefined : String(n));
  for (const c of node.children)
    block("children", [
      ["node_id", int(c.nodeId)],
      ["local_name", str(c.localName)],
    ]);
  for (const a of node.attributes)
    block("attributes", [
      ["name", str(a.name)],
      ["full_name", str(a.fullName)],
      ["checkpoint_key", str(a.checkpointKey)],
      ["optional_restore", a.optionalRestore ? "true" : undefined],
    ]);
  for (const s of node.slotVariables)
    block("slot_variables", [
      ["original_variable_node_id", int(s.originalVariableNodeId)],
      ["slot_name", str(s.slotName)],
      ["slot_variable_node_id", int(s.slotVariableNodeId)],
    ]);
  if (node.registeredSaver !== undefined)
    block("registered_saver", [
      ["name", str(node.registeredSaver.name)],
      ["object_name", str(node.registeredSaver.objectName)],
    ]);
  if (node.hasCheckpointValues !== undefined)
    block("has_checkpoint_values", [["value", node.hasCheckpointValues ? "true" : undefined]]);
  return lines.map((l) => `${l}\n`).join("");
}

/**
 * Every path from the root to each node (escaped object path strings), breadth-first, at most
 * `cap` per node: an object reached by several edges (a Keras 3 kernel is both
 * `model/_functional/_operations/1/_kernel` and `optimizer/_trainable_variables/0`) has several.
 * The first is the breadth-first path TF keys it by. Paths are interned as parent links (one id
 * per distinct path string), so building the index is linear in `cap` × edges; strings are
 * spelled out per node on demand.
 */
export class ObjectPathIndex {
  /** Interned paths: id 0 is the empty path; each other id extends `prefix[id]` by `segment[id]`. */
  private readonly prefix: number[] = [-1];
  private readonly segment: string[] = [""];
  /** Length of each interned path string (UTF-16 units). */
  private readonly length: number[] = [0];
  private readonly byNode: number[][];

  constructor(g: ObjectGraph, cap = 8) {
    const ids = new Map<string, number>();
    // The string of (prefix p, escaped name e) is `e` when p is the empty path, else `p/e`; an
    // empty name under the empty path is the empty path again (as string concatenation gives).
    const intern = (p: number, e: string): number => {
      if (p === 0 && e === "") return 0;
      const k = `${p}\u0000${e}`;
      let id = ids.get(k);
      if (id === undefined) {
        id = this.prefix.length;
        this.prefix.push(p);
        this.segment.push(e);
        this.length.push(p === 0 ? e.length : (this.length[p] as number) + 1 + e.length);
        ids.set(k, id);
      }
      return id;
    };
    this.byNode = g.nodes.map(() => []);
    this.byNode[0]?.push(0);
    const queue: Array<[number, number]> = [[0, 0]];
    for (let head = 0; head < queue.length; head++) {
      const [id, base] = queue[head] as [number, number];
      for (const c of (g.nodes[id] as TrackableObjectProto).children) {
        const list = this.byNode[c.nodeId] as number[];
        if (list.length >= cap) continue;
        const p = intern(base, escapeLocalName(c.localName));
        if (list.includes(p)) continue;
        list.push(p);
        queue.push([c.nodeId, p]);
      }
    }
  }

  /** How many paths reach `node` (at most the cap). */
  count(node: number): number {
    return this.byNode[node]?.length ?? 0;
  }

  /** Total length (UTF-16 units) of the path strings of `node`, without building them. */
  totalLength(node: number): number {
    return (this.byNode[node] ?? []).reduce((a, id) => a + (this.length[id] as number), 0);
  }

  /** The path strings of `node`, first the breadth-first one. Linear in their length. */
  paths(node: number): string[] {
    return (this.byNode[node] ?? []).map((id) => {
      const parts: string[] = [];
      for (let x = id; x > 0; x = this.prefix[x] as number) parts.push(this.segment[x] as string);
      return parts.reverse().join("/");
    });
  }
}

/**
 * Every path from the root to each node as strings (see {@link ObjectPathIndex}), at most `cap`
 * per node. Spells out every path: quadratic in a deep graph's depth.
 */
export function allObjectPaths(g: ObjectGraph, cap = 8): string[][] {
  const index = new ObjectPathIndex(g, cap);
  return g.nodes.map((_, i) => index.paths(i));
}
