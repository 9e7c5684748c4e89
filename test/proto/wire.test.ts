// The hand-written wire encoders (src/proto/wire.ts) against protobufjs's reflection encoders, the
// reference they replaced on the save path: the same bytes for every generated message, and the
// header decoder against protobufjs's decoder (including negative and packed fields).
import fc from "fast-check";
import protobuf from "protobufjs/light.js";
import { describe, expect, it } from "vitest";
import { CorruptCheckpointError, UsageError } from "../../src/errors.js";
import { descriptor } from "../../src/proto/generated/descriptor.js";
import {
  type BundleEntryProto,
  type BundleHeaderProto,
  decodeBundleHeader,
  encodeBundleEntry,
  encodeBundleHeader,
  encodeObjectGraph,
  type ObjectGraphProto,
} from "../../src/proto/index.js";
import { ProtoWriter } from "../../src/proto/wire.js";

const root = protobuf.Root.fromJSON(descriptor as unknown as protobuf.INamespace);
const type = (n: string) => root.lookupType(`tensorflow.${n}`);
const Entry = type("BundleEntryProto");
const Header = type("BundleHeaderProto");
const Graph = type("TrackableObjectGraph");

type Obj = Record<string, unknown>;
const omit = (o: Obj): Obj =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== 0 && v !== "" && v !== false));

/** The reference: protobufjs's fromObject + encode of the same message (what src did before). */
function referenceEntry(e: BundleEntryProto): Uint8Array {
  const msg: Obj = {
    ...omit({ dtype: e.dtype, shard_id: e.shardId, offset: e.offset, size: e.size, crc32c: e.crc32c }),
    shape: { dim: e.shape.dims.map((size) => omit({ size })) },
    slices: e.slices.map((s) => ({
      extent: s.map((x) => ({ ...omit({ start: x.start }), ...(x.length >= 0 ? { length: x.length } : {}) })),
    })),
  };
  return Entry.encode(Entry.fromObject(msg)).finish();
}

function referenceGraph(g: ObjectGraphProto): Uint8Array {
  const nodes = g.nodes.map((n) => ({
    children: n.children.map((c) => omit({ node_id: c.nodeId, local_name: c.localName })),
    attributes: n.attributes.map((a) =>
      omit({
        name: a.name,
        full_name: a.fullName,
        checkpoint_key: a.checkpointKey,
        optional_restore: a.optionalRestore,
      }),
    ),
    slot_variables: n.slotVariables.map((s) =>
      omit({
        original_variable_node_id: s.originalVariableNodeId,
        slot_name: s.slotName,
        slot_variable_node_id: s.slotVariableNodeId,
      }),
    ),
    ...(n.registeredSaver !== undefined
      ? {
          registered_saver: omit({ name: n.registeredSaver.name, object_name: n.registeredSaver.objectName }),
        }
      : {}),
    ...(n.hasCheckpointValues !== undefined
      ? { has_checkpoint_values: n.hasCheckpointValues ? { value: true } : {} }
      : {}),
  }));
  return Graph.encode(Graph.fromObject({ nodes })).finish();
}

const int64 = fc.oneof(
  fc.constant(0),
  fc.integer({ min: 0, max: 300 }),
  fc.maxSafeInteger(),
  fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
);
const int32 = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 2 ** 31 - 1 }));
const text = fc.oneof(
  fc.constant(""),
  fc.string({ maxLength: 20 }),
  fc.string({ unit: "grapheme", maxLength: 200 }),
);

const entryArb: fc.Arbitrary<BundleEntryProto> = fc.record({
  dtype: fc.integer({ min: 0, max: 130 }),
  shape: fc.record({
    dims: fc.array(fc.oneof(int64, fc.constant(-1), fc.integer({ min: -(2 ** 40), max: -1 })), {
      maxLength: 6,
    }),
    unknownRank: fc.constant(false),
  }),
  shardId: int32,
  offset: int64,
  size: int64,
  crc32c: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 2 ** 32 - 1 })),
  slices: fc.array(
    fc.array(fc.record({ start: int64, length: fc.oneof(fc.constant(-1), fc.constant(0), int64) }), {
      maxLength: 4,
    }),
    { maxLength: 3 },
  ),
});

