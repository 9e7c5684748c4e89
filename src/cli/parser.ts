/**
 * The one place that touches yargs: every command is a declarative module
 * `{ command, describe, builder, handler }`; {@link runCli} parses, runs one handler and maps
 * errors to exit codes (0 success, 1 a check failed, 2 usage or unreadable input).
 *
 * @module
 */
import yargs, { type Argv } from "yargs";
import { TfckptError, UsageError } from "../errors.js";
import { tfckptVersion } from "../schema-urls.js";
import { didYouMean } from "../suggest.js";
import type { CommandModule } from "./command.js";
import { doctorCommand } from "./commands/doctor.js";
import { draftMappingCommand } from "./commands/draft-mapping.js";
import { graphCommand } from "./commands/graph.js";
import { inspectCommand } from "./commands/inspect.js";
import { migrateCommand } from "./commands/migrate.js";
import { rewriteCommand } from "./commands/rewrite.js";
import { validateCommand } from "./commands/validate.js";
import type { CliIO } from "./io.js";
import { safeIO } from "./terminal.js";

// biome-ignore lint/suspicious/noExplicitAny: commands have different argument types
const COMMANDS: ReadonlyArray<CommandModule<any>> = [
  inspectCommand,
  migrateCommand,
  validateCommand,
  draftMappingCommand,
  graphCommand,
  rewriteCommand,
];

import { EXIT_OK, EXIT_USAGE } from "./exit.js";

/** tfckpt's own version (see {@link tfckptVersion}). */
export const ownVersion = tfckptVersion;

/**
 * yargs' "Unknown argument(s): a, b" with "did you mean --x?" for each name close to an option
 * of the command being parsed (yargs suggests commands, not options).
 */
function withOptionSuggestions(msg: string, parser: Argv): string {
  const m = /^Unknown arguments?: (.*)$/.exec(msg);
  if (m === null) return msg;
  // getOptions() is yargs API its typings leave out: the options known at the failure, the
  // command's included.
  const options = (parser as unknown as { getOptions(): { key: Record<string, unknown> } }).getOptions();
  const known = Object.keys(options.key).filter((k) => k.length > 1);
  const hints = (m[1] as string)
    .split(", ")
    .map((u) => [u, didYouMean(u, known)] as const)
    .filter((x): x is readonly [string, string] => x[1] !== undefined)
    .map(([u, k]) => `--${u}: did you mean --${k}?`);
  return hints.length > 0 ? `${msg} (${hints.join("; ")})` : msg;
}

/**
 * yargs renders the full help text of a command each time it runs one (kept in case the handler
 * fails and help is to be shown), which cost ~0.1 s of CPU per run (cliui measuring every line);
 * tfckpt never shows help after a handler ran (errors print one line), so that rendering is
 * skipped. `--help` still renders it. Relies on yargs' internal usage object (yargs is pinned);
 * without it nothing changes.
 */
function skipHelpCache(parser: Argv): void {
  const internal = parser as unknown as {
    getInternalMethods?: () => { getUsageInstance?: () => { cacheHelpMessage?: () => void } };
  };
  const usage = internal.getInternalMethods?.().getUsageInstance?.();
  if (usage !== undefined && typeof usage.cacheHelpMessage === "function")
    usage.cacheHelpMessage = () => undefined;
}

/**
 * Runs the CLI on `argv` (without `node` and the script) and returns the exit code.
 * Errors print one line on stderr (`--debug` adds the stack).
 */
export async function runCli(argv: readonly string[], rawIO: CliIO): Promise<number> {
  const io = safeIO(rawIO);
  let code = EXIT_OK;
  let ran = false;
  const debug = argv.includes("--debug");
  let parser = yargs([...argv])
    .scriptName("tfckpt")
    .usage(
      "$0 <command> [options]\n\nMigrate TensorFlow 1 name-based checkpoints to TF2 object-based checkpoints, without TensorFlow.",
    )
    .option("debug", { type: "boolean", default: false, describe: "show stack traces on errors" })
    .version(ownVersion())
    .alias("h", "help")
    .alias("V", "version")
    .strict()
    .demandCommand(1, "name a command")
    .recommendCommands()
    .exitProcess(false)
    .wrap(Math.min(110, process.stdout.columns ?? 110))
    .fail((msg: string | null, err: Error | undefined) => {
      throw err ?? new UsageError(withOptionSuggestions(msg ?? "invalid arguments", parser));
    });
  // biome-ignore lint/suspicious/noExplicitAny: commands have different argument types
  const commands: ReadonlyArray<CommandModule<any>> = [...COMMANDS, doctorCommand(ownVersion())];
  for (const c of commands) {
    parser = parser.command(c.command, c.describe, c.builder, async (args) => {
      ran = true;
      code = await c.handler(args, io);
    });
  }
  skipHelpCache(parser);
  let helpText = "";
  try {
    await parser.parseAsync([...argv], {}, (_err, _argv, output) => {
      helpText = output;
    });
    if (!ran && helpText !== "") io.stdout(`${helpText}\n`);
    return code;
  } catch (e) {
    if (e instanceof UsageError || (e instanceof Error && e.name === "YError")) {
      io.stderr(`tfckpt: ${e.message}\n(run tfckpt --help for usage)\n`);
      return EXIT_USAGE;
    }
    if (e instanceof TfckptError) {
      io.stderr(`tfckpt: ${e.name}: ${e.message}\n`);
      if (debug) io.stderr(`${e.stack}\n`);
      return EXIT_USAGE;
    }
    io.stderr(`tfckpt: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
    if (debug && e instanceof Error) io.stderr(`${e.stack}\n`);
    return EXIT_USAGE;
  }
}
