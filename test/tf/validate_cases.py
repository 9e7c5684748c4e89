#!/usr/bin/env python3
"""Writes the validate differential cases with real TensorFlow and records TF's own verdicts.

Usage: validate_cases.py OUT_DIR
For each case: OUT_DIR/<case>/saved/… (the checkpoint a program saved), OUT_DIR/<case>/target/…
(a template saved by the restoring program, what `tfckpt validate --against` takes), and in
OUT_DIR/verdicts.json what `tf.train.Checkpoint(**target).restore(saved)` and its three
assertions (assert_consumed, assert_existing_objects_matched, assert_nontrivial_match) said.
"""
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402


def mod(**attrs):
    m = tf.Module()
    for k, v in attrs.items():
        setattr(m, k, v)
    return m


def var(shape=(2,), dtype=tf.float32, value=1):
    return tf.Variable(tf.fill(shape, tf.constant(value, dtype)) if dtype != tf.string else tf.fill(shape, "s"))


def two():
    return {"model": mod(a=var(), b=var((3, 2)))}


def with_v1_adam(model_fn, slots=True):
    def build():
        m = model_fn()
        opt = tf.compat.v1.train.AdamOptimizer(0.1)
        if slots:
            vs = [v for v in m.trainable_variables]
            opt.apply_gradients([(tf.ones_like(v), v) for v in vs])
        return {"model": m, "optimizer": opt}

    return build


def keras_model(units=3, extra=False, name="net"):
    layers = [keras.Input((4,)), keras.layers.Dense(units, name="d0")]
    if extra:
        layers.append(keras.layers.Dense(2, name="d1"))
    return keras.Sequential(layers, name=name)


def keras_with_adam(units=3, extra=False, build_opt=True):
    def build():
        m = keras_model(units, extra)
        opt = keras.optimizers.Adam(0.01, name="adam")
        if build_opt:
            opt.build(m.trainable_variables)
        return {"model": m, "optimizer": opt}

    return build


def table():
    t = tf.lookup.experimental.MutableHashTable(tf.string, tf.int64, default_value=-1)
    t.insert(tf.constant(["a"]), tf.constant([1], tf.int64))
    return t


