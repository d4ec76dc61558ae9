#!/usr/bin/env bash
# Runs the project on Raspberry Pi OS's software stack under emulation: Debian bookworm root file
# systems for arm64 (64-bit Pi OS) and armhf (32-bit Pi OS, armv7l), executed through
# qemu-user and binfmt_misc. Each root is built once with debootstrap from this machine's own
# apt mirror and cached outside the repository; the project is copied in fresh every run,
# installed the way a Pi user does (`pip install .`, then the bench extra) and tested there.
#
#   bash scripts/test-pi.sh             both architectures (needs root: debootstrap, chroot)
#   bash scripts/test-pi.sh --smoke     arm64 only, the short check CI runs
#   PI_ARCHES="armhf" bash scripts/test-pi.sh
#   PI_CACHE=/some/dir                  where the root file systems live
#                                       (default /var/cache/archive-parallel-pi)
#   PI_REBUILD=1                        rebuild the cached root file systems
#
# Prints one summary line per architecture and exits non-zero on any failure; prints one line
# and exits 0 only when this machine cannot run foreign binaries at all.
set -euo pipefail

SUITE=bookworm
GUEST_SRC=/opt/archive-parallel/src        # the project, copied in fresh each run
GUEST_VENV=/opt/archive-parallel/venv      # cached with the root: test tools live here
GUEST_XFER=/opt/archive-parallel/xfer      # archives made on one side, extracted on the other
GUEST_TOOLS="pytest pytest-timeout hypothesis"
ROOT_PACKAGES=python3,python3-venv,python3-pip,python3-psutil,ca-certificates,tar,gzip,bzip2,xz-utils,zip,unzip

# ---------------------------------------------------------------- the part run inside a root
if [ "${1:-}" = "--inside" ]; then
  # shellcheck source=/dev/null
  exec bash "$GUEST_SRC/scripts/pi/guest.sh" "${@:2}"
fi

# ---------------------------------------------------------------- the host part
cd "$(dirname "$0")/.."
REPO=$(pwd)
MODE=full
case ${1:-} in
  --smoke) MODE=smoke ;;
  --build) MODE=build ;;   # only build (or check) the cached roots
  "") ;;
  *) echo "usage: test-pi.sh [--smoke|--build]" >&2; exit 2 ;;
esac
if [ -z "${PI_ARCHES:-}" ]; then
  if [ "$MODE" = smoke ]; then PI_ARCHES="arm64"; else PI_ARCHES="arm64 armhf"; fi
fi
CACHE=${PI_CACHE:-/var/cache/archive-parallel-pi}
RUN_TAG=$(date -u +%Y%m%dT%H%M%SZ)

skip() { echo "test-pi: skipped: $*"; exit 0; }
fail() { echo "test-pi: FAILED: $*" >&2; exit 1; }
log() { echo "test-pi: $*" >&2; }

[ "$(uname -s)" = Linux ] || skip "$(uname -s) cannot run Linux arm binaries (qemu-user and binfmt_misc are Linux only)"
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null 2>&1 || fail "needs root (debootstrap, chroot, mount) and sudo is missing"
  exec sudo -E bash "$0" "$@"
fi

qemu_name() { case $1 in arm64) echo aarch64 ;; armhf) echo arm ;; *) fail "unknown arch $1" ;; esac; }
guest_machine() { case $1 in arm64) echo aarch64 ;; armhf) echo armv7l ;; esac; }

