#!/usr/bin/env bash
# Builds the local images that stand in for registry images in `npm run test:image` (this machine
# reaches no container registry). Each is rebuilt only when what made it changed: its tag carries a
# label `camstack.key`, a hash of the shell function that builds it (its source, from `declare -f`)
# and of its inputs (suite, architecture, mirror, CA certificates, Go version, parent image key),
# compared on every run. They stay as a cache under these names; delete them to rebuild.
#
#   camstack-test/bookworm:amd64, camstack-test/bookworm:arm64
#       Debian bookworm (debootstrap, minbase) for BUILD_FROM: stands in for Home Assistant's
#       ghcr.io/home-assistant/{amd64,aarch64}-base-debian:bookworm. The arm64 one is built by
#       debootstrap's second stage under qemu-user-static and imported as `FROM scratch` +
#       `ADD rootfs.tar /` with --platform linux/arm64 (docker import ignores --platform).
#       Extra CA certificates of this machine (/usr/local/share/ca-certificates) are added, so
#       HTTPS to the package registries works in builds; the published build needs none of that.
#   camstack-test/builder:<go version>
#       bookworm amd64 with curl and this machine's Go toolchain (GOROOT copied in): stands in for
#       golang:<go version>-bookworm, the build-platform image of addon/Dockerfile.
#   camstack-test/mosquitto:bookworm
#       bookworm amd64 with Debian's mosquitto: the MQTT broker of the test.
#
# Usage: local-bases.sh [amd64] [arm64] [builder] [mosquitto]   (default: all)
# Env:   DOCKER (docker client, default docker), DEBIAN_MIRROR (default: deb.debian.org over HTTP)
set -euo pipefail

docker=${DOCKER:-docker}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
suite=bookworm
work=$(mktemp -d /tmp/camstack-bases.XXXXXX)
cleanup() {
	# debootstrap leaves proc/sys mounts behind when it fails half-way.
	awk -v w="$work" 'index($2, w) == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do
		umount -l "$m" || true
	done
	rm -rf "$work"
}
trap cleanup EXIT

log() { printf '[bases] %s\n' "$*"; }

# key FUNCTION INPUT... -> a hash of FUNCTION's source and the inputs
key() {
	{
		declare -f "$1"
		shift
		printf '%s\n' "$@"
	} | sha256sum | cut -c1-32
}

# current_key IMAGE -> the camstack.key label of IMAGE, or nothing
current_key() {
	"$docker" image inspect -f '{{ index .Config.Labels "camstack.key" }}' "$1" 2>/dev/null || true
}

extra_cas() {
	find /usr/local/share/ca-certificates -maxdepth 1 -name '*.crt' -type f 2>/dev/null | sort
}

cas_hash() {
	local f
	{
		for f in $(extra_cas); do sha256sum "$f"; done
	} | sha256sum | cut -c1-16
}

# bookworm ARCH: debootstrap -> rootfs.tar -> FROM scratch + ADD, built for linux/ARCH
bookworm() {
	local arch=$1 image=camstack-test/bookworm:$1 key
	key=$(key bookworm "$suite" "$arch" "$mirror" "$(cas_hash)")
	if [ "$(current_key "$image")" = "$key" ]; then
		log "$image is up to date"
		return
	fi
	local t0=$SECONDS root=$work/rootfs-$arch
	log "debootstrap $suite ($arch) from $mirror…"
	# minbase + ca-certificates: HTTPS works in every stage built on it.
	debootstrap --arch="$arch" --variant=minbase --include=ca-certificates "$suite" "$root" "$mirror" \
		>"$work/debootstrap-$arch.log" 2>&1 || {
		tail -n 30 "$work/debootstrap-$arch.log" >&2
		exit 1
	}
	local f
	for f in $(extra_cas); do cp "$f" "$root/usr/local/share/ca-certificates/"; done
	chroot "$root" update-ca-certificates >/dev/null
	# As in Debian's own images: no recommends, no apt caches.
	printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' >"$root/etc/apt/apt.conf.d/90camstack-test"
	rm -rf "$root/var/cache/apt/archives/"*.deb "$root/var/lib/apt/lists/"*
	mkdir -p "$work/ctx-$arch"
	tar -C "$root" --numeric-owner -cf "$work/ctx-$arch/rootfs.tar" .
	cat >"$work/ctx-$arch/Dockerfile" <<DOCKERFILE
FROM scratch
ADD rootfs.tar /
ENV LANG=C.UTF-8 PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
LABEL camstack.key="$key"
CMD ["bash"]
DOCKERFILE
	DOCKER_BUILDKIT=1 "$docker" build -q --platform "linux/$arch" -t "$image" "$work/ctx-$arch" >/dev/null
	rm -rf "$root" "$work/ctx-$arch"
	log "$image built in $((SECONDS - t0)) s"
}

