// Atomic output: a failed write leaves the destination exactly as it was, and no stray files.
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BundleWriter } from "../../src/bundle/writer.js";
import { OutputExistsError, UsageError } from "../../src/errors.js";
import { rewriteCheckpoint } from "../../src/rewrite.js";
import { F32, floats, smallBundle } from "../helpers/build.js";

const work = mkdtempSync(join(tmpdir(), "tfckpt-atomic-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const snapshot = (dir: string) =>
  Object.fromEntries(
    readdirSync(dir)
      .sort()
      .map((f) => [f, readFileSync(join(dir, f)).toString("hex")]),
  );

describe("atomic bundle output", () => {
  it("an error mid-write leaves the previous checkpoint untouched and no temp files", async () => {
    const dir = join(work, "a");
    const prefix = join(dir, "ckpt");
    await smallBundle(prefix);
    const before = snapshot(dir);
    const w = await BundleWriter.create(prefix, { force: true, sync: false });
    await w.add("x", F32, [1], floats(9));
    await expect(w.add("y", F32, [3], floats(1))).rejects.toThrow(UsageError); // 4 bytes for 12
    await w.abort();
    expect(snapshot(dir)).toEqual(before);
  });

  it("a rewrite whose source fails half-way leaves nothing at the destination", async () => {
    const src = join(work, "b", "src");
    await smallBundle(src);
    const data = readFileSync(`${src}.data-00000-of-00001`);
    data[9] = (data[9] as number) ^ 1; // b's CRC fails after a was written
    writeFileSync(`${src}.data-00000-of-00001`, data);
    const dstDir = join(work, "b-out");
    mkdirSync(dstDir);
    await expect(rewriteCheckpoint(src, join(dstDir, "dst"))).rejects.toThrow(/checksum does not match/);
    expect(readdirSync(dstDir)).toEqual([]);
  });

  it("refuses to overwrite without force, and to write through a symlink", async () => {
    const prefix = join(work, "c", "ckpt");
    await smallBundle(prefix);
    await expect(BundleWriter.create(prefix)).rejects.toBeInstanceOf(OutputExistsError);
    const link = join(work, "c", "link");
    symlinkSync(`${prefix}.index`, `${link}.index`);
    await expect(BundleWriter.create(link, { force: true })).rejects.toThrow(/symbolic link/);
  });
});
