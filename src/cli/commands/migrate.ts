/**
 * `tfckpt migrate`: write the TF2 object-based checkpoint a model restores with `assert_consumed()`,
 * from an old checkpoint and an assignment map, and report what was done.
 *
 * @module
 */
import type { Argv } from "yargs";
import { UsageError } from "../../errors.js";
import { checkOutputPaths, writeTextFileAtomic } from "../../io/atomic.js";
import { defineCommand } from "../command.js";
import { EXIT_CHECK_FAILED, EXIT_OK } from "../exit.js";
import { type CliIO, progressBar } from "../io.js";

/** The options naming what `migrate` reads and what format it writes. */
function inputOptions(y: Argv) {
  return y
    .option("source", {
      type: "string",
      demandOption: true,
      describe: "the old checkpoint (prefix, directory, V1 file, …)",
    })
    .option("target", {
      type: "string",
      demandOption: true,
      describe: "TF2 template checkpoint, a .json object graph, or a Keras 3 .weights.h5 / .keras",
    })
    .option("mapping", {
      type: "string",
      demandOption: true,
      describe: "assignment map (.json, mappings/assignment-map.schema.json)",
    })
    .option("output", {
      type: "string",
      describe:
        "output checkpoint prefix, e.g. out/ckpt-1; or a Keras 3 file: model.weights.h5, model.keras (Keras target needed)",
    })
    .option("format", {
      choices: ["tf2", "keras-weights-h5", "keras"] as const,
      describe: "output format (default: by the output's extension)",
    })
    .option("via", {
      type: "string",
      describe:
        "with a Keras 3 target: a TF2 template checkpoint of the same model; the map names its object paths and tfckpt carries each value to the Keras dataset holding that variable",
    });
}

/** The options saying how and whether `migrate` writes, and where its report goes. */
function writeOptions<T>(y: Argv<T>) {
  return y
    .option("report", { type: "string", describe: "write the full report as JSON to this file" })
    .option("json", { type: "boolean", default: false, describe: "print the report JSON on stdout" })
    .option("dry-run", { type: "boolean", default: false, describe: "plan and report; write nothing" })
    .option("force", {
      type: "boolean",
      default: false,
      describe: "overwrite an existing output checkpoint and state file",
    })
    .option("keep-unmapped", {
      type: "boolean",
      default: false,
      describe: "targets the map does not reach keep the template's values",
    })
    .option("allow-partial", {
      type: "boolean",
      default: false,
      describe: "write and exit 0 even if assert_consumed would fail",
    })
    .option("save-counter", {
      type: "boolean",
      default: false,
      describe: "add save_counter as Checkpoint.save does (JSON targets, templates written by write())",
    })
    .option("shards", { type: "number", default: 1, describe: "number of data shards to write" })
    .option("link", {
      type: "string",
      describe:
        "reuse source data shards instead of copying them: each source shard holding a renamed tensor becomes an output shard by a reflink, or else a hard link (the same file under two names: modifying one in place modifies the other; TensorFlow never does), and one new shard holds the rest. Linked tensors are not re-read. --link auto: link when the file system allows, else copy",
      coerce: (v: unknown) => {
        if (v === undefined) return undefined;
        if (v === "" || v === true || v === "on" || v === "true") return true;
        if (v === "auto") return "auto";
        throw new UsageError(`--link takes no value or "auto", got ${JSON.stringify(v)}`);
      },
    })
    .option("compact", {
      type: "boolean",
      default: false,
      describe:
        "write fresh data shards holding only what the output uses (the default; conflicts with --link)",
    })
    .option("state", {
      type: "boolean",
      default: true,
      describe: "write the directory's `checkpoint` state file (--no-state to skip)",
    });
}

/** The `migrate` command. */
export const migrateCommand = defineCommand({
  command: "migrate",
  describe:
    "Write a TF2 object-based checkpoint from an old checkpoint, a target graph and an assignment map",
  builder: (y: Argv) =>
    writeOptions(inputOptions(y)).check((a) => {
      if (!a.dryRun && a.output === undefined) throw new UsageError("--output is required unless --dry-run");
      if (a.compact && a.link !== undefined) throw new UsageError("--compact and --link exclude each other");
      return true;
    }),
  handler: async (args, io: CliIO) => {
    const [{ migrate }, { renderMigrationSummary }] = await Promise.all([
      import("../../migrate.js"),
      import("../../report/migration.js"),
    ]);
    // The report is written last; check its path before the checkpoint is written.
    if (args.report !== undefined) await checkOutputPaths([args.report], { force: args.force });
    const bar = progressBar(io, "migrate", "tensors");
    let report: Awaited<ReturnType<typeof import("../../migrate.js").migrate>>;
    try {
      report = await migrate({
        source: args.source,
        target: args.target,
        mapping: args.mapping,
        ...(args.output !== undefined ? { output: args.output } : {}),
        dryRun: args.dryRun,
        force: args.force,
        keepUnmapped: args.keepUnmapped,
        allowPartial: args.allowPartial,
        saveCounter: args.saveCounter,
        shards: args.shards,
        ...(args.link !== undefined && !args.compact ? { link: args.link } : {}),
        writeState: args.state,
        ...(args.format !== undefined ? { format: args.format } : {}),
        ...(args.via !== undefined ? { via: args.via } : {}),
        onProgress: bar.onProgress,
      });
    } finally {
      bar.stop();
    }
    const json = `${JSON.stringify(report, null, 2)}\n`;
    if (args.report !== undefined) await writeTextFileAtomic(args.report, json, { force: args.force });
    if (args.json) io.stdout(json);
    for (const n of report.notes) io.stderr(`note: ${n}\n`);
    (args.json ? io.stderr : io.stdout)(renderMigrationSummary(report));
    return report.verdicts.assertConsumed.passed || args.allowPartial ? EXIT_OK : EXIT_CHECK_FAILED;
  },
});
