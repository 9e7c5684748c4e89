// Reading, judged by TensorFlow: every checkpoint of the TF 2.21 corpus and of the historic real
// fixtures is listed and read by tfckpt and by TF (tf.train.load_checkpoint, RestoreV2 where
// get_tensor cannot); names, dtypes, shapes, every tensor's bytes and the object graph must agree.
import { existsSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { openCheckpoint } from "../../src/checkpoint/open.js";
import type { ObjectGraph } from "../../src/graph/object-graph.js";
import { expectedCheckpoints, prefixOf } from "../helpers/fixtures.js";
import { CORPUS, corpusCheckpoints, LARGE_CORPUS, Tally, tensorDigest, tfRead } from "./helpers.js";

interface TfKey {
  dtype: string;
  shape: number[];
  sha256?: string;
  error?: string;
  via?: string;
}
interface TfGraphNode {
  children: [number, string][];
  attributes: [string, string, string][];
  slot_variables: [number, string, number][];
  has_checkpoint_values: boolean | null;
  registered_saver: string | null;
}
interface TfRead {
  error?: string;
  keys?: Record<string, TfKey>;
  graph?: { nodes: TfGraphNode[] };
}

/** tfckpt's object graph in oracle.py's normal form. */
function normalGraph(g: ObjectGraph): { nodes: TfGraphNode[] } {
  return {
    nodes: g.nodes.map((n) => ({
      children: n.children.map((c) => [c.nodeId, c.localName] as [number, string]),
      attributes: n.attributes.map((a) => [a.name, a.fullName, a.checkpointKey] as [string, string, string]),
      slot_variables: n.slotVariables.map(
        (s) => [s.originalVariableNodeId, s.slotName, s.slotVariableNodeId] as [number, string, number],
      ),
      has_checkpoint_values: n.hasCheckpointValues ?? null,
      registered_saver: n.registeredSaver?.name ?? null,
    })),
  };
}

/** Paths of every checkpoint to compare: the committed corpus, the large one, the real fixtures. */
function allCheckpoints(): string[] {
  const paths = corpusCheckpoints(CORPUS).map((c) => c.path);
  if (!existsSync(LARGE_CORPUS)) throw new Error(`${LARGE_CORPUS} missing: run test/tf/prepare.sh`);
  paths.push(...corpusCheckpoints(LARGE_CORPUS).map((c) => c.path));
  for (const c of expectedCheckpoints()) paths.push(c.format === "v2" ? prefixOf(c.file) : c.file);
  return paths;
}

describe("read: tfckpt and TensorFlow agree", () => {
  test("every checkpoint: names, dtypes, shapes, tensor bytes, object graphs", async () => {
    const paths = allCheckpoints();
    const tf = await tfRead<TfRead>(paths);
    const listing = new Tally("listing (name, dtype, shape)");
    const values = new Tally("tensor bytes");
    const graphs = new Tally("object graphs");
    const refused = new Tally("tensors TF cannot read: tfckpt reads or refuses them");
    for (const path of paths) {
      const want = tf[path];
      if (want === undefined || want.keys === undefined) {
        listing.check(false, () => `${path}: TF could not open it: ${want?.error}`);
        continue;
      }
      let r: Awaited<ReturnType<typeof openCheckpoint>>;
      try {
        r = await openCheckpoint(path);
      } catch (e) {
        listing.check(false, () => `${path}: tfckpt could not open it: ${(e as Error).message}`);
        continue;
      }
      try {
        const got = new Map(r.list().map((v) => [v.name, v]));
        const names = new Set([...got.keys(), ...Object.keys(want.keys)]);
        for (const name of names) {
          const g = got.get(name);
          const w = want.keys[name];
          listing.check(
            g !== undefined &&
              w !== undefined &&
              g.dtype.name === w.dtype &&
              g.shape.join(",") === w.shape.join(","),
            () =>
              `${path} ${name}: tfckpt ${g ? `${g.dtype.name}[${g.shape}]` : "absent"}, TF ${w ? `${w.dtype}[${w.shape}]` : "absent"}`,
          );
          if (g === undefined || w === undefined) continue;
          let digest: string | undefined;
          let error: string | undefined;
          try {
            digest = tensorDigest(await r.readTensor(name));
          } catch (e) {
            error = (e as Error).message;
          }
          if (w.sha256 === undefined) {
            refused.check(true, () => "");
            continue;
          }
          values.check(
            digest === w.sha256,
            () =>
              `${path} ${name} (${w.dtype}): ${error !== undefined ? `tfckpt refused: ${error}` : "bytes differ"}`,
          );
        }
        const graph = await r.objectGraph().catch((e: Error) => e);
        if (want.graph !== undefined || graph !== undefined) {
          graphs.check(
            want.graph !== undefined &&
              graph !== undefined &&
              !(graph instanceof Error) &&
              JSON.stringify(normalGraph(graph)) === JSON.stringify(want.graph),
            () =>
              `${path}: object graph differs (${graph instanceof Error ? `tfckpt: ${graph.message}` : want.graph === undefined ? "TF has none" : "content"})`,
          );
        }
      } finally {
        await r.close();
      }
    }
    const tallies = [listing, values, graphs, refused];
    console.log(`read, ${paths.length} checkpoints:\n  ${tallies.map((t) => t.summary()).join("\n  ")}`);
    expect(listing.agreements).toBeGreaterThan(200);
    expect(values.agreements).toBeGreaterThan(200);
    expect(tallies.flatMap((t) => t.disagreements)).toEqual([]);
  });
});
