import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cli } from "../helpers/cli.js";
import { REPO, TF_FIXTURES } from "../helpers/fixtures.js";

const mlp = join(REPO, "fixtures", "tf1-mlp");
const work = mkdtempSync(join(tmpdir(), "tfckpt-cli-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("tfckpt inspect", () => {
  it("prints a sorted table and a summary line", async () => {
    const r = await cli("inspect", mlp);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^name\s+dtype\s+shape\s+bytes$/);
    expect(lines[1]).toMatch(/^beta1_power\s+float32\s+\[\]\s+4$/);
    expect(lines.at(-1)).toBe("V2 name-based checkpoint: 15 variables, 820 B, 1 data shard");
    expect(r.stderr).toMatch(/note: using .*model\.ckpt-1000/);
  });

  it("--json puts exactly one JSON document on stdout", async () => {
    const r = await cli("inspect", mlp, "--json");
    const doc = JSON.parse(r.stdout) as {
      format: string;
      objectBased: boolean;
      shards: number;
      variables: unknown[];
    };
    expect(doc.format).toBe("v2");
    expect(doc.objectBased).toBe(false);
    expect(doc.shards).toBe(1);
    expect(doc.variables[0]).toEqual({ name: "beta1_power", dtype: "float32", shape: [], bytes: 4 });
  });

  it("--tensor shows values like inspect_checkpoint", async () => {
    const r = await cli(
      "inspect",
      join(REPO, "fixtures", "all-dtypes", "dtypes"),
      "--tensor",
      "v_float32",
      "--tensor",
      "v_string_scalar",
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      "tensor_name: v_float32  float32[2,2]\n  [1.5, -2, 0, 3.25]\n  min -2  max 3.25  mean 0.6875\n",
    );
    expect(r.stdout).toContain('tensor_name: v_string_scalar  string[]\n  ["ab"]\n');
  });

  it("--graph prints the object graph of a real Keras save_weights checkpoint", async () => {
    const r = await cli("inspect", join(TF_FIXTURES, "spinwars-keras-saveweights-1shard"), "--graph");
    expect(r.code).toBe(0);
    expect(r.stdout.split("\n")[0]).toBe("(root)");
    expect(r.stdout).toMatch(/\n {4}kernel → d1\/kernel\/\.ATTRIBUTES\/VARIABLE_VALUE/);
  });

  it("--verify exits 0 on a good checkpoint and 1 with the key and offset of a bad tensor", async () => {
    const dir = join(work, "bad");
    const prefix = join(dir, "model.ckpt-1000");
    await cli("inspect", mlp); // sanity
    const { mkdirSync } = await import("node:fs");
    mkdirSync(dir, { recursive: true });
    copyFileSync(join(mlp, "model.ckpt-1000.index"), `${prefix}.index`);
    const data = readFileSync(join(mlp, "model.ckpt-1000.data-00000-of-00001"));
    expect((await cli("inspect", mlp, "--verify")).code).toBe(0);
    data[0] = (data[0] as number) ^ 0x01; // first tensor: dense/kernel at offset 0
    writeFileSync(`${prefix}.data-00000-of-00001`, data);
    const r = await cli("inspect", prefix, "--verify");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/FAIL .*checksum does not match.*key "dense\/kernel", offset 0\)/);
    expect(r.stderr).toMatch(/verify: 1 FAILED/);
  });

  it("exits 2 with one line for a missing checkpoint, a stack only with --debug", async () => {
    const r = await cli("inspect", join(work, "nothing-here"));
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/NotFoundError: no checkpoint at this path/);
    const d = await cli("inspect", join(work, "nothing-here"), "--debug");
    expect(d.stderr).toMatch(/\n\s+at /);
  });

  it("exits 2 on unknown options", async () => {
    const r = await cli("inspect", mlp, "--no-such-flag");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Unknown argument/);
  });
});
