#!/usr/bin/env bash
# PostgreSQL and MariaDB servers that speak TLS, and a PostgreSQL server that does not,
# on loopback only, for tests/tls.rs.
#
#   scripts/tls-servers.sh start   # prints `export FLASKDB_TEST_*_TLS_URL=...` lines
#   scripts/tls-servers.sh env     # prints them again (the servers must be running)
#   scripts/tls-servers.sh stop    # stops the servers and deletes their files
#
# `start` generates a CA and a server certificate for `localhost` and 127.0.0.1 with
# openssl, starts a PostgreSQL cluster with `ssl = on` on 127.0.0.1:5433 and a MariaDB
# server with TLS on 127.0.0.1:3307, both of which refuse connections without TLS, and a
# PostgreSQL cluster with `ssl = off` on 127.0.0.1:5434 (Debian's own cluster has TLS
# on, with its snakeoil certificate), and waits until they answer. Ports:
# FLASKDB_TLS_PG_PORT, FLASKDB_TLS_MYSQL_PORT, FLASKDB_NO_TLS_PG_PORT. Everything lives
# under FLASKDB_TLS_DIR (default: $TMPDIR/flaskdb-tls). It installs what is missing
# (openssl, PostgreSQL, MariaDB) with apt-get. Both commands are idempotent: `start`
# with the servers up only prints the variables, `stop` with them down does nothing.
# Messages go to stderr, so that `eval "$(scripts/tls-servers.sh start)"` works.
set -euo pipefail

DIR="${FLASKDB_TLS_DIR:-${TMPDIR:-/tmp}/flaskdb-tls}"
PG_PORT="${FLASKDB_TLS_PG_PORT:-5433}"
MY_PORT="${FLASKDB_TLS_MYSQL_PORT:-3307}"
PLAIN_PG_PORT="${FLASKDB_NO_TLS_PG_PORT:-5434}"
# A throwaway password for throwaway servers; the tests check that it never shows.
PASSWORD="tls-Pa55word"

log() { echo "tls-servers: $*" >&2; }
die() { # message [log file, whose end is shown: the stop that follows deletes it]
  log "error: $1"
  [ -n "${2:-}" ] && [ -f "$2" ] && tail -n 20 "$2" >&2
  exit 1
}

# As the `postgres` user when running as root (PostgreSQL refuses to run as root).
as_postgres() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

pg_bin() { # the newest installed PostgreSQL's bin directory, if any
  local bin
  bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
  [ -n "$bin" ] && [ -x "$bin/initdb" ] && echo "$bin"
}

install_missing() {
  local packages=()
  command -v openssl >/dev/null || packages+=(openssl)
  pg_bin >/dev/null || packages+=(postgresql)
  [ -x /usr/sbin/mariadbd ] && command -v mariadb-install-db >/dev/null || packages+=(mariadb-server)
  command -v mariadb >/dev/null || packages+=(mariadb-client)
  [ "${#packages[@]}" = 0 ] && return 0
  [ "$(id -u)" = 0 ] || die "missing ${packages[*]}; install them or run as root"
  log "installing ${packages[*]}"
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}" >&2
}

print_env() {
  echo "export FLASKDB_TEST_POSTGRES_TLS_URL='postgres://postgres:$PASSWORD@127.0.0.1:$PG_PORT/test?sslmode=verify-full&sslrootcert=$DIR/ca.pem'"
  echo "export FLASKDB_TEST_MYSQL_TLS_URL='mysql://flaskdb:$PASSWORD@127.0.0.1:$MY_PORT/test?ssl-mode=VERIFY_IDENTITY&ssl-ca=$DIR/ca.pem'"
  echo "export FLASKDB_TEST_POSTGRES_NO_TLS_URL='postgres://postgres@127.0.0.1:$PLAIN_PG_PORT/test'"
}

pg_running() { # cluster directory
  [ -f "$1/data/postmaster.pid" ] && as_postgres "$(pg_bin)/pg_ctl" -D "$1/data" status >/dev/null 2>&1
}

running() {
  pg_running "$DIR/pg" && pg_running "$DIR/pg-plain" &&
    [ -f "$DIR/mariadb/mariadbd.pid" ] && kill -0 "$(cat "$DIR/mariadb/mariadbd.pid")" 2>/dev/null
}

certificates() {
  local ext="$DIR/server.ext"
  openssl req -x509 -new -nodes -newkey rsa:2048 -sha256 -days 30 \
    -subj "/CN=flaskdb test CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$DIR/ca.key" -out "$DIR/ca.pem" 2>/dev/null
  openssl req -new -nodes -newkey rsa:2048 -sha256 -subj "/CN=localhost" \
    -keyout "$DIR/server.key" -out "$DIR/server.csr" 2>/dev/null
  printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1" "basicConstraints=critical,CA:FALSE" \
    "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" >"$ext"
  openssl x509 -req -sha256 -days 30 -in "$DIR/server.csr" -CA "$DIR/ca.pem" -CAkey "$DIR/ca.key" \
    -CAcreateserial -extfile "$ext" -out "$DIR/server.pem" 2>/dev/null
  chmod 644 "$DIR/ca.pem" "$DIR/server.pem"
}

