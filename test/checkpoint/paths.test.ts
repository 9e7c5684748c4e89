// Paths from state files never lead outside the directory the user named; outputs never follow
// a symlink; estimator model directories and TF1 SavedModels resolve without spelling the prefix.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { resolveCheckpoint } from "../../src/checkpoint/resolve.js";
import { UsageError } from "../../src/errors.js";
import { migrate } from "../../src/migrate.js";
import { smallBundle } from "../helpers/build.js";
import { REPO, TF_FIXTURES } from "../helpers/fixtures.js";

const work = mkdtempSync(join(tmpdir(), "tfckpt-paths-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("state files cannot lead outside their directory", () => {
  it("a relative ../../ path is refused with a clear error", async () => {
    await smallBundle(join(work, "secret", "model.ckpt"));
    const dir = join(work, "a", "b");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "checkpoint"), 'model_checkpoint_path: "../../secret/model.ckpt"\n');
    expect(() => resolveCheckpoint(dir)).toThrow(UsageError);
    expect(() => resolveCheckpoint(dir)).toThrow(
      /points outside its directory \("..\/..\/secret\/model.ckpt"\); refusing to follow it/,
    );
  });

  it("an absolute path elsewhere is not followed either, unless the file of that name is beside the state file", async () => {
    const dir = join(work, "c");
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, "checkpoint"),
      `model_checkpoint_path: "${join(work, "secret", "model.ckpt")}"\n`,
    );
    expect(() => resolveCheckpoint(dir)).toThrow(/refusing to follow it/);
    await smallBundle(join(dir, "model.ckpt"));
    const r = resolveCheckpoint(dir);
    expect(r.path).toBe(join(dir, "model.ckpt"));
    expect(r.notes.join()).toMatch(/outside this directory; using .* next to it/);
  });

  it("a named path is the user's choice and is followed", async () => {
    expect(resolveCheckpoint(join(work, "secret", "model.ckpt")).format).toBe("v2");
  });
});

describe("outputs", () => {
  it("migrate refuses to write through a symlinked output", async () => {
    const out = join(work, "out");
    mkdirSync(out);
    symlinkSync(join(work, "elsewhere.index"), join(out, "ckpt-1.index"));
    await expect(
      migrate({
        source: join(REPO, "fixtures", "tf1-mlp"),
        target: join(REPO, "mappings", "examples", "tf1-mlp.graph.json"),
        mapping: join(REPO, "mappings", "examples", "tf1-mlp.mapping.json"),
        output: join(out, "ckpt-1"),
        force: true,
      }),
    ).rejects.toThrow(/symbolic link; refusing to write through it/);
  });
});

describe("estimator and SavedModel layouts", () => {
  it("an estimator model_dir (checkpoint, graph.pbtxt, events beside) resolves to its newest checkpoint", () => {
    const r = resolveCheckpoint(join(TF_FIXTURES, "guesslang-2017-estimator-ckpt", "model"));
    expect(r.path).toBe(join(TF_FIXTURES, "guesslang-2017-estimator-ckpt", "model", "model.ckpt-40198"));
  });
  it("a TF1 SavedModel resolves to variables/variables", () => {
    const r = resolveCheckpoint(
      join(TF_FIXTURES, "serving-saved_model_half_plus_two_cpu", "saved_model_half_plus_two_cpu", "00000123"),
    );
    expect(r.path.endsWith(join("00000123", "variables", "variables"))).toBe(true);
  });
});
