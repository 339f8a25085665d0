#!/usr/bin/env bash
# npm run test:image: builds the add-on image (addon/Dockerfile) and runs it the way the Home
# Assistant Supervisor does, on amd64 and, under qemu emulation, on aarch64 (test/image/*.test.ts).
#
# Prepares this machine first, and undoes what it started:
#   - installs docker.io, debootstrap, qemu-user-static and binfmt-support when missing (apt-get);
#   - registers qemu-aarch64 with binfmt_misc (for arm64);
#   - starts dockerd when none answers, and stops it again at the end;
#   - builds the local base images (scripts/image/local-bases.sh; kept as a cache).
# The tests remove every container, network and test image they made.
#
# Env: CAMSTACK_IMAGE_ARCHES  amd64,arm64 (default) | amd64 | arm64
#      CAMSTACK_DOCKER        docker client (default: Debian's /usr/bin/docker, see test/image/docker.ts)
#      CAMSTACK_IMAGE_KEEP=1  keep the built test images (camstack-test/addon:<arch>-<pid>)
set -euo pipefail
cd "$(dirname "$0")/.."

arches=${CAMSTACK_IMAGE_ARCHES:-amd64,arm64}
want_arm64=false
case ",$arches," in *,arm64,*) want_arm64=true ;; esac
started=$SECONDS
phases=()
phase_start=$SECONDS
phase() {
	phases+=("$1: $((SECONDS - phase_start)) s")
	printf '[test:image] %s done in %s s\n' "$1" "$((SECONDS - phase_start))"
	phase_start=$SECONDS
}
say() { printf '[test:image] %s\n' "$*"; }

# 1. Packages ------------------------------------------------------------------------------------
missing=()
command -v dockerd >/dev/null || missing+=(docker.io)
command -v debootstrap >/dev/null || missing+=(debootstrap)
if $want_arm64; then
	[ -e /usr/bin/qemu-aarch64-static ] || missing+=(qemu-user-static)
	command -v update-binfmts >/dev/null || missing+=(binfmt-support)
fi
if [ ${#missing[@]} -gt 0 ]; then
	[ "$(id -u)" = 0 ] || {
		say "missing ${missing[*]}: run as root (apt-get) or install them"
		exit 1
	}
	say "installing ${missing[*]}…"
	DEBIAN_FRONTEND=noninteractive apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian's client (20.10) builds with BuildKit without the buildx plugin; another client on PATH may not.
if [ -z "${CAMSTACK_DOCKER:-}" ] && [ -x /usr/bin/docker ]; then export CAMSTACK_DOCKER=/usr/bin/docker; fi
docker=${CAMSTACK_DOCKER:-docker}
export DOCKER=$docker
phase packages

# 2. aarch64 emulation ---------------------------------------------------------------------------
if $want_arm64; then
	if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
		mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
	fi
	if ! grep -qs '^enabled' /proc/sys/fs/binfmt_misc/qemu-aarch64; then
		update-binfmts --enable qemu-aarch64
	fi
	grep -qs '^enabled' /proc/sys/fs/binfmt_misc/qemu-aarch64 || {
		say "qemu-aarch64 is not registered with binfmt_misc"
		exit 1
	}
	phase binfmt
fi

# 3. Docker --------------------------------------------------------------------------------------
dockerd_pid=
# shellcheck disable=SC2317 # called by the EXIT trap
stop_dockerd() {
	if [ -n "$dockerd_pid" ] && kill -0 "$dockerd_pid" 2>/dev/null; then
		say "stopping the dockerd this run started (pid $dockerd_pid)"
		kill -TERM "$dockerd_pid"
		for _ in $(seq 1 60); do
			kill -0 "$dockerd_pid" 2>/dev/null || break
			sleep 0.5
		done
		# dockerd turns IP forwarding on and the FORWARD policy to DROP; other work on this machine
		# (network namespaces) may rely on what was there before.
		if [ -n "$forward_policy" ]; then iptables -P FORWARD "$forward_policy" || true; fi
		if [ -n "$ip_forward" ]; then sysctl -qw "net.ipv4.ip_forward=$ip_forward" || true; fi
	fi
}
forward_policy=
ip_forward=
trap stop_dockerd EXIT
if "$docker" info >/dev/null 2>&1; then
	say "using the running Docker daemon"
else
	ip_forward=$(sysctl -n net.ipv4.ip_forward 2>/dev/null || true)
	forward_policy=$(iptables -S FORWARD 2>/dev/null | awk '$1 == "-P" { print $3; exit }' || true)
	dockerd_log=$(mktemp /tmp/camstack-dockerd.XXXXXX.log)
	say "starting dockerd (log: $dockerd_log)"
	setsid dockerd >"$dockerd_log" 2>&1 &
	dockerd_pid=$!
	for _ in $(seq 1 60); do
		"$docker" info >/dev/null 2>&1 && break
		kill -0 "$dockerd_pid" 2>/dev/null || {
			tail -n 20 "$dockerd_log"
			exit 1
		}
		sleep 0.5
	done
	"$docker" info >/dev/null 2>&1 || {
		say "dockerd did not answer"
		exit 1
	}
fi
phase dockerd

# 4. Local base images (a cache: rebuilt only when what made them changed) ----------------------
bases=(amd64 builder mosquitto)
if $want_arm64; then bases+=(arm64); fi
bash scripts/image/local-bases.sh "${bases[@]}"
phase "base images"

# 5. The tests -----------------------------------------------------------------------------------
tests=()
case ",$arches," in *,amd64,*) tests+=(test/image/addon-image.test.ts) ;; esac
if $want_arm64; then tests+=(test/image/addon-image-arm64.test.ts); fi
status=0
node --import tsx --test --test-concurrency=1 --test-timeout=1800000 "${tests[@]}" || status=$?
# Test images a killed run may have left (each test removes its own).
if [ "${CAMSTACK_IMAGE_KEEP:-0}" != 1 ]; then
	"$docker" image ls -q --filter 'reference=camstack-test/addon' | sort -u | xargs -r "$docker" image rm -f >/dev/null
fi
phase tests

say "phases: $(IFS=';'; echo "${phases[*]}")"
say "total $((SECONDS - started)) s"
exit "$status"
