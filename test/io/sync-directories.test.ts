import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { BundleReader } from "../../src/bundle/reader.js";
import { BundleWriter } from "../../src/bundle/writer.js";
import { WriteError } from "../../src/errors.js";
import { syncDirectories } from "../../src/io/atomic.js";
import { migrate } from "../../src/migrate.js";
import { F32, floats } from "../helpers/build.js";
import { REPO } from "../helpers/fixtures.js";

const dir = mkdtempSync(join(tmpdir(), "tfckpt-dirsync-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => {
  vi.restoreAllMocks();
});

const errno = (code: string) => Object.assign(new Error(`${code}: failed`), { code });

/**
 * Makes `fsync` fail with EIO on directories only (files still sync), through the prototype every
 * FileHandle shares, as test/bundle/write-errors.test.ts makes writes fail.
 */
async function failDirectorySync(): Promise<void> {
  const h = await open(join(dir, "probe"), "w");
  const proto = Object.getPrototypeOf(h) as FileHandle;
  await h.close();
  rmSync(join(dir, "probe"));
  const sync = proto.sync;
  vi.spyOn(proto, "sync").mockImplementation(async function (this: FileHandle) {
    if ((await this.stat()).isDirectory()) throw errno("EIO");
    return sync.call(this);
  });
}

describe("syncDirectories (a commit's renames made durable)", () => {
  it("flushes an existing directory, each distinct one once", async () => {
    await expect(syncDirectories([dir, dir, tmpdir()])).resolves.toBeUndefined();
  });

  it("reports a directory that cannot be opened as a WriteError naming it", async () => {
    const missing = join(dir, "gone");
    const e = await syncDirectories([missing]).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(WriteError);
    expect(String((e as Error).message) + JSON.stringify(e)).toContain("gone");
  });

  it("a failed directory fsync says the output is committed, not that the write failed", async () => {
    await failDirectorySync();
    const e = await syncDirectories([dir]).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(WriteError);
    expect((e as WriteError).file).toBe(dir);
    expect((e as WriteError).message).toBe(
      `output committed (its files are in place), but their directory entries may not be durable: cannot fsync the directory: input/output error (file ${dir})`,
    );
  });

  it("a commit whose directory fsync fails leaves the output in place and says so", async () => {
    const prefix = join(dir, "committed", "ckpt");
    const w = await BundleWriter.create(prefix, { sync: true });
    await w.add("a", F32, [2], floats(1, 2));
    await failDirectorySync();
    const e = await w.finish().catch((x: unknown) => x);
    vi.restoreAllMocks();
    expect(e).toBeInstanceOf(WriteError);
    expect((e as WriteError).message).toMatch(/^output committed \(its files are in place\)/);
    expect((e as WriteError).file).toBe(join(dir, "committed"));
    // Committed: the index and its shard are in place and read back; no temporary file is left.
    expect(existsSync(`${prefix}.index`)).toBe(true);
    expect(readdirSync(join(dir, "committed")).sort()).toEqual(["ckpt.data-00000-of-00001", "ckpt.index"]);
    const r = await BundleReader.open(prefix);
    try {
      const t = await r.readTensor("a");
      expect(t.kind === "fixed" ? [...new Float32Array(t.data.slice().buffer)] : []).toEqual([1, 2]);
    } finally {
      await r.close();
    }
  });
});

describe("a migration committed but not durable", () => {
  it("says that the checkpoint state file was not updated (it does not name the new save)", async () => {
    const out = join(dir, "managed");
    const run = () =>
      migrate({
        source: join(REPO, "fixtures", "tf1-mlp"),
        target: join(REPO, "mappings", "examples", "tf1-mlp.graph.json"),
        mapping: join(REPO, "mappings", "examples", "tf1-mlp.mapping.json"),
        output: `${out}/`,
      });
    await run();
    await failDirectorySync();
    const e = await run().catch((x: unknown) => x);
    vi.restoreAllMocks();
    expect(e).toBeInstanceOf(WriteError);
    expect((e as WriteError).committed).toBe(true);
    expect((e as WriteError).message).toMatch(/^output committed \(its files are in place\)/);
    expect((e as WriteError).message).toContain(
      `the checkpoint state file ${join(out, "checkpoint")} was not updated: it does not name this output`,
    );
    // The second save is in place; the state file still names the first, as the error says.
    expect(existsSync(join(out, "ckpt-2.index"))).toBe(true);
    expect(readFileSync(join(out, "checkpoint"), "utf8")).toMatch(/^model_checkpoint_path: "ckpt-1"/);
  });

  it("only the commit's directory sync marks a WriteError committed", async () => {
    const e = await syncDirectories([join(dir, "gone")]).catch((x: unknown) => x);
    expect((e as WriteError).committed).toBe(true);
    expect(new WriteError("no space left on device", dir).committed).toBe(false);
  });
});