ensure_host_tools() {
  local need=()
  command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
  for arch in $PI_ARCHES; do
    command -v "qemu-$(qemu_name "$arch")-static" >/dev/null 2>&1 || need+=(qemu-user-static)
  done
  command -v update-binfmts >/dev/null 2>&1 || need+=(binfmt-support)
  [ ${#need[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null 2>&1 ||
    skip "no apt-get to install ${need[*]}, so this machine cannot build or run the Pi roots"
  log "installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    $(printf '%s\n' "${need[@]}" | sort -u) debian-archive-keyring >/dev/null ||
    fail "apt-get install ${need[*]} failed"
}

# binfmt_misc lets the kernel hand arm ELF files to qemu. The F flag opens the interpreter at
# registration time, so nothing has to be copied into the roots.
ensure_binfmt() {
  local dir=/proc/sys/fs/binfmt_misc
  if [ ! -e "$dir/register" ]; then
    mount -t binfmt_misc binfmt_misc "$dir" 2>/dev/null ||
      skip "binfmt_misc cannot be mounted here (container without the privilege), so foreign binaries cannot run"
  fi
  for arch in $PI_ARCHES; do
    local q; q=$(qemu_name "$arch")
    [ -e "$dir/qemu-$q" ] && continue
    local conf=/usr/lib/binfmt.d/qemu-$q.conf
    [ -f "$conf" ] || fail "qemu-user-static installed no $conf"
    cat "$conf" >"$dir/register" 2>/dev/null ||
      skip "the kernel refuses binfmt_misc registrations, so foreign binaries cannot run"
  done
  for arch in $PI_ARCHES; do
    grep -qx enabled "$dir/qemu-$(qemu_name "$arch")" || fail "binfmt entry qemu-$(qemu_name "$arch") is disabled"
  done
}

# The first Debian mirror this machine's apt uses for the suite (deb822 .sources or one-line
# sources.list), so the roots come from where this machine's own packages come from.
host_mirror() {
  python3 - "$SUITE" <<'EOF'
import glob, re, sys
suite = sys.argv[1]
def candidates():
    for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
        for stanza in re.split(r"\n\s*\n", open(path, encoding="utf-8").read()):
            fields = dict(
                (m.group(1).lower(), m.group(2).split())
                for m in re.finditer(r"^([A-Za-z-]+):\s*(.*)$", stanza, re.M)
            )
            if "deb" in fields.get("types", []) and suite in fields.get("suites", []):
                yield from fields.get("uris", [])
    for path in ["/etc/apt/sources.list", *sorted(glob.glob("/etc/apt/sources.list.d/*.list"))]:
        try:
            lines = open(path, encoding="utf-8").read().splitlines()
        except OSError:
            continue
        for line in lines:
            words = re.sub(r"\[[^]]*\]", "", line.split("#")[0]).split()
            if len(words) >= 3 and words[0] == "deb" and words[2] == suite:
                yield words[1]
for uri in candidates():
    if "security" not in uri:
        print(uri.rstrip("/")); break
else:
    print("http://deb.debian.org/debian")
EOF
}

# apt's proxy, if this machine's apt has one, also serves debootstrap.
export_apt_proxy() {
  if [ -z "${http_proxy:-}" ] && command -v apt-config >/dev/null 2>&1; then
    local proxy
    proxy=$(apt-config dump Acquire::http::Proxy 2>/dev/null | sed -n 's/^Acquire::http::Proxy "\(.*\)";/\1/p' | head -1)
    [ -n "$proxy" ] && export http_proxy=$proxy
  fi
  return 0
}

# pip inside a root uses this machine's index, proxy and certificate settings (only those that
# point at the network: local wheel folders hold this machine's wheels, not arm ones).
write_guest_pip_conf() {
  local root=$1
  python3 - "$root" <<'EOF'
import configparser, os, shutil, sys
root = sys.argv[1]
keep = {"index-url", "extra-index-url", "trusted-host", "proxy", "timeout", "retries"}
out = configparser.ConfigParser()
out["global"] = {}
for path in ["/etc/pip.conf", os.path.expanduser("~/.config/pip/pip.conf"), os.path.expanduser("~/.pip/pip.conf")]:
    cfg = configparser.ConfigParser()
    try:
        cfg.read(path, encoding="utf-8")
    except (OSError, configparser.Error):
        continue
    for section in cfg.sections():
        for key, value in cfg[section].items():
            if key in keep:
                urls = [v for v in value.split() if not v.startswith(("file:", "/"))]
                if urls:
                    out["global"][key] = " ".join(urls)
for var, key in [("PIP_INDEX_URL", "index-url"), ("PIP_EXTRA_INDEX_URL", "extra-index-url"),
                 ("PIP_TRUSTED_HOST", "trusted-host"), ("PIP_DEFAULT_TIMEOUT", "timeout")]:
    urls = [v for v in os.environ.get(var, "").split() if not v.startswith(("file:", "/"))]
    if urls:
        out["global"][key] = " ".join(urls)
bundle = os.environ.get("PIP_CERT") or os.environ.get("SSL_CERT_FILE") or "/etc/ssl/certs/ca-certificates.crt"
if os.path.isfile(bundle):
    shutil.copyfile(bundle, os.path.join(root, "etc/archive-parallel-host-ca.crt"))
    out["global"]["cert"] = "/etc/archive-parallel-host-ca.crt"
out["global"]["disable-pip-version-check"] = "true"
with open(os.path.join(root, "etc/pip.conf"), "w", encoding="utf-8") as fh:
    out.write(fh)
EOF
  cp -L /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
}

MOUNTED=()
mount_guest() {
  local root=$1
  mountpoint -q "$root/proc" || { mount -t proc proc "$root/proc"; MOUNTED+=("$root/proc"); }
  mountpoint -q "$root/dev" || { mount --rbind /dev "$root/dev"; mount --make-rslave "$root/dev"; MOUNTED+=("$root/dev"); }
  mkdir -p "$root/dev/shm"
}
unmount_guests() {
  local i
  for ((i = ${#MOUNTED[@]} - 1; i >= 0; i--)); do
    umount -R "${MOUNTED[$i]}" 2>/dev/null || umount -lR "${MOUNTED[$i]}" 2>/dev/null || true
  done
  MOUNTED=()
}
trap unmount_guests EXIT

in_guest() {
  local root=$1; shift
  chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=dumb \
    PATH=$GUEST_VENV/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    http_proxy="${http_proxy:-}" https_proxy="${https_proxy:-}" no_proxy="${no_proxy:-}" \
    "$@"
}

# Removes a root folder, first unmounting whatever a killed run left mounted inside it (a
# bind-mounted /dev must never be deleted through), and never crossing into another mount.
remove_root() {
  local dir=$1 point
  [ -e "$dir" ] || return 0
  awk -v d="$dir/" 'index($2, d) == 1 {print $2}' /proc/mounts | sort -r | while read -r point; do
    umount -R "$point" 2>/dev/null || umount -lR "$point" 2>/dev/null || true
  done
  rm -rf --one-file-system "$dir"
}

build_root() {
  local arch=$1 root=$CACHE/$1
  if [ -f "$root/.archive-parallel-ready" ] && [ "${PI_REBUILD:-0}" != 1 ]; then
    return 0
  fi
  local started=$SECONDS mirror
  mirror=$(host_mirror)
  log "$arch: building a Debian $SUITE root from $mirror (once; cached in $root)"
  remove_root "$root.partial"
  mkdir -p "$CACHE"
  debootstrap --arch="$arch" --variant=minbase --include="$ROOT_PACKAGES" \
    "$SUITE" "$root.partial" "$mirror" >"$CACHE/$arch.debootstrap.log" 2>&1 ||
    { tail -20 "$CACHE/$arch.debootstrap.log" >&2; fail "$arch: debootstrap failed (log: $CACHE/$arch.debootstrap.log)"; }
  write_guest_pip_conf "$root.partial"
  mount_guest "$root.partial"
  in_guest "$root.partial" python3 -m venv --system-site-packages "$GUEST_VENV"
  # shellcheck disable=SC2086
  in_guest "$root.partial" "$GUEST_VENV/bin/pip" install -q $GUEST_TOOLS ||
    fail "$arch: pip could not install $GUEST_TOOLS inside the root (is PyPI reachable?)"
  unmount_guests
  remove_root "$root"
  mv "$root.partial" "$root"
  touch "$root/.archive-parallel-ready"
  log "$arch: root ready in $((SECONDS - started)) s"
}

# The working tree as git sees it (tracked and untracked, not ignored), else everything but
# build outputs: the root gets the project as a user's checkout would be.
copy_project() {
  local root=$1 dest=$1$GUEST_SRC
  rm -rf "$dest"; mkdir -p "$dest"
  if git -C "$REPO" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git -C "$REPO" ls-files -z --cached --others --exclude-standard |
      (cd "$REPO" && xargs -0 tar --ignore-failed-read -cf - 2>/dev/null) | tar -xf - -C "$dest"
  else
    tar -C "$REPO" --exclude=.venv --exclude=results --exclude=build --exclude=__pycache__ -cf - . |
      tar -xf - -C "$dest"
  fi
}

HOST_PY=$REPO/.venv/bin/python
[ -x "$HOST_PY" ] || HOST_PY=python3

run_arch() {
  local arch=$1 root=$CACHE/$1 started=$SECONDS
  build_root "$arch"
  local machine; machine=$(in_guest "$root" uname -m) || fail "$arch: the root's binaries do not run"
  [ "$machine" = "$(guest_machine "$arch")" ] || fail "$arch: uname -m says $machine"
  write_guest_pip_conf "$root"
  copy_project "$root"
  local xfer=$root$GUEST_XFER
  rm -rf "$xfer"; mkdir -p "$xfer/from-host" "$xfer/from-guest"
  # This side's archives of a generated tree, for the root to extract.
  PYTHONPATH=$REPO "$HOST_PY" -m tests.pi.crosscheck make "$xfer/from-host" >/dev/null ||
    fail "$arch: could not make the x86-64 archives"
  mount_guest "$root"
  local summary_file=$xfer/summary
  if ! in_guest "$root" bash "$GUEST_SRC/scripts/test-pi.sh" --inside "$arch" "$MODE" "$RUN_TAG"; then
    unmount_guests
    echo "test-pi $arch: FAILED after $((SECONDS - started)) s (see above)"
    return 1
  fi
  unmount_guests
  # The root's archives, extracted here and compared file by file with this side's tree.
  local back
  back=$(PYTHONPATH=$REPO "$HOST_PY" -m tests.pi.crosscheck check "$xfer/from-guest") ||
    { echo "test-pi $arch: FAILED: $arch archives do not extract identically on $(uname -m): $back"; return 1; }
  # The sweep's results and report stay outside the root, until the next run of this arch.
  local kept=$CACHE/results/$arch
  if [ -d "$xfer/results" ]; then
    rm -rf "$kept"; mkdir -p "$CACHE/results"; cp -a "$xfer/results" "$kept"
  fi
  local summary; summary=$(sed "s#$GUEST_XFER/results#$kept#g" "$summary_file")
  echo "test-pi $arch: $summary; $back on $(uname -m); $((SECONDS - started)) s"
}

ensure_host_tools
ensure_binfmt
mkdir -p "$CACHE"
export_apt_proxy
# The architectures run side by side: an emulated run keeps about one core busy. Progress goes
# to stderr as it comes (each line names its architecture); the summary lines come last.
pids=()
for arch in $PI_ARCHES; do
  rm -f "$CACHE/$arch.summary"
  (
    trap unmount_guests EXIT
    if [ "$MODE" = build ]; then
      build_root "$arch" && echo "test-pi $arch: root ready in $CACHE/$arch" >"$CACHE/$arch.summary"
    else
      run_arch "$arch" >"$CACHE/$arch.summary"
    fi
  ) &
  pids+=($!)
done
status=0
for pid in "${pids[@]}"; do
  wait "$pid" || status=1
done
for arch in $PI_ARCHES; do
  if [ -s "$CACHE/$arch.summary" ]; then cat "$CACHE/$arch.summary"; else echo "test-pi $arch: FAILED (see above)"; status=1; fi
done
exit $status
