/**
 * `tfckpt rewrite SRC DST`: re-encode a checkpoint as a V2 bundle (re-shard, merge slices, V1 → V2).
 *
 * @module
 */
import type { Argv } from "yargs";
import { defineCommand } from "../command.js";
import { formatBytes } from "../format.js";
import { type CliIO, progressBar } from "../io.js";

/** The `rewrite` command. */
export const rewriteCommand = defineCommand({
  command: "rewrite <src> <dst>",
  describe: "Re-encode a checkpoint as a V2 bundle: same keys, tensors and data order (re-shard, V1 → V2)",
  builder: (y: Argv) =>
    y
      .positional("src", { type: "string", demandOption: true, describe: "any checkpoint tfckpt reads" })
      .positional("dst", {
        type: "string",
        demandOption: true,
        describe: "output checkpoint prefix, or a directory (DIR/: the source's name in it)",
      })
      .option("shards", { type: "number", describe: "number of data shards (default: as the source)" })
      .option("max-shard-bytes", {
        type: "number",
        describe: "start a new shard before one would pass this size",
      })
      .option("merge-slices", {
        type: "boolean",
        default: false,
        describe: "write partitioned variables whole",
      })
      .option("force", {
        type: "boolean",
        default: false,
        describe: "overwrite an existing checkpoint at DST",
      })
      .option("update-state", {
        type: "boolean",
        default: false,
        describe: "also write DST's directory `checkpoint` state file",
      })
      .conflicts("shards", "max-shard-bytes"),
  handler: async (args, io: CliIO) => {
    const { rewriteCheckpoint } = await import("../../rewrite.js");
    const bar = progressBar(io, "rewrite");
    try {
      const r = await rewriteCheckpoint(args.src, args.dst, {
        ...(args.shards !== undefined ? { shards: args.shards } : {}),
        ...(args.maxShardBytes !== undefined ? { maxShardBytes: args.maxShardBytes } : {}),
        mergeSlices: args.mergeSlices,
        force: args.force,
        writeState: args.updateState,
        onProgress: bar.onProgress,
      });
      bar.stop();
      for (const n of r.notes) io.stderr(`note: ${n}\n`);
      if (r.stateFile !== null) io.stderr(`wrote ${r.stateFile}\n`);
      io.stderr(
        `rewrote ${r.sourceFormat.toUpperCase()} ${r.source} → ${r.destination}: ${r.tensors} tensors, ${formatBytes(r.bytes)}, ${r.shards} shard${r.shards === 1 ? "" : "s"}\n`,
      );
      return 0;
    } finally {
      bar.stop();
    }
  },
});
