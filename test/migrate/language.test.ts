// The mapping language the model families need (issue 14): extends/presets, any object path in
// `to`, scope rules renaming local names, capture arithmetic, Keras 3 optimizer layouts, several
// optimizers, and --allow-partial refusing real problems. Resolved against the family checkpoints
// TF 2.21 / Keras 3.15 wrote (fixtures/families), without TensorFlow.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${n+k} is the map syntax under test, not a template
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openCheckpoint } from "../../src/checkpoint/open.js";
import { InvalidDocumentError } from "../../src/errors.js";
import { expandCaptures, loadAssignmentMap, parseAssignmentMap } from "../../src/mapping/document.js";
import { resolveAssignments } from "../../src/mapping/resolve.js";
import { migrate } from "../../src/migrate.js";
import { loadTarget } from "../../src/target/load.js";
import { REPO } from "../helpers/fixtures.js";

const MLP = join(REPO, "fixtures", "families", "mlp-adam");
const SOURCE = join(MLP, "tf1", "model.ckpt-3");
const TEMPLATE = join(MLP, "template", "ckpt-1");
const work = mkdtempSync(join(tmpdir(), "tfckpt-language-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function resolve(doc: object) {
  const source = await openCheckpoint(SOURCE);
  const { target, template } = await loadTarget(TEMPLATE, {});
  try {
    return resolveAssignments(parseAssignmentMap(doc), source.list(), target, { hasTemplate: true });
  } finally {
    await source.close();
    await template?.close();
  }
}

/** checkpoint key (without the attribute suffix) → source names and rule kind. */
async function plan(doc: object) {
  const r = await resolve(doc);
  return {
    r,
    by: new Map(
      r.assignments.map((a) => [
        a.target.objectPath,
        {
          from: a.source.kind === "variables" ? a.source.names.join("+") : a.source.kind,
          rule: a.rule.kind,
          transforms: a.transforms,
          value: a.source.kind === "value" ? a.source.value : undefined,
        },
      ]),
    ),
  };
}

describe("capture arithmetic", () => {
  const m = /^layer_(\d+)\/(\w+)$/u.exec("layer_7/kernel") as RegExpExecArray;
  it("fills $n, ${n} and ${n+k}, ${n-k}, ${n*k}", () => {
    expect(expandCaptures("a/$1/${2}/${1+4}/${1-7}/${1*2}", m)).toBe("a/7/kernel/11/0/14");
  });
  it("refuses arithmetic on a capture that is not an integer", () => {
    expect(expandCaptures("${2+1}", m)).toBeUndefined();
  });
  it("checks ${n+k} captures exist when the map is parsed", () => {
    expect(() => parseAssignmentMap({ assignments: [{ fromPattern: "a(\\d)", to: "x/${2+1}" }] })).toThrow(
      /\$\{2\+1\} refers to a capture the pattern does not have \(it has 1\)/,
    );
  });
});

describe("extends", () => {
  it("merges a preset by name; an optimizer with the same preset refines it", () => {
    const map = parseAssignmentMap({
      extends: "keras3-adam",
      optimizer: { preset: "adam", layout: "keras3", learningRate: 0.5 },
    });
    expect(map.optimizers).toEqual([
      { preset: "adam", layout: "keras3", globalStep: true, learningRate: 0.5, index: 0 },
    ]);
    expect(map.ignore.map((i) => i.glob)).toEqual(["beta1_power", "beta2_power"]);
  });
  it("an optimizer with a path refines the extended preset of the same kind that names none", () => {
    const map = parseAssignmentMap({
      extends: ["keras3-adagrad", "keras3-ftrl"],
      optimizer: [
        { preset: "adagrad", layout: "keras3", path: "dnn_optimizer", variables: ["dnn/*"] },
        { preset: "ftrl", layout: "keras3", path: "linear_optimizer", variables: ["linear/*"] },
      ],
    });
    expect(map.optimizers.map((o) => [o.preset, o.path, o.variables?.[0]?.test("dnn/x")])).toEqual([
      ["adagrad", "dnn_optimizer", true],
      ["ftrl", "linear_optimizer", false],
    ]);
  });
  it("reads presets by relative path, and reports a missing one and a cycle", () => {
    const a = join(work, "a.json");
    const b = join(work, "b.json");
    writeFileSync(a, JSON.stringify({ extends: "./b.json", ignore: ["x"] }));
    writeFileSync(b, JSON.stringify({ ignore: ["y"] }));
    expect(loadAssignmentMap(a).ignore.map((i) => i.glob)).toEqual(["y", "x"]);
    writeFileSync(b, JSON.stringify({ extends: "a.json" }));
    expect(() => loadAssignmentMap(a)).toThrow(/extends itself/);
    expect(() => parseAssignmentMap({ extends: "no-such-preset" })).toThrow(InvalidDocumentError);
    expect(() => parseAssignmentMap({ extends: "no-such-preset" })).toThrow(/mappings\/presets/);
  });
  it("a name that is not well-formed UTF-16 is refused at its JSON path, in a file too", () => {
    // Written to a key, "\ud800" becomes U+FFFD: it would collide with every other lone surrogate.
    expect(() => parseAssignmentMap({ assignments: [{ from: "a", to: "b\ud800" }] })).toThrow(
      /\$\.assignments\[0\]\.to: string is not well-formed UTF-16/,
    );
    const file = join(work, "surrogate.json");
    writeFileSync(file, '{ "ignore": ["ok", "x\\udfff"] }'); // the escape as the JSON text holds it
    expect(() => loadAssignmentMap(file)).toThrow(/\$\.ignore\[1\]: string is not well-formed UTF-16/);
  });
  it("every shipped preset parses", () => {
    for (const p of [
      "keras3-adam",
      "keras3-sgd-momentum",
      "keras3-rmsprop",
      "keras3-adagrad",
      "keras3-ftrl",
      "tf1-dense-keras3-sequential",
      "tf1-mlp-adam-to-keras3",
      "tf1-cnn-bn-momentum-to-keras3",
      "tf1-lstm-rmsprop-to-keras3",
      "bert-adam-weight-decay-keras3",
      "tf1-bert-to-keras3",
      "tf1-wide-deep-to-keras3",
      "compat-v1-adam-slots",
      "tf1-mlp-adam-to-module",
      "tf1-lstm-rmsprop-to-module",
      "tf1-cnn-bn-momentum-to-module",
    ])
      expect(() => parseAssignmentMap({ extends: p }), p).not.toThrow();
  });
});

describe("Keras 3 targets", () => {
  it("`to` reaches a weight through the model, though TF's key goes through the optimizer", async () => {
    const { by, r } = await plan({
      assignments: [{ from: "dense/kernel", to: "model/_functional/_operations/1/_kernel" }],
    });
    expect(r.problems).toEqual([]);
    expect(by.get("optimizer/_trainable_variables/0")).toMatchObject({ from: "dense/kernel", rule: "exact" });
  });
  it("a scope rule renames local names (kernel → _kernel) and walks the scope by any path", async () => {
    const { by, r } = await plan({
      assignments: [
        { from: "dense/", to: "model/_functional/_operations/1/", rename: { kernel: "_kernel" } },
      ],
    });
    expect(r.problems).toEqual([]);
    expect(by.get("optimizer/_trainable_variables/0")?.from).toBe("dense/kernel");
    expect(by.get("optimizer/_trainable_variables/1")?.from).toBe("dense/bias");
  });
  it("an unknown scope object is a no-target problem", async () => {
    const { r } = await plan({ assignments: [{ from: "dense/", to: "model/nothing/" }] });
    expect(r.problems.map((p) => p.kind)).toEqual(["no-target"]);
  });
  it("the family-1 presets fill every variable: Adam state by list index, iterations, learning rate", async () => {
    const { by, r } = await plan({
      extends: ["tf1-dense-keras3-sequential", "keras3-adam"],
      optimizer: { preset: "adam", layout: "keras3", learningRate: 0.01 },
    });
    expect(r.problems).toEqual([]);
    expect(r.unassigned).toEqual([]);
    expect(r.unmatchedSources).toEqual([]);
    expect(by.get("optimizer/_trainable_variables/2")).toMatchObject({
      from: "dense_1/kernel",
      rule: "pattern",
    });
    // _momentums/2 and _velocities/2 are the state of _trainable_variables/2 (dense_1/kernel).
    expect(by.get("optimizer/_variables/6")).toMatchObject({
      from: "dense_1/kernel/Adam",
      rule: "optimizer",
    });
    expect(by.get("optimizer/_variables/7")).toMatchObject({
      from: "dense_1/kernel/Adam_1",
      rule: "optimizer",
    });
    expect(by.get("optimizer/_iterations")).toMatchObject({ from: "global_step", rule: "global-step" });
    expect(by.get("optimizer/_learning_rate")).toMatchObject({ from: "value", value: 0.01 });
  });
  it("an optimizer's `variables` globs choose whose state it fills (several optimizers in one map)", async () => {
    const { by } = await plan({
      extends: "tf1-dense-keras3-sequential",
      optimizer: [
        { preset: "adam", layout: "keras3", variables: ["dense/*"] },
        { preset: "adagrad", layout: "keras3", variables: ["dense_1/*"] },
      ],
    });
    expect(by.get("optimizer/_variables/2")?.from).toBe("dense/kernel/Adam");
    // dense_1's state belongs to the Adagrad preset, and the Adam lists are not Adagrad's.
    expect(by.get("optimizer/_variables/6")).toBeUndefined();
  });
});

describe("slot variables take their variable's layout transforms, not its value transforms", () => {
  it("an LSTM bias gets +1.0 (forget bias); its RMSProp slots only the gate reordering", async () => {
    const dir = join(REPO, "fixtures", "families", "lstm-rmsprop");
    const source = await openCheckpoint(join(dir, "tf1", "model.ckpt-3"));
    const { target, template } = await loadTarget(join(dir, "template-module", "ckpt-1"), {});
    try {
      const r = resolveAssignments(
        loadAssignmentMap(join(REPO, "mappings", "presets", "tf1-lstm-rmsprop-to-module.json")),
        source.list(),
        target,
      );
      expect(r.problems).toEqual([]);
      expect(r.unassigned).toEqual([]);
      const ops = (path: string) =>
        r.assignments.find((a) => a.target.objectPath === path)?.transforms.map((t) => t.op);
      expect(ops("model/lstm/bias")).toEqual(["permuteBlocks", "add"]);
      expect(ops("model/lstm/bias/.OPTIMIZER_SLOT/optimizer/rms")).toEqual(["permuteBlocks"]);
      expect(ops("model/lstm/bias/.OPTIMIZER_SLOT/optimizer/momentum")).toEqual(["permuteBlocks"]);
      expect(ops("model/lstm/recurrent_kernel/.OPTIMIZER_SLOT/optimizer/rms")).toEqual([
        "slice",
        "permuteBlocks",
      ]);
    } finally {
      await source.close();
      await template?.close();
    }
  });
});

describe("slotNames", () => {
  it("names TF1 slots that do not follow <Optimizer>, <Optimizer>_1 (bert's adam_m, adam_v)", async () => {
    const { by } = await plan({
      extends: "tf1-dense-keras3-sequential",
      optimizer: { preset: "adam", layout: "keras3", slotNames: ["Adam_1", "Adam"] },
    });
    // Swapped on purpose: _momentums takes the first name, _velocities the second.
    expect(by.get("optimizer/_variables/2")?.from).toBe("dense/kernel/Adam_1");
    expect(by.get("optimizer/_variables/3")?.from).toBe("dense/kernel/Adam");
  });
});

describe("--allow-partial", () => {
  it("covers unassigned targets, not mapping problems", async () => {
    const partial = await migrate({
      source: SOURCE,
      target: TEMPLATE,
      mapping: { extends: "tf1-dense-keras3-sequential" },
      output: join(work, "p", "ckpt-1"),
      allowPartial: true,
    });
    expect(partial.output.written).toBe(true);
    const refused = await migrate({
      source: SOURCE,
      target: TEMPLATE,
      mapping: { assignments: [{ from: "dense/kernel", to: "model/nothing" }] },
      output: join(work, "q", "ckpt-1"),
      allowPartial: true,
    });
    expect(refused.output.written).toBe(false);
    expect(refused.output.reason).toMatch(/1 problem\(s\) \(no-target\); --allow-partial covers only/);
  });
  it("says how to fix an unconsumed result", async () => {
    const r = await migrate({
      source: SOURCE,
      target: TEMPLATE,
      mapping: { extends: "tf1-dense-keras3-sequential" },
      output: join(work, "r", "ckpt-1"),
    });
    expect(r.output.written).toBe(false);
    expect(r.output.reason).toMatch(/"value" line.*--keep-unmapped.*"ignore".*--allow-partial/);
  });
});
