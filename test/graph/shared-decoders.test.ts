// The object graph, slot paths and stored layouts each have one derivation that every reader
// and target shares: these pin what the shared functions give and the errors they name.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BundleReader } from "../../src/bundle/reader.js";
import { dtypeFromName } from "../../src/dtypes.js";
import { CorruptCheckpointError } from "../../src/errors.js";
import { keyPathOf, PathTree, readObjectGraph, slotOwners } from "../../src/graph/object-graph.js";
import type { ObjectGraphProto, TrackableObjectProto } from "../../src/proto/index.js";
import { REPO } from "../helpers/fixtures.js";

const node = (n: Partial<TrackableObjectProto>): TrackableObjectProto => ({
  children: [],
  attributes: [],
  slotVariables: [],
  registeredSaver: undefined,
  hasCheckpointValues: undefined,
  ...n,
});

describe("shared decoders", () => {
  it("readObjectGraph refuses an entry that is not a string scalar, naming the file", async () => {
    const read = async () => ({
      kind: "fixed" as const,
      dtype: dtypeFromName("float32"),
      shape: [1],
      data: new Uint8Array(4),
    });
    const e = await readObjectGraph(read, "ckpt.index").catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CorruptCheckpointError);
    expect((e as CorruptCheckpointError).file).toBe("ckpt.index");
  });

  it("keyPathOf gives a slot reached only through its optimizer its .OPTIMIZER_SLOT path", () => {
    // root → model → kernel (1 → 2); root → optimizer (3) holding slot "m" of node 2 as node 4.
    const g: ObjectGraphProto = {
      nodes: [
        node({
          children: [
            { nodeId: 1, localName: "model" },
            { nodeId: 3, localName: "optimizer" },
          ],
        }),
        node({ children: [{ nodeId: 2, localName: "kernel" }] }),
        node({}),
        node({ slotVariables: [{ originalVariableNodeId: 2, slotName: "m", slotVariableNodeId: 4 }] }),
        node({}),
      ],
    };
    const tree = new PathTree(g);
    const slots = slotOwners(g);
    expect(slots.get(4)).toEqual({ optimizerNodeId: 3, originalNodeId: 2, slotName: "m" });
    expect(keyPathOf(tree, slots, 2)).toBe("model/kernel");
    expect(keyPathOf(tree, slots, 4)).toBe("model/kernel/.OPTIMIZER_SLOT/optimizer/m");
  });

  it("a bundle's stored layout lists its entries in data order with their shards and sizes", async () => {
    const r = await BundleReader.open(join(REPO, "fixtures", "partitioned", "model.ckpt-5"));
    try {
      const layout = r.storedLayout();
      expect(layout.endianness).toBe("little");
      const entries = layout.entries();
      expect(entries.map((e) => [e.key, e.shard, e.size])).toEqual(
        r.storedEntries().map((e) => [e.key, e.proto.shardId, e.proto.size]),
      );
      const sorted = [...entries].sort((a, b) => a.shard - b.shard);
      expect(entries.map((e) => e.shard)).toEqual(sorted.map((e) => e.shard));
      expect(entries.some((e) => e.slice !== undefined)).toBe(true);
    } finally {
      await r.close();
    }
  });
});
