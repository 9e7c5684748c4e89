/**
 * `tfckpt draft-mapping --source OLD --target NEW [--output MAP.json]`: a first assignment map.
 *
 * @module
 */
import type { Argv } from "yargs";
import { defineCommand } from "../command.js";
import { EXIT_OK } from "../exit.js";
import type { CliIO } from "../io.js";

/** The `draft-mapping` command. */
export const draftMappingCommand = defineCommand({
  command: "draft-mapping",
  describe:
    "Draft an assignment map from an old checkpoint and a new one (or a .json graph), with confidences",
  builder: (y: Argv) =>
    y
      .option("source", { type: "string", demandOption: true, describe: "the old checkpoint" })
      .option("target", {
        type: "string",
        demandOption: true,
        describe: "TF2 template checkpoint or .json object graph",
      })
      .option("output", { type: "string", describe: "write the map here (default: stdout)" })
      .option("force", {
        type: "boolean",
        default: false,
        describe: "overwrite an existing map file",
      }),
  handler: async (args, io: CliIO) => {
    // Loaded on use: only this command needs the draft machinery.
    const { draftMappingFiles } = await import("../../draft-mapping.js");
    const r = await draftMappingFiles(args.source, args.target, {
      ...(args.output !== undefined ? { output: args.output } : {}),
      force: args.force,
    });
    for (const n of r.notes) io.stderr(`note: ${n}\n`);
    if (args.output === undefined) io.stdout(`${JSON.stringify(r.map, null, 2)}\n`);
    const u = r.map.unresolved;
    io.stderr(
      `${[
        `drafted ${r.map.assignments.length} assignment lines (${r.sure} sure, ${r.unsure} to review); they fill ${r.assignedTargets} of ${r.targets} target variables`,
        ...[r.map.optimizer ?? []]
          .flat()
          .map(
            (o) =>
              `optimizer preset: ${o.preset}${o.layout !== undefined ? ` (${o.layout})` : ""} → ${o.path}${o.variables !== undefined ? ` for ${o.variables.join(", ")}` : ""}`,
          ),
        ...u.review.map((v) => `  REVIEW ${v.what} (confidence ${v.confidence}): ${v.fix}`),
        ...u.ambiguous.map(
          (a) =>
            `  AMBIGUOUS ${a.target}: chose ${a.chosen} among ${a.candidates.map((c) => `${c.from} (${c.score})`).join(", ")}`,
        ),
        ...u.unassignedTargets.map(
          (t) =>
            `  UNASSIGNED ${t.target} ${t.dtype}[${t.shape.join(",")}]${t.note !== undefined ? ` — ${t.note}` : ""}`,
        ),
        ...u.unmatchedSources.map((s) => `  UNMATCHED source ${s.name} ${s.dtype}[${s.shape.join(",")}]`),
        ...u.ignored.map((i) => `  ignored ${i.name}: ${i.reason}`),
        args.output !== undefined ? `wrote ${args.output}` : "",
      ]
        .filter((l) => l !== "")
        .join("\n")}\n`,
    );
    return EXIT_OK;
  },
});
