#!/usr/bin/env bash
# Build the sandbox base image termcorpus/base:bookworm without a registry; idempotent.
#
#   scripts/docker_base_image.sh          # prints the image id on stdout
#
# 1. The image already exists in the daemon with this script's VERSION label: print its id.
# 2. Else the cached root file system tarball exists: `docker import` it (~2 s).
# 3. Else build the tarball: `debootstrap --variant=minbase bookworm` plus python3 (the full
#    package: python3-minimal lacks json) and procps (ps, pkill), an `agent` user (uid/gid 1000, home /home/agent),
#    /app owned by it, apt lists and caches dropped; store it under the cache dir (~40 s,
#    needs a Debian mirror), then import it.
#
# Environment: TERMCORPUS_IMAGE (default termcorpus/base:bookworm),
# TERMCORPUS_CACHE_DIR (default /var/cache/termcorpus), TERMCORPUS_DEBIAN_MIRROR
# (default http://deb.debian.org/debian), DOCKER (client command, default docker).
# Needs root for debootstrap (only in step 3).
set -euo pipefail

IMAGE="${TERMCORPUS_IMAGE:-termcorpus/base:bookworm}"
CACHE="${TERMCORPUS_CACHE_DIR:-/var/cache/termcorpus}"
MIRROR="${TERMCORPUS_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
DOCKER="${DOCKER:-docker}"
# Bump VERSION when the contents change: the cached tarball and the image are rebuilt.
VERSION=2
PACKAGES=python3,procps
TARBALL="$CACHE/base-bookworm-v$VERSION-rootfs.tar"

label="$($DOCKER image inspect --format '{{index .Config.Labels "termcorpus.base.version"}}' "$IMAGE" 2>/dev/null || true)"
if [ "$label" = "$VERSION" ]; then
    echo "$IMAGE (version $VERSION) already present" >&2
    $DOCKER image inspect --format '{{.Id}}' "$IMAGE"
    exit 0
fi

if [ ! -s "$TARBALL" ]; then
    command -v debootstrap >/dev/null 2>&1 || {
        echo "debootstrap not found: apt-get update && apt-get install -y debootstrap" >&2; exit 1; }
    [ "$(id -u)" = 0 ] || { echo "building the root file system needs root (debootstrap)" >&2; exit 1; }
    mkdir -p "$CACHE"
    work="$(mktemp -d "$CACHE/rootfs.XXXXXX")"
    trap 'rm -rf "$work"' EXIT
    echo "debootstrap bookworm into $work/rootfs (about a minute) ..." >&2
    debootstrap --variant=minbase --include="$PACKAGES" bookworm "$work/rootfs" "$MIRROR" \
        >"$work/debootstrap.log" 2>&1 || {
        echo "debootstrap failed; last lines of its log:" >&2
        tail -n 20 "$work/debootstrap.log" >&2
        exit 1
    }
    root="$work/rootfs"
    # The sandbox user: the backend runs every command as 1000:1000 (never root).
    grep -q '^agent:' "$root/etc/group" || echo 'agent:x:1000:' >>"$root/etc/group"
    grep -q '^agent:' "$root/etc/passwd" ||
        echo 'agent:x:1000:1000:agent:/home/agent:/bin/bash' >>"$root/etc/passwd"
    grep -q '^agent:' "$root/etc/shadow" || echo 'agent:*:19000:0:99999:7:::' >>"$root/etc/shadow"
    mkdir -p "$root/home/agent" "$root/app" "$root/logs/verifier" "$root/tests"
    chown 1000:1000 "$root/home/agent" "$root/app"
    # Nothing a sandbox needs, and bytes every container would carry.
    rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
        "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/locale/*
    tar --numeric-owner -C "$root" -cf "$TARBALL.part" .
    mv "$TARBALL.part" "$TARBALL"
    rm -rf "$work"
    trap - EXIT
    echo "cached $TARBALL ($(du -h "$TARBALL" | cut -f1))" >&2
    # Older versions' tarballs are dead weight.
    find "$CACHE" -maxdepth 1 -name 'base-bookworm-*rootfs.tar' ! -name "$(basename "$TARBALL")" -delete
fi

old_id="$($DOCKER image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null || true)"
$DOCKER import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'WORKDIR /app' \
    --change 'CMD ["bash"]' \
    --change "LABEL termcorpus.base.version=$VERSION" \
    "$TARBALL" "$IMAGE" >/dev/null
echo "imported $IMAGE from $TARBALL" >&2
new_id="$($DOCKER image inspect --format '{{.Id}}' "$IMAGE")"
# The previous version of our own image, now untagged (it stays while a container uses it).
if [ -n "$old_id" ] && [ "$old_id" != "$new_id" ]; then
    $DOCKER rmi "$old_id" >/dev/null 2>&1 || true
fi
echo "$new_id"
