#!/usr/bin/env bash
# Local infrastructure without Docker: PostgreSQL and Redis (reuse the system ones when they answer)
# and a 3-node Apache Kafka 3.9.1 KRaft cluster run straight from Maven Central jars.
#
#   infra.sh up | down | status | kafka-classpath
#   infra.sh kafka-up | kafka-down | node-start N | node-stop N | node-kill N
#   infra.sh registry-up | registry-down | registry-kill   (the schema registry, deploy/local/registry.sh)
#   infra.sh connect-up | connect-down | connect-kill      (Kafka Connect with Debezium, deploy/local/connect.sh)
#   infra.sh flink-classpath                               (the Flink jobs of flink/, built when changed)
#
# State (jars, configs, data, logs, pids) lives in ${SHOPSTREAM_HOME:-<repo>/.local}. A second,
# private cluster (fault tests kill its brokers) runs beside the first with its own
# SHOPSTREAM_HOME, KAFKA_CLIENT_PORT_BASE and KAFKA_CONTROLLER_PORT_BASE, sharing KAFKA_LIBS.
# See deploy/local/README.md for the why behind the numbers.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$SCRIPT_DIR/../.." && pwd)"
STATE="${SHOPSTREAM_HOME:-$REPO/.local}"
POM="$SCRIPT_DIR/pom.xml"
KAFKA_DIR="$STATE/kafka"
LIBS="${KAFKA_LIBS:-$KAFKA_DIR/libs}"
REDIS_DIR="$STATE/redis"

KAFKA_VERSION=3.9.1
NODES=(1 2 3)
KAFKA_START_TIMEOUT_S="${KAFKA_START_TIMEOUT_S:-120}"
KAFKA_STOP_TIMEOUT_S="${KAFKA_STOP_TIMEOUT_S:-60}"
PG_START_TIMEOUT_S="${PG_START_TIMEOUT_S:-30}"
# Three JVMs share two cores here; the distribution's 1 GB default per broker is more than a
# dev cluster needs. Override either variable to tune.
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx768m}"
KAFKA_JVM_OPTS="${KAFKA_JVM_OPTS:--XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true}"

LOG_FD=1 # kafka-classpath switches progress to stderr so stdout is only the classpath

log() { echo "[infra] $*" >&"$LOG_FD"; }
die() { echo "[infra] error: $*" >&2; exit 1; }

CLIENT_PORT_BASE="${KAFKA_CLIENT_PORT_BASE:-19091}"
CONTROLLER_PORT_BASE="${KAFKA_CONTROLLER_PORT_BASE:-29092}"
client_port() { echo $((CLIENT_PORT_BASE + $1)); }         # 19092 19093 19094 by default
controller_port() { echo $((CONTROLLER_PORT_BASE + $1)); } # 29093 29094 29095 by default
quorum_voters() {
  local n out=()
  for n in "${NODES[@]}"; do out+=("$n@127.0.0.1:$(controller_port "$n")"); done
  local IFS=,
  echo "${out[*]}"
}
node_dir() { echo "$KAFKA_DIR/n$1"; }

# True when something accepts TCP on host:port (bash /dev/tcp; nc is not installed everywhere).
port_open() {
  timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null
}

now_ms() { date +%s%3N; }
elapsed_s() { # start_ms -> "N.N"
  local ms=$(($(now_ms) - $1))
  printf '%d.%d' $((ms / 1000)) $((ms % 1000 / 100))
}

# Waits (5 s at most) until a JVM started in the background has written its pid file; dies with $2.
await_pid_file() {
  local deadline=$((SECONDS + 5))
  until [[ -s $1 ]]; do
    ((SECONDS < deadline)) || die "$2"
    sleep 0.05
  done
}

# Stops a JVM of ours (its pid, its pid file) with a signal (TERM or KILL), KILL after 30 s; says so as `name`.
stop_process() {
  local name=$1 pid=$2 pid_file=$3 signal=$4
  kill "-$signal" "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + 30))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  rm -f "$pid_file"
  log "$name: stopped (pid $pid, $signal)"
}

# pid from a pid file when that process is alive and its command line contains $2
# (guards against a stale pid file whose number was reused by something else).
live_pid() {
  local file=$1 needle=$2 pid
  [[ -f $file ]] || return 1
  pid=$(<"$file")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$needle" || return 1
  echo "$pid"
}