# name: (saved builder, target builder, how saved: "save" | "write", how the template is saved)
CASES = {
    "identical": (two, two, "save", "save"),
    "target-extra-variable": (two, lambda: {"model": mod(a=var(), b=var((3, 2)), c=var())}, "save", "save"),
    "checkpoint-extra-variable": (lambda: {"model": mod(a=var(), b=var((3, 2)), c=var())}, two, "save", "save"),
    "renamed-variable": (two, lambda: {"model": mod(a=var(), bb=var((3, 2)))}, "save", "save"),
    "renamed-root-child": (two, lambda: {"net": mod(a=var(), b=var((3, 2)))}, "save", "save"),
    "reshaped-variable": (two, lambda: {"model": mod(a=var(), b=var((2, 3)))}, "save", "save"),
    "retyped-variable": (two, lambda: {"model": mod(a=var(dtype=tf.float64), b=var((3, 2)))}, "save", "save"),
    "int-to-float": (lambda: {"model": mod(a=var(dtype=tf.int32))}, lambda: {"model": mod(a=var())}, "save", "save"),
    "scalar-vs-vector": (lambda: {"model": mod(a=var(()))}, lambda: {"model": mod(a=var((1,)))}, "save", "save"),
    "empty-checkpoint": (lambda: {}, two, "save", "save"),
    "empty-both": (lambda: {}, lambda: {}, "save", "save"),
    "saved-without-save-counter": (two, two, "write", "save"),
    "template-without-save-counter": (two, two, "save", "write"),
    "both-without-save-counter": (two, two, "write", "write"),
    "nested-missing": (lambda: {"model": mod(a=var(), sub=mod(x=var()))}, lambda: {"model": mod(a=var())}, "save", "save"),
    "nested-extra": (lambda: {"model": mod(a=var())}, lambda: {"model": mod(a=var(), sub=mod(x=var()))}, "save", "save"),
    "list-shorter": (lambda: {"model": mod(ws=[var(), var(), var()])}, lambda: {"model": mod(ws=[var(), var()])}, "save", "save"),
    "list-longer": (lambda: {"model": mod(ws=[var()])}, lambda: {"model": mod(ws=[var(), var()])}, "save", "save"),
    "dict-children": (lambda: {"model": mod(d={"x": var(), "y": var((1,))})}, lambda: {"model": mod(d={"x": var(), "y": var((1,))})}, "save", "save"),
    "string-variable": (lambda: {"model": mod(s=var((2,), tf.string))}, lambda: {"model": mod(s=var((2,), tf.string))}, "save", "save"),
    "target-subset-of-checkpoint": (with_v1_adam(lambda: mod(a=var(), b=var((3, 2)))), lambda: {"model": mod(a=var(), b=var((3, 2)))}, "save", "save"),
    "v1-slots-identical": (with_v1_adam(lambda: mod(a=var(), b=var((3, 2)))), with_v1_adam(lambda: mod(a=var(), b=var((3, 2)))), "save", "save"),
    "v1-slots-missing-in-checkpoint": (lambda: {"model": mod(a=var(), b=var((3, 2))), "optimizer": tf.compat.v1.train.AdamOptimizer(0.1)}, with_v1_adam(lambda: mod(a=var(), b=var((3, 2)))), "save", "save"),
    "v1-slots-variable-missing": (with_v1_adam(lambda: mod(a=var(), b=var((3, 2)))), with_v1_adam(lambda: mod(a=var())), "save", "save"),
    "keras-identical": (keras_with_adam(), keras_with_adam(), "save", "save"),
    "keras-other-units": (keras_with_adam(3), keras_with_adam(5), "save", "save"),
    "keras-extra-layer": (keras_with_adam(3), keras_with_adam(3, extra=True), "save", "save"),
    "keras-no-optimizer-in-target": (keras_with_adam(), lambda: {"model": keras_model()}, "save", "save"),
    "keras-optimizer-not-built": (keras_with_adam(), keras_with_adam(build_opt=False), "save", "save"),
    "hash-table": (lambda: {"model": mod(t=table())}, lambda: {"model": mod(t=table())}, "save", "save"),
    "shared-variable": (
        lambda: (lambda v: {"model": mod(a=v, b=v)})(var()),
        lambda: (lambda v: {"model": mod(a=v, b=v)})(var()),
        "save",
        "save",
    ),
}


def store(kwargs, prefix, how):
    ckpt = tf.train.Checkpoint(**kwargs)
    return ckpt.save(prefix) if how == "save" else ckpt.write(prefix)


def verdicts(target, path):
    out = {}
    try:
        status = tf.train.Checkpoint(**target).restore(path)
    except Exception as e:  # noqa: BLE001
        return {"restore_error": f"{type(e).__name__}: {str(e).splitlines()[0][:300]}"}
    for name in ("assert_consumed", "assert_existing_objects_matched", "assert_nontrivial_match"):
        try:
            getattr(status, name)()
            out[name] = {"passed": True}
        except AssertionError as e:
            out[name] = {"passed": False, "message": str(e)[:2000]}
        except Exception as e:  # noqa: BLE001
            out[name] = {"passed": False, "error": f"{type(e).__name__}: {str(e)[:300]}"}
    return out


def main(out):
    result = {"tensorflow": tf.__version__, "keras": keras.__version__, "cases": {}}
    for name, (saved, target, how_saved, how_template) in CASES.items():
        d = os.path.join(out, name)
        saved_path = store(saved(), os.path.join(d, "saved", "ckpt"), how_saved)
        template_path = store(target(), os.path.join(d, "target", "ckpt"), how_template)
        result["cases"][name] = {
            "saved": saved_path,
            "template": template_path,
            "tf": verdicts(target(), saved_path),
        }
    with open(os.path.join(out, "verdicts.json"), "w") as f:
        json.dump(result, f, indent=2)


if __name__ == "__main__":
    main(sys.argv[1])
