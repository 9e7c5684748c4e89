/**
 * The `checkpoint` state file: a `CheckpointState` proto in protobuf text format. Mirrors
 * `tensorflow/python/checkpoint/checkpoint_management.py` (`get_checkpoint_state`,
 * `generate_checkpoint_state_proto`, `update_checkpoint_state_internal`).
 *
 * @module
 */
import { basename, dirname, join } from "node:path";
import { CorruptCheckpointError, WriteError } from "../errors.js";
import { writeTextFileAtomic } from "../io/atomic.js";

/** `CheckpointState` (checkpoint_state.proto). Paths as stored (relative or absolute). */
export interface CheckpointState {
  readonly modelCheckpointPath: string;
  readonly allModelCheckpointPaths: readonly string[];
  readonly allModelCheckpointTimestamps: readonly number[];
  readonly lastPreservedTimestamp: number | undefined;
}

const FIELDS = new Set([
  "model_checkpoint_path",
  "all_model_checkpoint_paths",
  "all_model_checkpoint_timestamps",
  "last_preserved_timestamp",
]);

/**
 * Parses a `checkpoint` file (text format). Unknown fields are refused, as Python's
 * `text_format.Merge` does. Strings accept C escapes (`\n`, `\"`, `\\`, octal `\ooo`, `\xHH`).
 * @throws CorruptCheckpointError naming the file and the byte offset of the bad line
 */
export function parseCheckpointState(text: string, file: string): CheckpointState {
  const out = {
    modelCheckpointPath: "",
    allModelCheckpointPaths: [] as string[],
    allModelCheckpointTimestamps: [] as number[],
    lastPreservedTimestamp: undefined as number | undefined,
  };
  let offset = 0;
  let lineNumber = 0;
  for (const line of text.split("\n")) {
    const at = offset;
    lineNumber++;
    offset += Buffer.byteLength(line, "utf8") + 1;
    const t = line.trim();
    if (t === "" || t.startsWith("#")) continue;
    const m = /^([a-z_]+)\s*:\s*(.*)$/.exec(t);
    if (m === null || !FIELDS.has(m[1] as string)) {
      // The line itself is not quoted: the file may be anything a link points at.
      throw new CorruptCheckpointError(
        `cannot parse checkpoint state: line ${lineNumber} is not "field: value" with a CheckpointState field (${[...FIELDS].join(", ")})`,
        { file, offset: at },
      );
    }
    const field = m[1] as string;
    const raw = (m[2] as string).trim();
    if (field.endsWith("_path") || field.endsWith("_paths")) {
      const s = parseQuoted(raw);
      if (s === undefined)
        throw new CorruptCheckpointError(`bad string value for ${field}`, { file, offset: at });
      if (field === "model_checkpoint_path") out.modelCheckpointPath = s;
      else out.allModelCheckpointPaths.push(s);
    } else {
      const n = Number(raw);
      if (raw === "" || !Number.isFinite(n))
        throw new CorruptCheckpointError(`bad number for ${field}`, { file, offset: at });
      if (field === "last_preserved_timestamp") out.lastPreservedTimestamp = n;
      else out.allModelCheckpointTimestamps.push(n);
    }
  }
  return out;
}

function parseQuoted(raw: string): string | undefined {
  const q = raw[0];
  if ((q !== '"' && q !== "'") || raw.length < 2 || raw[raw.length - 1] !== q) return undefined;
  const body = raw.slice(1, -1);
  const bytes: number[] = [];
  for (let i = 0; i < body.length; i++) {
    const ch = body[i] as string;
    if (ch === q) return undefined;
    if (ch !== "\\") {
      bytes.push(...Buffer.from(ch, "utf8"));
      continue;
    }
    const n = body[++i];
    if (n === undefined) return undefined;
    const simple: Record<string, number> = {
      n: 10,
      r: 13,
      t: 9,
      '"': 34,
      "'": 39,
      "\\": 92,
      a: 7,
      b: 8,
      f: 12,
      v: 11,
    };
    if (n in simple) bytes.push(simple[n] as number);
    else if (/[0-7]/.test(n)) {
      let digits = n;
      while (digits.length < 3 && /[0-7]/.test(body[i + 1] ?? "")) digits += body[++i];
      bytes.push(Number.parseInt(digits, 8) & 0xff);
    } else if (n === "x") {
      let digits = "";
      while (digits.length < 2 && /[0-9a-fA-F]/.test(body[i + 1] ?? "")) digits += body[++i];
      if (digits === "") return undefined;
      bytes.push(Number.parseInt(digits, 16));
    } else return undefined;
  }
  return Buffer.from(bytes).toString("utf8");
}

