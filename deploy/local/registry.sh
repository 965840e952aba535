# Sourced by infra.sh: the schema registry (Apicurio Registry 3.3.3, from Maven Central), serving
# the Confluent-compatible API at SCHEMA_REGISTRY_URL, its storage in a PostgreSQL database of its
# own (so a restart keeps every schema id). It needs Java 21 or newer: JAVA21_HOME, else the first
# JDK under /usr/lib/jvm that is new enough, else `java` when that is. `up` starts it only when it
# is wanted (registry_wanted); `registry-up` always.

REGISTRY_VERSION=3.3.3
REGISTRY_DIR="$STATE/registry"
REGISTRY_APP="${REGISTRY_APP:-$REGISTRY_DIR/app-$REGISTRY_VERSION}"
REGISTRY_START_TIMEOUT_S="${REGISTRY_START_TIMEOUT_S:-90}"
REGISTRY_HEAP_OPTS="${REGISTRY_HEAP_OPTS:--Xms128m -Xmx384m}"

REGISTRY_URL="${SCHEMA_REGISTRY_URL:-http://127.0.0.1:18081/apis/ccompat/v7}"
REGISTRY_URL="${REGISTRY_URL%/}"

# Where to start one (only a local http URL of the ccompat API): → REGISTRY_HOST REGISTRY_PORT
parse_registry_url() {
  local re='^http://(127\.0\.0\.1|localhost):([0-9]+)/apis/ccompat/v7$'
  [[ $REGISTRY_URL =~ $re ]] ||
    die "registry at $REGISTRY_URL does not answer, and infra.sh starts one only at http://127.0.0.1:<port>/apis/ccompat/v7 (SCHEMA_REGISTRY_URL)"
  REGISTRY_HOST=${BASH_REMATCH[1]}
  REGISTRY_PORT=${BASH_REMATCH[2]}
}

# Whether `up` starts the registry: asked for (SCHEMA_REGISTRY=1, as `bun run test` does), or a
# FORMAT that needs it; JSON alone needs no registry, and no Java 21.
registry_wanted() {
  [[ ${SCHEMA_REGISTRY:-} == 1 ]] || [[ -n ${FORMAT:-} && ${FORMAT:-} != json ]]
}

java_major() { # java binary -> its major version, or 0
  "$1" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1 | grep . || echo 0
}

