// Outputs named by a directory: `migrate --output DIR/` numbers and records each save as
// tf.train.CheckpointManager does (checkpoint_management.py: save, _record_state), and
// `rewrite SRC DIR/` keeps the source's name instead of writing the hidden `DIR/.index`.
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BundleReader } from "../../src/bundle/reader.js";
import { nextManagedPrefix, recordManagedSave } from "../../src/checkpoint/manager.js";
import { openCheckpoint } from "../../src/checkpoint/open.js";
import { parseCheckpointState } from "../../src/checkpoint/state.js";
import { OutputExistsError } from "../../src/errors.js";
import { migrate } from "../../src/migrate.js";
import { checkpointBaseName } from "../../src/rewrite.js";
import { cli } from "../helpers/cli.js";
import { REPO } from "../helpers/fixtures.js";

const work = mkdtempSync(join(tmpdir(), "tfckpt-managed-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const src = join(REPO, "fixtures", "tf1-mlp");
const graph = join(REPO, "mappings", "examples", "tf1-mlp.graph.json");
const mapping = join(REPO, "mappings", "examples", "tf1-mlp.mapping.json");
const migrateTo = (out: string, ...more: string[]) =>
  cli("migrate", "--source", src, "--target", graph, "--mapping", mapping, "--output", out, ...more);
const state = (dir: string) =>
  parseCheckpointState(readFileSync(join(dir, "checkpoint"), "utf8"), "checkpoint");

describe("migrate --output DIR/ records saves as CheckpointManager does", () => {
  it("a second and third run append ckpt-2, ckpt-3 without --force and keep the earlier saves recorded", async () => {
    const dir = join(work, "runs");
    for (const n of [1, 2, 3]) {
      const r = await migrateTo(`${dir}/`);
      expect(r.code, r.stderr).toBe(0);
      expect(existsSync(join(dir, `ckpt-${n}.index`))).toBe(true);
    }
    const s = state(dir);
    expect(s.modelCheckpointPath).toBe("ckpt-3");
    expect(s.allModelCheckpointPaths).toEqual(["ckpt-1", "ckpt-2", "ckpt-3"]);
    // One timestamp per save, oldest first, all after last_preserved_timestamp, so that a later
    // CheckpointManager in this directory manages (and may sweep) them.
    expect(s.allModelCheckpointTimestamps).toHaveLength(3);
    const [t1, t2, t3] = s.allModelCheckpointTimestamps as [number, number, number];
    expect(t1 <= t2 && t2 <= t3).toBe(true);
    expect(s.lastPreservedTimestamp).toBeDefined();
    expect((s.lastPreservedTimestamp as number) < t1).toBe(true);
    expect(Math.abs(t3 - Date.now() / 1000)).toBeLessThan(600);
    // The directory resolves to the newest save.
    const c = await openCheckpoint(dir);
    expect(c.path).toBe(join(dir, "ckpt-3"));
    await c.close();
  });

  it("--force still keeps the saves recorded before", async () => {
    const dir = join(work, "forced");
    expect((await migrateTo(`${dir}/`)).code).toBe(0);
    expect((await migrateTo(dir, "--force")).code).toBe(0);
    expect(state(dir).allModelCheckpointPaths).toEqual(["ckpt-1", "ckpt-2"]);
  });

  it("an explicit prefix keeps Checkpoint.save's semantics: the state file names that save only", async () => {
    const dir = join(work, "explicit");
    expect((await migrateTo(join(dir, "ckpt-1"))).code).toBe(0);
    expect((await migrateTo(join(dir, "ckpt-7"))).code).toBe(2); // state file exists
    expect((await migrateTo(join(dir, "ckpt-7"), "--force")).code).toBe(0);
    expect(state(dir).allModelCheckpointPaths).toEqual(["ckpt-7"]);
  });

  it("an unreadable state file fails before anything is written (and --force replaces it)", async () => {
    const dir = join(work, "bad-state");
    mkdirSync(dir);
    writeFileSync(join(dir, "checkpoint"), "not a checkpoint state\n");
    const r = await migrateTo(`${dir}/`);
    expect(r.code).toBe(2);
    expect(readdirSync(dir)).toEqual(["checkpoint"]);
    expect((await migrateTo(`${dir}/`, "--force")).code).toBe(0);
    expect(state(dir).allModelCheckpointPaths).toEqual(["ckpt-1"]);
  });

  it("records a state without timestamps as a recovering manager reads it, and moves a re-saved path to the end", async () => {
    const dir = join(work, "recover");
    mkdirSync(dir);
    writeFileSync(
      join(dir, "checkpoint"),
      'model_checkpoint_path: "ckpt-2"\nall_model_checkpoint_paths: "ckpt-1"\nall_model_checkpoint_paths: "ckpt-2"\n',
    );
    await recordManagedSave(join(dir, "ckpt-1"), { now: 1000 });
    const s = state(dir);
    expect(s.modelCheckpointPath).toBe("ckpt-1");
    expect(s.allModelCheckpointPaths).toEqual(["ckpt-2", "ckpt-1"]);
    // No timestamps recorded: TF gives each last_preserved_timestamp (0 when absent).
    expect(s.allModelCheckpointTimestamps).toEqual([0, 1000]);
  });

  it("concurrent recorders are serialised: every save is recorded once", async () => {
    const dir = join(work, "concurrent");
    mkdirSync(dir);
    const names = Array.from({ length: 8 }, (_, i) => `ckpt-${i + 1}`);
    await Promise.all(names.map((n, i) => recordManagedSave(join(dir, n), { now: 2000 + i })));
    expect([...state(dir).allModelCheckpointPaths].sort()).toEqual([...names].sort());
    expect(readdirSync(dir)).toEqual(["checkpoint"]);
  });

  it("numbers past the highest ckpt-N in the directory", () => {
    const dir = join(work, "numbering");
    mkdirSync(dir);
    for (const f of ["ckpt-3.index", "ckpt-10.index", "ckpt-12.data-00000-of-00001", "other-99.index"])
      writeFileSync(join(dir, f), "");
    expect(nextManagedPrefix(dir)).toBe(join(dir, "ckpt-11"));
    expect(nextManagedPrefix(join(work, "absent"))).toBe(join(work, "absent", "ckpt-1"));
  });
});

/** The save_counter a checkpoint holds, after reading back every tensor (each CRC checked). */
async function savedCounter(prefix: string): Promise<bigint> {
  const r = await BundleReader.open(prefix);
  try {
    for (const v of r.list()) await r.readTensor(v.name);
    const t = await r.readTensor("save_counter/.ATTRIBUTES/VARIABLE_VALUE");
    if (t.kind !== "fixed") throw new Error("save_counter is not numeric");
    return new DataView(t.data.buffer, t.data.byteOffset, t.data.byteLength).getBigInt64(0, true);
  } finally {
    await r.close();
  }
}
const D = ".data-00000-of-00001";
const migrateInto = (output: string, more: Partial<Parameters<typeof migrate>[0]> = {}) =>
  migrate({ source: src, target: graph, mapping, output, ...more });

describe("migrate --output DIR/ whose ckpt-N another writer takes meanwhile saves as the next free ckpt-N", () => {
  it("a prefix taken between its choice and the commit: saved as the next, with its save_counter, and recorded", async () => {
    const dir = join(work, "race");
    await migrateInto(`${dir}/`);
    // Another writer commits ckpt-2 while this one writes it (after the output checks, before the
    // commit's links): its files, not yet recorded in the state file.
    let interloped = false;
    const report = await migrateInto(`${dir}/`, {
      onProgress: () => {
        if (interloped) return;
        interloped = true;
        for (const f of [D, ".index"]) copyFileSync(join(dir, `ckpt-1${f}`), join(dir, `ckpt-2${f}`));
      },
    });
    expect(report.output).toMatchObject({ prefix: join(dir, "ckpt-3"), written: true });
    expect(report.notes).toContain("ckpt-2 was taken by another writer; saved as ckpt-3");
    expect(await savedCounter(join(dir, "ckpt-3"))).toBe(3n);
    // The other writer's save is untouched (still its bytes: ckpt-1's, save_counter 1).
    expect(readFileSync(join(dir, `ckpt-2${D}`))).toEqual(readFileSync(join(dir, `ckpt-1${D}`)));
    expect(await savedCounter(join(dir, "ckpt-2"))).toBe(1n);
    const s = state(dir);
    expect(s.modelCheckpointPath).toBe("ckpt-3");
    expect(s.allModelCheckpointPaths).toEqual(["ckpt-1", "ckpt-3"]);
    expect(readdirSync(dir).filter((f) => f.includes("tfckpt-tmp"))).toEqual([]);
  });

  it("a prefix whose data file exists (found by the output checks): the next; --force still replaces it", async () => {
    const dir = join(work, "orphan-data");
    await migrateInto(`${dir}/`);
    copyFileSync(join(dir, `ckpt-1${D}`), join(dir, `ckpt-2${D}`)); // no index: numbered past by nothing
    const report = await migrateInto(`${dir}/`);
    expect(report.output.prefix).toBe(join(dir, "ckpt-3"));
    expect(report.notes).toContain("ckpt-2 was taken by another writer; saved as ckpt-3");
    expect(await savedCounter(join(dir, "ckpt-3"))).toBe(3n);
    const forced = await migrateInto(`${dir}/`, { force: true });
    expect(forced.output.prefix).toBe(join(dir, "ckpt-4"));
    expect(forced.notes.some((n) => n.includes("taken by another writer"))).toBe(false);
    // An explicit prefix that exists still fails.
    await expect(migrateInto(join(dir, "ckpt-3"), { writeState: false })).rejects.toBeInstanceOf(
      OutputExistsError,
    );
  });

  it("gives up after 5 prefixes taken, leaving nothing of its own behind", async () => {
    const dir = join(work, "crowded");
    await migrateInto(`${dir}/`);
    const taken: string[] = [];
    let last = Number.POSITIVE_INFINITY;
    const attempt = migrateInto(`${dir}/`, {
      onProgress: (done) => {
        // Each attempt's first tensor: another writer takes the prefix this attempt writes.
        if (done < last) {
          const p = nextManagedPrefix(dir);
          taken.push(p);
          writeFileSync(`${p}.index`, "");
        }
        last = done;
      },
    });
    await expect(attempt).rejects.toBeInstanceOf(OutputExistsError);
    expect(taken.map((p) => p.slice(dir.length + 1))).toEqual([
      "ckpt-2",
      "ckpt-3",
      "ckpt-4",
      "ckpt-5",
      "ckpt-6",
    ]);
    expect(readdirSync(dir).sort()).toEqual(
      [
        "checkpoint",
        `ckpt-1${D}`,
        "ckpt-1.index",
        ...taken.map((p) => `${p.slice(dir.length + 1)}.index`),
      ].sort(),
    );
    expect(state(dir).allModelCheckpointPaths).toEqual(["ckpt-1"]);
  });

  it("two migrations at once into one directory both save, under distinct numbers, and both restore", async () => {
    const dir = join(work, "two-at-once");
    const reports = await Promise.all([migrateInto(`${dir}/`), migrateInto(`${dir}/`)]);
    const prefixes = reports.map((r) => r.output.prefix as string).sort();
    expect(prefixes).toEqual([join(dir, "ckpt-1"), join(dir, "ckpt-2")]);
    expect(reports.every((r) => r.output.written)).toBe(true);
    for (const [i, p] of prefixes.entries()) expect(await savedCounter(p)).toBe(BigInt(i + 1));
    expect([...state(dir).allModelCheckpointPaths].sort()).toEqual(["ckpt-1", "ckpt-2"]);
    expect(readdirSync(dir).filter((f) => f.includes("tfckpt"))).toEqual([]);
  });
});

describe("rewrite SRC DIR/ keeps the source's name", () => {
  it("writes DIR/<source name>.index, not DIR/.index, and its state file beside it", async () => {
    const dir = join(work, "rewritten");
    const r = await cli("rewrite", src, `${dir}/`, "--update-state");
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(dir).sort()).toEqual([
      "checkpoint",
      "model.ckpt-1000.data-00000-of-00001",
      "model.ckpt-1000.index",
    ]);
    expect(state(dir).modelCheckpointPath).toBe("model.ckpt-1000");
    expect(r.stderr).toContain(join(dir, "model.ckpt-1000"));
  });

  it("an existing directory without a trailing slash is a directory too", async () => {
    const dir = join(work, "existing-dir");
    mkdirSync(dir);
    expect((await cli("rewrite", join(REPO, "fixtures", "v1", "snappy.ckpt"), dir)).code).toBe(0);
    expect(readdirSync(dir)).toContain("snappy.ckpt.index");
  });

  it("names: V1 shard patterns and Keras extensions are dropped; a name left empty is ckpt", () => {
    expect(checkpointBaseName("/a/model.ckpt-?????-of-00002")).toBe("model.ckpt");
    expect(checkpointBaseName("/a/model.weights.h5")).toBe("model");
    expect(checkpointBaseName("/a/m.keras")).toBe("m");
    expect(checkpointBaseName("/a/.weights.h5")).toBe("ckpt");
  });
});
