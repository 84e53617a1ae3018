#!/usr/bin/env bash
# Starts the real servers the backup tests use, each in a temp directory on a free port, and prints
# `export` lines for the variables the tests read. Sourced by scripts/test.sh; `stop_test_services` ends them.
#   SLIPWAY_TEST_PG_URL     PostgreSQL 15 (initdb + pg_ctl as the postgres user, scram password auth)
#   SLIPWAY_TEST_MYSQL_URL  MariaDB (mariadb-install-db + mariadbd --user=mysql), a user with a password
#   SLIPWAY_TEST_S3_ENDPOINT, SLIPWAY_TEST_S3_BUCKET  moto_server (S3)
# SLIPWAY_SERVICES (default "pg mysql s3") picks which ones start.
set -euo pipefail
SLIPWAY_SERVICES=${SLIPWAY_SERVICES:-pg mysql s3}
wants() { case " $SLIPWAY_SERVICES " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...
  local deadline=$((SECONDS + $1)) what=$2; shift 2
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then echo "test-services: $what did not start" >&2; return 1; fi
    sleep 0.2
  done
}

SERVICES_DIR=$(mktemp -d /tmp/slipway-services.XXXXXX)
chmod 755 "$SERVICES_DIR"
export SERVICES_DIR

# PostgreSQL 15: its server binaries are off PATH.
if wants pg; then
PG_BIN=$(dirname "$(dpkg -L postgresql-15 | grep '/bin/initdb$' | head -1)")
PG_PORT=$(free_port)
PG_PASSWORD="pg-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
mkdir -p "$SERVICES_DIR/pg"
chown postgres:postgres "$SERVICES_DIR/pg"
echo "$PG_PASSWORD" > "$SERVICES_DIR/pg/pw"
chown postgres "$SERVICES_DIR/pg/pw"
runuser -u postgres -- "$PG_BIN/initdb" -D "$SERVICES_DIR/pg/data" -U postgres --auth=scram-sha-256 --pwfile="$SERVICES_DIR/pg/pw" >"$SERVICES_DIR/pg/initdb.log"
runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$SERVICES_DIR/pg/data" -l "$SERVICES_DIR/pg/server.log" -w \
  -o "-p $PG_PORT -k $SERVICES_DIR/pg -c listen_addresses=127.0.0.1" start >/dev/null
export SLIPWAY_TEST_PG_URL="postgres://postgres:$PG_PASSWORD@127.0.0.1:$PG_PORT/slipway_test"
PGPASSWORD=$PG_PASSWORD psql -X -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -c 'CREATE DATABASE slipway_test'
fi

# MariaDB, as the mysql user, on its own port and socket.
if wants mysql; then
MY_PORT=$(free_port)
mkdir -p "$SERVICES_DIR/my"
chown mysql:mysql "$SERVICES_DIR/my"
mariadb-install-db --user=mysql --datadir="$SERVICES_DIR/my/data" --auth-root-authentication-method=socket >"$SERVICES_DIR/my/install.log" 2>&1
mariadbd --user=mysql --datadir="$SERVICES_DIR/my/data" --port="$MY_PORT" --bind-address=127.0.0.1 \
  --socket="$SERVICES_DIR/my/mysqld.sock" --pid-file="$SERVICES_DIR/my/mysqld.pid" --skip-log-bin >"$SERVICES_DIR/my/server.log" 2>&1 &
wait_for 60 "MariaDB" mariadb --socket="$SERVICES_DIR/my/mysqld.sock" -u root -e 'SELECT 1'
MY_PASSWORD="my-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
mariadb --socket="$SERVICES_DIR/my/mysqld.sock" -u root -e "
  CREATE USER 'slipway'@'127.0.0.1' IDENTIFIED BY '$MY_PASSWORD';
  GRANT ALL PRIVILEGES ON *.* TO 'slipway'@'127.0.0.1';
  CREATE DATABASE slipway_test;"
export SLIPWAY_TEST_MYSQL_URL="mysql://slipway:$MY_PASSWORD@127.0.0.1:$MY_PORT/slipway_test"
fi

# S3: moto_server.
if wants s3; then
S3_PORT=$(free_port)
moto_server -H 127.0.0.1 -p "$S3_PORT" >"$SERVICES_DIR/moto.log" 2>&1 &
echo $! > "$SERVICES_DIR/moto.pid"
wait_for 60 "moto_server" curl -sf "http://127.0.0.1:$S3_PORT/moto-api/"
curl -sf -X PUT "http://127.0.0.1:$S3_PORT/slipway-test" >/dev/null
export SLIPWAY_TEST_S3_ENDPOINT="http://127.0.0.1:$S3_PORT"
export SLIPWAY_TEST_S3_BUCKET="slipway-test"
fi

stop_test_services() {
  [ -n "${PG_BIN:-}" ] && runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$SERVICES_DIR/pg/data" -m fast stop >/dev/null 2>&1 || true
  [ -f "$SERVICES_DIR/my/mysqld.pid" ] && kill "$(cat "$SERVICES_DIR/my/mysqld.pid")" 2>/dev/null || true
  [ -f "$SERVICES_DIR/moto.pid" ] && kill "$(cat "$SERVICES_DIR/moto.pid")" 2>/dev/null || true
  sleep 1
  rm -rf "$SERVICES_DIR"
}
