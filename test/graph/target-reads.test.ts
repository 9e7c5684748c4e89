// Building a target from a template checkpoint reads its object-graph entry once: the graph and
// the bytes the output reproduces come from one read (counted through the injectable byte source).
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BundleReader } from "../../src/bundle/reader.js";
import { FileSource } from "../../src/io/byte-source.js";
import { OBJECT_GRAPH_PROTO_KEY } from "../../src/reader.js";
import { targetFromCheckpoint } from "../../src/target/target.js";
import { CountingSource } from "../helpers/counting-source.js";
import { REPO } from "../helpers/fixtures.js";

const TF = join(REPO, "fixtures", "tf-2.21");

describe("targetFromCheckpoint reads", () => {
  it("reads the object-graph entry once, and keeps its stored bytes", async () => {
    const prefix = join(TF, "keras3-sequential-adam", "ckpt-1");
    const shards = new Map<string, CountingSource>();
    const reader = await BundleReader.open(prefix, undefined, async (path) => {
      const s = new CountingSource(await FileSource.open(path));
      shards.set(path, s);
      return s;
    });
    try {
      const e = reader.entry(OBJECT_GRAPH_PROTO_KEY);
      if (e === undefined) throw new Error("the fixture has no object graph");
      const target = await targetFromCheckpoint(reader);
      const data = [...shards].filter(([p]) => !p.endsWith(".index")).map(([, s]) => s);
      expect(data).toHaveLength(1);
      expect(data[0]?.ranges).toEqual([[e.proto.offset, e.proto.size]]);
      const stored = await reader.readTensor(OBJECT_GRAPH_PROTO_KEY);
      expect(stored.kind).toBe("string");
      expect(target.encoded).toEqual(stored.kind === "string" ? stored.strings[0] : undefined);
      expect(target.attributes.length).toBeGreaterThan(0);
    } finally {
      await reader.close();
    }
  });
});
