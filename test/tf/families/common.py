"""Shared plumbing of the model-family scripts (test/tf/families/*.py): the command line, fixed
data, and the comparison the TF tier asserts on. Each family script defines `tf1(work)`,
`template(work)` and `tf2(work, ckpt)`; one process runs one of them (TF1 graph mode is global).

Usage: <family>.py tf1 WORK | template[:VARIANT] WORK | tf2[:VARIANT] WORK CKPT
  tf1       trains the TF1 graph a few steps, saves WORK/tf1/model.ckpt-N with tf.compat.v1 Saver,
            and records in WORK/tf1.json its outputs on fixed inputs and its weights after ONE more
            step on a fixed batch (the checkpoint holds the state before that step).
  template  builds the TF2 counterpart and saves it with tf.train.Checkpoint to WORK/template/ckpt-1
            (the migrate target).
  tf2       restores CKPT (tfckpt's output) into the TF2 counterpart with assert_consumed(), takes
            the same step, and prints {"outputs": max|d|, "afterStep": max|d|, ...} as JSON.
"""
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402


def rng(seed):
    return np.random.default_rng(seed)


def save_json(path, doc):
    with open(path, "w") as f:
        json.dump(doc, f)


def load_json(path):
    with open(path) as f:
        return json.load(f)


def tolist(d):
    return {k: np.asarray(v, dtype=np.float64).tolist() for k, v in d.items()}


def max_abs(a, b):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise SystemExit(f"shape mismatch {a.shape} vs {b.shape}")
    return float(np.max(np.abs(a - b))) if a.size else 0.0


def compare(work, outputs, after_step, extra=None):
    """Compares the TF2 side's outputs and weights after one step with WORK/tf1.json."""
    ref = load_json(os.path.join(work, "tf1.json"))
    missing = sorted(set(ref["afterStep"]) - set(after_step))
    if missing:
        raise SystemExit(f"TF2 side did not report weights for {missing}")
    per = {k: max_abs(ref["afterStep"][k], after_step[k]) for k in ref["afterStep"]}
    out = {
        "outputs": max_abs(ref["outputs"], outputs),
        "afterStep": max(per.values()),
        "perVariable": per,
        "moved": max(max_abs(ref["afterStep"][k], ref["before"][k]) for k in ref["before"]),
    }
    out.update(extra or {})
    return out


def main(tf1, template, tf2, variants=None):
    """Runs one mode. `variants` maps a name to another (template, tf2) pair, run as
    `template:NAME WORK` and `tf2:NAME WORK CKPT` (e.g. a tf.Module tree with compat.v1
    optimizers beside the Keras 3 model); its template goes to WORK/template-NAME/."""
    mode, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    kind, _, variant = mode.partition(":")
    if variant:
        if variant not in (variants or {}):
            raise SystemExit(f"unknown variant {variant!r}")
        template, tf2 = variants[variant]
    if kind == "tf1" and not variant:
        os.makedirs(os.path.join(work, "tf1"), exist_ok=True)  # a sharded Saver does not make it
        tf1(work)
    elif kind == "template":
        template(work)
    elif kind == "tf2":
        print(json.dumps(tf2(work, sys.argv[3])))
    else:
        raise SystemExit(f"unknown mode {mode!r}")
