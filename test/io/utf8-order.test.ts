import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compareUtf8Order } from "../../src/io/utf8.js";

const sign = (x: number) => Math.sign(x);
const bytewise = (a: string, b: string) => sign(Buffer.compare(Buffer.from(a), Buffer.from(b)));
/** Strings mixing ASCII, the BMP above the surrogates and astral characters (where UTF-16 and UTF-8 orders part). */
const names = fc.string({
  unit: fc.constantFrom("a", "b", "/", "\u00e9", "\uE000", "\uFFFD", "\u{1F600}", "\u{10000}"),
});

describe("compareUtf8Order (the table's key order, without encoding)", () => {
  it("agrees with Buffer.compare of the UTF-8 encodings", () => {
    fc.assert(fc.property(names, names, (a, b) => sign(compareUtf8Order(a, b)) === bytewise(a, b)));
    fc.assert(
      fc.property(
        fc.string({ unit: "grapheme" }),
        fc.string({ unit: "grapheme" }),
        (a, b) => sign(compareUtf8Order(a, b)) === bytewise(a, b),
      ),
    );
  });

  it("orders an astral character after U+FFFD, where JavaScript's comparison puts it before", () => {
    expect("\u{1F600}" < "\uFFFD").toBe(true);
    expect(compareUtf8Order("\u{1F600}", "\uFFFD")).toBeGreaterThan(0);
  });
});