function quote(s: string): string {
  let out = "";
  for (const b of Buffer.from(s, "utf8")) {
    if (b === 0x22) out += '\\"';
    else if (b === 0x5c) out += "\\\\";
    else if (b === 0x0a) out += "\\n";
    else if (b === 0x0d) out += "\\r";
    else if (b === 0x09) out += "\\t";
    else if (b < 0x20 || b >= 0x7f) out += `\\${b.toString(8).padStart(3, "0")}`;
    else out += String.fromCharCode(b);
  }
  return `"${out}"`;
}

/**
 * Formats a `CheckpointState` as Python's `text_format.MessageToString` does: one `field: value`
 * line per set field, in field-number order; non-ASCII bytes as octal escapes.
 */
export function formatCheckpointState(s: CheckpointState): string {
  const lines: string[] = [];
  if (s.modelCheckpointPath !== "") lines.push(`model_checkpoint_path: ${quote(s.modelCheckpointPath)}`);
  for (const p of s.allModelCheckpointPaths) lines.push(`all_model_checkpoint_paths: ${quote(p)}`);
  for (const t of s.allModelCheckpointTimestamps)
    lines.push(`all_model_checkpoint_timestamps: ${formatDouble(t)}`);
  if (s.lastPreservedTimestamp !== undefined && s.lastPreservedTimestamp !== 0) {
    lines.push(`last_preserved_timestamp: ${formatDouble(s.lastPreservedTimestamp)}`);
  }
  return `${lines.join("\n")}\n`;
}

function formatDouble(v: number): string {
  return Number.isInteger(v) ? `${v}.0` : String(v);
}

/** The `checkpoint` state file beside `prefix` (what {@link writeCheckpointState} writes). */
export function checkpointStatePath(prefix: string): string {
  return join(dirname(prefix), "checkpoint");
}

/**
 * `e`, or, when `e` is a {@link WriteError} of an output committed but not durable
 * (`committed`), a copy that also says the state file beside `prefix` was not updated: the error
 * stops a run before it writes the state file, so that file does not name the new output.
 */
export function withStateNotUpdated(e: unknown, prefix: string): unknown {
  if (!(e instanceof WriteError) || !e.committed) return e;
  return new WriteError(
    `${e.detail}; the checkpoint state file ${checkpointStatePath(prefix)} was not updated: it does not name this output`,
    e.file ?? prefix,
    { cause: e.cause, committed: true },
  );
}

/**
 * Writes `<dir of prefix>/checkpoint` naming `prefix` (relative, as `Checkpoint.save` and Keras
 * `save_weights` do with `save_relative_paths=True`), so `tf.train.latest_checkpoint(dir)` finds
 * it. Atomic; an existing state file is replaced only with `force`.
 * @returns the state file's path
 * @throws OutputExistsError when the file exists and `force` is off
 */
export async function writeCheckpointState(
  prefix: string,
  options: { force?: boolean } = {},
): Promise<string> {
  const file = checkpointStatePath(prefix);
  const rel = basename(prefix);
  await writeTextFileAtomic(
    file,
    formatCheckpointState({
      modelCheckpointPath: rel,
      allModelCheckpointPaths: [rel],
      allModelCheckpointTimestamps: [],
      lastPreservedTimestamp: undefined,
    }),
    { force: options.force ?? false },
  );
  return file;
}
