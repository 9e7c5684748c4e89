// Valid but extreme: checkpoints with more entries than a JS call can take as spread arguments
// (~120 000) must work; every list is built without spreading into a call.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BundleReader } from "../../src/bundle/reader.js";
import { BundleWriter } from "../../src/bundle/writer.js";
import { dtypeFromName } from "../../src/dtypes.js";
import { MAX_SLICES_PER_TENSOR } from "../../src/limits.js";

const work = mkdtempSync(join(tmpdir(), "tfckpt-large-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("more than 120 000 slice entries (hostile issue item 10)", () => {
  it("storedEntries lists every slice of 32 partitioned tensors × 4096 slices", async () => {
    const prefix = join(work, "many-slices");
    const f32 = dtypeFromName("float32");
    const w = await BundleWriter.create(prefix, { sync: false });
    const tensors = 32;
    const one = new Uint8Array(4);
    for (let t = 0; t < tensors; t++) {
      for (let i = 0; i < MAX_SLICES_PER_TENSOR; i++) {
        await w.addSlice(`t${t}`, [MAX_SLICES_PER_TENSOR], [{ start: i, length: 1 }], f32, one);
      }
    }
    await w.finish();
    const r = await BundleReader.open(prefix);
    try {
      expect(r.list()).toHaveLength(tensors);
      expect(r.storedEntries()).toHaveLength(tensors * MAX_SLICES_PER_TENSOR);
    } finally {
      await r.close();
    }
  });
});
