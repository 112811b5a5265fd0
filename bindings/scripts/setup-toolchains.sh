#!/usr/bin/env bash
# Installs the toolchains that compile and run the generated Kotlin and Swift bindings on a
# Debian 12 host (CI runs it through `make toolchains` / `make test`):
#   kotlin: JDK 17 headless + JNA (apt, only when missing) and kotlin-compiler 2.4.20 (npm pack,
#           integrity pinned below) under $LINNET_TOOLCHAINS/kotlin-2.4.20
#   swift:  Swift 6.0.3 from Debian 13 (trixie, package `swiftlang`) in a minbase debootstrap
#           chroot at $LINNET_TOOLCHAINS/swift-trixie (skipped when the host has a real swiftc)
#
# Usage: bindings/scripts/setup-toolchains.sh [kotlin|swift|all]     (default: all)
# Env:   LINNET_TOOLCHAINS   cache dir (default /var/cache/linnet-toolchains)
#        LINNET_DEBIAN_MIRROR  mirror for debootstrap (default http://deb.debian.org/debian)
#
# Idempotent: a toolchain counts as installed only once its marker exists (written last), so a
# run that was interrupted is finished or redone by the next one. When everything is there it
# takes well under a second and prints one line per toolchain; installs are silent unless they
# fail (then the log of the failing step is printed). Needs root only to install.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bindings/scripts/lib.sh
source "$HERE/lib.sh"

die() { echo "setup-toolchains: error: $*" >&2; exit 1; }

# Runs a command with its output captured; prints the output only when it fails.
quiet() {
	local log rc=0
	log=$(mktemp)
	"$@" >"$log" 2>&1 || rc=$?
	if [[ $rc -ne 0 ]]; then
		echo "setup-toolchains: failed ($rc): $*" >&2
		tail -n 60 "$log" >&2
	fi
	rm -f "$log"
	return "$rc"
}

# Installs are serialised across processes (two checkouts running `make test` at once).
LOCKED=0
take_lock() {
	[[ $LOCKED -eq 0 ]] || return 0
	mkdir -p "$LINNET_TOOLCHAINS"
	exec 9>"$LINNET_TOOLCHAINS/.lock"
	flock 9
	LOCKED=1
}

