// Functions stay short: none in src/ may run over MAX_LINES lines, except any listed in LONG
// below, waiting to be split into named stages (they may shrink, never grow; the list is empty
// now). Generated code is left out.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import ts from "typescript";
import { expect, it } from "vitest";
import { REPO } from "../helpers/fixtures.js";

const SRC = join(REPO, "src");
const MAX_LINES = 80;
const SKIP = ["proto/generated/", "schema-validators.generated.ts"];

/** Known long functions (src-relative file and name) and their length when listed. */
const LONG: Readonly<Record<string, number>> = {};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith(".ts") ? [p] : [];
  });
}

/** Every function with a body: `file name` (nested ones `outer/inner`), its first line and its length in lines. */
function functions(file: string): Array<{ id: string; line: number; lines: number }> {
  const sf = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.ES2022, true);
  const rel = relative(SRC, file);
  const out: Array<{ id: string; line: number; lines: number }> = [];
  const lineOf = (pos: number) => sf.getLineAndCharacterOfPosition(pos).line + 1;
  const visit = (node: ts.Node, outer: string | undefined): void => {
    let scope = outer;
    if (ts.isFunctionLike(node) && "body" in node && node.body !== undefined) {
      const p = node.parent;
      const own =
        node.name?.getText(sf) ??
        (p !== undefined && (ts.isVariableDeclaration(p) || ts.isPropertyAssignment(p))
          ? p.name.getText(sf)
          : "<anonymous>");
      scope = outer === undefined ? own : `${outer}/${own}`;
      const line = lineOf(node.getStart(sf));
      out.push({ id: `${rel} ${scope}`, line, lines: lineOf(node.end) - line + 1 });
    }
    ts.forEachChild(node, (n) => visit(n, scope));
  };
  visit(sf, undefined);
  return out;
}

const ALL = sourceFiles(SRC)
  .filter((f) => !SKIP.some((s) => relative(SRC, f).startsWith(s)))
  .flatMap(functions);

it("measures the functions of src/", () => {
  expect(ALL.length).toBeGreaterThan(300);
});

it(`has no function over ${MAX_LINES} lines besides the known ones, and those do not grow`, () => {
  const over = ALL.filter((f) => f.lines > MAX_LINES && !(f.id in LONG && f.lines <= (LONG[f.id] ?? 0)));
  expect(
    over.map((f) => `src/${f.id.split(" ")[0]}:${f.line} ${f.id.split(" ")[1]} is ${f.lines} lines`),
  ).toEqual([]);
});
