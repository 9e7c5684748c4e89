// The proof of the writers: re-writing every real TF-written V2 fixture with default options
// reproduces its .index and data files byte for byte.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { rewriteCheckpoint } from "../../src/rewrite.js";
import { expectedCheckpoints, hasDataShards, prefixOf } from "../helpers/fixtures.js";

const work = mkdtempSync(join(tmpdir(), "tfckpt-rewrite-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("rewrite reproduces real TF bundles byte for byte", () => {
  const cases = expectedCheckpoints().filter((c) => c.format === "v2" && hasDataShards(c.file));
  cases.forEach((c, i) => {
    it(`${c.fixture}: ${basename(c.file)}`, async () => {
      const src = prefixOf(c.file);
      const dst = join(work, `case${i}`, basename(src));
      await rewriteCheckpoint(src, dst);
      const srcFiles = readdirSync(dirname(src)).filter(
        (f) => f.startsWith(`${basename(src)}.`) && !f.endsWith(".meta"),
      );
      const dstFiles = readdirSync(dirname(dst));
      expect(dstFiles.sort()).toEqual(srcFiles.sort());
      for (const f of srcFiles) {
        expect(
          Buffer.compare(readFileSync(join(dirname(dst), f)), readFileSync(join(dirname(src), f))),
          f,
        ).toBe(0);
      }
    });
  });
});
