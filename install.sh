#!/usr/bin/env bash
# PhotoChanger installer for Debian/Ubuntu. Idempotent: run it again to upgrade the binary; the
# database, media, env file (with its secrets) and passwords are kept.
#
#   sudo ./install.sh [--binary PATH] [--port N] [--database-url URL] [--no-backup]
#   sudo ./install.sh --rollback
#   sudo ./install.sh --uninstall [--purge]
#   ./install.sh --root DIR ...     install into a directory tree (no apt, no users, no systemd)
#
# What it does: checks the binary against the checksum file beside it (photochanger.sha256, which
# `bun run build` writes); installs PostgreSQL (and its client programs, for backups) from apt if
# absent; creates the `photochanger` system user, role and database (random password); on an
# upgrade keeps the installed binary as /usr/local/bin/photochanger.previous and takes a backup
# (photochanger backup) before the new version migrates; installs the binary to
# /usr/local/bin/photochanger; writes /etc/photochanger/photochanger.env (0600) and
# /var/lib/photochanger; writes a hardened systemd unit and a daily backup timer (7 archives kept
# in /var/backups/photochanger); runs the migrations; starts the service; prints the admin and
# ingest passwords once. --rollback puts the previous binary back.
set -euo pipefail

SERVICE=photochanger
SERVICE_USER=photochanger
DB_NAME=photochanger
DB_ROLE=photochanger
DEFAULT_PORT=8080
# Above the longest hold a booth request can have (T_sync ≤ 60 s plus margin): a stop drains first.
STOP_TIMEOUT_S=90

# Daily archives kept by the backup timer; pre-upgrade archives kept.
BACKUPS_KEPT=7
PRE_UPGRADE_KEPT=3

ROOT=""
BINARY=""
ACTION=install
PURGE=0
NO_BACKUP=0
PORT=""
GIVEN_DATABASE_URL=""

usage() {
  cat <<'EOF'
Usage: install.sh [options]

  --binary PATH        the photochanger binary to install (default: dist/photochanger next to
                       this script, or ./photochanger)
  --port N             HTTP port for a new install (default 8080; an existing env file is kept)
  --database-url URL   use this PostgreSQL database instead of creating a local one
  --no-backup          upgrade without taking the pre-upgrade backup (when it cannot be taken)
  --rollback           put back the binary the last upgrade replaced (kept as
                       /usr/local/bin/photochanger.previous) and restart; says when the database
                       is newer than that version knows, and which pre-upgrade backup to restore
  --root DIR           install into DIR as if it were / (no apt, no users, no systemd): for tests
                       and image builds
  --uninstall          remove the service, the backup timer and the binary; keeps data, backups,
                       database and env file
  --purge              with --uninstall: also delete the data dir, the env file, the local
                       database and role, and the system user
  -h, --help           this help
EOF
}

die() {
  echo "install.sh: $*" >&2
  exit 1
}
usage_error() {
  echo "install.sh: $*" >&2
  usage >&2
  exit 2
}
say() { echo "==> $*"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --root) [ $# -ge 2 ] || usage_error "--root needs a directory"; ROOT="${2%/}"; shift 2 ;;
    --root=*) ROOT="${1#*=}"; ROOT="${ROOT%/}"; shift ;;
    --binary) [ $# -ge 2 ] || usage_error "--binary needs a path"; BINARY="$2"; shift 2 ;;
    --binary=*) BINARY="${1#*=}"; shift ;;
    --port) [ $# -ge 2 ] || usage_error "--port needs a number"; PORT="$2"; shift 2 ;;
    --port=*) PORT="${1#*=}"; shift ;;
    --database-url) [ $# -ge 2 ] || usage_error "--database-url needs a URL"; GIVEN_DATABASE_URL="$2"; shift 2 ;;
    --database-url=*) GIVEN_DATABASE_URL="${1#*=}"; shift ;;
    --uninstall) ACTION=uninstall; shift ;;
    --rollback) ACTION=rollback; shift ;;
    --no-backup) NO_BACKUP=1; shift ;;
    --purge) PURGE=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage_error "unknown option: $1" ;;
  esac
