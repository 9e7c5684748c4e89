// writeObjectCheckpoint asks for the next small attribute's value while it writes this one (the
// read overlaps the write), never for the next large one (two large values never in memory).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BundleReader } from "../../src/bundle/reader.js";
import { targetFromJson } from "../../src/target/target.js";
import { type AttributeValue, writeObjectCheckpoint } from "../../src/target/write.js";

const work = mkdtempSync(join(tmpdir(), "tfckpt-prefetch-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Writes a graph of `shapes` float32 variables, logging each value asked for and each progress step. */
async function run(name: string, shapes: number[][], failAt?: number, readAhead = true) {
  const doc: Record<string, unknown> = {};
  shapes.forEach((shape, i) => {
    doc[`v${i}`] = { dtype: "float32", shape };
  });
  const target = targetFromJson(doc);
  const log: string[] = [];
  const prefix = join(work, name);
  const result = writeObjectCheckpoint(
    prefix,
    target,
    async (a): Promise<AttributeValue> => {
      const i = target.attributes.indexOf(a);
      log.push(`ask ${i}`);
      if (i === failAt) throw new Error(`no value for ${i}`);
      const n = a.shape.reduce((x, d) => x * d, 1);
      return { kind: "fixed", data: new Uint8Array(4 * n).fill(i + 1), owned: true };
    },
    { sync: false, readAhead, onProgress: (done) => log.push(`wrote ${done}`) },
  );
  return { result, log, prefix, target };
}

describe("writeObjectCheckpoint reads ahead", () => {
  it("asks for the next small value before the current one is written, and writes every value in order", async () => {
    const { result, log, prefix, target } = await run("small", [[4], [3, 2], [5]]);
    await result;
    expect(log).toEqual(["ask 0", "ask 1", "wrote 1", "ask 2", "wrote 2", "wrote 3"]);
    const r = await BundleReader.open(prefix);
    for (const [i, a] of target.attributes.entries()) {
      const t = await r.readTensor(a.checkpointKey);
      expect(t.kind === "fixed" && t.data.every((b) => b === i + 1)).toBe(true);
    }
    await r.close();
  });

  it("does not read ahead past a value over 32 MiB", async () => {
    const { result, log } = await run("large", [[4], [8 << 20, 1, 1, 2], [5]]);
    await result;
    // [8 Mi, 1, 1, 2] float32 = 64 MiB: neither asked for early nor held beside the next.
    expect(log).toEqual(["ask 0", "wrote 1", "ask 1", "wrote 2", "ask 2", "wrote 3"]);
  });

  it("a value that fails while the one before it is written fails the write, nothing left behind", async () => {
    const { result, log, prefix } = await run("fail", [[4], [2], [3]], 1);
    await expect(result).rejects.toThrow("no value for 1");
    expect(log).toEqual(["ask 0", "ask 1", "wrote 1"]);
    await expect(BundleReader.open(prefix)).rejects.toThrow();
  });

  it("reads nothing ahead unless asked to (a caller's values may share a buffer)", async () => {
    const { result, log } = await run("off", [[4], [3, 2], [5]], undefined, false);
    await result;
    expect(log).toEqual(["ask 0", "wrote 1", "ask 1", "wrote 2", "ask 2", "wrote 3"]);
  });
});
