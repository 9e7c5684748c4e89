/**
 * `tfckpt inspect PATH`: list a checkpoint's variables, summarise tensor values, verify every
 * checksum, or print the object graph.
 *
 * @module
 */
import type { Argv } from "yargs";
import { dtypeFromName } from "../../dtypes.js";
import { UsageError } from "../../errors.js";
import type { InspectResult } from "../../inspect.js";
import { formatElement } from "../../values.js";
import { type ArgsOf, defineCommand } from "../command.js";
import { formatBytes, formatShape, table } from "../format.js";
import { type CliIO, progressBar } from "../io.js";

/**
 * `--elements`: a non-negative integer, or `all` (every element, as inspect_checkpoint prints with
 * `--printoptions threshold=…`).
 * @throws UsageError for anything else
 */
export function parseElements(raw: unknown): number {
  const s = String(raw).trim();
  if (s === "all") return Number.POSITIVE_INFINITY;
  if (/^\d+$/.test(s) && Number.isSafeInteger(Number(s))) return Number(s);
  throw new UsageError(
    `--elements takes a non-negative whole number of elements, or "all" for every element; got ${JSON.stringify(s)}`,
  );
}

/** The options of `inspect`. */
function inspectOptions(y: Argv) {
  return y
    .positional("path", {
      type: "string",
      demandOption: true,
      describe: "checkpoint prefix, directory, .index file, SavedModel or V1 file",
    })
    .option("json", { type: "boolean", default: false, describe: "machine-readable output on stdout" })
    .option("tensor", {
      type: "string",
      array: true,
      describe: "show the values of this tensor (repeatable)",
    })
    .option("all-tensors", { type: "boolean", default: false, describe: "show the values of every tensor" })
    .option("elements", {
      type: "string",
      default: "10",
      coerce: parseElements,
      describe: 'leading elements shown per tensor; "all" for every element',
    })
    .option("names", {
      type: "boolean",
      default: false,
      describe: "list variable names only, one per line (a JSON array with --json)",
    })
    .option("verify", {
      type: "boolean",
      default: false,
      describe: "read every byte and check every CRC; exit 1 on failure",
    })
    .option("graph", {
      type: "boolean",
      default: false,
      describe: "print the object graph of an object-based checkpoint",
    });
}

type Args = ArgsOf<typeof inspectOptions>;

function render(r: InspectResult, args: Args, io: CliIO): void {
  if (args.names) {
    const names = r.variables.map((v) => v.name);
    io.stdout(args.json ? `${JSON.stringify(names, null, 2)}\n` : names.map((n) => `${n}\n`).join(""));
    return;
  }
  if (args.json) {
    io.stdout(
      `${JSON.stringify(
        {
          format: r.format,
          objectBased: r.objectBased,
          shards: r.shards,
          path: r.path,
          totalBytes: r.totalBytes,
          variables: r.variables,
          ...(r.tensors !== undefined ? { tensors: r.tensors } : {}),
          ...(r.verify !== undefined ? { verify: r.verify } : {}),
          ...(r.graph !== undefined ? { graph: r.graph } : {}),
        },
        // int64 min / max are bigints: exact decimal strings in JSON.
        (_, v: unknown) => (typeof v === "bigint" ? v.toString() : v),
        2,
      )}\n`,
    );
    return;
  }
  if (r.graph !== undefined) {
    io.stdout(`${r.graph.join("\n")}\n`);
  } else if (args.graph) {
    io.stderr("not an object-based checkpoint: it has no object graph\n");
  }
  if (r.tensors !== undefined) {
    for (const t of r.tensors) {
      const v = r.variables.find((x) => x.name === t.name);
      io.stdout(`tensor_name: ${t.name}  ${v?.dtype ?? ""}${formatShape(v?.shape ?? [])}\n`);
      const more = t.elements > t.first.length ? `, … (${t.elements} elements)` : "";
      io.stdout(`  [${t.first.join(", ")}${more}]\n`);
      if (t.min !== undefined && t.max !== undefined && v !== undefined) {
        const d = dtypeFromName(v.dtype);
        io.stdout(`  min ${formatElement(d, t.min)}  max ${formatElement(d, t.max)}  mean ${t.mean}\n`);
      }
    }
  }
  if (r.graph === undefined && r.tensors === undefined) {
    io.stdout(
      table(
        ["name", "dtype", "shape", "bytes"],
        r.variables.map((v) => [
          v.name,
          v.dtype,
          formatShape(v.shape) + (v.slices !== undefined ? ` (${v.slices} slices)` : ""),
          String(v.bytes),
        ]),
        new Set([3]),
      ),
    );
    if (r.format === "keras-h5") {
      io.stdout(`Keras weights (HDF5): ${r.variables.length} variables, ${formatBytes(r.totalBytes)}\n`);
    } else
      io.stdout(
        `${r.format.toUpperCase()} ${r.objectBased ? "object-based" : "name-based"} checkpoint: ${r.variables.length} variables, ${formatBytes(r.totalBytes)}, ${r.shards} ${r.format === "v2" ? "data shard" : "file"}${r.shards === 1 ? "" : "s"}\n`,
      );
  }
  if (r.verify !== undefined) {
    for (const f of r.verify.failures) io.stderr(`FAIL ${f.message}\n`);
    const status = r.verify.failures.length === 0 ? "OK" : `${r.verify.failures.length} FAILED`;
    io.stderr(
      `verify: ${status} (${r.verify.tensorsChecked} tensors, ${formatBytes(r.verify.bytesChecked)} checked)\n`,
    );
  }
}

/** The `inspect` command. */
export const inspectCommand = defineCommand({
  command: "inspect <path>",
  describe: "List a checkpoint's variables (like tf.train.list_variables); show tensors; verify checksums",
  builder: inspectOptions,
  handler: async (args, io) => {
    const { inspectCheckpoint } = await import("../../inspect.js");
    const bar = progressBar(io, "verify");
    let r: InspectResult;
    try {
      r = await inspectCheckpoint(args.path, {
        ...(args.allTensors
          ? { tensors: "all" as const }
          : args.tensor !== undefined
            ? { tensors: args.tensor }
            : {}),
        elements: args.elements,
        verify: args.verify,
        graph: args.graph,
        onProgress: bar.onProgress,
      });
    } finally {
      bar.stop();
    }
    for (const n of r.notes) io.stderr(`note: ${n}\n`);
    render(r, args, io);
    return r.verify !== undefined && r.verify.failures.length > 0 ? 1 : 0;
  },
});