# ---------------------------------------------------------------- PostgreSQL

# DATABASE_URL (docs/design.md, "Configuration") → PG_USER PG_PASS PG_HOST PG_PORT PG_DB
parse_database_url() {
  local url="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/shopstream}"
  local re='^postgres(ql)?://(([^:@/]+)(:([^@/]*))?@)?([^:/?]*)(:([0-9]+))?(/([^?]*))?'
  [[ $url =~ $re ]] || die "DATABASE_URL is not a postgres:// URL: $url"
  PG_USER="${BASH_REMATCH[3]:-postgres}"
  PG_PASS="${BASH_REMATCH[5]:-}"
  PG_HOST="${BASH_REMATCH[6]:-127.0.0.1}"
  PG_PORT="${BASH_REMATCH[8]:-5432}"
  PG_DB="${BASH_REMATCH[10]:-shopstream}"
  [[ -n $PG_DB ]] || PG_DB=shopstream
}

pg_ready() { pg_isready -q -h "$PG_HOST" -p "$PG_PORT" -t 2 >/dev/null 2>&1; }

postgres_up() {
  parse_database_url
  if pg_ready; then
    log "postgres: using the running server at $PG_HOST:$PG_PORT"
  else
    case $PG_HOST in
      127.0.0.1 | localhost | ::1) ;;
      *) die "postgres at $PG_HOST:$PG_PORT does not answer (remote host: not starting anything)" ;;
    esac
    if command -v pg_ctlcluster >/dev/null && [[ -d /etc/postgresql ]]; then
      local version
      for version in $(ls /etc/postgresql); do
        [[ -d /etc/postgresql/$version/main ]] || continue
        log "postgres: not answering, starting system cluster $version/main"
        pg_ctlcluster --skip-systemctl-redirect "$version" main start || log "postgres: pg_ctlcluster $version main start failed"
      done
    else
      die "postgres at $PG_HOST:$PG_PORT does not answer and there is no system cluster to start"
    fi
    local start deadline
    start=$(now_ms)
    deadline=$((SECONDS + PG_START_TIMEOUT_S))
    until pg_ready; do
      ((SECONDS < deadline)) || die "postgres did not answer within ${PG_START_TIMEOUT_S}s"
      sleep 0.5
    done
    log "postgres: ready in $(elapsed_s "$start")s"
  fi
  local exists
  exists=$(PGPASSWORD="$PG_PASS" psql -X -q -At -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres \
    -v ON_ERROR_STOP=1 -c "select 1 from pg_database where datname = '${PG_DB//\'/\'\'}'") ||
    die "postgres: cannot query pg_database as $PG_USER"
  if [[ $exists == 1 ]]; then
    log "postgres: database $PG_DB exists"
  else
    # a concurrent `up` may win the race; "already exists" is fine
    local out
    if out=$(PGPASSWORD="$PG_PASS" createdb -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" "$PG_DB" 2>&1); then
      log "postgres: created database $PG_DB"
    elif [[ $out == *"already exists"* ]]; then
      log "postgres: database $PG_DB exists"
    else
      die "postgres: createdb $PG_DB failed: $out"
    fi
  fi
}

postgres_status() {
  parse_database_url
  if pg_ready; then echo "postgres   up    $PG_HOST:$PG_PORT (db $PG_DB)"; else echo "postgres   down  $PG_HOST:$PG_PORT"; fi
}

# --------------------------------------------------------------------- Redis

parse_redis_url() {
  local url="${REDIS_URL:-redis://127.0.0.1:6379}"
  local re='^rediss?://([^@/]*@)?([^:/?]*)(:([0-9]+))?'
  [[ $url =~ $re ]] || die "REDIS_URL is not a redis:// URL: $url"
  REDIS_HOST="${BASH_REMATCH[2]:-127.0.0.1}"
  REDIS_PORT="${BASH_REMATCH[4]:-6379}"
}

redis_ready() { [[ $(redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null) == PONG ]]; }

