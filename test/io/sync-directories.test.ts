import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { WriteError } from "../../src/errors.js";
import { syncDirectories } from "../../src/io/atomic.js";

const dir = mkdtempSync(join(tmpdir(), "tfckpt-dirsync-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

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
});
