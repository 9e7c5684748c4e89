/**
 * Consistency of an object-based checkpoint with itself: every attribute's key is in the bundle,
 * no bundle key is orphaned, slot references make sense, `has_checkpoint_values` agrees with the
 * graph (`util.add_checkpoint_values_check`), and keys follow TF's escaping
 * (`trackable_utils.py`). Restore fetches tensors by the stored key, so a key off the convention
 * is a warning, not an error.
 *
 * @module
 */

import { attributeKey } from "../graph/keys.js";
import {
  keyPathOf,
  type ObjectGraph,
  PathTree,
  prettyNamer,
  type SlotOwner,
  slotOwners,
} from "../graph/object-graph.js";
import { type CheckpointReader, OBJECT_GRAPH_PROTO_KEY } from "../reader.js";
import { storedAttributes } from "./stored.js";
import { withCheckpointValues } from "./target.js";

/** One finding. Errors fail `validate`; warnings are reported. */
export interface ConsistencyIssue {
  readonly severity: "error" | "warning";
  readonly code:
    | "missing-key"
    | "orphan-key"
    | "bad-dtype"
    | "slot"
    | "has-checkpoint-values"
    | "key-convention";
  readonly message: string;
  readonly key?: string;
}

/**
 * Checks `graph` against the bundle `reader` holds. An attribute whose key is absent but prefixes
 * bundle keys is a multi-tensor saveable (a lookup table's `-keys`/`-values`, an iterator's
 * `_STATE`; see {@link storedAttributes}): its parts are its keys, and their dtypes (`variant` for
 * iterators) are not variable dtypes.
 */
export function checkConsistency(graph: ObjectGraph, reader: CheckpointReader): ConsistencyIssue[] {
  const issues: ConsistencyIssue[] = [];
  // Paths as parent links; a path or name is spelled out only for a node holding a value or named
  // in a message (validateObjectGraph bounds what those total).
  const paths = new PathTree(graph);
  const name = prettyNamer(graph, paths);
  const stored = storedAttributes(graph, reader.list());
  const referenced = new Set<string>([OBJECT_GRAPH_PROTO_KEY, ...stored.claimed]);
  const slotOf = slotOwners(graph);
  const ctx: Context = { graph, reader, paths, name, slotOf, issues };
  checkAttributes(ctx, stored.multi, referenced);
  for (const v of reader.list()) {
    if (!referenced.has(v.name))
      issues.push({
        severity: "error",
        code: "orphan-key",
        key: v.name,
        message: `bundle key ${v.name} belongs to no object in the graph`,
      });
  }
  checkSlots(ctx);
  checkHasCheckpointValues(ctx);
  return issues;
}

/** What the checks share; each appends its findings to `issues`. */
interface Context {
  readonly graph: ObjectGraph;
  readonly reader: CheckpointReader;
  readonly paths: PathTree;
  readonly name: (id: number) => string;
  readonly slotOf: ReadonlyMap<number, SlotOwner>;
  readonly issues: ConsistencyIssue[];
}

/** Each attribute's key: present in the bundle (or a multi-tensor prefix), restorable, conventional; adds it to `referenced`. */
function checkAttributes(
  ctx: Context,
  multiKeys: ReadonlyMap<string, unknown>,
  referenced: Set<string>,
): void {
  const { graph, reader, name, issues } = ctx;
  graph.nodes.forEach((node, id) => {
    for (const a of node.attributes) {
      referenced.add(a.checkpointKey);
      const v = reader.get(a.checkpointKey);
      const multi = multiKeys.has(a.checkpointKey);
      if (v === undefined && !multi) {
        issues.push({
          severity: "error",
          code: "missing-key",
          key: a.checkpointKey,
          message: `${name(id)} attribute ${a.name}: key ${a.checkpointKey} is not in the bundle, nor any key it prefixes`,
        });
        continue;
      }
      if (v !== undefined && (v.dtype.kind === "resource" || v.dtype.kind === "variant")) {
        issues.push({
          severity: "error",
          code: "bad-dtype",
          key: a.checkpointKey,
          message: `${name(id)}: ${v.dtype.name} value cannot be restored into a variable`,
        });
      }
      const expected = conventionalKey(ctx, id, a.name);
      if (expected !== undefined && expected !== a.checkpointKey) {
        issues.push({
          severity: "warning",
          code: "key-convention",
          key: a.checkpointKey,
          message: `${name(id)}: key ${a.checkpointKey} is not the conventional ${expected}`,
        });
      }
    }
  });
}

/** The key TF would give attribute `attr` of node `id` (by its path, or its slot's), if the node is reached. */
function conventionalKey(ctx: Context, id: number, attr: string): string | undefined {
  const p = keyPathOf(ctx.paths, ctx.slotOf, id);
  return p === undefined ? undefined : attributeKey(p, attr);
}

/** Slot variables: not also regular dependencies, without dependencies, of a variable that holds a value. */
function checkSlots(ctx: Context): void {
  const { graph, paths, name, issues } = ctx;
  for (const [slotNode, s] of ctx.slotOf) {
    if (paths.reached(slotNode))
      issues.push({
        severity: "error",
        code: "slot",
        message: `slot variable ${name(slotNode)} is also a regular dependency`,
      });
    if ((graph.nodes[slotNode]?.children.length ?? 0) > 0)
      issues.push({
        severity: "error",
        code: "slot",
        message: `slot variable ${name(slotNode)} has dependencies`,
      });
    if (graph.nodes[s.originalNodeId]?.attributes.length === 0) {
      issues.push({
        severity: "warning",
        code: "slot",
        message: `slot '${s.slotName}' of ${name(s.optimizerNodeId)} refers to ${name(s.originalNodeId)}, which holds no value`,
      });
    }
  }
}

/** `has_checkpoint_values`, when every node records it, agrees with what the graph implies. */
function checkHasCheckpointValues(ctx: Context): void {
  const { graph, name, issues } = ctx;
  if (!graph.nodes.every((n) => n.hasCheckpointValues !== undefined)) return;
  const expected = withCheckpointValues(graph.nodes);
  expected.forEach((n, i) => {
    if (n.hasCheckpointValues !== graph.nodes[i]?.hasCheckpointValues) {
      issues.push({
        severity: "warning",
        code: "has-checkpoint-values",
        message: `${name(i)}: has_checkpoint_values is ${graph.nodes[i]?.hasCheckpointValues} but the graph says ${n.hasCheckpointValues}`,
      });
    }
  });
}
