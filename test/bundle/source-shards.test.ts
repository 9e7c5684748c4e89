// BundleWriter's linked and copied source shards: each must name an output shard that no other
// linked or copied shard took; the writer leaves nothing behind when one does not.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BundleWriter } from "../../src/bundle/writer.js";

const work = mkdtempSync(join(tmpdir(), "tfckpt-source-shards-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const source = join(work, "source.data");
writeFileSync(source, new Uint8Array(16));

describe("linked and copied source shards", () => {
  it.each([
    [{ linked: [{ shard: 2, source }] }, "linked shard 2 out of range or given twice (2 shards)"],
    [{ linked: [{ shard: 0.5, source }] }, "linked shard 0.5 out of range or given twice (2 shards)"],
    [
      {
        linked: [
          { shard: 1, source },
          { shard: 1, source },
        ],
      },
      "linked shard 1 out of range or given twice (2 shards)",
    ],
    [{ copied: [{ shard: -1, source }] }, "copied shard -1 out of range or given twice (2 shards)"],
    [
      { linked: [{ shard: 1, source }], copied: [{ shard: 1, source }] },
      "copied shard 1 out of range or given twice (2 shards)",
    ],
    [
      {
        copied: [
          { shard: 0, source },
          { shard: 0, source },
        ],
      },
      "copied shard 0 out of range or given twice (2 shards)",
    ],
  ])("%j is refused", async (options, message) => {
    const dir = mkdtempSync(join(work, "out-"));
    await expect(BundleWriter.create(join(dir, "ckpt"), { numShards: 2, ...options })).rejects.toThrow(
      message,
    );
    expect(readdirSync(dir)).toEqual([]);
  });
});