redis_up() {
  parse_redis_url
  if redis_ready; then
    if live_pid "$REDIS_DIR/redis.pid" redis-server >/dev/null && [[ -f $REDIS_DIR/started-by-infra ]]; then
      log "redis: running (started by infra.sh) at $REDIS_HOST:$REDIS_PORT"
    else
      log "redis: using the running server at $REDIS_HOST:$REDIS_PORT"
    fi
    return
  fi
  case $REDIS_HOST in
    127.0.0.1 | localhost) ;;
    *) die "redis at $REDIS_HOST:$REDIS_PORT does not answer (remote host: not starting anything)" ;;
  esac
  command -v redis-server >/dev/null || die "redis does not answer and redis-server is not installed"
  mkdir -p "$REDIS_DIR"
  log "redis: not answering, starting redis-server on 127.0.0.1:$REDIS_PORT"
  # same memory policy as the compose file: the cache is disposable, so no persistence
  redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no \
    --maxmemory 256mb --maxmemory-policy allkeys-lru \
    --dir "$REDIS_DIR" --logfile "$REDIS_DIR/redis.log" --pidfile "$REDIS_DIR/redis.pid" 9>&-
  touch "$REDIS_DIR/started-by-infra"
  local deadline=$((SECONDS + 10))
  until redis_ready; do
    ((SECONDS < deadline)) || { tail -n 20 "$REDIS_DIR/redis.log" >&2 || true; die "redis did not answer within 10s"; }
    sleep 0.2
  done
  log "redis: ready"
}

redis_down() {
  [[ -f $REDIS_DIR/started-by-infra ]] || { log "redis: not started by infra.sh, leaving it alone"; return; }
  local pid
  if pid=$(live_pid "$REDIS_DIR/redis.pid" redis-server); then
    log "redis: stopping pid $pid"
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + 10))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  else
    log "redis: recorded server is not running"
  fi
  rm -f "$REDIS_DIR/started-by-infra" "$REDIS_DIR/redis.pid"
}

redis_status() {
  parse_redis_url
  local who="system"
  [[ -f $REDIS_DIR/started-by-infra ]] && who="started by infra.sh"
  if redis_ready; then echo "redis      up    $REDIS_HOST:$REDIS_PORT ($who)"; else echo "redis      down  $REDIS_HOST:$REDIS_PORT"; fi
}

# --------------------------------------------------------------------- Kafka

# Resolve the broker jars once; a marker keyed on the pom's hash makes later runs skip Maven.
ensure_jars() {
  local hash marker
  hash=$(sha256sum "$POM" | cut -c1-16)
  marker="$LIBS/.pom-$hash"
  [[ -f $marker ]] && return
  command -v mvn >/dev/null || die "mvn not found: needed once to fetch the Kafka jars"
  mkdir -p "$KAFKA_DIR"
  log "kafka: resolving Kafka $KAFKA_VERSION jars from Maven Central into $LIBS (once)"
  local start tmp="$KAFKA_DIR/libs.tmp.$$"
  start=$(now_ms)
  rm -rf "$tmp"
  local mvn_args=(-B -q -Dstyle.color=never -f "$POM"
    org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies
    -DoutputDirectory="$tmp" -DincludeScope=runtime)
  [[ -n ${MAVEN_REPO_LOCAL:-} ]] && mvn_args+=(-Dmaven.repo.local="$MAVEN_REPO_LOCAL")
  if ! mvn "${mvn_args[@]}" >"$KAFKA_DIR/mvn.log" 2>&1 9>&-; then
    tail -n 30 "$KAFKA_DIR/mvn.log" >&2
    rm -rf "$tmp"
    die "kafka: mvn could not resolve the jars (full output in $KAFKA_DIR/mvn.log)"
  fi
  ls "$tmp"/kafka_2.13-*.jar >/dev/null 2>&1 || die "kafka: mvn finished but no kafka_2.13 jar in $tmp"
  # swap in whole so a failed resolve never leaves a half-filled libs dir (running JVMs keep
  # their open jars after the old directory is removed)
  rm -rf "$LIBS.old"
  [[ -d $LIBS ]] && mv "$LIBS" "$LIBS.old"
  mv "$tmp" "$LIBS"
  rm -rf "$LIBS.old"
  touch "$LIBS/.pom-$hash"
  log "kafka: $(find "$LIBS" -name '*.jar' | wc -l) jars resolved in $(elapsed_s "$start")s"
}

