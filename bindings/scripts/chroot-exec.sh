#!/usr/bin/env bash
# Runs a command inside the Swift chroot ($LINNET_TOOLCHAINS/swift-trixie) with /proc, /dev and
# the given bind mounts in place, and unmounts them all again on exit (trap). Used by
# setup-toolchains.sh and swift.sh; not meant to be called by hand.
#
# Usage: chroot-exec.sh [--bind HOST_PATH:CHROOT_PATH]... [--ro-bind HOST_PATH:CHROOT_PATH]... \
#            -- [VAR=value]... COMMAND [ARG]...
# The command gets a clean environment: PATH, HOME, LANG, LD_LIBRARY_PATH (Swift's runtime first)
# plus the VAR=value given. Its exit code is ours.
#
# Callers run it through `unshare --mount --propagation private` when they can (see lib.sh
# run_chroot), so the mounts live in a private namespace and cannot leak or disturb a concurrent
# run; the trap covers the case where they cannot.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bindings/scripts/lib.sh
source "$HERE/lib.sh"

binds=()
while [[ $# -gt 0 ]]; do
	case $1 in
	--bind | --ro-bind) binds+=("$1" "$2"); shift 2 ;;
	--) shift; break ;;
	*) echo "chroot-exec.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
[[ $# -gt 0 ]] || { echo "chroot-exec.sh: no command" >&2; exit 2; }
[[ -x $SWIFT_ROOT/usr/bin/env ]] || { echo "chroot-exec.sh: no chroot at $SWIFT_ROOT (run setup-toolchains.sh swift)" >&2; exit 2; }

trap 'unmount_below "$SWIFT_ROOT"' EXIT
mount_chroot_basics
for ((i = 0; i < ${#binds[@]}; i += 2)); do
	spec=${binds[i + 1]}
	src=${spec%%:*}
	dst=$SWIFT_ROOT${spec#*:}
	if [[ -d $src ]]; then mkdir -p "$dst"; else mkdir -p "$(dirname "$dst")"; : >>"$dst"; fi
	mount --bind "$src" "$dst"
	if [[ ${binds[i]} == --ro-bind ]]; then mount -o remount,bind,ro "$dst"; fi
done

rc=0
chroot "$SWIFT_ROOT" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin HOME=/root \
	LANG=C.UTF-8 "LD_LIBRARY_PATH=$SWIFT_CHROOT_LD_PATH" "$@" || rc=$?
exit "$rc"
