// Migrations of real TF-written checkpoints from fixtures/real onto JSON target graphs,
// exercising scope, pattern, exact-with-transform, ignore, optimizer presets, EMA, templates and
// failures; every written value is compared with the source bit for bit (or its exact transform).
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openCheckpoint } from "../../src/checkpoint/open.js";
import { InvalidDocumentError } from "../../src/errors.js";
import { migrate } from "../../src/migrate.js";
import type { FixedTensor } from "../../src/tensor.js";
import { applyTransform } from "../../src/transforms/index.js";
import { cli } from "../helpers/cli.js";
import { REPO, TF_FIXTURES } from "../helpers/fixtures.js";
import { bytesOf, readAll } from "../helpers/values.js";

const work = mkdtempSync(join(tmpdir(), "tfckpt-real-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const W = "/.ATTRIBUTES/VARIABLE_VALUE";
const tfx = join(TF_FIXTURES, "tfx-2019-estimator-2shards", "serving_model_dir");

/** A Keras-style target for the TFX taxi estimator (DNN + linear, Adagrad + Ftrl). */
async function tfxTarget(): Promise<string> {
  const src = await openCheckpoint(tfx);
  const shape = (n: string) => [...(src.get(n)?.shape ?? [])];
  await src.close();
  const v = (n: string, slots?: object) => ({
    dtype: "float32",
    shape: shape(n),
    fullName: n,
    ...(slots ? { slots } : {}),
  });
  const dnn: Record<string, unknown> = {};
  for (let i = 0; i < 4; i++) {
    dnn[`layer_with_weights-${i}`] = {
      kernel: v(`dnn/hiddenlayer_${i}/kernel`, { dnn_optimizer: { accumulator: {} } }),
      bias: v(`dnn/hiddenlayer_${i}/bias`, { dnn_optimizer: { accumulator: {} } }),
    };
  }
  // logits: stored [34, 1] by TF1, wanted [1, 34] (a transpose); bias [1] wanted as a scalar.
  dnn["layer_with_weights-4"] = {
    kernel: { dtype: "float32", shape: [1, 34], slots: { dnn_optimizer: { accumulator: {} } } },
    bias: { dtype: "float32", shape: [], slots: { dnn_optimizer: { accumulator: {} } } },
  };
  const linear: Record<string, unknown> = {};
  for (const f of ["company_xf", "dropoff_latitude_xf", "payment_type_xf"]) {
    linear[f] = {
      weights: v(`linear/linear_model/${f}/weights`, { linear_optimizer: { accumulator: {}, linear: {} } }),
    };
  }
  const doc = {
    model: { dnn, linear },
    dnn_optimizer: {
      $name: "Adagrad",
      iter: { dtype: "int64", shape: [] },
      learning_rate: { dtype: "float32", shape: [] },
    },
    linear_optimizer: { $name: "Ftrl", learning_rate: { dtype: "float32", shape: [] } },
  };
  const file = join(work, "tfx.graph.json");
  writeFileSync(file, JSON.stringify(doc));
  return file;
}

const tfxMap = {
  assignments: [
    { fromPattern: "^dnn/hiddenlayer_(\\d+)/(kernel|bias)$", to: "model/dnn/layer_with_weights-$1/$2" },
    {
      from: "dnn/logits/kernel",
      to: "model/dnn/layer_with_weights-4/kernel",
      transforms: [{ op: "transpose", perm: [1, 0] }],
    },
    {
      from: "dnn/logits/bias",
      to: `model/dnn/layer_with_weights-4/bias${W}`,
      transforms: [{ op: "squeeze", axis: 0 }],
    },
    {
      from: "dnn/logits/kernel/Adagrad",
      to: "model/dnn/layer_with_weights-4/kernel/.OPTIMIZER_SLOT/dnn_optimizer/accumulator",
      transforms: [{ op: "transpose", perm: [1, 0] }],
    },
    {
      from: "dnn/logits/bias/Adagrad",
      to: "model/dnn/layer_with_weights-4/bias/.OPTIMIZER_SLOT/dnn_optimizer/accumulator",
      transforms: [{ op: "reshape", shape: [] }],
    },
    { from: "linear/linear_model/", to: "model/linear/" },
    {
      fromPattern: "^linear/linear_model/(\\w+)/weights/Ftrl$",
      to: "model/linear/$1/weights/.OPTIMIZER_SLOT/linear_optimizer/accumulator",
    },
    {
      fromPattern: "^linear/linear_model/(\\w+)/weights/Ftrl_1$",
      to: "model/linear/$1/weights/.OPTIMIZER_SLOT/linear_optimizer/linear",
    },
    { value: 0.05, to: "dnn_optimizer/learning_rate" },
    { value: 0.1, to: "linear_optimizer/learning_rate" },
  ],
  ignore: [
    "linear/linear_model/bias_weights*",
    "linear/linear_model/*_l*itude_xf/*",
    "linear/linear_model/trip_start_*",
    "linear/linear_model/*/part_*",
  ],
  optimizer: { preset: "adagrad", path: "dnn_optimizer" },
};

describe("a real TF1 estimator (2 shards, Adagrad + Ftrl) onto a Keras-style graph", () => {
  it("assigns every target with the right rule and writes exact values", async () => {
    const target = await tfxTarget();
    const out = join(work, "tfx", "ckpt-1");
    const report = await migrate({ source: tfx, target, mapping: tfxMap, output: out });
    expect(report.problems).toEqual([]);
    expect(report.unassignedTargets).toEqual([]);
    expect(report.unusedSources.unmatched).toEqual([]);
    expect(report.verdicts.assertConsumed.passed).toBe(true);
    const kinds = Object.fromEntries(report.assignments.map((a) => [a.target.replace(W, ""), a.rule.kind]));
    expect(kinds["model/dnn/layer_with_weights-2/kernel"]).toBe("pattern");
    expect(kinds["model/dnn/layer_with_weights-2/kernel/.OPTIMIZER_SLOT/dnn_optimizer/accumulator"]).toBe(
      "optimizer",
    );
    expect(kinds["model/linear/company_xf/weights"]).toBe("scope");
    expect(kinds["model/linear/company_xf/weights/.OPTIMIZER_SLOT/linear_optimizer/linear"]).toBe("pattern");
    expect(kinds["dnn_optimizer/iter"]).toBe("global-step");

    const names = [
      "dnn/hiddenlayer_2/kernel",
      "dnn/hiddenlayer_2/kernel/Adagrad",
      "dnn/logits/kernel",
      "dnn/logits/bias",
      "linear/linear_model/company_xf/weights/Ftrl_1",
      "global_step",
    ];
    const s = await readAll(tfx, names);
    const o = await readAll(out, [
      `model/dnn/layer_with_weights-2/kernel${W}`,
      `model/dnn/layer_with_weights-2/kernel/.OPTIMIZER_SLOT/dnn_optimizer/accumulator${W}`,
      `model/dnn/layer_with_weights-4/kernel${W}`,
      `model/dnn/layer_with_weights-4/bias${W}`,
      `model/linear/company_xf/weights/.OPTIMIZER_SLOT/linear_optimizer/linear${W}`,
      `dnn_optimizer/iter${W}`,
    ]);
    const sv = names.map((n) => (s.get(n) as FixedTensor).data);
    const ov = [...o.values()].map((t) => (t as FixedTensor).data);
    expect(ov[0]).toEqual(sv[0]);
    expect(ov[1]).toEqual(sv[1]);
    expect(ov[2]).toEqual(
      applyTransform({ op: "transpose", perm: [1, 0] }, s.get("dnn/logits/kernel") as FixedTensor).data,
    );
    expect(ov[3]).toEqual(sv[3]);
    expect(ov[4]).toEqual(sv[4]);
    expect(ov[5]).toEqual(sv[5]);
  });

  it("fails assert_consumed, writes nothing and names what is missing and unused", async () => {
    const target = await tfxTarget();
    const out = join(work, "tfx-fail", "ckpt-1");
    const partialMap = {
      ...tfxMap,
      assignments: tfxMap.assignments.filter((a) => a.to !== "model/linear/"),
      ignore: [],
    };
    const reportFile = join(work, "fail-report.json");
    const r = await cli(
      "migrate",
      "--source",
      tfx,
      "--target",
      target,
      "--mapping",
      writeMap(partialMap),
      "--output",
      out,
      "--report",
      reportFile,
    );
    expect(r.code).toBe(1);
    expect(() => readdirSync(join(work, "tfx-fail"))).toThrow();
    const report = JSON.parse(
      (await import("node:fs")).readFileSync(reportFile, "utf8"),
    ) as import("../../src/report/migration.js").MigrationReport;
    expect(report.output.written).toBe(false);
    expect(report.unassignedTargets.map((u) => u.target)).toEqual([
      `model/linear/company_xf/weights${W}`,
      `model/linear/dropoff_latitude_xf/weights${W}`,
      `model/linear/payment_type_xf/weights${W}`,
    ]);
    expect(report.unusedSources.unmatched).toContain("linear/linear_model/bias_weights");
    expect(report.verdicts.assertExistingObjectsMatched.message).toBe(
      "Found 3 Python objects that were not bound to checkpointed values, likely due to changes in the Python program. Showing 3 of 3 unmatched objects: ['(root).model.linear.company_xf.weights', '(root).model.linear.dropoff_latitude_xf.weights', '(root).model.linear.payment_type_xf.weights']",
    );
    expect(report.verdicts.assertNontrivialMatch.passed).toBe(true);
    expect(r.stdout).toMatch(/UNASSIGNED \(root\)\.model\.linear\.company_xf\.weights/);
    expect(r.stdout).toMatch(/UNUSED source linear\/linear_model\/bias_weights/);
    expect(r.stdout).toMatch(/nothing written: the result would not pass assert_consumed/);

    // --allow-partial writes what could be assigned, leaving the rest out of the graph.
    const p = await migrate({ source: tfx, target, mapping: partialMap, output: out, allowPartial: true });
    expect(p.output.written).toBe(true);
    const c = await openCheckpoint(out);
    expect(c.get(`model/linear/company_xf/weights${W}`)).toBeUndefined();
    expect((await c.verify()).failures).toEqual([]);
    await c.close();
  });
});

function writeMap(m: object): string {
  const f = join(work, `map-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(f, JSON.stringify(m));
  return f;
}

describe("mapping semantics", () => {
  const mlp = join(REPO, "fixtures", "tf1-mlp");
  const graph = join(REPO, "test", "helpers", "keras2-mlp.graph.json");

  it("reports a target reached by two rules, a shape mismatch and a dtype mismatch, TF style", async () => {
    const report = await migrate({
      source: mlp,
      target: graph,
      dryRun: true,
      mapping: {
        assignments: [
          { from: "dense/kernel", to: "model/layer_with_weights-0/kernel" },
          { from: "dense/kernel/Adam", to: "model/layer_with_weights-0/kernel" },
          { from: "dense_1/kernel", to: "model/layer_with_weights-0/bias" },
          { from: "global_step", to: "optimizer/beta_1" },
        ],
      },
    });
    const msgs = report.problems.map((p) => `${p.kind}: ${p.message}`);
    expect(msgs).toContain(
      'assigned-twice: (root).model.layer_with_weights-0.kernel is assigned by 2 rules: #0 "dense/kernel" → "model/layer_with_weights-0/kernel"; #1 "dense/kernel/Adam" → "model/layer_with_weights-0/kernel"',
    );
    expect(msgs).toContain(
      'shape-mismatch: Shape of variable (root).model.layer_with_weights-0.bias (float32[8]) doesn\'t match with shape of tensor dense_1/kernel (float32[8, 3]) from checkpoint reader (#2 "dense_1/kernel" → "model/layer_with_weights-0/bias")',
    );
    expect(msgs).toContain(
      // RestoreV2's words: "tensor_name = …; expected dtype float does not equal original dtype int64".
      'dtype-mismatch: tensor_name = optimizer/beta_1/.ATTRIBUTES/VARIABLE_VALUE; expected dtype float does not equal original dtype int64 (variable (root).optimizer.beta_1 from global_step; add {"op": "cast", "to": "float32"}) (#3 "global_step" → "optimizer/beta_1")',
    );
    expect(report.verdicts.assertConsumed.passed).toBe(false);
  });

  it("takes ExponentialMovingAverage copies with ema, counting the raw variables as ignored", async () => {
    // Build a source with an EMA copy of one variable.
    const { BundleWriter } = await import("../../src/bundle/writer.js");
    const { dtypeFromName } = await import("../../src/dtypes.js");
    const prefix = join(work, "ema", "model.ckpt");
    const w = await BundleWriter.create(prefix, { sync: false });
    const f32 = dtypeFromName("float32");
    await w.add("w", f32, [2], new Uint8Array(new Float32Array([1, 2]).buffer));
    await w.add("w/ExponentialMovingAverage", f32, [2], new Uint8Array(new Float32Array([1.5, 2.5]).buffer));
    await w.finish();
    const target = join(work, "ema.graph.json");
    writeFileSync(target, JSON.stringify({ w: { dtype: "float32", shape: [2] } }));
    const out = join(work, "ema-out", "ckpt-1");
    const report = await migrate({
      source: prefix,
      target,
      output: out,
      mapping: { assignments: [{ from: "/", to: "/" }], ema: true },
    });
    expect(report.verdicts.assertConsumed.passed).toBe(true);
    expect(report.assignments[0]?.sources).toEqual(["w/ExponentialMovingAverage"]);
    expect(report.unusedSources.ignored).toEqual([
      { name: "w", reason: "replaced by its ExponentialMovingAverage (ema)" },
    ]);
    expect([...new Float32Array((await bytesOf(out, `w${W}`)).slice().buffer)]).toEqual([1.5, 2.5]);
  });

  it("keeps unmapped targets from a template checkpoint with keepUnmapped", async () => {
    const template = join(work, "template", "ckpt-1");
    await migrate({
      source: mlp,
      target: graph,
      mapping: join(REPO, "test", "helpers", "keras2-mlp.mapping.json"),
      output: template,
    });
    const out = join(work, "kept", "ckpt-1");
    const report = await migrate({
      source: mlp,
      target: template,
      output: out,
      keepUnmapped: true,
      mapping: { assignments: [{ from: "dense/", to: "model/layer_with_weights-0/" }], ignore: ["*"] },
    });
    expect(report.verdicts.assertConsumed.passed).toBe(true);
    expect(report.assignments.filter((a) => a.rule.kind === "template")).toHaveLength(16);
    expect(await bytesOf(out, `model/layer_with_weights-1/kernel${W}`)).toEqual(
      await bytesOf(template, `model/layer_with_weights-1/kernel${W}`),
    );
    // The template's graph, written verbatim.
    const a = await readAll(out, ["_CHECKPOINTABLE_OBJECT_GRAPH"]);
    const b = await readAll(template, ["_CHECKPOINTABLE_OBJECT_GRAPH"]);
    expect(a).toEqual(b);
  });

  it("reports every problem of a bad mapping at once, with JSON paths", () => {
    const file = writeMap({
      assignments: [
        { from: "a/", to: "b" },
        { fromPattern: "x(", to: "y" },
        { fromPattern: "(a)", to: "$2" },
        { from: ["a", "b"], to: "c" },
        { to: "d" },
        { from: "a", to: "b", transforms: [{ op: "rotate" }] },
      ],
      ignored: [],
    });
    return expect(migrate({ source: mlp, target: graph, mapping: file, dryRun: true })).rejects.toSatisfy(
      (e: unknown) => {
        const p = (e as InvalidDocumentError).problems.map((x) => `${x.path}: ${x.message}`);
        expect(p).toContain('$: unknown property "ignored"');
        expect(p.some((x) => x.startsWith("$.assignments[5].transforms[0]"))).toBe(true);
        return e instanceof InvalidDocumentError;
      },
    );
  });

  it("semantic problems are reported together", async () => {
    const file = writeMap({
      assignments: [
        { from: "a/", to: "b" },
        { fromPattern: "x(", to: "y" },
        { fromPattern: "(a)", to: "$2" },
        { from: ["a", "b"], to: "c" },
        { to: "d" },
      ],
    });
    const r = await cli("migrate", "--source", mlp, "--target", graph, "--mapping", file, "--dry-run");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      '$.assignments[0]: a scope maps only to a scope: "from" "a/" and "to" "b" must both end in "/"',
    );
    expect(r.stderr).toContain("$.assignments[1].fromPattern: not a valid regular expression");
    expect(r.stderr).toContain(
      "$.assignments[2].to: $2 refers to a capture the pattern does not have (it has 1)",
    );
    expect(r.stderr).toContain('$.assignments[3].from: a list of sources needs "concat"');
    expect(r.stderr).toContain('$.assignments[4]: needs exactly one of "from", "fromPattern" or "value"');
  });
});

describe("partitioned sources", () => {
  it("a row-partitioned embedding streams into one whole target tensor, bit for bit", async () => {
    const src = join(REPO, "fixtures", "partitioned", "model.ckpt-5");
    const target = join(work, "part.graph.json");
    writeFileSync(
      target,
      JSON.stringify({
        embedding: { embeddings: { dtype: "float32", shape: [10, 4] } },
        dense: { kernel: { dtype: "float32", shape: [4, 2] } },
      }),
    );
    const out = join(work, "part", "ckpt-1");
    const report = await migrate({
      source: src,
      target,
      output: out,
      mapping: { assignments: [{ from: "/", to: "/" }] },
    });
    expect(report.verdicts.assertConsumed.passed).toBe(true);
    const whole = (await readAll(src, ["embedding/embeddings"])).get("embedding/embeddings") as FixedTensor;
    expect(await bytesOf(out, `embedding/embeddings${W}`)).toEqual(whole.data);
    const c = await openCheckpoint(out);
    expect(c.get(`embedding/embeddings${W}`)?.slices).toBeUndefined();
    await c.close();
  });
});

describe("a TF1 LSTMCell onto a Keras LSTM (slice + permuteBlocks)", () => {
  it("splits the fused kernel, reorders gates i, j, f, o → i, f, c, o and folds in forget_bias", async () => {
    const { BundleWriter } = await import("../../src/bundle/writer.js");
    const { dtypeFromName } = await import("../../src/dtypes.js");
    const inDim = 2;
    const h = 1;
    const prefix = join(work, "lstm", "model.ckpt");
    const w = await BundleWriter.create(prefix, { sync: false });
    const f32 = dtypeFromName("float32");
    // kernel [in + h, 4h]: row r, gate g holds 10 r + g (gates i=0, j=1, f=2, o=3).
    const kernel = Float32Array.from(
      { length: (inDim + h) * 4 * h },
      (_, k) => 10 * Math.floor(k / 4) + (k % 4),
    );
    await w.add("rnn/lstm_cell/kernel", f32, [inDim + h, 4 * h], new Uint8Array(kernel.buffer));
    await w.add("rnn/lstm_cell/bias", f32, [4 * h], new Uint8Array(new Float32Array([0, 1, 2, 3]).buffer));
    await w.finish();
    const target = join(work, "lstm.graph.json");
    writeFileSync(
      target,
      JSON.stringify({
        lstm: {
          cell: {
            kernel: { dtype: "float32", shape: [inDim, 4 * h] },
            recurrent_kernel: { dtype: "float32", shape: [h, 4 * h] },
            bias: { dtype: "float32", shape: [4 * h] },
          },
        },
      }),
    );
    const gates = { op: "permuteBlocks", axis: 1, blocks: 4, order: [0, 2, 1, 3] };
    const out = join(work, "lstm-out", "ckpt-1");
    const report = await migrate({
      source: prefix,
      target,
      output: out,
      mapping: {
        assignments: [
          {
            from: "rnn/lstm_cell/kernel",
            to: "lstm/cell/kernel",
            transforms: [{ op: "slice", begin: [0, 0], size: [inDim, -1] }, gates],
          },
          {
            from: "rnn/lstm_cell/kernel",
            to: "lstm/cell/recurrent_kernel",
            transforms: [{ op: "slice", begin: [inDim, 0], size: [-1, -1] }, gates],
          },
          // TF1 adds forget_bias (1.0) at run time; Keras does not: fold it into the f block (index 1 after reordering).
          {
            from: "rnn/lstm_cell/bias",
            to: "lstm/cell/bias",
            transforms: [
              { ...gates, axis: 0 },
              { op: "add", value: 1, axis: 0, blocks: 4, block: 1 },
            ],
          },
        ],
      },
    });
    expect(report.problems).toEqual([]);
    expect(report.verdicts.assertConsumed.passed).toBe(true);
    const f = async (k: string) => [
      ...new Float32Array((await bytesOf(out, `lstm/cell/${k}${W}`)).slice().buffer),
    ];
    expect(await f("kernel")).toEqual([0, 2, 1, 3, 10, 12, 11, 13]);
    expect(await f("recurrent_kernel")).toEqual([20, 22, 21, 23]);
    expect(await f("bias")).toEqual([0, 3, 1, 3]);
  });
});
