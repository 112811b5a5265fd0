# shellcheck shell=bash disable=SC2034
# Shared by the scripts here: where the toolchains live and how to enter the
# Debian 13 (trixie) chroot that carries Swift on a Debian 12 host. Source it; it defines only
# variables and functions.

LINNET_TOOLCHAINS=${LINNET_TOOLCHAINS:-/var/cache/linnet-toolchains}
KOTLIN_VERSION=2.4.20
# What `npm view kotlin-compiler@2.4.20 dist.integrity` reports; the tarball must match it.
KOTLIN_INTEGRITY='sha512-IF5IVM7LpPhA/ntHQQpaVt1yxpaaQovtEVYLyqWMuaLr0XelLPPm7/sM6HLhtcRjjjoSsK7I7lP2kzYJkMy73w=='
KOTLIN_HOME=$LINNET_TOOLCHAINS/kotlin-$KOTLIN_VERSION
SWIFT_SUITE=trixie
SWIFT_ROOT=$LINNET_TOOLCHAINS/swift-$SWIFT_SUITE
# Written (with `swiftc -version`) only once the chroot is complete.
SWIFT_MARKER=$LINNET_TOOLCHAINS/swift-$SWIFT_SUITE.ok
# Inside the chroot: the Swift runtime libraries of Debian's swiftlang package.
SWIFT_CHROOT_LD_PATH=/usr/libexec/swift/lib/swift/linux:/usr/libexec/swift/lib

# Mount points below DIR (deepest first), from /proc/self/mounts.
mounts_below() {
	local dir=$1
	awk -v d="$dir" '{ gsub(/\\040/, " ", $2); if ($2 == d || index($2, d "/") == 1) print $2 }' \
		/proc/self/mounts | sort -r
}

# Unmounts everything below DIR (lazily if busy). Safe to call when nothing is mounted.
unmount_below() {
	local m
	while IFS= read -r m; do
		[[ -n $m ]] || continue
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || echo "warning: could not unmount $m" >&2
	done < <(mounts_below "$1")
}

# Prepares $SWIFT_ROOT for `chroot`: /proc, /dev (+pts), resolv.conf. Call it in a private mount
# namespace (see in_private_ns) so that everything disappears with the process; the caller still
# sets a trap calling `unmount_below "$SWIFT_ROOT"` for the case where namespaces are unavailable.
mount_chroot_basics() {
	mountpoint -q "$SWIFT_ROOT/proc" || mount -t proc proc "$SWIFT_ROOT/proc"
	mountpoint -q "$SWIFT_ROOT/dev" || mount --rbind /dev "$SWIFT_ROOT/dev"
	mount --make-rslave "$SWIFT_ROOT/dev" 2>/dev/null || true
	if [[ -r /etc/resolv.conf ]]; then
		cp -fL /etc/resolv.conf "$SWIFT_ROOT/etc/resolv.conf" 2>/dev/null || true
	fi
}

# True when this process can get a private mount namespace (unshare -m), where mounts made for the
# chroot cannot leak or disturb a concurrent run.
can_unshare() {
	command -v unshare >/dev/null && unshare --mount --propagation private true 2>/dev/null
}

# Runs chroot-exec.sh (same arguments) in a private mount namespace when possible.
run_chroot() {
	local exec_script
	exec_script="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/chroot-exec.sh"
	if can_unshare; then
		unshare --mount --propagation private bash "$exec_script" "$@"
	else
		bash "$exec_script" "$@"
	fi
}