done

if [ -n "$PORT" ] && ! [[ "$PORT" =~ ^[0-9]+$ && "$PORT" -ge 1 && "$PORT" -le 65535 ]]; then
  usage_error "--port must be a number from 1 to 65535"
fi
if [ -n "$GIVEN_DATABASE_URL" ] && ! [[ "$GIVEN_DATABASE_URL" =~ ^postgres(ql)?:// ]]; then
  usage_error "--database-url must start with postgres:// or postgresql://"
fi
[ "$PURGE" = 1 ] && [ "$ACTION" != uninstall ] && usage_error "--purge goes with --uninstall"
[ "$ACTION" = rollback ] && [ -n "$BINARY" ] && usage_error "--rollback puts back the previous binary: no --binary"

# Paths as the service sees them, and where they are written (the same unless --root).
BIN_TARGET=/usr/local/bin/photochanger
ETC_TARGET=/etc/photochanger
ENV_TARGET=$ETC_TARGET/photochanger.env
DATA_TARGET=/var/lib/photochanger
BACKUP_TARGET=/var/backups/photochanger
UNIT_TARGET=/etc/systemd/system/$SERVICE.service
BACKUP_UNIT_TARGET=/etc/systemd/system/$SERVICE-backup.service
TIMER_TARGET=/etc/systemd/system/$SERVICE-backup.timer
BIN_PATH="$ROOT$BIN_TARGET"
ETC_DIR="$ROOT$ETC_TARGET"
ENV_FILE="$ROOT$ENV_TARGET"
DATA_DIR="$ROOT$DATA_TARGET"
BACKUP_DIR="$ROOT$BACKUP_TARGET"
UNIT_FILE="$ROOT$UNIT_TARGET"
BACKUP_UNIT_FILE="$ROOT$BACKUP_UNIT_TARGET"
TIMER_FILE="$ROOT$TIMER_TARGET"

if [ -n "$ROOT" ]; then
  mkdir -p "$ROOT" || die "cannot create $ROOT"
  ROOT="$(cd "$ROOT" && pwd)"
  BIN_PATH="$ROOT$BIN_TARGET" ETC_DIR="$ROOT$ETC_TARGET" ENV_FILE="$ROOT$ENV_TARGET"
  DATA_DIR="$ROOT$DATA_TARGET" UNIT_FILE="$ROOT$UNIT_TARGET" BACKUP_DIR="$ROOT$BACKUP_TARGET"
  BACKUP_UNIT_FILE="$ROOT$BACKUP_UNIT_TARGET" TIMER_FILE="$ROOT$TIMER_TARGET"
elif [ "$(id -u)" != 0 ]; then
  die "run as root (sudo ./install.sh), or use --root DIR"
fi

systemd_running() { [ -z "$ROOT" ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; }

random_secret() { od -An -tx1 -N16 /dev/urandom | tr -d ' \n'; }

# KEY=value from the env file (no sourcing: the file is data, not a script).
env_value() {
  [ -f "$ENV_FILE" ] || return 0
  sed -n "s/^[[:space:]]*$1=//p" "$ENV_FILE" | tail -n 1 | sed -e 's/^"\(.*\)"$/\1/' -e "s/^'\(.*\)'$/\1/"
}

# Only a database this script created (local, role and database "photochanger") is managed here.
local_managed_url() {
  [[ "$1" =~ ^postgres(ql)?://$DB_ROLE:([A-Za-z0-9]+)@(127\.0\.0\.1|localhost)(:[0-9]+)?/$DB_NAME$ ]]
}

as_postgres() { (cd / && runuser -u postgres -- "$@"); }

run_binary() { run_binary_at "$BIN_PATH" "$@"; }

run_binary_at() {
  # Runs a binary with the service's environment (as the service user on a real box).
  local exe="$1"
  shift
  local envs=()
  while IFS= read -r line; do
    [[ "$line" =~ ^[[:space:]]*# || ! "$line" =~ = ]] && continue
    local key="${line%%=*}" value="${line#*=}"
    value="${value#\"}" value="${value%\"}"
    envs+=("$key=$value")
  done <"$ENV_FILE"
  envs+=("PHOTOCHANGER_DATA_DIR=$DATA_DIR" "LOG_LEVEL=warn")
  if [ -n "$ROOT" ]; then
    env -i PATH="$PATH" HOME="${HOME:-/}" "${envs[@]}" "$exe" "$@"
  else
    (cd "$DATA_DIR" && runuser -u "$SERVICE_USER" -- env -i PATH=/usr/bin:/bin "${envs[@]}" "$exe" "$@")
  fi
}

# Whether the database in the env file can be reached from here (see db_ready below).
database_reachable() {
  local url
  url="$(env_value DATABASE_URL)"
  [ -n "$url" ] || return 1
  if [ -n "$ROOT" ] && local_managed_url "$url" && [ "$url" != "$GIVEN_DATABASE_URL" ]; then return 1; fi
  return 0
}

newest_backup() { # newest_backup DIR → the newest archive in DIR, or nothing
  { ls -1 "$1"/photochanger-backup-*.tar.gz 2>/dev/null || true; } | sort | tail -n 1
}

# ---------------------------------------------------------------------------------------------
uninstall() {
  local url
  url="$(env_value DATABASE_URL)"
  if systemd_running; then
    systemctl disable --now "$SERVICE" 2>/dev/null || true
  elif [ -z "$ROOT" ] && pgrep -x photochanger >/dev/null 2>&1; then
    say "systemd is not running: stop the running photochanger yourself"
  fi
  systemd_running && { systemctl disable --now "$SERVICE-backup.timer" 2>/dev/null || true; }
  rm -f "$UNIT_FILE" "$BACKUP_UNIT_FILE" "$TIMER_FILE" "$BIN_PATH" "$BIN_PATH.previous"
  systemd_running && systemctl daemon-reload
  say "removed the service, the backup timer and $BIN_TARGET"
  if [ "$PURGE" = 1 ]; then
    if [ -z "$ROOT" ] && [ -n "$url" ] && local_managed_url "$url" && command -v psql >/dev/null 2>&1; then
      as_postgres psql -q -c "drop database if exists $DB_NAME with (force)" -c "drop role if exists $DB_ROLE" \
        && say "dropped database and role $DB_NAME"
    fi
    rm -rf "$DATA_DIR" "$ETC_DIR" "$BACKUP_DIR"
    if [ -z "$ROOT" ] && id -u "$SERVICE_USER" >/dev/null 2>&1; then userdel "$SERVICE_USER" || true; fi
    say "purged $DATA_TARGET, $ETC_TARGET, $BACKUP_TARGET and the $SERVICE_USER user"
  else
    say "kept $DATA_TARGET (media), $ENV_TARGET (secrets), $BACKUP_TARGET and the database; --uninstall --purge deletes them"
  fi
}

# ---------------------------------------------------------------------------------------------
rollback() {
  [ -f "$BIN_PATH.previous" ] || die "there is no previous binary ($BIN_TARGET.previous): nothing to roll back to"
  [ -f "$ENV_FILE" ] || die "$ENV_TARGET is missing: PhotoChanger is not installed here"
  local current previous check rc backup
  current="$("$BIN_PATH" version 2>/dev/null || echo "an unknown version")"
  previous="$("$BIN_PATH.previous" version 2>&1)" || die "$BIN_TARGET.previous does not run on this machine: $previous"
  say "rolling back from $current to $previous"
  backup="$(newest_backup "$BACKUP_DIR/pre-upgrade")"
  # Can the previous version work with the database as the newer one left it?
  if database_reachable; then
    rc=0
    check="$(run_binary_at "$BIN_PATH.previous" migrate --check 2>&1)" || rc=$?
    case "$rc" in
      0 | 3) say "the database's schema is one $previous knows" ;;
      4)
        echo "install.sh: $check" >&2
        echo "install.sh: $current migrated the database beyond what $previous knows; it may refuse to start or misbehave." >&2
        if [ -n "$backup" ]; then
          echo "install.sh: the backup taken before that upgrade is ${backup#"$ROOT"}; to go back to the data as it was then:" >&2
          echo "    systemctl stop $SERVICE" >&2
          echo "    (empty the database: e.g. sudo -u postgres dropdb $DB_NAME && sudo -u postgres createdb -O $DB_ROLE $DB_NAME)" >&2
          echo "    PHOTOCHANGER_ENV_FILE=$ENV_TARGET $BIN_TARGET restore ${backup#"$ROOT"}" >&2
          echo "    systemctl start $SERVICE" >&2
        else
          echo "install.sh: no pre-upgrade backup was found in $BACKUP_TARGET/pre-upgrade" >&2
        fi
        ;;
      2) say "$previous cannot check the schema (it has no \`migrate --check\`); if it does not start, restore ${backup:-the pre-upgrade backup}" ;;
      *) echo "install.sh: could not check the database's schema: $check" >&2 ;;
    esac
  fi
  local tmp_bin tmp_prev
  tmp_bin="$(mktemp "$(dirname "$BIN_PATH")/.photochanger.XXXXXX")"
  tmp_prev="$(mktemp "$(dirname "$BIN_PATH")/.photochanger.XXXXXX")"
  cp "$BIN_PATH.previous" "$tmp_bin"
  cp "$BIN_PATH" "$tmp_prev"
  chmod 0755 "$tmp_bin" "$tmp_prev"
  mv -f "$tmp_bin" "$BIN_PATH"
  # The newer binary becomes the previous one: a second --rollback goes forward again.
  mv -f "$tmp_prev" "$BIN_PATH.previous"
  if systemd_running; then
    systemctl restart "$SERVICE"
    say "restarted $SERVICE"
  fi
  say "rolled back to $previous (the binary it replaced is now $BIN_TARGET.previous)"
}

if [ "$ACTION" = uninstall ]; then
  uninstall
  exit 0
fi
if [ "$ACTION" = rollback ]; then
  rollback
  exit 0
fi

# ---------------------------------------------------------------------------------------------
# 1. The binary to install.
script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ -z "$BINARY" ]; then
  for candidate in "$script_dir/dist/photochanger" "$script_dir/photochanger" "./photochanger"; do
    [ -f "$candidate" ] && BINARY="$candidate" && break
  done
fi
[ -n "$BINARY" ] || die "no binary found: build one with \`bun run build\` or pass --binary PATH"
{ [ -f "$BINARY" ] && [ -x "$BINARY" ]; } || die "$BINARY is not an executable file"
# The checksum `bun run build` writes beside the binary: a damaged download or copy is refused.
if [ -f "$BINARY.sha256" ]; then
  expected="$(awk 'NR == 1 { print $1 }' "$BINARY.sha256")"
  actual="$(sha256sum "$BINARY" | awk '{ print $1 }')"
  [[ "$expected" =~ ^[0-9a-f]{64}$ ]] || die "$BINARY.sha256 holds no SHA-256 checksum; refusing to install"
  if [ "$expected" != "$actual" ]; then
    die "refusing to install $BINARY: its SHA-256 is $actual, but $BINARY.sha256 says $expected (the file is damaged or not the one that was built; copy it again)"
  fi
  say "checked $(basename "$BINARY") against $(basename "$BINARY").sha256"
else
  say "no $(basename "$BINARY").sha256 beside the binary: its checksum is not verified"
fi
new_version="$("$BINARY" version 2>&1)" || die "$BINARY does not run on this machine: $new_version (a CPU without AVX2 needs dist/photochanger-baseline)"

upgrade=0
[ -f "$ENV_FILE" ] && upgrade=1
if [ "$upgrade" = 1 ]; then
  say "upgrading to $new_version (data, database and secrets are kept)"
else
  say "installing $new_version"
fi

# 2. PostgreSQL (a local one, unless a database URL is given or the env file names another).
existing_url="$(env_value DATABASE_URL)"
database_url="${existing_url:-$GIVEN_DATABASE_URL}"
manage_db=0
if [ -z "$ROOT" ] && { [ -z "$database_url" ] || local_managed_url "$database_url"; }; then manage_db=1; fi
# Whether a database will answer at the URL. Under --root the installer creates no role and no
# database, so only a URL the operator supplied can be migrated: not an empty one, and not the one
# an earlier --root run generated in the env file (it names a role nobody created), unless the
# operator passes that very URL again.
db_ready=1
if [ -n "$ROOT" ]; then
  if [ -z "$database_url" ]; then
    db_ready=0
  elif local_managed_url "$database_url" && [ "$database_url" != "$GIVEN_DATABASE_URL" ]; then
    db_ready=0
  fi
fi

if [ "$manage_db" = 1 ]; then
  if ! command -v pg_lsclusters >/dev/null 2>&1 || [ -z "$(pg_lsclusters -h 2>/dev/null)" ]; then
    say "installing PostgreSQL from apt"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq postgresql >/dev/null
  fi
  if systemd_running; then
    systemctl enable --now postgresql >/dev/null 2>&1 || true
  fi
  while read -r ver cluster _port status _rest; do
    [ "$status" = online ] || pg_ctlcluster "$ver" "$cluster" start
  done < <(pg_lsclusters -h)
  pg_port="$(pg_lsclusters -h | awk '$4 == "online" { print $3; exit }')"
  [ -n "$pg_port" ] || die "no PostgreSQL cluster is running (see pg_lsclusters)"
fi
# pg_dump and pg_restore for `photochanger backup`/`restore` (the backup timer, the pre-upgrade
# backup). A remote server newer than the distribution's client needs postgresql-client-<major>.
if [ -z "$ROOT" ] && ! command -v pg_dump >/dev/null 2>&1; then
  say "installing postgresql-client from apt (pg_dump, for backups)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql-client >/dev/null || say "postgresql-client could not be installed: backups will say what is missing"
fi

# 3. System user.
if [ -z "$ROOT" ] && ! id -u "$SERVICE_USER" >/dev/null 2>&1; then
  say "creating system user $SERVICE_USER"
  useradd --system --user-group --home-dir "$DATA_TARGET" --no-create-home --shell /usr/sbin/nologin "$SERVICE_USER"
fi

# 4. The env file: written once, then kept (it holds the database password).
if [ "$upgrade" = 0 ]; then
  if [ -z "$database_url" ]; then
    database_url="postgres://$DB_ROLE:$(random_secret)@127.0.0.1:${pg_port:-5432}/$DB_NAME"
  fi
  mkdir -p "$ETC_DIR"
  chmod 0755 "$ETC_DIR"
  tmp_env="$(mktemp "$ETC_DIR/.photochanger.env.XXXXXX")"
  chmod 0600 "$tmp_env"
  cat >"$tmp_env" <<EOF
# PhotoChanger service environment (read by systemd: EnvironmentFile=). Mode 0600: it holds the
# database password. Edit, then: systemctl restart $SERVICE
DATABASE_URL=$database_url
PHOTOCHANGER_DATA_DIR=$DATA_TARGET
HOST=0.0.0.0
PORT=${PORT:-$DEFAULT_PORT}
LOG_LEVEL=info
WORKER_COUNT=4
# The address the box is reached at from outside (needed by Turbotext, shown in ingest URLs):
#PUBLIC_BASE_URL=http://photobooth.example:${PORT:-$DEFAULT_PORT}
# Provider keys can also be set in the web UI (Settings → Provider keys):
#GEMINI_API_KEY=
#TURBOTEXT_API_KEY=
#OPENAI_API_KEY=
EOF
  mv -f "$tmp_env" "$ENV_FILE"
  say "wrote $ENV_TARGET (0600)"
else
  [ -n "$PORT" ] && [ "$PORT" != "$(env_value PORT)" ] && say "keeping PORT=$(env_value PORT) from $ENV_TARGET (edit it to change)"
  [ -n "$GIVEN_DATABASE_URL" ] && [ "$GIVEN_DATABASE_URL" != "$existing_url" ] \
    && say "keeping DATABASE_URL from $ENV_TARGET (edit it to change)"
fi
chmod 0600 "$ENV_FILE"
[ -z "$ROOT" ] && chown root:root "$ENV_FILE"
port="$(env_value PORT)"

# 5. Role and database (password from the env file, so the two always agree).
if [ "$manage_db" = 1 ]; then
  if [[ "$database_url" =~ ://$DB_ROLE:([A-Za-z0-9]+)@ ]]; then
    db_password="${BASH_REMATCH[1]}"
  else
    die "cannot read the database password from $ENV_TARGET"
  fi
  as_postgres psql -q -v ON_ERROR_STOP=1 <<EOF
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$DB_ROLE') THEN
    CREATE ROLE $DB_ROLE LOGIN PASSWORD '$db_password';
  ELSE
    ALTER ROLE $DB_ROLE LOGIN PASSWORD '$db_password';
  END IF;
END \$\$;
EOF
  if [ -z "$(as_postgres psql -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'")" ]; then
    as_postgres createdb --owner "$DB_ROLE" "$DB_NAME"
    say "created database $DB_NAME"
  fi
fi

# 6. Data dir, and the backups' dir (the archives hold the master key: the service user's alone).
mkdir -p "$DATA_DIR"
chmod 0750 "$DATA_DIR"
[ -z "$ROOT" ] && chown -R "$SERVICE_USER:$SERVICE_USER" "$DATA_DIR"
mkdir -p "$BACKUP_DIR/pre-upgrade"
chmod 0700 "$BACKUP_DIR" "$BACKUP_DIR/pre-upgrade"
[ -z "$ROOT" ] && chown "$SERVICE_USER:$SERVICE_USER" "$BACKUP_DIR" "$BACKUP_DIR/pre-upgrade"

# 7. The binary, replaced atomically (a running service keeps its old inode until restarted). On an
#    upgrade the new binary first takes a backup (it dumps without migrating), so --rollback has
#    the data as the previous version left it; a failed backup stops the upgrade before anything
#    changed. The binary it replaces is kept as photochanger.previous for --rollback (when they
#    differ: re-running the same version keeps the version before it).
mkdir -p "$(dirname "$BIN_PATH")"
tmp_bin="$(mktemp "$(dirname "$BIN_PATH")/.photochanger.XXXXXX")"
cp "$BINARY" "$tmp_bin"
chmod 0755 "$tmp_bin"
if [ "$upgrade" = 1 ] && [ "$db_ready" = 1 ] && [ "$NO_BACKUP" = 0 ]; then
  say "taking a backup before the upgrade (in $BACKUP_TARGET/pre-upgrade)"
  if backup_out="$(run_binary_at "$tmp_bin" backup --to "$BACKUP_DIR/pre-upgrade" --keep "$PRE_UPGRADE_KEPT" 2>&1)"; then
    say "backup: ${backup_out##*$'\n'}"
  elif [[ "$backup_out" == *"no PhotoChanger schema"* ]]; then
    say "nothing to back up yet (the database has no schema)"
  else
    rm -f "$tmp_bin"
    die "the pre-upgrade backup failed, so nothing was changed: ${backup_out##*$'\n'} (fix that, or run again with --no-backup to upgrade without a backup)"
  fi
fi
if [ -f "$BIN_PATH" ] && ! cmp -s "$BINARY" "$BIN_PATH"; then
  tmp_prev="$(mktemp "$(dirname "$BIN_PATH")/.photochanger.XXXXXX")"
  cp "$BIN_PATH" "$tmp_prev"
  chmod 0755 "$tmp_prev"
  mv -f "$tmp_prev" "$BIN_PATH.previous"
  say "kept the replaced binary ($("$BIN_PATH.previous" version 2>/dev/null || echo "unknown version")) as $BIN_TARGET.previous"
fi
mv -f "$tmp_bin" "$BIN_PATH"
say "installed $BIN_TARGET"

# 8. The systemd unit (rewritten on every run, so upgrades get its changes). `systemd-analyze
#    security` scores it as README says. A local database: the unit pulls PostgreSQL in and starts
#    after it. A port below 1024 (native HTTPS on 443): the one capability that binds it.
db_host="$(env_value DATABASE_URL | sed -E -n 's#^postgres(ql)?://([^@/]*@)?(\[[^]]*\]|[^:/?]*).*#\3#p')"
pg_unit_lines="After=network-online.target"
case "$db_host" in
  "" | 127.* | localhost | "[::1]") pg_unit_lines="Wants=postgresql.service
After=network-online.target postgresql.service" ;;
esac
if [ "$port" -lt 1024 ]; then
  cap_lines="# Port $port is below 1024: the one capability that binds it, nothing else.
AmbientCapabilities=CAP_NET_BIND_SERVICE
CapabilityBoundingSet=CAP_NET_BIND_SERVICE"
else
  cap_lines="CapabilityBoundingSet=
AmbientCapabilities="
fi
# The confinement both units share (the service and the daily backup); $1: the paths it may write.
confinement() {
  cat <<EOF
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
ReadWritePaths=$1
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
ProtectProc=invisible
ProcSubset=pid
RemoveIPC=yes
RestrictSUIDSGID=yes
RestrictNamespaces=yes
RestrictRealtime=yes
LockPersonality=yes
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
SystemCallArchitectures=native
# What a service needs; anything else fails with EPERM instead of killing the process. (Not set,
# though they score: PrivateUsers — a TLS key readable through a supplementary group would become
# unreadable —, PrivateNetwork and IP allow lists — booths and providers are on the network.)
SystemCallFilter=@system-service
SystemCallErrorNumber=EPERM
EOF
}
mkdir -p "$(dirname "$UNIT_FILE")"
cat >"$UNIT_FILE" <<EOF
[Unit]
Description=PhotoChanger: AI photo processing for photo booths
Wants=network-online.target
$pg_unit_lines

[Service]
Type=simple
User=$SERVICE_USER
Group=$SERVICE_USER
EnvironmentFile=$ENV_TARGET
WorkingDirectory=$DATA_TARGET
ExecStart=$BIN_TARGET serve
Restart=on-failure
RestartSec=5
# A stop drains first: held booth requests get their answer (T_sync ≤ 60 s), then workers stop.
KillSignal=SIGTERM
TimeoutStopSec=$STOP_TIMEOUT_S
UMask=0077
LimitNOFILE=65536
# The benchmark's peak is about 900 MB: pressure above 1.5 GB, a hard stop at 2 GB.
MemoryHigh=1536M
MemoryMax=2G
TasksMax=512

# Hardening. No MemoryDenyWriteExecute: Bun's JavaScript JIT (JavaScriptCore) needs writable and
# executable memory, and the service would crash at its first compiled function.
$cap_lines
$(confinement "$DATA_TARGET")

[Install]
WantedBy=multi-user.target
EOF
chmod 0644 "$UNIT_FILE"
say "wrote $UNIT_TARGET"

# The daily backup: a oneshot service as the service user and its timer (a box switched off at
# night takes the missed backup at its next start). --keep deletes all but the newest archives.
cat >"$BACKUP_UNIT_FILE" <<EOF
[Unit]
Description=PhotoChanger: daily backup (database, media, master key; keeps $BACKUPS_KEPT)
Wants=network-online.target
$pg_unit_lines

[Service]
Type=oneshot
User=$SERVICE_USER
Group=$SERVICE_USER
EnvironmentFile=$ENV_TARGET
WorkingDirectory=$DATA_TARGET
ExecStart=$BIN_TARGET backup --to $BACKUP_TARGET --keep $BACKUPS_KEPT
Nice=10
IOSchedulingClass=idle
UMask=0077
CapabilityBoundingSet=
$(confinement "$DATA_TARGET $BACKUP_TARGET")
EOF
cat >"$TIMER_FILE" <<EOF
[Unit]
Description=PhotoChanger: daily backup

[Timer]
OnCalendar=*-*-* 03:30:00
RandomizedDelaySec=30min
Persistent=true

[Install]
WantedBy=timers.target
EOF
chmod 0644 "$BACKUP_UNIT_FILE" "$TIMER_FILE"
say "wrote $TIMER_TARGET (daily backup to $BACKUP_TARGET, $BACKUPS_KEPT kept)"

# 9. Migrations (and, on a new database, the admins and the ingest password: printed once here and
#    written to $DATA_TARGET/initial-credentials.txt, 0600; never to the service log).
if [ "$db_ready" = 0 ]; then
  say "no database to reach under --root: migrations run when the service first starts"
else
  say "running migrations"
  run_binary migrate || die "migrations failed (see the message above); the previous version keeps running"
fi

# 10. Start (or restart, for an upgrade).
if systemd_running; then
  systemctl daemon-reload
  systemctl enable "$SERVICE" >/dev/null 2>&1
  systemctl enable --now "$SERVICE-backup.timer" >/dev/null 2>&1 || say "the backup timer could not be enabled"
  systemctl restart "$SERVICE"
  for _ in $(seq 1 30); do
    curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null && break
    sleep 1
  done
  if curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null; then
    say "service $SERVICE is running"
  else
    echo "install.sh: the service did not answer on port $port; see: journalctl -u $SERVICE -e" >&2
    exit 1
  fi
elif [ -z "$ROOT" ]; then
  say "systemd is not running here: start the server with"
  echo "    sudo -u $SERVICE_USER env \$(grep -v '^#' $ENV_TARGET | xargs) $BIN_TARGET serve"
fi

# 11. Where to point the booth.
if [ -n "$ROOT" ]; then
  address="<this box>"
else
  address="$(hostname -I 2>/dev/null | awk '{ print $1 }')"
  [ -n "$address" ] || address="$(hostname)"
fi
echo
echo "PhotoChanger ${new_version#photochanger } is installed."
echo "  Admin UI:    http://$address:$port/"
echo "  Ingest URL:  http://$address:$port/ingest/slot-001   (slot-001 … slot-015)"
echo "  DSLR Remote Pro: Postprocess photos → Web based (HTTP POST), that URL, the ingest"
echo "  password in the \"password\" field, timeout above T_sync (e.g. 60 s)."
if [ -f "$DATA_DIR/initial-credentials.txt" ]; then
  echo "  First-start passwords (shown above by the migration, never in the service log) are also in"
  echo "  $DATA_TARGET/initial-credentials.txt (mode 0600): store them, then delete that file."
fi
if [ "$upgrade" = 1 ]; then
  echo "  Passwords are unchanged. Reset them with: photochanger admin set-password <serg|igor>,"
  echo "  photochanger rotate-password (as root, with the env file: see README)."
fi
