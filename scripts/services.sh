#!/usr/bin/env bash
# Makes sure Redis (127.0.0.1:6379) and PostgreSQL (127.0.0.1:5432, database
# "test", trust auth on loopback) answer before the tests run: starts them
# where they are installed but stopped, installs them (Debian packages) where
# they are missing, and fails with a clear message where neither works.
set -u

REDIS_PORT=${REDIS_PORT:-6379}
PG_PORT=${PG_PORT:-5432}

say() { printf 'services: %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo -n "$@"
  else return 1
  fi
}

redis_ok() {
  timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$REDIS_PORT && printf 'PING\r\n' >&3 && read -r -t 2 line <&3 && [[ \$line == +PONG* ]]" 2>/dev/null
}

pg_ok() {
  if command -v pg_isready >/dev/null 2>&1; then
    pg_isready -q -h 127.0.0.1 -p "$PG_PORT" -d test -U postgres
  else
    timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PG_PORT" 2>/dev/null
  fi
}

wait_for() { # name check
  for _ in $(seq 1 50); do "$2" && return 0; sleep 0.2; done
  return 1
}

apt_install() {
  say "installing $* from Debian's packages"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null &&
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

start_redis() {
  command -v redis-server >/dev/null 2>&1 || apt_install redis-server || return 1
  mkdir -p /tmp/corral-redis
  redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no \
    --dir /tmp/corral-redis --logfile /tmp/corral-redis/redis.log
}

pg_cluster_version() { ls /etc/postgresql 2>/dev/null | sort -V | tail -1; }

start_postgres() {
  [ -n "$(pg_cluster_version)" ] || apt_install postgresql || return 1
  local v; v=$(pg_cluster_version)
  [ -n "$v" ] || { command -v pg_createcluster >/dev/null && as_root pg_createcluster "$(ls /usr/lib/postgresql | sort -V | tail -1)" main; v=$(pg_cluster_version); }
  local hba=/etc/postgresql/$v/main/pg_hba.conf
  # tests connect as postgres over loopback without a password
  if [ -f "$hba" ] && ! grep -q '^host all all 127.0.0.1/32 trust' "$hba"; then
    as_root sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
  fi
  as_root pg_ctlcluster --skip-systemctl-redirect "$v" main start 2>/dev/null || as_root pg_ctlcluster --skip-systemctl-redirect "$v" main reload
}

ensure_pg_database() {
  command -v psql >/dev/null 2>&1 || return 0
  psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='test'" 2>/dev/null | grep -q 1 ||
    psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -qc 'CREATE DATABASE test' >/dev/null
}

status=0
if redis_ok; then say "redis answers on 127.0.0.1:$REDIS_PORT"
elif start_redis && wait_for redis redis_ok; then say "redis started on 127.0.0.1:$REDIS_PORT"
else say "ERROR: Redis does not answer on 127.0.0.1:$REDIS_PORT and could not be started or installed (apt-get install redis-server)"; status=1
fi

if pg_ok; then say "postgres answers on 127.0.0.1:$PG_PORT"
elif start_postgres && wait_for postgres pg_ok; then say "postgres started on 127.0.0.1:$PG_PORT"
else say "ERROR: PostgreSQL does not answer on 127.0.0.1:$PG_PORT and could not be started or installed (apt-get install postgresql)"; status=1
fi
# corral monit is tested in a tmux pane: install tmux where missing (the test skips, saying why, where it cannot be)
if ! command -v tmux >/dev/null 2>&1; then
  if apt_install tmux; then say "tmux installed"; else say "tmux is missing and could not be installed: cluster-boot's corral monit test will skip"; fi
fi
[ $status = 0 ] && { ensure_pg_database || { say "ERROR: could not create database test"; status=1; }; }
exit $status
