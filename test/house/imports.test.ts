// The house's floors: every module of src/ sits on one floor of FLOORS; an import may point down a
// floor or sideways to a peer on the same floor, never up, and the modules never import each
// other in a cycle. Failures list every offending import as file:line.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { REPO } from "../helpers/fixtures.js";

const SRC = join(REPO, "src");

/**
 * The floors, lowest first. A module is a folder (`io/`) or a single file (`errors.ts`), named
 * relative to src/; a file belongs to the longest module that is a prefix of its path.
 */
const FLOORS: ReadonlyArray<{ readonly floor: string; readonly modules: readonly string[] }> = [
  {
    floor: "foundation: typed errors, named caps, own version, did-you-mean",
    modules: ["errors.ts", "limits.ts", "schema-urls.ts", "suggest.ts"],
  },
  { floor: "bytes: sources, cursor, CRC32C, atomic output, locks", modules: ["io/"] },
  { floor: "encodings: the dtype table, protobuf messages", modules: ["dtypes.ts", "proto/"] },
  {
    floor: "codecs: tensors, the table format, the object-graph codec, slice keys, schemas",
    modules: ["tensor.ts", "table/", "graph/", "slices/", "schema.ts", "schema-validators.generated.ts"],
  },
  { floor: "the reader contract", modules: ["reader.ts"] },
  { floor: "formats: V2 bundles, V1 tensor slices, Keras 3 weights", modules: ["bundle/", "v1/", "keras/"] },
  { floor: "values and transforms", modules: ["values.ts", "transforms/"] },
  { floor: "checkpoints: resolve a path, open the right reader, state files", modules: ["checkpoint/"] },
  { floor: "target graphs: templates, JSON forms, binding, consistency, writing", modules: ["target/"] },
  { floor: "mapping: documents, resolution, drafts", modules: ["mapping/"] },
  { floor: "report model", modules: ["report/"] },
  {
    floor: "pipelines",
    modules: ["inspect.ts", "migrate.ts", "validate.ts", "rewrite.ts", "draft-mapping.ts"],
  },
  { floor: "CLI plumbing: the command type, I/O, exit codes, formatting", modules: ["cli/"] },
  { floor: "CLI commands", modules: ["cli/commands/"] },
  {
    floor: "entry points: the CLI parser and bin, the public API",
    modules: ["cli/parser.ts", "cli/main.ts", "index.ts"],
  },
];

const FLOOR_OF = new Map<string, number>();
FLOORS.forEach((f, i) => {
  for (const m of f.modules) FLOOR_OF.set(m, i);
});

/** The module a src-relative path (`bundle/reader.ts`) belongs to, or undefined. */
function moduleOf(path: string): string | undefined {
  let best: string | undefined;
  for (const m of FLOOR_OF.keys()) {
    const hit = m.endsWith("/") ? path.startsWith(m) : path === m;
    if (hit && (best === undefined || m.length > best.length)) best = m;
  }
  return best;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith(".ts") ? [p] : [];
  });
}

interface Import {
  /** src-relative importing file. */
  readonly from: string;
  readonly line: number;
  /** src-relative imported file. */
  readonly to: string;
}

/** Every relative import, export-from, `import()` and `import("…")` type of a file. */
function importsOf(file: string): Import[] {
  const text = readFileSync(file, "utf8");
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const out: Import[] = [];
  const add = (spec: ts.Node | undefined) => {
    if (spec === undefined || !ts.isStringLiteral(spec) || !spec.text.startsWith(".")) return;
    const target = resolve(dirname(file), spec.text).replace(/\.js$/, ".ts");
    out.push({
      from: relative(SRC, file),
      line: sf.getLineAndCharacterOfPosition(spec.getStart(sf)).line + 1,
      to: relative(SRC, target),
    });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) add(node.moduleSpecifier);
    else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      add(node.arguments[0]);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(node.argument.literal);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

const FILES = sourceFiles(SRC).map((f) => relative(SRC, f));
const IMPORTS = sourceFiles(SRC).flatMap(importsOf);

describe("the floors of src/", () => {
  it("reads a plausible import graph", () => {
    expect(FILES.length).toBeGreaterThan(50);
    expect(IMPORTS.length).toBeGreaterThan(200);
  });

  it("places every source file on a floor", () => {
    expect(FILES.filter((f) => moduleOf(f) === undefined)).toEqual([]);
  });

  it("declares each module once", () => {
    const all = FLOORS.flatMap((f) => f.modules);
    expect(all.length).toBe(new Set(all).size);
  });

  it("has no import pointing up a floor", () => {
    const up = IMPORTS.flatMap((i) => {
      const a = moduleOf(i.from);
      const b = moduleOf(i.to);
      if (a === undefined || b === undefined) return [];
      const fa = FLOOR_OF.get(a) ?? 0;
      const fb = FLOOR_OF.get(b) ?? 0;
      return fb > fa
        ? [`src/${i.from}:${i.line} imports src/${i.to} (floor ${fa} ${a} -> floor ${fb} ${b})`]
        : [];
    });
    expect(up).toEqual([]);
  });

  it("has no cycle between modules", () => {
    // module -> module -> first import making that arrow (file:line)
    const edges = new Map<string, Map<string, string>>();
    for (const i of IMPORTS) {
      const a = moduleOf(i.from);
      const b = moduleOf(i.to);
      if (a === undefined || b === undefined || a === b) continue;
      const out = edges.get(a) ?? new Map<string, string>();
      edges.set(a, out);
      if (!out.has(b)) out.set(b, `src/${i.from}:${i.line}`);
    }
    const cycles: string[] = [];
    const state = new Map<string, "open" | "done">();
    const stack: string[] = [];
    const visit = (m: string): void => {
      state.set(m, "open");
      stack.push(m);
      for (const [n, where] of edges.get(m) ?? []) {
        if (state.get(n) === "open") {
          const loop = [...stack.slice(stack.indexOf(n)), n];
          const arrows = loop
            .slice(1)
            .map((to, k) => `${loop[k]} -> ${to} (${edges.get(loop[k] ?? "")?.get(to)})`);
          cycles.push(`${arrows.join(", ")}; closing at ${where}`);
        } else if (state.get(n) === undefined) visit(n);
      }
      stack.pop();
      state.set(m, "done");
    };
    for (const m of [...edges.keys()].sort()) if (state.get(m) === undefined) visit(m);
    expect(cycles).toEqual([]);
  });
});
