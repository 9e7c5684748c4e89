// Reused buffers under load: a migrate that transposes many tensors of one byte size (each ≥
// POOLED_BYTES, so the read buffers and transform outputs cycle through io/buffer-pool while values
// are read ahead and written behind) writes every tensor's own transposed bytes, with its CRC.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BundleReader } from "../../src/bundle/reader.js";
import { BundleWriter } from "../../src/bundle/writer.js";
import { dtypeFromName } from "../../src/dtypes.js";
import { POOLED_BYTES } from "../../src/io/buffer-pool.js";
import { migrate } from "../../src/migrate.js";
import { validateCheckpoint } from "../../src/validate.js";

const work = mkdtempSync(join(tmpdir(), "tfckpt-pooled-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const [ROWS, COLS] = [512, 640]; // float32: 1.25 MiB per tensor
const COUNT = 24;

/** out[j, i] = in[i, j] for float32 [rows, cols]. */
function transposed(data: Uint8Array, rows: number, cols: number): Buffer {
  const out = Buffer.alloc(data.length);
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < cols; j++)
      out.set(data.subarray((i * cols + j) * 4, (i * cols + j + 1) * 4), (j * rows + i) * 4);
  return out;
}

describe("migrate with transforms through the buffer pool", () => {
  it("writes each tensor's own transposed bytes when buffers are reused across tensors", async () => {
    expect(ROWS * COLS * 4).toBeGreaterThanOrEqual(POOLED_BYTES);
    const src = join(work, "src", "model.ckpt-1");
    const f32 = dtypeFromName("float32");
    const inputs: Uint8Array[] = [];
    const w = await BundleWriter.create(src, { sync: false });
    for (let i = 0; i < COUNT; i++) {
      const data = new Uint8Array(randomBytes(ROWS * COLS * 4));
      inputs.push(data);
      await w.add(`layer_${i}/kernel`, f32, [ROWS, COLS], data);
    }
    await w.finish();
    const graph: Record<string, unknown> = {};
    for (let i = 0; i < COUNT; i++)
      graph[`layer_${i}`] = { kernel: { dtype: "float32", shape: [COLS, ROWS] } };
    const target = join(work, "graph.json");
    writeFileSync(target, JSON.stringify({ model: graph }));
    const mapping = join(work, "map.json");
    writeFileSync(
      mapping,
      JSON.stringify({
        assignments: [{ from: "/", to: "model/", transforms: [{ op: "transpose", perm: [1, 0] }] }],
      }),
    );
    const out = join(work, "out", "ckpt-1");
    const report = await migrate({ source: src, target, mapping, output: out, writeState: false });
    expect(report.output.written).toBe(true);
    const r = await BundleReader.open(out);
    try {
      for (let i = 0; i < COUNT; i++) {
        const t = await r.readTensor(`model/layer_${i}/kernel/.ATTRIBUTES/VARIABLE_VALUE`);
        expect(t.kind).toBe("fixed");
        if (t.kind !== "fixed") continue;
        expect(t.shape).toEqual([COLS, ROWS]);
        expect(Buffer.from(t.data).equals(transposed(inputs[i] as Uint8Array, ROWS, COLS))).toBe(true);
      }
    } finally {
      await r.close();
    }
    expect((await validateCheckpoint(out)).integrity.failures).toEqual([]);
  });
});
