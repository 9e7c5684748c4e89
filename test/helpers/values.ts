// Reading tensors back for bitwise comparisons.
import { openCheckpoint } from "../../src/checkpoint/open.js";
import type { Tensor } from "../../src/tensor.js";

export async function readAll(path: string, names: readonly string[]): Promise<Map<string, Tensor>> {
  const r = await openCheckpoint(path);
  try {
    const out = new Map<string, Tensor>();
    for (const n of names) out.set(n, await r.readTensor(n));
    return out;
  } finally {
    await r.close();
  }
}

export async function bytesOf(path: string, name: string): Promise<Uint8Array> {
  const t = (await readAll(path, [name])).get(name) as Tensor;
  if (t.kind !== "fixed") throw new Error(`${name} is not numeric`);
  return t.data;
}

export function f32s(b: Uint8Array): number[] {
  return [...new Float32Array(b.slice().buffer)];
}