builder() {
	command -v go >/dev/null || {
		echo "[bases] Go is needed (the builder image carries this machine's Go toolchain)" >&2
		exit 1
	}
	local goroot version image
	goroot=$(go env GOROOT)
	version=$(go env GOVERSION | sed 's/^go//')
	image=camstack-test/builder:$version
	local key
	key=$(key builder "$(current_key camstack-test/bookworm:amd64)" "$version" "$(go env GOROOT)")
	if [ "$(current_key "$image")" = "$key" ]; then
		log "$image is up to date"
		echo "$image" >"${BUILDER_IMAGE_FILE:-/dev/null}"
		return
	fi
	local t0=$SECONDS ctx=$work/ctx-builder
	mkdir -p "$ctx"
	log "builder image with Go $version from $goroot…"
	tar -C "$(dirname "$goroot")" -cf "$ctx/go.tar" --transform "s,^$(basename "$goroot"),go," "$(basename "$goroot")"
	cat >"$ctx/Dockerfile" <<DOCKERFILE
FROM camstack-test/bookworm:amd64
RUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*
ADD go.tar /usr/local/
ENV GOPATH=/go PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# Node.js from the npm registry uses its own CA list; this machine's HTTPS needs the system's.
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
RUN go version
LABEL camstack.key="$key"
DOCKERFILE
	DOCKER_BUILDKIT=1 "$docker" build -q --platform linux/amd64 -t "$image" "$ctx" >/dev/null
	rm -rf "$ctx"
	echo "$image" >"${BUILDER_IMAGE_FILE:-/dev/null}"
	log "$image built in $((SECONDS - t0)) s"
}

mosquitto() {
	local image=camstack-test/mosquitto:bookworm key
	key=$(key mosquitto "$(current_key camstack-test/bookworm:amd64)")
	if [ "$(current_key "$image")" = "$key" ]; then
		log "$image is up to date"
		return
	fi
	local t0=$SECONDS ctx=$work/ctx-mosquitto
	mkdir -p "$ctx"
	cat >"$ctx/Dockerfile" <<DOCKERFILE
FROM camstack-test/bookworm:amd64
RUN apt-get update && apt-get install -y mosquitto && rm -rf /var/lib/apt/lists/*
LABEL camstack.key="$key"
DOCKERFILE
	DOCKER_BUILDKIT=1 "$docker" build -q --platform linux/amd64 -t "$image" "$ctx" >/dev/null
	rm -rf "$ctx"
	log "$image built in $((SECONDS - t0)) s"
}

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(amd64 arm64 builder mosquitto)
for t in "${targets[@]}"; do
	case $t in
	amd64 | arm64) bookworm "$t" ;;
	builder) builder ;;
	mosquitto) mosquitto ;;
	*)
		echo "[bases] unknown target $t" >&2
		exit 2
		;;
	esac
done
# The images these tags replaced (untagged now, and only ours: they carry camstack.key).
"$docker" image prune -f --filter label=camstack.key >/dev/null
