#!/bin/sh
# Build a Debian root file system with debootstrap, from Debian's own packages.
#
#   sh tools/platform/debian-root.sh ARCH ROOT [EXTRA_PACKAGES]
#
# ARCH is a Debian architecture (amd64, arm64). A foreign architecture (arm64 on an amd64 host) is
# bootstrapped in two stages: `debootstrap --foreign` unpacks the packages, then the second stage runs
# inside the root through qemu-user-static: through the kernel's binfmt_misc handler when it can be
# registered (`update-binfmts --enable qemu-aarch64`), and otherwise not at all: every program the
# second stage starts is an arm64 binary, so without binfmt_misc the run stops here with the reason.
#
# The root is built once and reused: ROOT/.fmd-root-ready marks a finished one (delete ROOT to
# rebuild). Downloaded packages are kept in DEBOOTSTRAP_CACHE (default /var/cache/fmd-debootstrap).
# SUITE (default trixie) and MIRROR (default http://deb.debian.org/debian) may be overridden.
# Needs root and the Debian packages debootstrap and (for arm64) qemu-user-static, binfmt-support.
set -eu

ARCH="${1:?usage: debian-root.sh ARCH ROOT [EXTRA_PACKAGES]}"
ROOT="${2:?usage: debian-root.sh ARCH ROOT [EXTRA_PACKAGES]}"
EXTRA="${3:-}"
SUITE="${SUITE:-trixie}"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"
CACHE="${DEBOOTSTRAP_CACHE:-/var/cache/fmd-debootstrap}"
# What every root needs: Python with venv and pip, CA certificates for PyPI.
BASE="python3,python3-venv,python3-pip,ca-certificates"

say() { printf 'debian-root: %s\n' "$*"; }
die() { printf 'debian-root: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (debootstrap and chroot need it)"
if [ -f "$ROOT/.fmd-root-ready" ]; then say "$ROOT is ready (delete it to rebuild)"; exit 0; fi
command -v debootstrap >/dev/null || die "debootstrap is missing: apt-get install debootstrap"
mkdir -p "$CACHE" "$(dirname "$ROOT")"
ROOT="$(cd "$(dirname "$ROOT")" && pwd)/$(basename "$ROOT")"
# One build of a root at a time, and never a removal across mounts (a second stage mounts proc and
# sys inside the root; a chroot session binds /dev): a half-built root is removed only when unmounted.
exec 9> "$ROOT.lock"
flock -n 9 || die "another build of $ROOT is running (lock $ROOT.lock)"
if grep -q " $ROOT/" /proc/mounts; then
    die "file systems are mounted under $ROOT (see /proc/mounts): unmount them before it is rebuilt"
fi
rm -rf "$ROOT"
packages="$BASE${EXTRA:+,$EXTRA}"
host_arch="$(dpkg --print-architecture)"

if [ "$ARCH" = "$host_arch" ]; then
    say "debootstrap $SUITE $ARCH into $ROOT"
    debootstrap --variant=minbase --arch="$ARCH" --cache-dir="$CACHE" --include="$packages" \
        "$SUITE" "$ROOT" "$MIRROR"
else
    qemu_arch="$(case "$ARCH" in arm64) echo aarch64 ;; armhf) echo arm ;; *) echo "$ARCH" ;; esac)"
    qemu="/usr/bin/qemu-$qemu_arch-static"
    [ -x "$qemu" ] || die "$qemu is missing: apt-get install qemu-user-static"
    binfmt=/proc/sys/fs/binfmt_misc
    if [ ! -f "$binfmt/status" ]; then
        mount -t binfmt_misc binfmt_misc "$binfmt" 2>/dev/null \
            || die "binfmt_misc cannot be mounted here (mount -t binfmt_misc failed): arm64 programs cannot run"
    fi
    if ! grep -qx enabled "$binfmt/qemu-$qemu_arch" 2>/dev/null; then
        update-binfmts --enable "qemu-$qemu_arch" >/dev/null 2>&1 \
            || die "binfmt_misc refuses qemu-$qemu_arch (update-binfmts --enable failed): arm64 programs cannot run"
    fi
    say "debootstrap --foreign $SUITE $ARCH into $ROOT (first stage)"
    debootstrap --foreign --variant=minbase --arch="$ARCH" --cache-dir="$CACHE" --include="$packages" \
        "$SUITE" "$ROOT" "$MIRROR"
    install -m 0755 "$qemu" "$ROOT/usr/bin/"
    # The second stage looks packages up in the archive's index (56 MB for arm64) with perl, which
    # under qemu takes tens of minutes per look-up: keep only the stanzas of the packages downloaded.
    for index in "$ROOT"/var/lib/apt/lists/*_Packages; do
        awk 'BEGIN { RS = ""; ORS = "\n\n" }
             NR == FNR { n = split($0, lines, "\n"); for (i = 1; i <= n; i++) { split(lines[i], f, " "); keep[f[1]] = 1 }; next }
             { split($0, l, "\n"); name = l[1]; sub(/^Package: /, "", name); if (name in keep) print }' \
            "$ROOT/debootstrap/debpaths" "$index" > "$index.trim"
        mv "$index.trim" "$index"
    done
    say "second stage inside $ROOT through $qemu (binfmt_misc)"
    chroot "$ROOT" /debootstrap/debootstrap --second-stage
    # The trimmed index would stay apt's (apt-get update keeps lists whose Release did not change).
    rm -f "$ROOT"/var/lib/apt/lists/*_Packages
fi
printf 'deb %s %s main\n' "$MIRROR" "$SUITE" > "$ROOT/etc/apt/sources.list"
touch "$ROOT/.fmd-root-ready"
say "done: $ROOT ($(chroot "$ROOT" python3 --version))"
