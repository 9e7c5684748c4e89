/**
 * Assignment maps: the JSON document (`mappings/assignment-map.schema.json`) that drives
 * `migrate`, parsed and checked all at once (schema with ajv, then the rules' own sense: regular
 * expressions compile, `$n` captures exist, scopes map to scopes, concat goes with a list).
 * Semantics follow `tf.compat.v1.train.init_from_checkpoint`
 * (`tensorflow/python/training/checkpoint_utils.py`).
 *
 * @module
 */
import { type DocumentProblem, InvalidDocumentError } from "../errors.js";
import { ATTRIBUTES, VARIABLE_VALUE } from "../graph/keys.js";
import { readJsonFile, validateDocument } from "../schema.js";
import type { Transform } from "../transforms/index.js";

/** Optimizer slot presets. */
export type OptimizerPreset = "adam" | "momentum" | "rmsprop" | "rmsprop-centered" | "adagrad" | "ftrl";

/** One rule, normalised. `index` is its position in `assignments` (for reports). */
export type Rule =
  | {
      readonly kind: "exact";
      readonly index: number;
      readonly from: readonly string[];
      readonly to: TargetRef;
      readonly concatAxis?: number;
      readonly transforms: readonly Transform[];
    }
  | {
      readonly kind: "value";
      readonly index: number;
      readonly value: number;
      readonly to: TargetRef;
      readonly transforms: readonly Transform[];
    }
  | {
      readonly kind: "scope";
      readonly index: number;
      readonly fromScope: string;
      readonly toScope: string;
      readonly transforms: readonly Transform[];
    }
  | {
      readonly kind: "pattern";
      readonly index: number;
      readonly pattern: RegExp;
      readonly source: string;
      readonly to: string;
      readonly transforms: readonly Transform[];
    };

/** A rule's target: an object path, or a variable's full_name. */
export type TargetRef = { readonly path: string } | { readonly fullName: string };

/** A parsed assignment map. */
export interface AssignmentMap {
  readonly rules: readonly Rule[];
  readonly ignore: readonly { readonly glob: string; readonly re: RegExp }[];
  readonly optimizer?: {
    readonly preset: OptimizerPreset;
    readonly path?: string;
    readonly slotSuffix?: string;
    readonly globalStep: boolean;
  };
  readonly ema: boolean;
}

interface RawAssignment {
  from?: string | string[];
  fromPattern?: string;
  value?: number;
  to?: string;
  toName?: string;
  concat?: { axis: number };
  transforms?: Transform[];
}

interface RawMap {
  assignments?: RawAssignment[];
  ignore?: string[];
  optimizer?: { preset: OptimizerPreset; path?: string; slotSuffix?: string; globalStep?: boolean };
  ema?: boolean;
}

const KEY_SUFFIX = `/${ATTRIBUTES}/${VARIABLE_VALUE}`;

/** Strips `/.ATTRIBUTES/VARIABLE_VALUE` from a full checkpoint key (object paths pass unchanged). */
export function toObjectPath(to: string): string {
  return to.endsWith(KEY_SUFFIX) ? to.slice(0, -KEY_SUFFIX.length) : to;
}

/** A glob (`*` any characters including `/`, `?` one character, `[abc]` a class) as an anchored RegExp. */
export function globToRegExp(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === "*") re += ".*";
    else if (c === "?") re += ".";
    else if (c === "[") {
      const end = glob.indexOf("]", i + 2);
      if (end < 0) re += "\\[";
      else {
        const body = glob.slice(i + 1, end).replace(/\\/g, "\\\\");
        re += body.startsWith("!") ? `[^${body.slice(1)}]` : `[${body}]`;
        i = end;
      }
    } else re += c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  }
  return new RegExp(`^${re}$`, "s");
}

/**
 * Parses and checks an assignment map document.
 * @param file  named in errors
 * @throws InvalidDocumentError listing every problem with its JSON path
 */
