#!/bin/sh
# Builds go2rtc and MediaMTX for one architecture, the way scripts/setup.mjs does on a development
# machine, but with every download checked against addon/versions.json:
#   - each engine is the Go module <module>@v<version> from the Go module proxy, and its h1: hash
#     must equal `sums.<engine>` (its go.sum then pins every dependency the build downloads);
#   - MediaMTX embeds hls.js: the npm tarball hls.js@<hlsjs> must match `sums.hlsjs` (the npm
#     registry's dist.integrity), and MediaMTX's own hls.js pin must name the same version;
#   - MediaMTX's Raspberry Pi camera helper (ARM only, a GitHub download) is left out (see below).
# The binaries are static (CGO_ENABLED=0), so a build machine of any architecture can make them.
#
# Usage: build-engines.sh VERSIONS_JSON OUT_DIR
#   TARGETARCH   Go architecture to build for (amd64, arm64); default: the build machine's
#   VERIFY_ONLY  1 = download and check everything, build nothing (used by the tests)
# Needs: go (>= versions.mediamtxGo), jq, npm, node, tar.
set -eu

die() {
	echo "build-engines: $*" >&2
	exit 1
}

[ $# -eq 2 ] || die "usage: build-engines.sh VERSIONS_JSON OUT_DIR"
versions=$1
out=$2
[ -r "$versions" ] || die "cannot read $versions"
for tool in go jq npm node tar; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool is needed"
done

pin() {
	jq -er "$1 | strings" "$versions" || die "$versions has no string at $1"
}

go2rtc_version=$(pin .go2rtc)
mediamtx_version=$(pin .mediamtx)
mediamtx_go=$(pin .mediamtxGo)
hlsjs_version=$(pin .hlsjs)
go2rtc_sum=$(pin .sums.go2rtc)
mediamtx_sum=$(pin .sums.mediamtx)
hlsjs_sum=$(pin .sums.hlsjs)

export GOTOOLCHAIN=local CGO_ENABLED=0 GOOS=linux GOFLAGS=-buildvcs=false
arch=${TARGETARCH:-$(go env GOARCH)}
case $arch in
amd64 | arm64) ;;
*) die "unsupported TARGETARCH '$arch' (the add-on ships amd64 and arm64)" ;;
esac

# MediaMTX states the Go it needs; refuse an older toolchain with a clear message.
have_go=$(go env GOVERSION | sed 's/^go//')
if ! awk -v have="$have_go" -v want="$mediamtx_go" 'BEGIN {
	split(have, h, "."); split(want, w, ".")
	exit !(h[1] + 0 > w[1] + 0 || (h[1] + 0 == w[1] + 0 && h[2] + 0 >= w[2] + 0))
}'; then
	die "MediaMTX $mediamtx_version needs Go >= $mediamtx_go, this is Go $have_go"
fi

work=$(mktemp -d)
cleanup() {
	chmod -R u+w "$work" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

# fetch_module MODULE VERSION PINNED_SUM -> prints the module's directory in the module cache
fetch_module() {
	info=$(cd "$work" && go mod download -json "$1@v$2") || die "go mod download $1@v$2 failed"
	sum=$(printf '%s' "$info" | jq -r '.Sum // empty')
	[ "$sum" = "$3" ] || die "$1@v$2: the module proxy's hash '$sum' is not the pinned '$3'"
	printf '%s' "$info" | jq -er '.Dir'
}

# fetch_hlsjs VERSION PINNED_INTEGRITY DEST
fetch_hlsjs() {
	mkdir -p "$work/hlsjs"
	(cd "$work/hlsjs" && npm pack "hls.js@$1" --silent --pack-destination "$work/hlsjs" >/dev/null) ||
		die "npm pack hls.js@$1 failed"
	tgz="$work/hlsjs/hls.js-$1.tgz"
	[ -f "$tgz" ] || die "npm pack did not write $tgz"
	got=$(node -e '
		const { createHash } = require("node:crypto");
		const data = require("node:fs").readFileSync(process.argv[1]);
		process.stdout.write("sha512-" + createHash("sha512").update(data).digest("base64"));
	' "$tgz")
	[ "$got" = "$2" ] || die "hls.js@$1: integrity '$got' is not the pinned '$2'"
	tar -xzf "$tgz" -C "$work/hlsjs" package/dist/hls.min.js
	cp "$work/hlsjs/package/dist/hls.min.js" "$3"
}

# writable_copy SRC NAME -> prints the copy's path (the module cache is read-only)
writable_copy() {
	cp -R "$1" "$work/$2"
	chmod -R u+w "$work/$2"
	printf '%s' "$work/$2"
}

echo "build-engines: go2rtc $go2rtc_version, MediaMTX $mediamtx_version, hls.js $hlsjs_version for linux/$arch"
go2rtc_dir=$(fetch_module github.com/AlexxIT/go2rtc "$go2rtc_version" "$go2rtc_sum")
mediamtx_dir=$(fetch_module github.com/bluenviron/mediamtx "$mediamtx_version" "$mediamtx_sum")

embedded=$(tr -d '[:space:]' <"$mediamtx_dir/internal/servers/hls/hlsjsdownloader/VERSION")
[ "$embedded" = "v$hlsjs_version" ] ||
	die "MediaMTX $mediamtx_version embeds hls.js $embedded but addon/versions.json pins $hlsjs_version"
fetch_hlsjs "$hlsjs_version" "$hlsjs_sum" "$work/hls.min.js"
echo "build-engines: module hashes and hls.js integrity match addon/versions.json"

if [ "${VERIFY_ONLY:-0}" = 1 ]; then
	exit 0
fi

mkdir -p "$out"
src=$(writable_copy "$go2rtc_dir" go2rtc-src)
(cd "$src" && GOARCH=$arch go build -trimpath -ldflags '-s -w' -o "$out/go2rtc" .) || die "building go2rtc failed"

src=$(writable_copy "$mediamtx_dir" mediamtx-src)
# The two files MediaMTX generates with `go generate` (which would download them unchecked).
printf 'v%s' "$mediamtx_version" >"$src/internal/core/VERSION"
cp "$work/hls.min.js" "$src/internal/servers/hls/hls.min.js"
# On ARM, MediaMTX also embeds its Raspberry Pi CSI camera helper (mtxrpicam), which `go generate`
# downloads from GitHub. Camstack only pulls network cameras (it never configures an rpiCamera
# source), so a placeholder takes its place: the build needs no other download, and an rpiCamera
# source would fail to start instead of running an unchecked binary.
for dir in "$src"/internal/staticsources/rpicamera/mtxrpicam_32 "$src"/internal/staticsources/rpicamera/mtxrpicam_64; do
	mkdir -p "$dir"
	[ -n "$(ls -A "$dir")" ] || echo 'Left out of the Camstack build: no Raspberry Pi camera support.' >"$dir/NOT_INCLUDED"
done
(cd "$src" && GOARCH=$arch go build -trimpath -ldflags '-s -w' -o "$out/mediamtx" .) || die "building MediaMTX failed"

echo "build-engines: wrote $out/go2rtc and $out/mediamtx (linux/$arch)"