start_postgres() { # cluster directory, port, ssl (on or off)
  local bin pg="$1" port="$2" ssl="$3"
  bin="$(pg_bin)"
  mkdir -p "$pg"
  # PostgreSQL wants its key readable by its own user only.
  cp "$DIR/server.pem" "$DIR/server.key" "$pg/"
  echo "$PASSWORD" >"$pg/password"
  chmod 600 "$pg/server.key" "$pg/password"
  [ "$(id -u)" = 0 ] && chown -R postgres: "$pg"
  as_postgres "$bin/initdb" -D "$pg/data" -U postgres --pwfile="$pg/password" -E UTF8 --no-locale \
    --auth-local=trust --auth-host=scram-sha-256 --no-sync >"$pg/initdb.log" 2>&1 ||
    die "initdb failed" "$pg/initdb.log"
  printf '%s\n' "port = $port" "listen_addresses = '127.0.0.1'" "unix_socket_directories = '$pg'" \
    "ssl = $ssl" "ssl_cert_file = '$pg/server.pem'" "ssl_key_file = '$pg/server.key'" \
    "fsync = off" >>"$pg/data/postgresql.conf"
  if [ "$ssl" = on ]; then
    # TLS or nothing over TCP; the Unix socket (for this script) is trusted.
    printf '%s\n' "local all all trust" "hostssl all all 127.0.0.1/32 scram-sha-256" \
      "hostnossl all all 127.0.0.1/32 reject" >"$pg/data/pg_hba.conf"
  else
    printf '%s\n' "local all all trust" "host all all 127.0.0.1/32 trust" >"$pg/data/pg_hba.conf"
  fi
  as_postgres "$bin/pg_ctl" -D "$pg/data" -l "$pg/server.log" -w -t 30 start >/dev/null ||
    die "PostgreSQL did not start" "$pg/server.log"
  as_postgres "$bin/psql" -h "$pg" -p "$port" -U postgres -qAt -c "CREATE DATABASE test" >/dev/null
}

start_mariadb() {
  local my="$DIR/mariadb"
  mkdir -p "$my"
  mariadb-install-db --no-defaults --datadir="$my/data" --user=root \
    --auth-root-authentication-method=normal --skip-test-db >"$my/install.log" 2>&1 ||
    die "mariadb-install-db failed" "$my/install.log"
  setsid /usr/sbin/mariadbd --no-defaults --user=root --datadir="$my/data" \
    --port="$MY_PORT" --bind-address=127.0.0.1 --socket="$my/mariadbd.sock" \
    --pid-file="$my/mariadbd.pid" --log-error="$my/server.log" \
    --ssl-ca="$DIR/ca.pem" --ssl-cert="$DIR/server.pem" --ssl-key="$DIR/server.key" \
    --require-secure-transport=ON --innodb-buffer-pool-size=32M \
    </dev/null >/dev/null 2>&1 &
  local pid=$!
  for _ in $(seq 1 60); do
    mariadb --no-defaults --socket="$my/mariadbd.sock" -uroot -e "SELECT 1" >/dev/null 2>&1 && break
    kill -0 "$pid" 2>/dev/null || break # it gave up (a port in use, say)
    sleep 0.5
  done
  mariadb --no-defaults --socket="$my/mariadbd.sock" -uroot -e "
    CREATE DATABASE test;
    CREATE USER 'flaskdb'@'127.0.0.1' IDENTIFIED BY '$PASSWORD' REQUIRE SSL;
    GRANT ALL ON *.* TO 'flaskdb'@'127.0.0.1';" || die "MariaDB did not start" "$my/server.log"
}

stop() {
  local bin pg pid pidfile="$DIR/mariadb/mariadbd.pid"
  for pg in "$DIR/pg" "$DIR/pg-plain"; do
    if [ -f "$pg/data/postmaster.pid" ] && bin="$(pg_bin)"; then
      as_postgres "$bin/pg_ctl" -D "$pg/data" -m fast -w -t 30 stop >/dev/null 2>&1 || true
    fi
  done
  if [ -f "$pidfile" ]; then
    pid="$(cat "$pidfile")"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.5
    done
  fi
  rm -rf "$DIR"
}

case "${1:-}" in
start)
  if running; then
    log "already running (under $DIR)"
  else
    install_missing
    stop # whatever a half-finished earlier start left
    mkdir -p "$DIR"
    chmod 755 "$DIR"
    certificates
    start_postgres "$DIR/pg" "$PG_PORT" on
    start_postgres "$DIR/pg-plain" "$PLAIN_PG_PORT" off
    start_mariadb
    log "PostgreSQL with TLS on 127.0.0.1:$PG_PORT, MariaDB with TLS on 127.0.0.1:$MY_PORT" \
      "(CA $DIR/ca.pem), PostgreSQL without TLS on 127.0.0.1:$PLAIN_PG_PORT"
  fi
  print_env
  ;;
env)
  running || die "the TLS servers are not running: scripts/tls-servers.sh start"
  print_env
  ;;
stop)
  stop
  ;;
*)
  echo "usage: $0 start|env|stop" >&2
  exit 2
  ;;
esac
