// The house: code above the formats asks a reader for what it can do through the reader
// contract's optional capabilities (`src/reader.ts`: streamWhole, readSlice, storedLayout,
// storedTensor, checkStored, kerasLayout), never by testing its class. No `instanceof` of a reader
// class (every class of src/ named *Reader) outside the file that defines it. Failures list every
// offending test as file:line.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { REPO } from "../helpers/fixtures.js";

const SRC = join(REPO, "src");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith(".ts") ? [p] : [];
  });
}

const FILES = sourceFiles(SRC).map((file) => ({
  path: relative(SRC, file),
  sf: ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.ES2022, true),
}));

function walk(node: ts.Node, visit: (n: ts.Node) => void): void {
  visit(node);
  node.forEachChild((c) => walk(c, visit));
}

/** Every class of src/ named `…Reader`, with the src-relative file that declares it. */
function readerClasses(): Map<string, string> {
  const out = new Map<string, string>();
  for (const { path, sf } of FILES)
    walk(sf, (n) => {
      const name = ts.isClassDeclaration(n) ? n.name?.text : undefined;
      if (name?.endsWith("Reader")) out.set(name, path);
    });
  return out;
}

describe("reader capabilities, not reader classes", () => {
  it("no instanceof of a reader class outside its own file", () => {
    const classes = readerClasses();
    // The checkpoint formats' readers are among them (a rename here must not empty the check).
    for (const name of ["BundleReader", "TensorSliceReader", "KerasWeightsReader"])
      expect(classes.has(name), name).toBe(true);
    const offending: string[] = [];
    for (const { path, sf } of FILES)
      walk(sf, (n) => {
        if (!ts.isBinaryExpression(n) || n.operatorToken.kind !== ts.SyntaxKind.InstanceOfKeyword) return;
        const right = n.right;
        const name = ts.isIdentifier(right)
          ? right.text
          : ts.isPropertyAccessExpression(right)
            ? right.name.text
            : undefined;
        const home = name === undefined ? undefined : classes.get(name);
        if (home === undefined || home === path) return;
        const line = sf.getLineAndCharacterOfPosition(n.getStart()).line + 1;
        offending.push(`src/${path}:${line}: instanceof ${name} (declared in src/${home})`);
      });
    expect(offending).toEqual([]);
  });
});