find_java21() {
  local candidates=() c
  [[ -n ${JAVA21_HOME:-} ]] && candidates+=("$JAVA21_HOME/bin/java")
  for c in /usr/lib/jvm/*/bin/java; do candidates+=("$c"); done
  command -v java >/dev/null && candidates+=("$(command -v java)")
  for c in "${candidates[@]}"; do
    [[ -x $c ]] && (($(java_major "$c") >= 21)) && { echo "$c"; return; }
  done
  die "registry: Apicurio Registry $REGISTRY_VERSION needs Java 21 or newer and none was found (set JAVA21_HOME; looked in /usr/lib/jvm and PATH)"
}

ensure_registry_app() {
  [[ -f $REGISTRY_APP/quarkus-run.jar ]] && return
  command -v mvn >/dev/null || die "mvn not found: needed once to fetch the schema registry"
  mkdir -p "$REGISTRY_DIR" "$(dirname "$REGISTRY_APP")"
  # one install at a time per app dir (private registries of tests share it); fd 8, closed after
  exec 8>"$REGISTRY_APP.lock"
  flock -w 600 8 || die "registry: another install holds $REGISTRY_APP.lock"
  if [[ -f $REGISTRY_APP/quarkus-run.jar ]]; then
    exec 8>&-
    return
  fi
  log "registry: resolving Apicurio Registry $REGISTRY_VERSION from Maven Central (once)"
  local tmp="$REGISTRY_APP.download.$$"
  rm -rf "$tmp"
  local mvn_args=(-B -q -Dstyle.color=never org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy
    -Dartifact="io.apicurio:apicurio-registry-app:$REGISTRY_VERSION:tar.gz:all" -DoutputDirectory="$tmp")
  [[ -n ${MAVEN_REPO_LOCAL:-} ]] && mvn_args+=(-Dmaven.repo.local="$MAVEN_REPO_LOCAL")
  if ! (cd "$REGISTRY_DIR" && mvn "${mvn_args[@]}" >"$REGISTRY_DIR/mvn.log" 2>&1 9>&-); then
    tail -n 20 "$REGISTRY_DIR/mvn.log" >&2
    rm -rf "$tmp"
    die "registry: mvn could not resolve io.apicurio:apicurio-registry-app:$REGISTRY_VERSION (output in $REGISTRY_DIR/mvn.log)"
  fi
  mkdir -p "$tmp/app"
  tar -xzf "$tmp"/apicurio-registry-app-*.tar.gz -C "$tmp/app" || die "registry: could not unpack the registry"
  rm -rf "$REGISTRY_APP"
  mv "$tmp/app" "$REGISTRY_APP"
  rm -rf "$tmp"
  exec 8>&-
}

registry_pid() { live_pid "$REGISTRY_DIR/pid" "quarkus-run.jar"; }

registry_ready() {
  [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$REGISTRY_URL/subjects" 2>/dev/null) == 200 ]]
}

registry_up() {
  if registry_ready; then
    log "registry: using the one answering at $REGISTRY_URL"
    return
  fi
  parse_registry_url
  parse_database_url
  local start
  start=$(now_ms)
  if registry_pid >/dev/null; then
    log "registry: ours is running but not answering yet; waiting for it"
  else
    start_registry
  fi
  local deadline=$((SECONDS + REGISTRY_START_TIMEOUT_S))
  until registry_ready; do
    if ! registry_pid >/dev/null; then
      tail -n 15 "$REGISTRY_DIR/registry.log" >&2
      die "registry: exited while starting (log: $REGISTRY_DIR/registry.log)"
    fi
    if ((SECONDS >= deadline)); then
      registry_down KILL >/dev/null # never leave a JVM behind that the next `up` would not know
      die "registry: not answering at $REGISTRY_URL within ${REGISTRY_START_TIMEOUT_S}s, stopped (log: $REGISTRY_DIR/registry.log)"
    fi
    sleep 0.5
  done
  log "registry: ready in $(elapsed_s "$start")s at $REGISTRY_URL"
}

start_registry() {
  local java
  java=$(find_java21)
  ensure_registry_app
  local db="${REGISTRY_DB:-${PG_DB}_registry}"
  PGPASSWORD="$PG_PASS" createdb -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" "$db" 2>/dev/null || true
  log "registry: starting Apicurio Registry $REGISTRY_VERSION on $REGISTRY_HOST:$REGISTRY_PORT (storage: database $db, $(basename "$(dirname "$(dirname "$java")")"))"
  mkdir -p "$REGISTRY_DIR"
  [[ -f $REGISTRY_DIR/registry.log ]] && mv "$REGISTRY_DIR/registry.log" "$REGISTRY_DIR/registry.log.prev"
  rm -f "$REGISTRY_DIR/pid"
  # as the brokers: own session, and the pid file names the JVM (bash writes its pid, then execs java)
  # shellcheck disable=SC2086
  (
    cd "$REGISTRY_APP"
    APICURIO_STORAGE_KIND=sql APICURIO_STORAGE_SQL_KIND=postgresql \
      APICURIO_DATASOURCE_URL="jdbc:postgresql://$PG_HOST:$PG_PORT/$db" \
      APICURIO_DATASOURCE_USERNAME="$PG_USER" APICURIO_DATASOURCE_PASSWORD="$PG_PASS" \
      QUARKUS_HTTP_HOST="$REGISTRY_HOST" QUARKUS_HTTP_PORT="$REGISTRY_PORT" \
      QUARKUS_MANAGEMENT_HOST=127.0.0.1 QUARKUS_MANAGEMENT_PORT=$((REGISTRY_PORT + 1)) \
      setsid nohup bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$REGISTRY_DIR/pid" \
      "$java" $REGISTRY_HEAP_OPTS -XX:+UseSerialGC -jar quarkus-run.jar \
      >"$REGISTRY_DIR/registry.log" 2>&1 </dev/null 9>&- &
  )
  await_pid_file "$REGISTRY_DIR/pid" "registry: did not start (see $REGISTRY_DIR/registry.log)"
}

# signal: TERM (default) or KILL
registry_down() {
  local signal=${1:-TERM} pid
  pid=$(registry_pid) || { log "registry: not running (nothing of ours to stop)"; return; }
  stop_process registry "$pid" "$REGISTRY_DIR/pid" "$signal"
}

registry_status() {
  if registry_ready; then echo "registry   up    $REGISTRY_URL"; else echo "registry   down  $REGISTRY_URL"; fi
}
