// Write failures (full disk, quota, read-only file system, no permission) become WriteErrors
// naming the file, and leave no temporary files or directories behind. The disk cannot be
// filled here (and root ignores permissions), so the FileHandle's write/sync fail on purpose.
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { BundleWriter } from "../../src/bundle/writer.js";
import { WriteError } from "../../src/errors.js";
import { writeError } from "../../src/io/atomic.js";
import { migrate } from "../../src/migrate.js";
import { F32, floats } from "../helpers/build.js";
import { REPO } from "../helpers/fixtures.js";

const work = mkdtempSync(join(tmpdir(), "tfckpt-write-errors-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
afterEach(() => {
  vi.restoreAllMocks();
});

const errno = (code: string) => Object.assign(new Error(`${code}: failed`), { code });

interface HandleMethods {
  write(...args: unknown[]): Promise<unknown>;
  sync(): Promise<void>;
}

/** The prototype every FileHandle shares, so that its methods can be made to fail. */
async function handleProto(): Promise<HandleMethods> {
  const h = await open(join(work, "probe"), "w");
  const proto = Object.getPrototypeOf(h) as HandleMethods;
  await h.close();
  rmSync(join(work, "probe"));
  return proto;
}

describe("write errors", () => {
  it("errno codes become WriteErrors in plain words naming the file", () => {
    for (const [code, words] of [
      ["ENOSPC", "no space left on device"],
      ["EACCES", "permission denied"],
      ["EROFS", "read-only file system"],
      ["EDQUOT", "disk quota exceeded"],
    ]) {
      const e = writeError(errno(code as string), "/out/ckpt.index");
      expect(e).toBeInstanceOf(WriteError);
      expect(e.code).toBe("write-failed");
      expect(e.message).toBe(`cannot write: ${words} (file /out/ckpt.index)`);
    }
  });

  it("a full disk while writing data: WriteError naming the shard, no temporary files", async () => {
    const dir = join(work, "enospc");
    const prefix = join(dir, "ckpt");
    const w = await BundleWriter.create(prefix, { sync: false });
    vi.spyOn(await handleProto(), "write").mockRejectedValue(errno("ENOSPC"));
    const e = await w.add("a", F32, [2], floats(1, 2)).catch((x: unknown) => x);
    await w.abort();
    expect(e).toBeInstanceOf(WriteError);
    expect((e as WriteError).message).toBe(
      `cannot write: no space left on device (file ${prefix}.data-00000-of-00001)`,
    );
    // The directory the writer created is gone again, with every temporary file.
    expect(readdirSync(work)).not.toContain("enospc");
  });

  it("a failing fsync at commit (quota): WriteError, nothing left", async () => {
    const dir = join(work, "edquot");
    const prefix = join(dir, "ckpt");
    const w = await BundleWriter.create(prefix, { sync: true });
    await w.add("a", F32, [2], floats(1, 2));
    vi.spyOn(await handleProto(), "sync").mockRejectedValue(errno("EDQUOT"));
    const e = await w.finish().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(WriteError);
    expect((e as Error).message).toMatch(/disk quota exceeded/);
    expect(readdirSync(work)).not.toContain("edquot");
  });

  it("migrate on a full disk: WriteError, the output directory is not left behind", async () => {
    vi.spyOn(await handleProto(), "write").mockRejectedValue(errno("ENOSPC"));
    const e = await migrate({
      source: join(REPO, "fixtures", "tf1-mlp"),
      target: join(REPO, "mappings", "examples", "tf1-mlp.graph.json"),
      mapping: join(REPO, "mappings", "examples", "tf1-mlp.mapping.json"),
      output: join(work, "migrate-out", "ckpt-1"),
    }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(WriteError);
    expect((e as WriteError).file).toMatch(/ckpt-1\.data-00000-of-00001$/);
    expect(readdirSync(work)).not.toContain("migrate-out");
  });
});
