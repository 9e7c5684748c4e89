/**
 * Native modules, loaded on first use and never at startup, each with a pure-JavaScript
 * fallback: a package installed without its prebuilt binary (`npm ci --omit=optional`, a
 * lockfile made on another OS or CPU) must not make every command, `--help` included, fail.
 *
 * | codec   | native (napi-rs)        | fallback (JavaScript)       |
 * |---------|-------------------------|-----------------------------|
 * | CRC-32C | `@node-rs/crc32`        | `@aws-crypto/crc32c`        |
 * | Snappy  | `snappy`                | `snappyjs`                  |
 *
 * Setting the environment variable `TFCKPT_NO_NATIVE=1` uses the fallbacks even where the
 * native modules load. {@link nativeImplementation} says which implementation runs, through
 * `crc32cImplementation` (`io/crc32c.ts`) and `snappyImplementation` (`io/snappy.ts`), which
 * `tfckpt doctor` prints.
 *
 * @module
 */
import { createRequire } from "node:module";

/** Loads a CommonJS module by name (`require`); tests inject one that fails. */
export type ModuleLoader = (name: string) => unknown;

const defaultLoader: ModuleLoader = createRequire(import.meta.url);
let loader: ModuleLoader = defaultLoader;
const cache = new Map<string, { module: unknown } | { error: string }>();

/**
 * Replaces the module loader (tests: simulate a missing binary) and forgets what was loaded;
 * no argument restores Node's `require`.
 */
export function setModuleLoader(l?: ModuleLoader): void {
  loader = l ?? defaultLoader;
  cache.clear();
}

/**
 * The native module `name`, or undefined when it cannot be loaded (the reason is kept for
 * {@link nativeLoadError} and {@link nativeImplementation}) or `TFCKPT_NO_NATIVE` is set.
 */
export function loadNative<T>(name: string): T | undefined {
  let hit = cache.get(name);
  if (hit === undefined) {
    if (process.env.TFCKPT_NO_NATIVE !== undefined && process.env.TFCKPT_NO_NATIVE !== "") {
      hit = { error: "TFCKPT_NO_NATIVE is set" };
    } else {
      try {
        hit = { module: loader(name) };
      } catch (e) {
        hit = { error: (e instanceof Error ? e.message : String(e)).split("\n")[0] ?? "" };
      }
    }
    cache.set(name, hit);
  }
  return "module" in hit ? (hit.module as T) : undefined;
}

/** Why `name` could not be loaded, or undefined when it was loaded (or not tried yet). */
function nativeLoadError(name: string): string | undefined {
  const hit = cache.get(name);
  return hit !== undefined && "error" in hit ? hit.error : undefined;
}

/** Which implementation of a codec runs: `native` true when its native binary loaded. */
export interface NativeImplementation {
  /** The package that runs, e.g. `"snappy (native)"` or `"snappyjs (JavaScript)"`. */
  readonly name: string;
  readonly native: boolean;
  /** Why the native module did not load (its error's first line, or `TFCKPT_NO_NATIVE`). */
  readonly why?: string;
}

/**
 * Which of the native module `name` and its JavaScript `fallback` (a package name, for display)
 * runs; loads `name` if it was not tried yet.
 */
export function nativeImplementation(name: string, fallback: string): NativeImplementation {
  if (loadNative<unknown>(name) !== undefined) return { name: `${name} (native)`, native: true };
  const why = nativeLoadError(name);
  return { name: `${fallback} (JavaScript)`, native: false, ...(why !== undefined ? { why } : {}) };
}