write_log4j() {
  # 3.9 still logs through log4j 1.x (reload4j). Everything goes to the node's server.log;
  # the console stays quiet so stdout.log only catches JVM-level failures.
  cat >"$KAFKA_DIR/log4j.properties" <<'EOF'
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.RollingFileAppender
log4j.appender.file.File=${kafka.logs.dir}/server.log
log4j.appender.file.MaxFileSize=20MB
log4j.appender.file.MaxBackupIndex=2
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.authorizer.logger=WARN
log4j.logger.org.apache.kafka.clients.NetworkClient=WARN
EOF
  # for one-shot tools (StorageTool, ProducerPerformance): warnings only, on stderr
  cat >"$KAFKA_DIR/tools-log4j.properties" <<'EOF'
log4j.rootLogger=WARN, stderr
log4j.appender.stderr=org.apache.log4j.ConsoleAppender
log4j.appender.stderr.Target=System.err
log4j.appender.stderr.layout=org.apache.log4j.PatternLayout
log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n
EOF
}

write_server_properties() {
  local n=$1 dir
  dir=$(node_dir "$n")
  mkdir -p "$dir/data"
  cat >"$dir/server.properties.tmp" <<EOF
# generated by deploy/local/infra.sh — edits are overwritten on the next \`up\`
process.roles=broker,controller
node.id=$n
controller.quorum.voters=$(quorum_voters)
listeners=PLAINTEXT://127.0.0.1:$(client_port "$n"),CONTROLLER://127.0.0.1:$(controller_port "$n")
advertised.listeners=PLAINTEXT://127.0.0.1:$(client_port "$n")
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$dir/data
num.partitions=3
default.replication.factor=3
min.insync.replicas=2
offsets.topic.replication.factor=3
transaction.state.log.replication.factor=3
transaction.state.log.min.isr=2
group.initial.rebalance.delay.ms=0
# a broker that stops heartbeating is fenced (its partitions re-led, its replicas out of the ISR)
# after 6 s instead of 9 s: the producers' and consumers' stall after a broker loss
broker.session.timeout.ms=6000
auto.create.topics.enable=false
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
log.retention.hours=168
log.segment.bytes=268435456
EOF
  mv "$dir/server.properties.tmp" "$dir/server.properties"
}

# Cluster id: generated once; if the id file was lost but a node is formatted, reuse the id
# written in its meta.properties (a mismatch would stop the broker at startup).
ensure_cluster_id() {
  local file="$KAFKA_DIR/cluster-id" id="" n meta
  if [[ -s $file ]]; then
    CLUSTER_ID=$(<"$file")
    return
  fi
  for n in "${NODES[@]}"; do
    meta="$(node_dir "$n")/data/meta.properties"
    if [[ -f $meta ]]; then
      id=$(sed -n 's/^cluster\.id=//p' "$meta")
      [[ -n $id ]] && break
    fi
  done
  if [[ -z $id ]]; then
    id=$(java -Dlog4j.configuration="file:$KAFKA_DIR/tools-log4j.properties" -cp "$LIBS/*" \
      kafka.tools.StorageTool random-uuid 9>&- | tail -n 1)
  fi
  [[ $id =~ ^[A-Za-z0-9_-]{22}$ ]] || die "kafka: could not get a cluster id (got '$id')"
  echo "$id" >"$file"
  CLUSTER_ID=$id
  log "kafka: cluster id $CLUSTER_ID"
}

