#!/usr/bin/env bash
# Makes what the TF tier needs, loudly: the pinned TensorFlow in .venv-tf (re-made when
# test/tf/requirements.txt changes) and the large corpus cases in .tf-corpus (re-made when the
# generator changes). Fails, never skips, when Python or TensorFlow cannot be installed.
set -euo pipefail
cd "$(dirname "$0")/../.."
req=test/tf/requirements.txt
stamp=.venv-tf/.tfckpt-requirements
if ! cmp -s "$req" "$stamp" 2>/dev/null; then
  command -v python3 >/dev/null || { echo "test:tf: python3 is required (3.10-3.13) and was not found" >&2; exit 1; }
  echo "test:tf: creating .venv-tf with $(tr '\n' ' ' < "$req")" >&2
  rm -rf .venv-tf
  python3 -m venv .venv-tf
  .venv-tf/bin/pip install --quiet --disable-pip-version-check --retries 0 -r "$req" || {
    echo "test:tf: pip could not install $req (no package index reachable?)" >&2
    exit 1
  }
  cp "$req" "$stamp"
fi
.venv-tf/bin/python -c 'import tensorflow as tf, keras; print(f"test:tf: TensorFlow {tf.__version__}, Keras {keras.__version__}")' 2>/dev/null
gen=fixtures/tf-2.21/generate.py
sum=$(sha256sum "$gen" | cut -c1-16)
if [ ! -f ".tf-corpus/.generator-$sum" ]; then
  rm -rf .tf-corpus
  mkdir -p .tf-corpus
  TF_CPP_MIN_LOG_LEVEL=2 .venv-tf/bin/python "$gen" .tf-corpus --large 2>&1 | grep -E '^(ok|FAIL)|generate.py' >&2
  touch ".tf-corpus/.generator-$sum"
fi
# A file system with reflinks for the --link tests, where the machine allows one (never fails).
bash test/tf/xfs-mount.sh || true
