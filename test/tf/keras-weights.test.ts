// Keras 3 weights, judged by Keras 3.15 (test/tf/keras_check.py): tfckpt migrates the TF1 MLP
// trained with Adam (fixtures/tf-2.21/tf1-mlp-adam) into a `.weights.h5` and a `.keras` laid out as
// templates Keras saved from the freshly built model; Keras loads both, predicts what the TF1 graph
// predicts, and its own `.weights.h5` of the same model holds the same groups, attributes,
// datasets, dtypes, shapes and bytes. Reading Keras-written files lists what h5py lists.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { openCheckpoint } from "../../src/checkpoint/open.js";
import { draftMappingFiles } from "../../src/draft-mapping.js";
import { migrate } from "../../src/migrate.js";
import { REPO } from "../helpers/fixtures.js";
import { CORPUS, oracle, Tally } from "./helpers.js";

const TF1 = join(CORPUS, "tf1-mlp-adam", "model.ckpt-3");
const KERAS_FIXTURES = join(REPO, "fixtures", "keras-3.15");
const dir = mkdtempSync(join(tmpdir(), "tfckpt-keras3-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The TF1 MLP → Keras 3 MLP map, shared with the ordinary Keras tests. */
const MAP = JSON.parse(readFileSync(join(KERAS_FIXTURES, "mlp.mapping.json"), "utf8")) as {
  assignments: { from: string; to: string }[];
  ignore: string[];
};

interface Check {
  weights_max_abs: number;
  archive_max_abs: number;
  archive_class: string;
  layout_entries: number;
  layout_diffs: string[];
}

describe("Keras 3 weights: tfckpt writes what Keras 3 loads", () => {
  test("TF1 MLP (Adam) → .weights.h5 and .keras: load_weights, load_model, predictions, layout", async () => {
    await oracle({ op: "templates", dir }, "keras_check.py");
    const weights = join(dir, "tfckpt.weights.h5");
    const archive = join(dir, "tfckpt.keras");
    for (const [output, target] of [
      [weights, join(dir, "template.weights.h5")],
      [archive, join(dir, "template.keras")],
    ] as const) {
      const report = await migrate({ source: TF1, target, mapping: MAP, output });
      expect(report.output.written).toBe(true);
      expect(report.verdicts.assertConsumed.passed).toBe(true);
      expect(report.assignments).toHaveLength(4);
    }
    const r = await oracle<Check>({ op: "check", dir, tf1: TF1, weights, archive }, "keras_check.py");
    console.log(
      `keras: load_weights max |Δ| ${r.weights_max_abs}, load_model max |Δ| ${r.archive_max_abs} (${r.archive_class}); ` +
        `${r.layout_entries} HDF5 objects compared, ${r.layout_diffs.length} differ`,
    );
    expect(r.weights_max_abs).toBeLessThanOrEqual(1e-6);
    expect(r.archive_max_abs).toBeLessThanOrEqual(1e-6);
    expect(r.archive_class).toBe("Functional");
    expect(r.layout_entries).toBeGreaterThan(10);
    expect(r.layout_diffs).toEqual([]);
  });

  test("with the optimizer state (Adam slots, global_step → optimizer/vars/0..9) one more step matches TF1 (drafted map)", async () => {
    // Runs after the first test, which wrote the templates. The map is drafted by tfckpt
    // (weights, global_step and Adam slots onto optimizer/vars/N); only the learning rate is added.
    const draft = await draftMappingFiles(TF1, join(dir, "template-adam.weights.h5"));
    expect(draft.map.assignments).toHaveLength(13);
    const map = {
      assignments: [
        ...draft.map.assignments.map((a) => ({ from: a.from, to: a.to })),
        { value: 0.01, to: "optimizer/vars/1" },
      ],
      ignore: draft.map.ignore,
    };
    const weights = join(dir, "tfckpt-adam.weights.h5");
    const report = await migrate({
      source: TF1,
      target: join(dir, "template-adam.weights.h5"),
      mapping: map,
      output: weights,
    });
    expect(report.verdicts.assertConsumed.passed).toBe(true);
    expect(report.assignments).toHaveLength(14);
    const r = await oracle<{ iterations: number; max_abs: number; weights: number }>(
      { op: "step", tf1: TF1, weights },
      "keras_check.py",
    );
    console.log(
      `keras: optimizer iterations ${r.iterations}; after one more Adam step, max |Δ| ${r.max_abs} over ${r.weights} weights`,
    );
    expect(r.iterations).toBe(3);
    expect(r.weights).toBe(4);
    expect(r.max_abs).toBeLessThanOrEqual(1e-6);
  });

  test("nested model (Sequential in Functional, BatchNormalization, Embedding): Keras loads tfckpt's file", async () => {
    await oracle({ op: "nested", dir }, "keras_check.py");
    const weights = join(dir, "tfckpt-nested.weights.h5");
    // A scope rule from the root to the root: every dataset from the trained file by its path
    // (the trained file also holds its Adam state, which the fresh template has not).
    const report = await migrate({
      source: join(dir, "nested-source.weights.h5"),
      target: join(dir, "nested-template.weights.h5"),
      mapping: { assignments: [{ from: "/", to: "/" }], ignore: ["optimizer/*"] },
      output: weights,
    });
    expect(report.verdicts.assertConsumed.passed).toBe(true);
    expect(report.assignments).toHaveLength(9);
    const r = await oracle<{ predict_max_abs: number; weights_max_abs: number; weights: number }>(
      { op: "nested", dir, weights },
      "keras_check.py",
    );
    console.log(
      `keras: nested model, ${r.weights} weights, max |Δ| ${r.weights_max_abs}; predictions max |Δ| ${r.predict_max_abs}`,
    );
    expect(r.weights).toBe(9);
    expect(r.weights_max_abs).toBe(0);
    expect(r.predict_max_abs).toBe(0);
  });

  test("reading Keras-written .weights.h5: every dataset with h5py's dtype and shape", async () => {
    const files = [
      ...readdirSync(KERAS_FIXTURES)
        .filter((f) => f.endsWith(".weights.h5"))
        .map((f) => join(KERAS_FIXTURES, f)),
      join(dir, "template.weights.h5"),
      join(dir, "keras-own.weights.h5"),
      join(dir, "nested-source.weights.h5"),
      join(dir, "template-adam.weights.h5"),
    ];
    const want = await oracle<Record<string, Record<string, { dtype: string; shape: number[] }>>>(
      { op: "describe", files },
      "keras_check.py",
    );
    const listing = new Tally("Keras-written datasets (name, dtype, shape)");
    for (const f of files) {
      const r = await openCheckpoint(f);
      try {
        const got = new Map(r.list().map((v) => [v.name, v]));
        const w = want[f] ?? {};
        for (const name of new Set([...got.keys(), ...Object.keys(w)])) {
          const g = got.get(name);
          const x = w[name];
          listing.check(
            g !== undefined &&
              x !== undefined &&
              g.dtype.name === x.dtype &&
              g.shape.join() === x.shape.join(),
            () =>
              `${f} ${name}: tfckpt ${g ? `${g.dtype.name}[${g.shape}]` : "absent"}, h5py ${x ? `${x.dtype}[${x.shape}]` : "absent"}`,
          );
        }
      } finally {
        await r.close();
      }
    }
    console.log(`${files.length} files: ${listing.summary()}`);
    expect(listing.agreements).toBeGreaterThan(30);
    expect(listing.disagreements).toEqual([]);
  });
});