const graphArb: fc.Arbitrary<ObjectGraphProto> = fc.record({
  nodes: fc.array(
    fc.record({
      children: fc.array(fc.record({ nodeId: int32, localName: text }), { maxLength: 4 }),
      attributes: fc.array(
        fc.record({ name: text, fullName: text, checkpointKey: text, optionalRestore: fc.boolean() }),
        { maxLength: 3 },
      ),
      slotVariables: fc.array(
        fc.record({ originalVariableNodeId: int32, slotName: text, slotVariableNodeId: int32 }),
        { maxLength: 2 },
      ),
      registeredSaver: fc.option(fc.record({ name: text, objectName: text }), { nil: undefined }),
      hasCheckpointValues: fc.option(fc.boolean(), { nil: undefined }),
    }),
    { maxLength: 8 },
  ),
});

describe("wire encoders give protobufjs's bytes", () => {
  it("BundleEntryProto, including negative dims, 0-length extents and 2^53 - 1 offsets", () => {
    fc.assert(
      fc.property(entryArb, (e) => {
        expect(Buffer.from(encodeBundleEntry(e)).toString("hex")).toBe(
          Buffer.from(referenceEntry(e)).toString("hex"),
        );
      }),
      { numRuns: 500 },
    );
  });

  it("TrackableObjectGraph, including non-ASCII names, empty saver and has_checkpoint_values false", () => {
    fc.assert(
      fc.property(graphArb, (g) => {
        expect(Buffer.from(encodeObjectGraph(g)).toString("hex")).toBe(
          Buffer.from(referenceGraph(g)).toString("hex"),
        );
      }),
      { numRuns: 300 },
    );
  });

  it("BundleHeaderProto round-trips and matches protobufjs, bad_consumers packed and negative", () => {
    const headerArb: fc.Arbitrary<BundleHeaderProto> = fc.record({
      numShards: int32,
      endianness: fc.constantFrom("little" as const, "big" as const),
      version: fc.record({
        producer: fc.integer({ min: -5, max: 2 ** 31 - 1 }),
        minConsumer: fc.integer({ min: -5, max: 2 ** 31 - 1 }),
        badConsumers: fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { maxLength: 4 }),
      }),
    });
    fc.assert(
      fc.property(headerArb, (h) => {
        const bytes = encodeBundleHeader(h);
        const ref = Header.encode(
          Header.fromObject({
            ...omit({ num_shards: h.numShards, endianness: h.endianness === "big" ? 1 : 0 }),
            version: {
              ...omit({ producer: h.version.producer, min_consumer: h.version.minConsumer }),
              bad_consumers: h.version.badConsumers,
            },
          }),
        ).finish();
        expect(Buffer.from(bytes).toString("hex")).toBe(Buffer.from(ref).toString("hex"));
        expect(decodeBundleHeader(bytes)).toEqual(h);
      }),
      { numRuns: 300 },
    );
  });

  it("TF's one-shard header is 08 01 1A 02 08 01", () => {
    const h: BundleHeaderProto = {
      numShards: 1,
      endianness: "little",
      version: { producer: 1, minConsumer: 0, badConsumers: [] },
    };
    expect(Buffer.from(encodeBundleHeader(h)).toString("hex")).toBe("08011a020801");
  });
});

