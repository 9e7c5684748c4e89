/**
 * JSON Schema validation (ajv, draft 2020-12) of the documents users write: object graphs and
 * assignment maps. Schemas live in `mappings/`; every error is reported at once with its JSON
 * path.
 *
 * @module
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import { type DocumentProblem, InvalidDocumentError, NotFoundError } from "./errors.js";
import { MAX_DOCUMENT_DEPTH } from "./limits.js";

/** The package root (where `mappings/` is), found from this module's location in src/ or dist/src/. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, "mappings")) && existsSync(join(dir, "package.json"))) return dir;
    dir = dirname(dir);
  }
  throw new NotFoundError("cannot find the tfckpt package root (mappings/)");
}

/** Path of a schema file in `mappings/`. */
export function schemaPath(name: string): string {
  return join(packageRoot(), "mappings", name);
}

// code.optimize off: ajv's optimising pass over the generated code took most of the compile time
// (0.5–1 s of CPU per schema on a loaded 2-core machine, paid by every migrate) for no measurable
// gain in validation speed (a 100 000-variable authoring graph validates as fast).
const ajv = new Ajv2020({ allErrors: true, strict: false, discriminator: true, code: { optimize: false } });
const compiled = new Map<string, ValidateFunction>();

function validator(name: string): ValidateFunction {
  const cached = compiled.get(name);
  if (cached !== undefined) return cached;
  const v = ajv.compile(JSON.parse(readFileSync(schemaPath(name), "utf8")) as object);
  compiled.set(name, v);
  return v;
}

/** `/assignments/2/to` → `$.assignments[2].to`. */
function jsonPath(pointer: string): string {
  let out = "$";
  for (const raw of pointer.split("/").slice(1)) {
    const seg = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    out += /^\d+$/.test(seg)
      ? `[${seg}]`
      : /^[A-Za-z_$][\w$]*$/.test(seg)
        ? `.${seg}`
        : `[${JSON.stringify(seg)}]`;
  }
  return out;
}

function problem(e: ErrorObject): DocumentProblem {
  const path = jsonPath(e.instancePath);
  switch (e.keyword) {
    case "required":
      return {
        path,
        message: `missing required property "${(e.params as { missingProperty: string }).missingProperty}"`,
      };
    case "additionalProperties":
      return {
        path,
        message: `unknown property "${(e.params as { additionalProperty: string }).additionalProperty}"`,
      };
    case "discriminator": {
      const p = e.params as { tag?: string; tagValue?: unknown };
      return {
        path,
        message: `unknown ${p.tag ?? "op"} ${JSON.stringify(p.tagValue)} (see assignment-map.schema.json for the transforms)`,
      };
    }
    case "enum":
      return {
        path,
        message: `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(", ")}`,
      };
    default:
      return { path, message: e.message ?? e.keyword };
  }
}

/**
 * Validates `doc` against `mappings/<schema>`.
 * @throws InvalidDocumentError with every problem and its JSON path
 */
export function validateDocument(schema: string, doc: unknown, what: string, file?: string): void {
  const depth = jsonDepth(doc);
  if (depth > MAX_DOCUMENT_DEPTH) {
    throw new InvalidDocumentError(what, file, [
      {
        path: "$",
        message: `nested ${depth} levels deep; at most MAX_DOCUMENT_DEPTH (${MAX_DOCUMENT_DEPTH}) are accepted`,
      },
    ]);
  }
  const v = validator(schema);
  if (v(doc)) return;
  // `if/then/else` adds a wrapper error ("must match then schema") per failing branch: drop those.
  const errors = (v.errors ?? []).filter((e) => e.keyword !== "if");
  const seen = new Set<string>();
  const problems = errors.map(problem).filter((p) => {
    const k = `${p.path} ${p.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  throw new InvalidDocumentError(what, file, problems);
}

/** Nesting depth of a JSON value, computed without recursion. */
function jsonDepth(doc: unknown): number {
  let max = 0;
  const stack: Array<[unknown, number]> = [[doc, 1]];
  while (stack.length > 0) {
    const [v, d] = stack.pop() as [unknown, number];
    if (typeof v !== "object" || v === null) continue;
    if (d > max) max = d;
    if (max > MAX_DOCUMENT_DEPTH) return max;
    for (const c of Object.values(v as object)) stack.push([c, d + 1]);
  }
  return max;
}

/**
 * Reads and parses a JSON file.
 * @throws InvalidDocumentError for a file that cannot be read (its path `$`, the system's reason)
 *         or malformed JSON (with the parser's position)
 */
export function readJsonFile(file: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new InvalidDocumentError(what, file, [
      { path: "$", message: `cannot read: ${e instanceof Error ? e.message : String(e)}` },
    ]);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new InvalidDocumentError(what, file, [
      { path: "$", message: `not valid JSON: ${e instanceof Error ? e.message : String(e)}` },
    ]);
  }
}