export function parseAssignmentMap(doc: unknown, file?: string): AssignmentMap {
  validateDocument("assignment-map.schema.json", doc, "assignment map", file);
  const raw = doc as RawMap;
  const problems: DocumentProblem[] = [];
  const rules: Rule[] = [];
  (raw.assignments ?? []).forEach((a, index) => {
    const at = `$.assignments[${index}]`;
    const sources = [a.from !== undefined, a.fromPattern !== undefined, a.value !== undefined].filter(
      Boolean,
    ).length;
    const targets = [a.to !== undefined, a.toName !== undefined].filter(Boolean).length;
    if (sources !== 1)
      problems.push({ path: at, message: 'needs exactly one of "from", "fromPattern" or "value"' });
    if (targets !== 1) problems.push({ path: at, message: 'needs exactly one of "to" or "toName"' });
    if (sources !== 1 || targets !== 1) return;
    const transforms = a.transforms ?? [];
    const to: TargetRef =
      a.toName !== undefined ? { fullName: a.toName } : { path: toObjectPath(a.to as string) };
    const toScope = a.to !== undefined && (a.to === "/" || a.to.endsWith("/"));
    if (Array.isArray(a.from) && a.concat === undefined && a.from.length > 1) {
      problems.push({
        path: `${at}.from`,
        message: 'a list of sources needs "concat": {"axis": …} to fuse them',
      });
    }
    if (a.concat !== undefined && !Array.isArray(a.from)) {
      problems.push({ path: `${at}.concat`, message: '"concat" needs "from" to be a list of source names' });
    }
    if (a.from !== undefined) {
      const list = Array.isArray(a.from) ? a.from : [a.from];
      const fromScope = !Array.isArray(a.from) && (a.from === "/" || a.from.endsWith("/"));
      if (fromScope || toScope) {
        if (!(fromScope && toScope)) {
          problems.push({
            path: at,
            message: `a scope maps only to a scope: "from" ${JSON.stringify(a.from)} and "to" ${JSON.stringify(a.to ?? a.toName)} must both end in "/" (as in init_from_checkpoint's 'scope/': 'other_scope/')`,
          });
          return;
        }
        rules.push({
          kind: "scope",
          index,
          fromScope: a.from === "/" ? "" : (a.from as string),
          toScope: a.to === "/" ? "" : (a.to as string),
          transforms,
        });
        return;
      }
      rules.push({
        kind: "exact",
        index,
        from: list,
        to,
        ...(a.concat !== undefined ? { concatAxis: a.concat.axis } : {}),
        transforms,
      });
      return;
    }
    if (toScope) {
      problems.push({ path: `${at}.to`, message: "only a scope rule (from ending in /) can target a scope" });
      return;
    }
    if (a.value !== undefined) {
      rules.push({ kind: "value", index, value: a.value, to, transforms });
      return;
    }
    if (a.toName !== undefined) {
      problems.push({
        path: `${at}.toName`,
        message: 'a "fromPattern" rule targets object paths: use "to" with $1… captures',
      });
      return;
    }
    let pattern: RegExp;
    try {
      pattern = new RegExp(`^(?:${a.fromPattern})$`, "u");
    } catch (e) {
      problems.push({
        path: `${at}.fromPattern`,
        message: `not a valid regular expression: ${e instanceof Error ? e.message : String(e)}`,
      });
      return;
    }
    const groups = new RegExp(`${pattern.source}|`, "u").exec("")?.length ?? 1;
    for (const m of (a.to as string).matchAll(/\$(\d+)/g)) {
      if (Number(m[1]) > groups - 1) {
        problems.push({
          path: `${at}.to`,
          message: `$${m[1]} refers to a capture the pattern does not have (it has ${groups - 1})`,
        });
      }
    }
    rules.push({
      kind: "pattern",
      index,
      pattern,
      source: a.fromPattern as string,
      to: toObjectPath(a.to as string),
      transforms,
    });
  });
  if (problems.length > 0) throw new InvalidDocumentError("assignment map", file, problems);
  const o = raw.optimizer;
  return {
    rules,
    ignore: (raw.ignore ?? []).map((glob) => ({ glob, re: globToRegExp(glob) })),
    ...(o !== undefined
      ? {
          optimizer: {
            preset: o.preset,
            ...(o.path !== undefined ? { path: o.path } : {}),
            ...(o.slotSuffix !== undefined ? { slotSuffix: o.slotSuffix } : {}),
            globalStep: o.globalStep ?? true,
          },
        }
      : {}),
    ema: raw.ema === true,
  };
}

/** Reads and parses an assignment map file. @throws InvalidDocumentError */
export function loadAssignmentMap(file: string): AssignmentMap {
  return parseAssignmentMap(readJsonFile(file, "assignment map"), file);
}
