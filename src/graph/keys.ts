/**
 * Object paths and checkpoint keys of object-based checkpoints. Mirrors
 * `tensorflow/python/trackable/trackable_utils.py` (`escape_local_name`, `object_path_to_string`,
 * `checkpoint_key`, `slot_variable_key`) and the constants of `trackable/constants.py`.
 *
 * @module
 */

/** Checkpoint key of the serialized object graph (`trackable/constants.py`, OBJECT_GRAPH_PROTO_KEY). */
export const OBJECT_GRAPH_PROTO_KEY = "_CHECKPOINTABLE_OBJECT_GRAPH";
/** Attribute name of a variable's value (`VARIABLE_VALUE_KEY`). */
export const VARIABLE_VALUE = "VARIABLE_VALUE";
/** Separator segment before attribute names (`_OBJECT_ATTRIBUTES_NAME`). */
export const OBJECT_ATTRIBUTES_NAME = ".ATTRIBUTES";
/** Separator segment of slot variable keys (`_OPTIMIZER_SLOTS_NAME`). */
export const OPTIMIZER_SLOTS_NAME = ".OPTIMIZER_SLOT";

/** Escapes one local name: `.` → `..` first, then `/` → `.S`. */
export function escapeLocalName(name: string): string {
  if (!name.includes(".") && !name.includes("/")) return name; // the usual case: nothing to escape
  return name.replaceAll(".", "..").replaceAll("/", ".S");
}

/** Inverse of {@link escapeLocalName}, left to right; returns undefined for a bad escape. */
export function unescapeLocalName(escaped: string): string | undefined {
  let out = "";
  for (let i = 0; i < escaped.length; i++) {
    const ch = escaped[i];
    if (ch !== ".") {
      out += ch;
      continue;
    }
    const next = escaped[i + 1];
    if (next === ".") out += ".";
    else if (next === "S") out += "/";
    else return undefined;
    i++;
  }
  return out;
}

/** An object path (local names from the root) as a string: escaped names joined by `/`. */
export function objectPathToString(path: readonly string[]): string {
  return path.map(escapeLocalName).join("/");
}

/** Parses an escaped object path string back into local names (undefined for a bad escape). */
export function objectPathFromString(s: string): string[] | undefined {
  if (s === "") return [];
  const out: string[] = [];
  for (const part of s.split("/")) {
    const u = unescapeLocalName(part);
    if (u === undefined) return undefined;
    out.push(u);
  }
  return out;
}

/** `<object path>/.ATTRIBUTES/<escaped attribute>`, e.g. `model/dense/kernel/.ATTRIBUTES/VARIABLE_VALUE`. */
export function attributeKey(objectPath: string, attribute = VARIABLE_VALUE): string {
  const prefix = objectPath === "" ? "" : `${objectPath}/`;
  return `${prefix}${OBJECT_ATTRIBUTES_NAME}/${escapeLocalName(attribute)}`;
}

/** `<variable path>/.OPTIMIZER_SLOT/<optimizer path>/<escaped slot name>` (an object path). */
export function slotVariablePath(variablePath: string, optimizerPath: string, slotName: string): string {
  return `${variablePath}/${OPTIMIZER_SLOTS_NAME}/${optimizerPath}/${escapeLocalName(slotName)}`;
}