describe("the header decoder", () => {
  it("reads unpacked bad_consumers and skips unknown fields of every wire type, as protobufjs does", () => {
    // num_shards 3, unknown varint 9, unknown fixed64 10, unknown bytes 11, unknown fixed32 12,
    // version { producer 1, bad_consumers 4 (unpacked), bad_consumers 5 (unpacked) }
    const bytes = Uint8Array.from([
      0x08, 0x03, 0x48, 0x96, 0x01, 0x51, 1, 2, 3, 4, 5, 6, 7, 8, 0x5a, 0x02, 0xaa, 0xbb, 0x65, 1, 2, 3, 4,
      0x1a, 0x06, 0x08, 0x01, 0x18, 0x04, 0x18, 0x05,
    ]);
    expect(decodeBundleHeader(bytes)).toEqual({
      numShards: 3,
      endianness: "little",
      version: { producer: 1, minConsumer: 0, badConsumers: [4, 5] },
    });
    const ref = Header.toObject(Header.decode(bytes)) as { version: { bad_consumers: number[] } };
    expect(ref.version.bad_consumers).toEqual([4, 5]);
  });

  it.each([
    ["a truncated varint", [0x08, 0x80]],
    ["a version running past the message", [0x1a, 0x05, 0x08]],
    ["a group wire type", [0x0b]],
    ["field number 0", [0x00, 0x01]],
    ["a length past the end", [0x5a, 0x7f]],
  ])("refuses %s with a CorruptCheckpointError naming the file", (_what, bytes) => {
    let err: unknown;
    try {
      decodeBundleHeader(Uint8Array.from(bytes), { file: "x.index", key: "", offset: 100 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CorruptCheckpointError);
    expect((err as CorruptCheckpointError).message).toContain("cannot parse bundle header");
    expect((err as CorruptCheckpointError).file).toBe("x.index");
    expect((err as CorruptCheckpointError).offset).toBeGreaterThanOrEqual(100);
  });

  it("refuses an unknown endianness", () => {
    expect(() => decodeBundleHeader(Uint8Array.from([0x10, 0x02]))).toThrow(/unknown bundle endianness 2/);
  });
});

describe("ProtoWriter", () => {
  it("encodes strings as TextEncoder does, a lone surrogate as U+FFFD like the index keys", () => {
    for (const s of ["a\ud800", "\udfffz", "größe", "\u{1f600}"]) {
      const bytes = new TextEncoder().encode(s);
      expect(new ProtoWriter().string(1, s).finish(), s).toEqual(
        Uint8Array.from([0x0a, bytes.length, ...bytes]),
      );
    }
    expect(new ProtoWriter().string(1, "a\ud800").finish()).toEqual(
      Uint8Array.from([0x0a, 4, 0x61, 0xef, 0xbf, 0xbd]),
    );
  });

  it("writes a negative uint as protobuf writes a negative int32 (ten bytes), never one byte 0xFF", () => {
    const ref = type("TensorSliceProto.Extent").encode({ start: -1 }).finish(); // int64 field 1
    expect(new ProtoWriter().uint(1, -1).finish()).toEqual(Uint8Array.from(ref));
    expect(new ProtoWriter().uint(1, -1).finish()).toEqual(
      Uint8Array.from([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
    );
    expect(new ProtoWriter().uint(1, -2147483648).finish()).toEqual(
      new ProtoWriter().int(1, -2147483648).finish(),
    );
  });

  it("refuses a varint that is not a safe integer, small or large", () => {
    for (const v of [0.5, -0.5, 1.5, 200.5, Number.NaN, Number.POSITIVE_INFINITY, -(2 ** 53), 2 ** 53]) {
      expect(() => new ProtoWriter().uint(1, v), String(v)).toThrow(UsageError);
      expect(() => new ProtoWriter().int(1, v), String(v)).toThrow(UsageError);
      expect(() => new ProtoWriter().rawVarint(v), String(v)).toThrow(UsageError);
    }
    expect(new ProtoWriter().uint(1, 2 ** 53 - 1).finish().length).toBe(9);
  });

  it("hands over a message past 1 MiB and keeps writing into a fresh buffer", () => {
    const w = new ProtoWriter();
    const big = "x".repeat(3 << 20);
    const expected = Buffer.concat([Buffer.from([0x0a, 0x80, 0x80, 0xc0, 0x01]), Buffer.from(big)]);
    const first = w.string(1, big).finish();
    expect(Buffer.from(first).equals(expected)).toBe(true);
    // The next messages, small and large, nested too, do not write over the one handed over.
    expect(w.string(1, "abc").finish()).toEqual(Uint8Array.from([0x0a, 3, 0x61, 0x62, 0x63]));
    const nested = w.begin(2).string(1, big).end().finish();
    expect(nested.length).toBe(first.length + 5);
    expect(w.begin(2).string(1, "y").end().finish()).toEqual(Uint8Array.from([0x12, 3, 0x0a, 1, 0x79]));
    expect(Buffer.from(first).equals(expected)).toBe(true);
  });
});
