"""The request/answer loop shared by the TF tier's judges (oracle.py, keras_check.py): one
process reads one REQUEST.json {"op": ..., ...}, answers it, and writes RESULT.json
{<library>: <version>, "result": ...}. Imports nothing heavy, so each judge still sets its
environment before importing TensorFlow or Keras."""
import json


def serve(script, request_path, result_path, ops, versions):
    """Runs `ops[req["op"]](req)` and writes its answer beside `versions` (e.g. {"tensorflow": "2.21.0"});
    an unknown op exits naming `script`."""
    with open(request_path) as f:
        req = json.load(f)
    op = req["op"]
    if op not in ops:
        raise SystemExit(f"{script}: unknown op {op!r}")
    result = ops[op](req)
    with open(result_path, "w") as f:
        json.dump({**versions, "result": result}, f)
