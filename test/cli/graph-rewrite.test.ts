import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openCheckpoint } from "../../src/checkpoint/open.js";
import { parseCheckpointState } from "../../src/checkpoint/state.js";
import { cli } from "../helpers/cli.js";
import { REPO, TF_FIXTURES } from "../helpers/fixtures.js";

const work = mkdtempSync(join(tmpdir(), "tfckpt-cli2-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const keras = join(
  TF_FIXTURES,
  "tfx-kerastuner-saveweights",
  "trial_0768efe3e8ad9c25728f72279e08e4e0",
  "checkpoints",
  "epoch_0",
);

describe("tfckpt graph", () => {
  it("dumps the full JSON form, which graph reads back to the same JSON", async () => {
    const r = await cli("graph", keras, "--json");
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { format: string; nodes: unknown[] };
    expect(doc.format).toBe("tfckpt-object-graph");
    const file = join(work, "graph.json");
    writeFileSync(file, r.stdout);
    const again = await cli("graph", file);
    expect(again.stdout).toBe(r.stdout);
  });

  it("prints a tree", async () => {
    const r = await cli("graph", keras, "--tree");
    expect(r.stdout.startsWith("(root)\n")).toBe(true);
    expect(r.stdout).toMatch(/kernel → .*\/\.ATTRIBUTES\/VARIABLE_VALUE/);
  });

  it("refuses a name-based checkpoint with exit 2", async () => {
    const r = await cli("graph", join(REPO, "fixtures", "tf1-mlp"));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is a name-based checkpoint/);
  });

  it("reports every problem of a bad graph document with its JSON path", async () => {
    const file = join(work, "bad.json");
    writeFileSync(file, JSON.stringify({ model: { kernel: { dtype: "float32", shape: "3x3" } } }));
    const r = await cli("graph", file);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("$.model.kernel.shape: must be array");
  });
});

describe("tfckpt rewrite", () => {
  it("turns a V1 file into a V2 bundle with a state file", async () => {
    const dst = join(work, "v2", "model.ckpt");
    const r = await cli("rewrite", join(REPO, "fixtures", "v1", "snappy.ckpt"), dst, "--update-state");
    expect(r.code).toBe(0);
    expect(
      parseCheckpointState(readFileSync(join(work, "v2", "checkpoint"), "utf8"), "x").modelCheckpointPath,
    ).toBe("model.ckpt");
    const c = await openCheckpoint(join(work, "v2"));
    expect(c.format).toBe("v2");
    const w = await c.readTensor("w");
    expect(w.kind === "fixed" && [...new Float32Array(w.data.slice().buffer)]).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8,
    ]);
    await c.close();
  });

  it("re-shards by size and merges slices", async () => {
    const dst = join(work, "merged", "m");
    const r = await cli(
      "rewrite",
      join(REPO, "fixtures", "partitioned", "model.ckpt-5"),
      dst,
      "--merge-slices",
      "--max-shard-bytes",
      "100",
    );
    expect(r.code).toBe(0);
    const c = await openCheckpoint(dst);
    expect(c.shards).toBe(2);
    expect(c.get("embedding/embeddings")?.slices).toBeUndefined();
    expect((await c.verify()).failures).toEqual([]);
    await c.close();
  });

  it("never overwrites without --force", async () => {
    const dst = join(work, "v2", "model.ckpt");
    const before = readFileSync(`${dst}.index`);
    const r = await cli("rewrite", join(REPO, "fixtures", "tf1-mlp"), dst);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/OutputExistsError/);
    expect(readFileSync(`${dst}.index`).equals(before)).toBe(true);
  });
});
