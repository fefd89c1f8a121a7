# Sourced by the image scripts and the e2e tests' helpers: the podman/buildah settings that work on
# these machines (hybrid cgroups, rlimits cannot be raised; see docs/images.md). Harmless elsewhere.
# Usage: source scripts/podman-env.sh
_dds_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_dds_conf="$_dds_root/.cache/podman/containers.conf"
if [[ ! -f "$_dds_conf" ]]; then
  mkdir -p "$(dirname "$_dds_conf")"
  cat >"$_dds_conf" <<'CONF'
[containers]
default_ulimits = []

[engine]
cgroup_manager = "cgroupfs"
runtime = "runc"
CONF
fi
export CONTAINERS_CONF="${CONTAINERS_CONF:-$_dds_conf}"
export BUILDAH_ISOLATION="${BUILDAH_ISOLATION:-chroot}"
unset _dds_root _dds_conf
