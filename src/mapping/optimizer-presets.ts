/**
 * The optimizer presets of an assignment map (`optimizer.preset`), one table shared by the
 * resolver and draft-mapping: per preset, the TF1 slot variables' base suffix (`slot_creator`:
 * `<var>/<Optimizer>`, `<var>/<Optimizer>_1`, …) and, per TF2 slot name (`OptimizerV2` /
 * `tf.compat.v1` optimizers), which of those suffixes (0 → `<Optimizer>`, 1 → `<Optimizer>_1`, …)
 * fills it; per Keras 3 optimizer list (`keras/src/optimizers/*.py`, `build` →
 * `add_optimizer_variables`; lists parallel to `_trainable_variables`), which suffix fills it.
 *
 * @module
 */
import type { OptimizerPreset } from "./document.js";

/** One preset's row. */
export interface OptimizerPresetRow {
  /** The TF1 optimizer's slot suffix (`Adam`): slot i is `<var>/<base>` for 0, `<var>/<base>_i` after. */
  readonly base: string;
  /** TF2 slot name → TF1 slot index. */
  readonly slots: Readonly<Record<string, number>>;
  /** Keras 3 optimizer list attribute → TF1 slot index. */
  readonly keras3: Readonly<Record<string, number>>;
  /**
   * The Keras 3 list whose presence tells draft-mapping a Keras 3 optimizer can hold this preset's
   * state (centered RMSprop's `_average_gradients`, Ftrl's `_linears` set them apart from plain
   * RMSprop and Adagrad).
   */
  readonly keras3Marker: string;
}

/** The presets' rows. */
export const OPTIMIZER_PRESETS: Readonly<Record<OptimizerPreset, OptimizerPresetRow>> = {
  adam: {
    base: "Adam",
    slots: { m: 0, v: 1 },
    keras3: { _momentums: 0, _velocities: 1 },
    keras3Marker: "_momentums",
  },
  momentum: { base: "Momentum", slots: { momentum: 0 }, keras3: { momentums: 0 }, keras3Marker: "momentums" },
  rmsprop: {
    base: "RMSProp",
    slots: { rms: 0, momentum: 1 },
    keras3: { _velocities: 0, _momentums: 1 },
    keras3Marker: "_velocities",
  },
  "rmsprop-centered": {
    base: "RMSProp",
    slots: { rms: 0, mg: 1, momentum: 2 },
    keras3: { _velocities: 0, _average_gradients: 1, _momentums: 2 },
    keras3Marker: "_average_gradients",
  },
  adagrad: {
    base: "Adagrad",
    slots: { accumulator: 0 },
    keras3: { _accumulators: 0 },
    keras3Marker: "_accumulators",
  },
  ftrl: {
    base: "Ftrl",
    slots: { accumulator: 0, linear: 1 },
    keras3: { _accumulators: 0, _linears: 1 },
    keras3Marker: "_linears",
  },
};

/** The TF1 slot variable suffix of slot `index` of a preset whose base is `base`: `Adam`, `Adam_1`, … */
export function tf1SlotSuffix(base: string, index: number): string {
  return index === 0 ? base : `${base}_${index}`;
}

/** How many TF1 slot variables each variable has under `preset`. */
export function tf1SlotCount(preset: OptimizerPreset): number {
  return Object.keys(OPTIMIZER_PRESETS[preset].slots).length;
}