format_nodes() {
  local n dir pids=() failed=0
  for n in "$@"; do
    dir=$(node_dir "$n")
    [[ -f $dir/data/meta.properties ]] && continue
    log "kafka: formatting n$n storage"
    java -Dlog4j.configuration="file:$KAFKA_DIR/tools-log4j.properties" -cp "$LIBS/*" \
      kafka.tools.StorageTool format -t "$CLUSTER_ID" -c "$dir/server.properties" -g \
      >"$dir/format.log" 2>&1 9>&- &
    pids+=("$!:$n")
  done
  local entry
  for entry in ${pids[@]+"${pids[@]}"}; do
    if ! wait "${entry%%:*}"; then
      n=${entry##*:}
      cat "$(node_dir "$n")/format.log" >&2
      failed=1
    fi
  done
  ((failed == 0)) || die "kafka: formatting storage failed"
}

node_pid() { live_pid "$(node_dir "$1")/pid" "$(node_dir "$1")/server.properties"; }

# Whether the process a start just launched still exists. Not node_pid: while bash execs java,
# /proc/<pid>/cmdline reads empty for a moment, and a busy machine catches that moment.
node_alive() {
  local file
  file="$(node_dir "$1")/pid"
  [[ -s $file ]] && kill -0 "$(<"$file")" 2>/dev/null
}

start_node() {
  local n=$1 dir
  dir=$(node_dir "$n")
  # a fresh server.log per start, so readiness is judged on this run's lines only
  [[ -f $dir/server.log ]] && mv -f "$dir/server.log" "$dir/server.log.prev"
  rm -f "$dir/pid"
  # setsid: own session, so the broker outlives the calling shell and its process group;
  # bash writes its own pid and then execs java, so the pid file names the JVM.
  # shellcheck disable=SC2086
  setsid nohup bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$dir/pid" \
    java $KAFKA_HEAP_OPTS $KAFKA_JVM_OPTS \
    -Dkafka.logs.dir="$dir" -Dlog4j.configuration="file:$KAFKA_DIR/log4j.properties" \
    -cp "$LIBS/*" kafka.Kafka "$dir/server.properties" \
    >"$dir/stdout.log" 2>&1 </dev/null 9>&- &
  await_pid_file "$dir/pid" "kafka: n$n did not start (see $dir/stdout.log)"
  log "kafka: started n$n (pid $(<"$dir/pid"), clients 127.0.0.1:$(client_port "$n"), controller 127.0.0.1:$(controller_port "$n"))"
}

all_kafka_ports_open() {
  local n
  for n in "${NODES[@]}"; do port_open 127.0.0.1 "$(client_port "$n")" || return 1; done
}

fail_node() {
  local n=$1 why=$2 dir
  dir=$(node_dir "$n")
  echo "[infra] kafka: n$n $why — last lines of $dir/server.log:" >&2
  tail -n 40 "$dir/server.log" >&2 2>/dev/null || true
  if [[ -s $dir/stdout.log ]]; then
    echo "[infra] kafka: n$n stdout/stderr ($dir/stdout.log):" >&2
    tail -n 20 "$dir/stdout.log" >&2
  fi
  echo "[infra] kafka: nodes that are still running were left up; \`$0 down\` stops them" >&2
  exit 1
}

kafka_up() {
  if all_kafka_ports_open; then
    local ours=0 n
    for n in "${NODES[@]}"; do node_pid "$n" >/dev/null && ours=$((ours + 1)); done
    log "kafka: 3 brokers already answer on 127.0.0.1:$(client_port 1)-$(client_port 3) ($ours of them started from $KAFKA_DIR); nothing to do"
    return
  fi
  command -v java >/dev/null || die "java not found (Kafka $KAFKA_VERSION needs Java 11+)"
  ensure_jars
  mkdir -p "$KAFKA_DIR"
  write_log4j
  local n to_start=()
  for n in "${NODES[@]}"; do
    if node_pid "$n" >/dev/null; then
      log "kafka: n$n already running (pid $(node_pid "$n"))"
      continue
    fi
    if port_open 127.0.0.1 "$(client_port "$n")" || port_open 127.0.0.1 "$(controller_port "$n")"; then
      die "kafka: port $(client_port "$n") or $(controller_port "$n") is taken by a process infra.sh did not start"
    fi
    write_server_properties "$n"
    to_start+=("$n")
  done
  if ((${#to_start[@]} > 0)); then
    ensure_cluster_id
    format_nodes "${to_start[@]}"
  fi
  local start
  start=$(now_ms)
  # all at once: each node waits for a 2-of-3 controller quorum, and a broker that cannot
  # register within initial.broker.registration.timeout.ms (60 s) shuts itself down
  for n in ${to_start[@]+"${to_start[@]}"}; do start_node "$n"; done

  local deadline=$((SECONDS + KAFKA_START_TIMEOUT_S)) pending=("${NODES[@]}") still dir
  while ((${#pending[@]} > 0)); do
    still=()
    for n in "${pending[@]}"; do
      dir=$(node_dir "$n")
      node_alive "$n" || port_open 127.0.0.1 "$(client_port "$n")" || fail_node "$n" "exited during startup"
      if grep -q 'Kafka Server started' "$dir/server.log" 2>/dev/null && port_open 127.0.0.1 "$(client_port "$n")"; then
        :
      elif [[ ! " ${to_start[*]-} " =~ " $n " ]] && port_open 127.0.0.1 "$(client_port "$n")"; then
        : # was already running before this `up`
      else
        still+=("$n")
      fi
    done
    pending=(${still[@]+"${still[@]}"})
    ((${#pending[@]} == 0)) && break
    ((SECONDS < deadline)) || fail_node "${pending[0]}" "not ready after ${KAFKA_START_TIMEOUT_S}s"
    sleep 0.25
  done
  log "kafka: 3 brokers ready in $(elapsed_s "$start")s"
}

kafka_down() {
  local n pid pids=()
  for n in "${NODES[@]}"; do
    if pid=$(node_pid "$n"); then
      pids+=("$pid")
      log "kafka: stopping n$n (pid $pid)"
    fi
  done
  if ((${#pids[@]} == 0)); then
    log "kafka: no broker started by infra.sh is running"
    rm -f "$KAFKA_DIR"/n*/pid
    return
  fi
  local start
  start=$(now_ms)
  # all three at once: each broker's controlled shutdown needs a controller quorum, and the
  # controllers in these combined nodes only stop after their broker half has
  kill -TERM "${pids[@]}" 2>/dev/null || true
  local deadline=$((SECONDS + KAFKA_STOP_TIMEOUT_S)) alive
  while :; do
    alive=()
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive+=("$pid"); done
    ((${#alive[@]} == 0)) && break
    if ((SECONDS >= deadline)); then
      log "kafka: still running after ${KAFKA_STOP_TIMEOUT_S}s, killing pid(s) ${alive[*]}"
      kill -KILL "${alive[@]}" 2>/dev/null || true
      break
    fi
    sleep 0.25
  done
  rm -f "$KAFKA_DIR"/n*/pid
  log "kafka: stopped in $(elapsed_s "$start")s"
}

# One node of a running cluster, for fault drills: stop (SIGTERM, controlled shutdown), kill
# (SIGKILL, as a crash) or start it again and wait until it serves.
node_stop() {
  local n=$1 sig=$2 pid
  pid=$(node_pid "$n") || { log "kafka: n$n is not running"; return; }
  kill "-$sig" "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + KAFKA_STOP_TIMEOUT_S))
  while kill -0 "$pid" 2>/dev/null; do
    ((SECONDS < deadline)) || { kill -KILL "$pid" 2>/dev/null || true; break; }
    sleep 0.1
  done
  rm -f "$(node_dir "$n")/pid"
  log "kafka: n$n stopped with SIG$sig"
}

node_start() {
  local n=$1 dir
  dir=$(node_dir "$n")
  [[ -f $dir/server.properties ]] || die "kafka: n$n was never set up here (run kafka-up first)"
  if node_pid "$n" >/dev/null; then log "kafka: n$n already running"; return; fi
  start_node "$n"
  local deadline=$((SECONDS + KAFKA_START_TIMEOUT_S))
  until grep -q 'Kafka Server started' "$dir/server.log" 2>/dev/null && port_open 127.0.0.1 "$(client_port "$n")"; do
    node_alive "$n" || fail_node "$n" "exited during startup"
    ((SECONDS < deadline)) || fail_node "$n" "not ready after ${KAFKA_START_TIMEOUT_S}s"
    sleep 0.25
  done
  log "kafka: n$n serving again"
}

node_arg() {
  [[ ${1:-} =~ ^[123]$ ]] || { echo "usage: $0 node-start|node-stop|node-kill 1|2|3" >&2; exit 2; }
  echo "$1"
}

kafka_status() {
  local n pid
  for n in "${NODES[@]}"; do
    if pid=$(node_pid "$n"); then
      if port_open 127.0.0.1 "$(client_port "$n")"; then
        echo "kafka n$n   up    127.0.0.1:$(client_port "$n") (pid $pid)"
      else
        echo "kafka n$n   starting 127.0.0.1:$(client_port "$n") (pid $pid, port not open yet)"
      fi
    elif port_open 127.0.0.1 "$(client_port "$n")"; then
      echo "kafka n$n   up    127.0.0.1:$(client_port "$n") (not started from $KAFKA_DIR)"
    else
      echo "kafka n$n   down  127.0.0.1:$(client_port "$n")"
    fi
  done
}

kafka_classpath() {
  LOG_FD=2
  ensure_jars
  [[ -f $KAFKA_DIR/tools-log4j.properties ]] || write_log4j
  echo "$LIBS/*"
}

# ---------------------------------------------------------------- schema registry

# shellcheck source=deploy/local/registry.sh
source "$SCRIPT_DIR/registry.sh"

# ---------------------------------------------------------------- Kafka Connect

# shellcheck source=deploy/local/connect.sh
source "$SCRIPT_DIR/connect.sh"

# ---------------------------------------------------------------------- Flink

# The Flink jobs (flink/, docs/flink.md) built by Maven when their sources changed: prints their
# classpath (progress on stderr). One build at a time (tests share the work tree).
flink_classpath() {
  LOG_FD=2
  local dir="$REPO/flink" hash
  [[ -f $dir/pom.xml && -d $dir/src ]] || die "flink: no $dir/pom.xml and src/ to build"
  # names and contents of every source: a file renamed or removed rebuilds too
  hash=$(cd "$dir" && find pom.xml src -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
  mkdir -p "$dir/target"
  exec 6>"$dir/target/build.lock"
  flock -w 600 6 || die "flink: another build holds $dir/target/build.lock"
  if [[ ! -f $dir/target/.built-$hash ]]; then
    command -v mvn >/dev/null || die "mvn not found: needed to build the Flink jobs"
    (($(java_major "$(command -v java)") >= 17)) || die "flink: the jobs need Java 17 or newer; \`java\` is $(java_major "$(command -v java)")"
    log "flink: building the jobs with Maven (Flink 1.20 from Maven Central the first time)"
    local start mvn_args=(-B -q -Dstyle.color=never -f "$dir/pom.xml" package)
    start=$(now_ms)
    [[ -n ${MAVEN_REPO_LOCAL:-} ]] && mvn_args+=(-Dmaven.repo.local="$MAVEN_REPO_LOCAL")
    rm -rf "$dir/target/lib" "$dir/target"/.built-*
    if ! mvn "${mvn_args[@]}" >"$dir/target/mvn.log" 2>&1 9>&- 6>&-; then
      tail -n 30 "$dir/target/mvn.log" >&2
      die "flink: the build failed (full output in $dir/target/mvn.log)"
    fi
    touch "$dir/target/.built-$hash"
    log "flink: built in $(elapsed_s "$start")s"
  fi
  exec 6>&-
  echo "$dir/target/shopstream-flink.jar:$dir/target/lib/*"
}

# ---------------------------------------------------------------------- main

# One `up`/`down` at a time per state dir. Children get `9>&-` so a long-lived broker never
# inherits (and holds) the lock.
with_lock() {
  mkdir -p "$STATE"
  exec 9>"$STATE/infra.lock"
  flock -w 300 9 || die "another infra.sh is holding $STATE/infra.lock"
}

usage() {
  echo "usage: $0 up | down | status | kafka-classpath | kafka-up | kafka-down | node-start N | node-stop N | node-kill N | registry-up | registry-down | registry-kill | connect-up | connect-down | connect-kill | flink-classpath" >&2
  exit 2
}

main() {
  local cmd=${1:-}
  case $cmd in
    up)
      with_lock
      local start
      start=$(now_ms)
      log "state dir $STATE"
      postgres_up
      redis_up
      kafka_up
      if registry_wanted || registry_ready; then
        registry_up
      else
        log "registry: not started (FORMAT=json needs none; SCHEMA_REGISTRY=1 or \`infra.sh registry-up\` starts it)"
      fi
      if connect_wanted; then
        connect_up
      else
        log "connect: not started (CDC=1 or \`infra.sh connect-up\` starts it)"
      fi
      log "up in $(elapsed_s "$start")s"
      ;;
    down)
      with_lock
      connect_release
      connect_down
      registry_down
      kafka_down
      redis_down
      log "down (system PostgreSQL/Redis left running)"
      ;;
    status)
      postgres_status
      redis_status
      kafka_status
      registry_status
      connect_status
      ;;
    kafka-classpath)
      with_lock
      kafka_classpath
      ;;
    flink-classpath) flink_classpath ;;
    kafka-up)
      with_lock
      kafka_up
      ;;
    kafka-down)
      with_lock
      kafka_down
      ;;
    registry-up)
      with_lock
      registry_up
      ;;
    connect-up)
      with_lock
      connect_up
      ;;
    connect-down) connect_down TERM ;;
    connect-kill) connect_down KILL ;;
    registry-down) registry_down TERM ;;
    registry-kill) registry_down KILL ;;
    node-start) node_start "$(node_arg "${2:-}")" ;;
    node-stop) node_stop "$(node_arg "${2:-}")" TERM ;;
    node-kill) node_stop "$(node_arg "${2:-}")" KILL ;;
    *) usage ;;
  esac
}

main "$@"
