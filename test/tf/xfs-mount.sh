#!/usr/bin/env bash
# Gives the TF tier (test/tf/link.test.ts) and `npm run bench -- link-reflink` a directory on a
# file system with reflinks, where the machine allows it, and records it in .tf-corpus/reflink-dir:
#   - $TFCKPT_REFLINK_DIR when set and reflinks work there (btrfs, XFS, an existing mount), else
#   - a loop-mounted XFS made with `mkfs.xfs -m reflink=1` on a sparse image (needs root, a loop
#     device and xfsprogs; tries `apt-get install xfsprogs` briefly when mkfs.xfs is missing).
# Never fails: without one, .tf-corpus/reflink-dir is removed, and the tests then check that
# `--link` makes hard links instead. Re-running reuses a mount that still works.
set -uo pipefail
cd "$(dirname "$0")/../.."
mkdir -p .tf-corpus
record=.tf-corpus/reflink-dir
rm -f "$record"
say() { echo "xfs-mount: $*" >&2; }

# True when `cp --reflink=always` works in directory $1.
reflinks_in() {
  local d=$1 probe
  [ -d "$d" ] && [ -w "$d" ] || return 1
  probe=$(mktemp -p "$d" .reflink-probe.XXXXXX 2>/dev/null) || return 1
  echo probe >"$probe"
  if cp --reflink=always "$probe" "$probe.clone" 2>/dev/null; then
    rm -f "$probe" "$probe.clone"
    return 0
  fi
  rm -f "$probe" "$probe.clone"
  return 1
}

use() {
  echo "$1" >"$record"
  say "reflinks work in $1 (recorded in $record)"
  exit 0
}

if [ -n "${TFCKPT_REFLINK_DIR:-}" ]; then
  if reflinks_in "$TFCKPT_REFLINK_DIR"; then use "$TFCKPT_REFLINK_DIR"; fi
  say "TFCKPT_REFLINK_DIR=$TFCKPT_REFLINK_DIR has no reflinks; trying a loop-mounted XFS"
fi

# One image and mount point per checkout, so worktrees do not share (or unmount) each other's.
tag=$(pwd | sha256sum | cut -c1-12)
mnt=/mnt/tfckpt-reflink-$tag
img=${TMPDIR:-/tmp}/tfckpt-reflink-$tag.img
if mountpoint -q "$mnt" 2>/dev/null; then
  mkdir -p "$mnt/tfckpt" 2>/dev/null
  if reflinks_in "$mnt/tfckpt"; then use "$mnt/tfckpt"; fi
  say "$mnt is mounted but does not reflink: --link tests check hard links"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  say "not root: no loop mount, so no reflink file system here (--link tests check hard links)"
  exit 0
fi
if ! command -v mkfs.xfs >/dev/null && command -v apt-get >/dev/null; then
  say "installing xfsprogs (at most 120 s)"
  DEBIAN_FRONTEND=noninteractive timeout 120 apt-get install -y -q xfsprogs >/dev/null 2>&1 ||
    say "apt-get install xfsprogs failed"
fi
if ! command -v mkfs.xfs >/dev/null; then
  say "mkfs.xfs not available: no reflink file system here (--link tests check hard links)"
  exit 0
fi
# A sparse 4 GiB image: it takes disk space only as files are written (room for the 2 GiB bench).
if ! { truncate -s 4G "$img" && mkfs.xfs -q -f -m reflink=1 "$img" && mkdir -p "$mnt" &&
  mount -o loop "$img" "$mnt"; } 2>/dev/null; then
  say "could not make or loop-mount an XFS image (no loop devices?): --link tests check hard links"
  rm -f "$img"
  exit 0
fi
mkdir -p "$mnt/tfckpt" && chmod 1777 "$mnt/tfckpt"
if reflinks_in "$mnt/tfckpt"; then use "$mnt/tfckpt"; fi
say "the XFS at $mnt does not reflink: --link tests check hard links"
exit 0
