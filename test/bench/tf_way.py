"""The way a user migrates with TensorFlow itself, for `npm run bench`: load the old checkpoint
with tf.train.load_checkpoint, create a tf.Module tree with one variable per key under its new
name (`layer_0/kernel` -> model.layer_0.kernel, the bench's rename map), assign the values,
tf.train.Checkpoint(model=...).write(output), then fsync the files written. Prints {"seconds", "maxRssMiB"} as JSON; the time
excludes importing TensorFlow.

usage: python tf_way.py <source prefix> <output prefix> [transpose]
"""

import json
import os
import resource
import sys
import time

import tensorflow as tf


def main(src, out, transpose):
    t0 = time.perf_counter()
    reader = tf.train.load_checkpoint(src)
    root = tf.Module()
    root.model = tf.Module()
    for name in sorted(reader.get_variable_to_shape_map()):
        value = reader.get_tensor(name)
        if transpose:
            value = value.T
        node = root.model
        parts = name.split("/")
        for p in parts[:-1]:
            if not hasattr(node, p):
                setattr(node, p, tf.Module())
            node = getattr(node, p)
        v = tf.Variable(tf.zeros(value.shape, value.dtype))
        v.assign(value)
        setattr(node, parts[-1], v)
    written = tf.train.Checkpoint(model=root.model).write(out)
    # fsync what TF wrote, as tfckpt does before committing (and as the cp baseline's sync does).
    folder = os.path.dirname(written) or "."
    for f in os.listdir(folder):
        if f.startswith(os.path.basename(written) + "."):
            fd = os.open(os.path.join(folder, f), os.O_RDONLY)
            os.fsync(fd)
            os.close(fd)
    seconds = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    try:  # this process's own peak (getrusage also counts the spawner's RSS at the fork)
        with open("/proc/self/status") as f:
            rss = next(int(l.split()[1]) for l in f if l.startswith("VmHWM:")) / 1024
    except (OSError, StopIteration):
        pass
    print(json.dumps({"seconds": seconds, "maxRssMiB": rss}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], len(sys.argv) > 3 and sys.argv[3] == "transpose")
