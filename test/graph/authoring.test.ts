// The authoring JSON form follows TF's rules: a hand-written description of a real Keras
// subclassed model with Adam (spinwars, TF 2.0/2.1 save_weights) yields exactly the object graph
// TF wrote, and with that checkpoint's values, exactly its files.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BundleReader } from "../../src/bundle/reader.js";
import { InvalidDocumentError } from "../../src/errors.js";
import { FileSource } from "../../src/io/byte-source.js";
import { decodeObjectGraph, encodeObjectGraph } from "../../src/proto/index.js";
import { TableReader } from "../../src/table/reader.js";
import { targetFromJson } from "../../src/target/target.js";
import { attributeValue, writeObjectCheckpoint } from "../../src/target/write.js";
import { TF_FIXTURES } from "../helpers/fixtures.js";

const work = mkdtempSync(join(tmpdir(), "tfckpt-authoring-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A Dense layer's kernel and bias with Adam m/v slots, named as Keras 2 names them. */
function dense(tfName: string, inputs: number, units: number) {
  const v = (name: string, shape: number[]) => ({
    dtype: "float32",
    shape,
    fullName: `bot_model/${tfName}/${name}`,
    slots: {
      optimizer: {
        m: { fullName: `Adam/bot_model/${tfName}/${name}/m` },
        v: { fullName: `Adam/bot_model/${tfName}/${name}/v` },
      },
    },
  });
  return { kernel: v("kernel", [inputs, units]), bias: v("bias", [units]) };
}

const spinwars = {
  $schema: "../../mappings/object-graph-authoring.schema.json",
  d1: dense("dense", 16, 128),
  d2: dense("dense_2", 128, 128),
  d3: dense("dense_3", 128, 1),
  optimizer: {
    iter: { dtype: "int64", shape: [], fullName: "Adam/iter" },
    beta_1: { dtype: "float32", shape: [], fullName: "Adam/beta_1" },
    beta_2: { dtype: "float32", shape: [], fullName: "Adam/beta_2" },
    decay: { dtype: "float32", shape: [], fullName: "Adam/decay" },
    learning_rate: { dtype: "float32", shape: [], fullName: "Adam/learning_rate" },
  },
};

describe("authoring form", () => {
  it("reproduces a real Keras + Adam checkpoint's graph and files", async () => {
    const src = join(TF_FIXTURES, "spinwars-keras-saveweights-1shard", "model");
    const r = await BundleReader.open(src);
    try {
      // TF 2.0/2.1 did not write has_checkpoint_values yet.
      const target = targetFromJson(spinwars, { hasCheckpointValues: false });
      const stored = await r.readTensor("_CHECKPOINTABLE_OBJECT_GRAPH");
      const theirs = stored.kind === "string" ? (stored.strings[0] as Uint8Array) : new Uint8Array();
      expect(target.graph).toEqual(decodeObjectGraph(theirs));
      expect(Buffer.from(encodeObjectGraph(target.graph)).equals(Buffer.from(theirs))).toBe(true);
      expect(target.attributes.find((a) => a.slot !== undefined)?.prettyName).toBe(
        "(root).optimizer's state 'm' for (root).d1.kernel",
      );
      const dst = join(work, "spinwars", "model");
      await writeObjectCheckpoint(
        dst,
        target,
        async (a) => attributeValue(await r.readTensor(a.checkpointKey)),
        { sync: false },
      );
      for (const f of readdirSync(join(work, "spinwars"))) {
        expect(readFileSync(join(work, "spinwars", f)).equals(readFileSync(join(src, "..", f))), f).toBe(
          true,
        );
      }
    } finally {
      await r.close();
    }
  });

  it("adds save_counter as Checkpoint.save does", () => {
    const t = targetFromJson({ v: { dtype: "float32", shape: [] } }, { saveCounter: true });
    expect(t.attributes.map((a) => [a.checkpointKey, a.dtype.name, a.fullName])).toEqual([
      ["v/.ATTRIBUTES/VARIABLE_VALUE", "float32", "v"],
      ["save_counter/.ATTRIBUTES/VARIABLE_VALUE", "int64", "save_counter"],
    ]);
    expect(t.graph.nodes[0]?.children.map((c) => c.localName)).toEqual(["v", "save_counter"]);
  });

  it("escapes local names in checkpoint keys", () => {
    const t = targetFromJson({ "a/b.c": { w: { dtype: "float32", shape: [1] } } });
    expect(t.attributes[0]?.checkpointKey).toBe("a.Sb..c/w/.ATTRIBUTES/VARIABLE_VALUE");
  });

  it("reports every schema problem with its JSON path", () => {
    try {
      targetFromJson({
        model: {
          kernel: { dtype: "float33", shape: [-1] },
          bias: { dtype: "float32", shape: [2], extra: 1 },
        },
      });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidDocumentError);
      const problems = (e as InvalidDocumentError).problems.map((p) => `${p.path}: ${p.message}`);
      expect(problems).toContain(
        '$.model.kernel.dtype: must be one of "float32", "float64", "int32", "uint8", "int16", "int8", "string", "complex64", "int64", "bool", "qint8", "quint8", "qint32", "bfloat16", "qint16", "quint16", "uint16", "complex128", "float16", "resource", "variant", "uint32", "uint64", "float8_e5m2", "float8_e4m3fn", "float8_e4m3fnuz", "float8_e4m3b11fnuz", "float8_e5m2fnuz", "int4", "uint4", "int2", "uint2"',
      );
      expect(problems).toContain("$.model.kernel.shape[0]: must be >= 0");
      expect(problems).toContain('$.model.bias: unknown property "extra"');
    }
  });

  it("names a slot's missing optimizer", () => {
    expect(() => targetFromJson({ w: { dtype: "float32", shape: [], slots: { opt: { m: {} } } } })).toThrow(
      /\$\["w"\]\.slots\["opt"\]: no object at path "opt" to be the optimizer/,
    );
  });

  it("full form: node references out of range are reported", () => {
    expect(() =>
      targetFromJson({
        format: "tfckpt-object-graph",
        version: 1,
        nodes: [{ children: [{ node: 4, name: "x" }] }],
      }),
    ).toThrow(/refers to node 4 of 1/);
  });

  it("refuses names that are not well-formed UTF-16, naming each JSON path", () => {
    // "\ud800" and "\udfff" would both be written as U+FFFD: two distinct names, one key.
    const problems = (doc: unknown) => {
      try {
        targetFromJson(doc);
      } catch (e) {
        expect(e).toBeInstanceOf(InvalidDocumentError);
        return (e as InvalidDocumentError).problems.map((p) => `${p.path}: ${p.message}`);
      }
      return expect.unreachable();
    };
    const leaf = { dtype: "float32", shape: [] };
    expect(problems({ "a\ud800": leaf, "a\udfff": leaf, ok: leaf })).toEqual([
      expect.stringMatching(/^\$: property name "a\\ud800" is not well-formed UTF-16/),
      expect.stringMatching(/^\$: property name "a\\udfff" is not well-formed UTF-16/),
    ]);
    expect(problems({ m: { w: { ...leaf, fullName: "w\udc00" } } })).toEqual([
      expect.stringMatching(/^\$\.m\.w\.fullName: string is not well-formed UTF-16/),
    ]);
    const full = {
      format: "tfckpt-object-graph",
      version: 1,
      nodes: [{ children: [{ node: 1, name: "x\ud83d" }] }, {}],
    };
    expect(problems(full)).toEqual([
      expect.stringMatching(/^\$\.nodes\[0\]\.children\[0\]\.name: string is not well-formed/),
    ]);
    // A well-formed pair (an emoji) is a name like any other.
    expect(targetFromJson({ "\ud83d\ude00": leaf }).attributes[0]?.checkpointKey).toBe(
      "\u{1f600}/.ATTRIBUTES/VARIABLE_VALUE",
    );
  });

  it("writes a non-ASCII name's checkpoint_key with the same bytes as its index key", async () => {
    const target = targetFromJson({
      größe: { 層: { dtype: "float32", shape: [1] } },
      "\u{1f600}": { dtype: "float32", shape: [] },
    });
    const prefix = join(work, "utf8", "ckpt");
    await writeObjectCheckpoint(prefix, target, async () => ({ kind: "fixed", data: new Uint8Array(4) }), {
      sync: false,
    });
    const source = await FileSource.open(`${prefix}.index`);
    const keys: Buffer[] = [];
    try {
      const table = await TableReader.open(source);
      for await (const e of table.entries()) keys.push(Buffer.from(e.key));
    } finally {
      await source.close();
    }
    const r = await BundleReader.open(prefix);
    try {
      const stored = await r.readTensor("_CHECKPOINTABLE_OBJECT_GRAPH");
      const graph = Buffer.from(stored.kind === "string" ? (stored.strings[0] as Uint8Array) : []);
      for (const a of target.attributes) {
        const key = keys.find((k) => k.toString("utf8") === a.checkpointKey);
        expect(key, a.checkpointKey).toBeDefined();
        // SerializedTensor.checkpoint_key is field 3: tag 0x1a, the length, the UTF-8 bytes.
        const field = Buffer.concat([Buffer.from([0x1a, (key as Buffer).length]), key as Buffer]);
        expect(graph.includes(field), a.checkpointKey).toBe(true);
      }
    } finally {
      await r.close();
    }
  });
});
