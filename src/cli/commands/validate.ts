/**
 * `tfckpt validate CKPT`: the assert_consumed gate for CI, without TensorFlow.
 *
 * @module
 */
import type { Argv } from "yargs";
import type { ValidationFormat } from "../../report/validation.js";
import { defineCommand } from "../command.js";
import { EXIT_CHECK_FAILED, EXIT_OK } from "../exit.js";
import { type CliIO, progressBar } from "../io.js";

/** The `validate` command. */
export const validateCommand = defineCommand({
  command: "validate <ckpt>",
  describe: "Check integrity and what restore(...).assert_consumed() would say against a target, offline",
  builder: (y: Argv) =>
    y
      .positional("ckpt", { type: "string", demandOption: true, describe: "the checkpoint to check" })
      .option("against", {
        type: "string",
        describe: "target: TF2 template checkpoint or .json graph (tfckpt graph --json)",
      })
      .option("assert", {
        choices: ["consumed", "existing-objects-matched", "nontrivial-match"] as const,
        default: "consumed" as const,
      })
      .option("restore-with", {
        choices: ["restore", "read"] as const,
        default: "restore" as const,
        describe:
          "restore: tf.train.Checkpoint(...).restore, which always creates save_counter; read: Checkpoint.read or Keras load_weights, which do not",
      })
      .option("expect-partial", {
        type: "boolean",
        default: false,
        describe: "report assertion failures but pass",
      })
      .option("format", {
        choices: ["text", "json", "junit", "github"] as const satisfies readonly ValidationFormat[],
        default: "text" as const,
      }),
  handler: async (args, io: CliIO) => {
    const [{ validateCheckpoint }, reports] = await Promise.all([
      import("../../validate.js"),
      import("../../report/validation.js"),
    ]);
    const { validationToGithub, validationToJson, validationToJunit, validationToText } = reports;
    const bar = progressBar(io, "verify");
    let r: Awaited<ReturnType<typeof import("../../validate.js").validateCheckpoint>>;
    try {
      r = await validateCheckpoint(args.ckpt, {
        ...(args.against !== undefined ? { against: args.against } : {}),
        assertion: args.assert,
        restoreWith: args.restoreWith,
        expectPartial: args.expectPartial,
        onProgress: bar.onProgress,
      });
    } finally {
      bar.stop();
    }
    for (const n of r.notes) io.stderr(`note: ${n}\n`);
    const render = {
      text: validationToText,
      json: (x: typeof r) => `${JSON.stringify(validationToJson(x), null, 2)}\n`,
      junit: validationToJunit,
      github: validationToGithub,
    }[args.format];
    io.stdout(render(r));
    return r.passed ? EXIT_OK : EXIT_CHECK_FAILED;
  },
});
