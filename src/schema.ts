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
import type { ErrorObject } from "ajv";
import { type DocumentProblem, InvalidDocumentError, NotFoundError } from "./errors.js";
import { MAX_DOCUMENT_DEPTH } from "./limits.js";
import * as generated from "./schema-validators.generated.js";

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

/** A validation function as ajv's standalone code exports it: true when valid, else `errors` set. */
interface Validator {
  (doc: unknown): boolean;
  errors?: ErrorObject[] | null;
}

/**
 * The validators of the schemas in `mappings/`, by file name: ajv's standalone code, generated
 * from the schemas by `mappings/generate.mjs` (draft 2020-12, every error at once, `discriminator`
 * on) so no run pays for compiling them; a test fails when the generated file drifts from them.
 */
const VALIDATORS: Readonly<Record<string, Validator>> = {
  "assignment-map.schema.json": generated.assignmentMap as Validator,
  "object-graph.schema.json": generated.objectGraph as Validator,
  "object-graph-authoring.schema.json": generated.objectGraphAuthoring as Validator,
};

function validator(name: string): Validator {
  const v = VALIDATORS[name];
  if (v === undefined) throw new NotFoundError(`no validator for the schema ${name}`);
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