APT_UPDATED=0
# Installs the Debian packages given that are not installed yet.
apt_need() {
	local p missing=()
	for p in "$@"; do
		[[ $(dpkg-query -W -f='${Status}' "$p" 2>/dev/null) == "install ok installed" ]] || missing+=("$p")
	done
	[[ ${#missing[@]} -gt 0 ]] || return 0
	[[ $EUID -eq 0 ]] || die "needs root to install: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	if [[ $APT_UPDATED -eq 0 ]]; then
		quiet apt-get update -qq
		APT_UPDATED=1
	fi
	quiet apt-get install -y -qq -o DPkg::Lock::Timeout=300 --no-install-recommends "${missing[@]}"
}

# ---------------------------------------------------------------------------------------------
# Kotlin

install_kotlin() {
	command -v npm >/dev/null || apt_need npm
	command -v node >/dev/null || die "npm is there but node is not"
	mkdir -p "$LINNET_TOOLCHAINS"
	rm -rf "$LINNET_TOOLCHAINS"/.kotlin.* # left by an interrupted run
	local tmp
	tmp=$(mktemp -d "$LINNET_TOOLCHAINS/.kotlin.XXXXXX")
	# shellcheck disable=SC2064
	trap "rm -rf '$tmp'" RETURN
	(cd "$tmp" && npm pack "kotlin-compiler@$KOTLIN_VERSION" --json --pack-destination "$tmp") \
		>"$tmp/pack.json" 2>"$tmp/npm.log" || { cat "$tmp/npm.log" >&2; die "npm pack kotlin-compiler@$KOTLIN_VERSION failed"; }
	# What npm reports, and what the file we got actually hashes to: both must be the pinned value.
	local reported actual file
	reported=$(node -e 'const p=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"))[0]; console.log(p.integrity+" "+p.filename)' "$tmp/pack.json")
	file=${reported#* }
	reported=${reported%% *}
	actual=$(node -e 'const c=require("crypto"),f=require("fs"); console.log("sha512-"+c.createHash("sha512").update(f.readFileSync(process.argv[1])).digest("base64"))' "$tmp/$file")
	[[ $reported == "$KOTLIN_INTEGRITY" ]] || die "npm reports integrity $reported for kotlin-compiler@$KOTLIN_VERSION, expected $KOTLIN_INTEGRITY"
	[[ $actual == "$KOTLIN_INTEGRITY" ]] || die "kotlin-compiler tarball hashes to $actual, expected $KOTLIN_INTEGRITY"
	tar -xzf "$tmp/$file" -C "$tmp"
	[[ -f $tmp/package/bin/kotlinc ]] || die "kotlin-compiler tarball has no package/bin/kotlinc"
	chmod +x "$tmp"/package/bin/*
	rm -rf "$KOTLIN_HOME"
	mv "$tmp/package" "$KOTLIN_HOME"
	"$KOTLIN_HOME/bin/kotlinc" -version >/dev/null 2>&1 || die "the installed kotlinc does not run"
	echo "$KOTLIN_VERSION" >"$KOTLIN_HOME/.ok"
}

setup_kotlin() {
	apt_need openjdk-17-jdk-headless libjna-java libjna-jni
	if [[ ! -f $KOTLIN_HOME/.ok ]]; then
		take_lock
		[[ -f $KOTLIN_HOME/.ok ]] || install_kotlin
	fi
	local java jna
	java=$(java -version 2>&1 | sed -n '1s/.*version "\([^"]*\)".*/\1/p')
	jna=$(dpkg-query -W -f='${Version}' libjna-java)
	echo "kotlin: kotlinc $(<"$KOTLIN_HOME/.ok") ($KOTLIN_HOME), java $java, jna $jna"
}

# ---------------------------------------------------------------------------------------------
# Swift

setup_swift() {
	if command -v swiftc >/dev/null; then
		echo "swift: $(swiftc -version 2>&1 | head -n 1) (host)"
		return 0
	fi
	if [[ -f $SWIFT_MARKER && -x $SWIFT_ROOT/usr/bin/swiftc ]]; then
		echo "swift: $(<"$SWIFT_MARKER") (Debian $SWIFT_SUITE chroot $SWIFT_ROOT)"
		return 0
	fi
	[[ $(uname -s) == Linux ]] || die "no swiftc on this machine: install Xcode or a Swift toolchain"
	[[ $EUID -eq 0 ]] || die "needs root to build the Swift chroot"
	take_lock
	if [[ -f $SWIFT_MARKER ]]; then # another process finished it while we waited
		echo "swift: $(<"$SWIFT_MARKER") (Debian $SWIFT_SUITE chroot $SWIFT_ROOT)"
		return 0
	fi
	apt_need debootstrap
	mkdir -p "$LINNET_TOOLCHAINS"
	rm -f "$SWIFT_MARKER"
	# A previous debootstrap that did not finish: start over (never descending into mounts). An
	# interrupted package install is finished by `dpkg --configure -a` + apt-get below.
	local partial=$SWIFT_ROOT.partial
	if [[ -e $partial ]]; then
		unmount_below "$partial"
		rm -rf --one-file-system "$partial"
	fi
	if [[ ! -x $SWIFT_ROOT/usr/bin/apt-get ]]; then
		unmount_below "$SWIFT_ROOT"
		rm -rf --one-file-system "$SWIFT_ROOT"
		quiet debootstrap --variant=minbase "$SWIFT_SUITE" "$partial" \
			"${LINNET_DEBIAN_MIRROR:-http://deb.debian.org/debian}" || die "debootstrap $SWIFT_SUITE failed"
		mv "$partial" "$SWIFT_ROOT"
	fi
	quiet run_chroot -- DEBIAN_FRONTEND=noninteractive /bin/sh -ec '
		echo force-unsafe-io >/etc/dpkg/dpkg.cfg.d/linnet-unsafe-io
		dpkg --configure -a
		apt-get update -qq
		apt-get install -y -qq --no-install-recommends swiftlang libc6-dev libstdc++-14-dev
		apt-get clean
		rm -rf /var/lib/apt/lists/*' || die "installing swiftlang in the chroot failed"
	local version
	version=$(run_chroot -- swiftc -version 2>&1 | grep -m1 -i 'swift version') ||
		die "swiftc in the chroot does not run"
	echo "$version" >"$SWIFT_MARKER.tmp"
	mv "$SWIFT_MARKER.tmp" "$SWIFT_MARKER"
	echo "swift: $version (Debian $SWIFT_SUITE chroot $SWIFT_ROOT)"
}

case ${1:-all} in
kotlin) setup_kotlin ;;
swift) setup_swift ;;
all) setup_kotlin; setup_swift ;;
*) die "usage: $0 [kotlin|swift|all]" ;;
esac
