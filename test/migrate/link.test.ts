// migrate --link: output data shards that are hard links (or reflinks) of the source's, read back
// equal to a compact migration, bytes shared, unused bytes reported, atomic like any output.
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BundleReader } from "../../src/bundle/reader.js";
import { BundleWriter } from "../../src/bundle/writer.js";
import { dtypeFromName } from "../../src/dtypes.js";
import { ChecksumMismatchError, OutputExistsError, UsageError } from "../../src/errors.js";
import { migrate } from "../../src/migrate.js";
import { validateCheckpoint } from "../../src/validate.js";
import { cli } from "../helpers/cli.js";
import { REPO } from "../helpers/fixtures.js";

const work = mkdtempSync(join(tmpdir(), "tfckpt-link-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const graph = join(REPO, "mappings", "examples", "tf1-mlp.graph.json");
const mapping = join(REPO, "mappings", "examples", "tf1-mlp.mapping.json");
// A copy of the fixture in the work directory, so that links stay on one file system.
const srcDir = join(work, "src");
mkdirSync(srcDir);
for (const f of readdirSync(join(REPO, "fixtures", "tf1-mlp")))
  copyFileSync(join(REPO, "fixtures", "tf1-mlp", f), join(srcDir, f));
const src = join(srcDir, "model.ckpt-1000");
const srcShard = `${src}.data-00000-of-00001`;

/** Every tensor of a checkpoint, by name, as bytes (strings joined). */
async function values(prefix: string): Promise<Map<string, Buffer>> {
  const r = await BundleReader.open(prefix);
  try {
    const out = new Map<string, Buffer>();
    for (const v of r.list()) {
      const t = await r.readTensor(v.name);
      out.set(
        v.name,
        t.kind === "fixed"
          ? Buffer.from(t.data)
          : t.kind === "string"
            ? Buffer.concat(t.strings.map((s) => Buffer.from(s)))
            : Buffer.from(t.bytes),
      );
    }
    return out;
  } finally {
    await r.close();
  }
}

describe("migrate --link", () => {
  it("links the source shard, writes the rest to a new shard, and reads back as the compact output", async () => {
    const compact = join(work, "compact", "ckpt-1");
    const linked = join(work, "linked", "ckpt-1");
    await migrate({ source: src, target: graph, mapping, output: compact });
    const report = await migrate({ source: src, target: graph, mapping, output: linked, link: true });
    expect(report.output.written).toBe(true);
    expect(readdirSync(join(work, "linked")).sort()).toEqual([
      "checkpoint",
      "ckpt-1.data-00000-of-00002",
      "ckpt-1.data-00001-of-00002",
      "ckpt-1.index",
    ]);
    expect(await values(linked)).toEqual(await values(compact));
    // The bytes are shared: one inode, two names (a reflink would be a new inode; ext4/tmpfs have none).
    const a = statSync(`${linked}.data-00000-of-00002`);
    const b = statSync(srcShard);
    expect(report.output.linked?.[0]?.method).toBe("hardlink");
    expect([a.ino, a.nlink]).toEqual([b.ino, 2]);
    // beta1_power and beta2_power are ignored: their bytes stay in the linked shard, unused.
    const l = report.output.linked?.[0];
    expect(l?.bytes).toBe(b.size);
    expect(l?.usedBytes).toBe(b.size - 8);
    // Entries point into the linked shard at the source offsets; the new shard holds the rest.
    const r = await BundleReader.open(linked);
    const s = await BundleReader.open(src);
    expect(r.header.numShards).toBe(2);
    const kernel = r.entry("optimizer/_trainable_variables/0/.ATTRIBUTES/VARIABLE_VALUE")?.proto;
    expect([kernel?.shardId, kernel?.offset]).toEqual([0, s.entry("dense/kernel")?.proto.offset]);
    expect(r.entry("_CHECKPOINTABLE_OBJECT_GRAPH")?.proto.shardId).toBe(1);
    expect(r.entry("save_counter/.ATTRIBUTES/VARIABLE_VALUE")?.proto.shardId).toBe(1);
    await r.close();
    await s.close();
    const v = await validateCheckpoint(linked);
    expect(v.integrity.failures).toEqual([]);
  });

  it("is atomic: an existing output is kept and no extra link of the source is left", async () => {
    const out = join(work, "exists", "ckpt-1");
    await migrate({ source: src, target: graph, mapping, output: out, link: true });
    expect(statSync(srcShard).nlink).toBe(3); // this output and the first test's
    await expect(migrate({ source: src, target: graph, mapping, output: out, link: true })).rejects.toThrow(
      OutputExistsError,
    );
    expect(statSync(srcShard).nlink).toBe(3);
    // --force over the same linked files: replaced in place, no temporary name left behind.
    await migrate({ source: src, target: graph, mapping, output: out, link: true, force: true });
    expect(readdirSync(join(work, "exists")).filter((f) => f.includes("tfckpt"))).toEqual([]);
    expect(statSync(srcShard).nlink).toBe(3);
  });

  it("auto links when it can; --link without anything to link is a usage error", async () => {
    const out = join(work, "auto", "ckpt-1");
    const report = await migrate({ source: src, target: graph, mapping, output: out, link: "auto" });
    expect(report.output.linked?.map((l) => l.method)).toEqual(["hardlink"]);
    const onlyValue = { assignments: [{ value: 0.001, to: "optimizer/_learning_rate" }] };
    await expect(
      migrate({
        source: src,
        target: graph,
        mapping: onlyValue,
        output: join(work, "none", "ckpt-1"),
        link: true,
        allowPartial: true,
      }),
    ).rejects.toThrow(UsageError);
  });

  it("the CLI reports the linked shard and refuses --link with --compact", async () => {
    const out = join(work, "cli", "ckpt-1");
    const r = await cli(
      "migrate",
      "--source",
      src,
      "--target",
      graph,
      "--mapping",
      mapping,
      "--output",
      out,
      "--link",
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /hard-linked .*ckpt-1\.data-00000-of-00002 to .*: \d+ of \d+ bytes used \(8 unused/,
    );
    const bad = await cli(
      "migrate",
      "--source",
      src,
      "--target",
      graph,
      "--mapping",
      mapping,
      "--output",
      join(work, "cli2", "ckpt-1"),
      "--link",
      "--compact",
    );
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--compact and --link/);
  });

  it("--compact (the default) writes fresh shards holding only what the output uses", async () => {
    const out = join(work, "compact-cli", "ckpt-1");
    const r = await cli(
      ...["migrate", "--source", src, "--target", graph, "--mapping", mapping],
      ...["--output", out, "--compact"],
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/linked|unused/);
    const shards = readdirSync(join(work, "compact-cli")).filter((f) => f.includes(".data-"));
    expect(shards).toEqual(["ckpt-1.data-00000-of-00001"]);
    const shard = statSync(join(work, "compact-cli", shards[0] as string));
    expect(shard.ino).not.toBe(statSync(srcShard).ino);
    // Every byte of the shard belongs to an entry of the index: the ignored beta powers' 8 bytes,
    // left unused in a linked shard, are gone.
    const c = await BundleReader.open(out);
    const used = c.storedEntries().reduce((n, e) => n + e.proto.size, 0);
    await c.close();
    expect(shard.size).toBe(used);
    expect(await values(out)).toEqual(await values(join(work, "linked", "ckpt-1")));
  });

  it("`tfckpt rewrite` compacts an existing linked output: fresh shards, no unused bytes", async () => {
    const linked = join(work, "linked", "ckpt-1");
    const out = join(work, "rewritten", "ckpt-1");
    const r = await cli("rewrite", linked, out);
    expect(r.code, r.stderr).toBe(0);
    const c = await BundleReader.open(out);
    const used = c.storedEntries().reduce((n, e) => n + e.proto.size, 0);
    const files = c.files.filter((f) => f.includes(".data-"));
    await c.close();
    const bytes = files.reduce((n, f) => n + statSync(f).size, 0);
    expect(bytes).toBe(used);
    for (const f of files) expect(statSync(f).nlink).toBe(1);
    expect(await values(out)).toEqual(await values(linked));
  });
});

describe("rename-only migrate without --link", () => {
  const f32 = dtypeFromName("float32");
  const dir = join(work, "whole");
  const prefix = join(dir, "src", "model.ckpt-1");
  const target = join(dir, "graph.json");
  const map = { assignments: [{ from: "/", to: "model/" }] };

  it("copies a wholly reused source shard, keeps one output shard, and reads back equal", async () => {
    const w = await BundleWriter.create(prefix);
    const data = (n: number, seed: number) =>
      new Uint8Array(Array.from({ length: n * 4 }, (_, i) => (i * seed) & 0xff));
    await w.add("a/kernel", f32, [3, 5], data(15, 7));
    await w.add("b/kernel", f32, [2], data(2, 3));
    await w.finish();
    writeFileSync(
      target,
      JSON.stringify({
        model: {
          a: { kernel: { dtype: "float32", shape: [3, 5] } },
          b: { kernel: { dtype: "float32", shape: [2] } },
        },
      }),
    );
    const out = join(dir, "out", "ckpt-1");
    const report = await migrate({ source: prefix, target, mapping: map, output: out, saveCounter: true });
    expect(report.output.written).toBe(true);
    expect(report.output.linked).toBeUndefined();
    expect(readdirSync(join(dir, "out")).sort()).toEqual([
      "checkpoint",
      "ckpt-1.data-00000-of-00001",
      "ckpt-1.index",
    ]);
    // A copy, not a link: the output's shard starts with the source's bytes, then what is new.
    const srcBytes = readFileSync(`${prefix}.data-00000-of-00001`);
    const outBytes = readFileSync(`${out}.data-00000-of-00001`);
    expect(statSync(`${out}.data-00000-of-00001`).ino).not.toBe(
      statSync(`${prefix}.data-00000-of-00001`).ino,
    );
    expect(outBytes.subarray(0, srcBytes.length)).toEqual(srcBytes);
    const got = await values(out);
    const want = await values(prefix);
    expect(got.get("model/a/kernel/.ATTRIBUTES/VARIABLE_VALUE")).toEqual(want.get("a/kernel"));
    expect(got.get("model/b/kernel/.ATTRIBUTES/VARIABLE_VALUE")).toEqual(want.get("b/kernel"));
    expect((await validateCheckpoint(out)).integrity.failures).toEqual([]);
  });

  it("checks the copied bytes' CRCs: a corrupt source writes nothing", async () => {
    const shard = `${prefix}.data-00000-of-00001`;
    const bytes = readFileSync(shard);
    bytes[5] = (bytes[5] as number) ^ 0xff;
    writeFileSync(shard, bytes);
    const out = join(dir, "bad", "ckpt-1");
    await expect(migrate({ source: prefix, target, mapping: map, output: out })).rejects.toThrow(
      ChecksumMismatchError,
    );
    expect(existsSync(join(dir, "bad"))).toBe(false);
  });
});
