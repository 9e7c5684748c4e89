// A `value` rule's transforms are applied to the constant (built in the target's dtype and shape),
// and the report lists exactly the transforms that were applied, with the written CRC.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { BundleReader } from "../../src/bundle/reader.js";
import { hex32 } from "../../src/errors.js";
import { migrate } from "../../src/migrate.js";
import { REPO } from "../helpers/fixtures.js";
import { bytesOf, f32s } from "../helpers/values.js";

const work = mkdtempSync(join(tmpdir(), "tfckpt-value-tr-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const W = "/.ATTRIBUTES/VARIABLE_VALUE";

it("value rules: transforms are applied and reported as applied", async () => {
  const out = join(work, "ckpt-1");
  const forget = { op: "add", value: 1, axis: 0, blocks: 4, block: 1 } as const;
  const lr = { op: "add", value: 0.25 } as const;
  const report = await migrate({
    source: join(REPO, "fixtures", "tf1-mlp"),
    target: join(REPO, "test", "helpers", "keras2-mlp.graph.json"),
    mapping: {
      assignments: [
        { from: "dense/kernel", to: "model/layer_with_weights-0/kernel" },
        { value: 0, to: "model/layer_with_weights-0/bias", transforms: [forget] },
        { from: "dense_1/", to: "model/layer_with_weights-1/" },
        { value: 0.9, to: "optimizer/beta_1" },
        { value: 0.999, to: "optimizer/beta_2" },
        { value: 0, to: "optimizer/decay" },
        { value: 0.5, to: "optimizer/learning_rate", transforms: [lr] },
      ],
      ignore: ["beta1_power", "beta2_power", "dense/bias*"],
      optimizer: { preset: "adam" },
    },
    output: out,
    allowPartial: true,
  });
  expect(report.problems).toEqual([]);
  expect(f32s(await bytesOf(out, `model/layer_with_weights-0/bias${W}`))).toEqual([0, 0, 1, 1, 0, 0, 0, 0]);
  expect(f32s(await bytesOf(out, `optimizer/learning_rate${W}`))).toEqual([0.75]);
  const byTarget = new Map(report.assignments.map((a) => [a.target, a]));
  expect(byTarget.get(`model/layer_with_weights-0/bias${W}`)?.transforms).toEqual([forget]);
  expect(byTarget.get(`optimizer/learning_rate${W}`)?.transforms).toEqual([lr]);
  const r = await BundleReader.open(out);
  for (const a of report.assignments) expect(a.crc32c).toBe(hex32(r.entry(a.target)?.proto.crc32c ?? -1));
  await r.close();
});
