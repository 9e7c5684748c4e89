/**
 * JSON Schema validation (ajv, draft 2020-12) of the documents users write: object graphs and
 * assignment maps. Schemas live in `mappings/`; every error is reported at once with its JSON
 * path. Every string of a document, value or property name, must be well-formed UTF-16 (no lone
 * surrogate): names become UTF-8 checkpoint keys, where a lone surrogate has no encoding.
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

/** One step of a JSON path: `[2]`, `.to`, or `["a/b"]` for a key that is no identifier. */
function pathStep(seg: string): string {
  return /^\d+$/.test(seg)
    ? `[${seg}]`
    : /^[A-Za-z_$][\w$]*$/.test(seg)
      ? `.${seg}`
      : `[${JSON.stringify(seg)}]`;
}

/** `/assignments/2/to` → `$.assignments[2].to`. */
function jsonPath(pointer: string): string {
  let out = "$";
  for (const raw of pointer.split("/").slice(1)) {
    out += pathStep(raw.replaceAll("~1", "/").replaceAll("~0", "~"));
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
  const { depth, illFormed } = scanDocument(doc);
  if (depth > MAX_DOCUMENT_DEPTH) {
    throw new InvalidDocumentError(what, file, [
      {
        path: "$",
        message: `nested ${depth} levels deep; at most MAX_DOCUMENT_DEPTH (${MAX_DOCUMENT_DEPTH}) are accepted`,
      },
    ]);
  }
  if (illFormed.length > 0) throw new InvalidDocumentError(what, file, illFormed);
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

/** A value met by {@link scanDocument}: its nesting depth, and its parent and key to name its path. */
interface Visit {
  readonly v: unknown;
  readonly d: number;
  readonly up?: Visit;
  readonly key?: string;
}

function visitPath(n: Visit): string {
  const steps: string[] = [];
  for (let at: Visit | undefined = n; at?.key !== undefined; at = at.up) steps.push(pathStep(at.key));
  return `$${steps.reverse().join("")}`;
}

const NOT_WELL_FORMED =
  "is not well-formed UTF-16 (a lone surrogate, e.g. from a \\ud800 escape): no checkpoint name can hold it";

/**
 * Walks a JSON value without recursion: its nesting depth (the walk stops past
 * MAX_DOCUMENT_DEPTH), and every string — value or property name — that is not well-formed
 * UTF-16. Such a string has no UTF-8 encoding: written as a checkpoint key or object-graph name
 * it would become U+FFFD (as `TextEncoder` writes it), so two distinct names could collide.
 */
function scanDocument(doc: unknown): { depth: number; illFormed: DocumentProblem[] } {
  let max = 0;
  const illFormed: DocumentProblem[] = [];
  const stack: Visit[] = [{ v: doc, d: 1 }];
  while (stack.length > 0) {
    const n = stack.pop() as Visit;
    const v = n.v;
    if (typeof v === "string") {
      if (!v.isWellFormed()) illFormed.push({ path: visitPath(n), message: `string ${NOT_WELL_FORMED}` });
      continue;
    }
    if (typeof v !== "object" || v === null) continue;
    if (n.d > max) max = n.d;
    if (max > MAX_DOCUMENT_DEPTH) break;
    const entries = Object.entries(v as object);
    for (const [key] of entries) {
      if (!key.isWellFormed())
        illFormed.push({
          path: visitPath(n),
          message: `property name ${JSON.stringify(key)} ${NOT_WELL_FORMED}`,
        });
    }
    // Pushed last to first, so problems come out in document order.
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, c] = entries[i] as [string, unknown];
      stack.push({ v: c, d: n.d + 1, up: n, key });
    }
  }
  return { depth: max, illFormed };
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
