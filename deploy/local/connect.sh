# Sourced by infra.sh: one Kafka Connect worker (Apache Kafka Connect 4.3.0 from Maven Central, the
# version Debezium 3.6 is built against) in distributed mode, its config/offset/status topics on our
# cluster (RF 3), REST on 127.0.0.1 only, Debezium's PostgreSQL connector in its plugin path. `up`
# starts it only when it is wanted (CDC=1 or CONNECT=1); `connect-up` always. Connectors are applied
# by `bun run connect apply` (docs/connect.md).

CONNECT_VERSION=4.3.0
CONNECT_DIR="$STATE/connect"
CONNECT_LIBS="${CONNECT_LIBS:-$CONNECT_DIR/libs}"
CONNECT_PLUGINS="${CONNECT_PLUGINS:-$CONNECT_DIR/plugins}"
CONNECT_URL="${CONNECT_URL:-http://127.0.0.1:18083}"
CONNECT_URL="${CONNECT_URL%/}"
CONNECT_GROUP="${CONNECT_GROUP:-shopstream-connect}"
CONNECT_START_TIMEOUT_S="${CONNECT_START_TIMEOUT_S:-120}"
CONNECT_HEAP_OPTS="${CONNECT_HEAP_OPTS:--Xms128m -Xmx512m}"

connect_wanted() { [[ ${CDC:-} == 1 || ${CONNECT:-} == 1 ]]; }

# Where to start one (only a local http URL): → CONNECT_HOST CONNECT_PORT
parse_connect_url() {
  local re='^http://(127\.0\.0\.1|localhost):([0-9]+)$'
  [[ $CONNECT_URL =~ $re ]] ||
    die "connect: no worker answers at $CONNECT_URL, and infra.sh starts one only at http://127.0.0.1:<port> (CONNECT_URL)"
  CONNECT_HOST=${BASH_REMATCH[1]}
  CONNECT_PORT=${BASH_REMATCH[2]}
}

# The worker's jars and the connector's plugin dir, resolved once per pom change (a marker of both).
ensure_connect_jars() {
  local hash
  hash=$(cat "$SCRIPT_DIR/connect/worker-pom.xml" "$SCRIPT_DIR/connect/debezium-pom.xml" | sha256sum | cut -c1-16)
  [[ -f $CONNECT_LIBS/.pom-$hash && -d $CONNECT_PLUGINS/debezium-postgres ]] && return
  command -v mvn >/dev/null || die "mvn not found: needed once to fetch Kafka Connect and Debezium"
  mkdir -p "$CONNECT_DIR" "$(dirname "$CONNECT_LIBS")"
  # beside the jars: private workers of the tests resolve into the shared directory too
  local lock
  lock="$(dirname "$CONNECT_LIBS")/resolve.lock"
  exec 7>"$lock"
  flock -w 600 7 || die "connect: another resolve holds $lock"
  if [[ -f $CONNECT_LIBS/.pom-$hash && -d $CONNECT_PLUGINS/debezium-postgres ]]; then
    exec 7>&-
    return
  fi
  log "connect: resolving Kafka Connect $CONNECT_VERSION and Debezium's PostgreSQL connector from Maven Central (once)"
  local start tmp="$CONNECT_DIR/resolve.$$"
  start=$(now_ms)
  rm -rf "$tmp"
  local mvn_args=(-B -q -Dstyle.color=never org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies -DincludeScope=runtime)
  [[ -n ${MAVEN_REPO_LOCAL:-} ]] && mvn_args+=(-Dmaven.repo.local="$MAVEN_REPO_LOCAL")
  # the plugin leaves out what the worker itself provides (Connect's API, the Kafka client, SLF4J)
  if ! mvn "${mvn_args[@]}" -f "$SCRIPT_DIR/connect/worker-pom.xml" -DoutputDirectory="$tmp/libs" >"$CONNECT_DIR/mvn.log" 2>&1 9>&- 7>&- ||
    ! mvn "${mvn_args[@]}" -f "$SCRIPT_DIR/connect/debezium-pom.xml" -DoutputDirectory="$tmp/plugins/debezium-postgres" \
      -DexcludeArtifactIds=connect-api,kafka-clients,slf4j-api >>"$CONNECT_DIR/mvn.log" 2>&1 9>&- 7>&-; then
    tail -n 30 "$CONNECT_DIR/mvn.log" >&2
    rm -rf "$tmp"
    die "connect: mvn could not resolve the jars (full output in $CONNECT_DIR/mvn.log)"
  fi
  rm -rf "$CONNECT_LIBS" "$CONNECT_PLUGINS"
  mkdir -p "$(dirname "$CONNECT_LIBS")" "$(dirname "$CONNECT_PLUGINS")"
  mv "$tmp/libs" "$CONNECT_LIBS"
  mv "$tmp/plugins" "$CONNECT_PLUGINS"
  rm -rf "$tmp"
  touch "$CONNECT_LIBS/.pom-$hash"
  log "connect: $(find "$CONNECT_LIBS" "$CONNECT_PLUGINS" -name '*.jar' | wc -l) jars resolved in $(elapsed_s "$start")s"
  exec 7>&-
}

connect_pid() { live_pid "$CONNECT_DIR/pid" "$CONNECT_DIR/worker.properties"; }

# Answering and past its start: /connectors is served once the worker has joined its group.
connect_ready() {
  [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$CONNECT_URL/connectors" 2>/dev/null) == 200 ]]
}

connect_brokers() {
  if [[ -n ${KAFKA_BROKERS:-} ]]; then
    echo "$KAFKA_BROKERS"
  else
    echo "127.0.0.1:$(client_port 1),127.0.0.1:$(client_port 2),127.0.0.1:$(client_port 3)"
  fi
}

write_connect_config() {
  mkdir -p "$CONNECT_DIR"
  cat >"$CONNECT_DIR/worker.properties" <<EOF
bootstrap.servers=$(connect_brokers)
group.id=$CONNECT_GROUP
# the worker's own state, on our cluster like any topic of ours (RF 3, compacted by Connect)
config.storage.topic=$CONNECT_GROUP.configs
offset.storage.topic=$CONNECT_GROUP.offsets
status.storage.topic=$CONNECT_GROUP.status
config.storage.replication.factor=3
offset.storage.replication.factor=3
status.storage.replication.factor=3
# records as plain JSON (Debezium's envelope without Connect's schema wrapper)
key.converter=org.apache.kafka.connect.json.JsonConverter
value.converter=org.apache.kafka.connect.json.JsonConverter
key.converter.schemas.enable=false
value.converter.schemas.enable=false
# a source's position is stored every second: a killed worker replays at most that much
offset.flush.interval.ms=1000
listeners=http://$CONNECT_HOST:$CONNECT_PORT
rest.advertised.host.name=$CONNECT_HOST
rest.advertised.port=$CONNECT_PORT
plugin.path=$CONNECT_PLUGINS
plugin.discovery=hybrid_warn
EOF
  cat >"$CONNECT_DIR/log4j2.properties" <<EOF
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = file
appender.file.type = RollingFile
appender.file.name = file
appender.file.fileName = $CONNECT_DIR/connect.log
appender.file.filePattern = $CONNECT_DIR/connect.log.%i
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.file.policies.type = Policies
appender.file.policies.size.type = SizeBasedTriggeringPolicy
appender.file.policies.size.size = 20MB
appender.file.strategy.type = DefaultRolloverStrategy
appender.file.strategy.max = 2
logger.kafka.name = org.apache.kafka.clients
logger.kafka.level = WARN
EOF
}

connect_up() {
  if connect_ready; then
    log "connect: using the worker answering at $CONNECT_URL"
    return
  fi
  parse_connect_url
  local start
  start=$(now_ms)
  if connect_pid >/dev/null; then
    log "connect: ours is running but not answering yet; waiting for it"
  else
    start_connect
  fi
  local deadline=$((SECONDS + CONNECT_START_TIMEOUT_S))
  until connect_ready; do
    if ! connect_pid >/dev/null; then
      tail -n 15 "$CONNECT_DIR/connect.log" "$CONNECT_DIR/stdout.log" >&2 2>/dev/null || true
      die "connect: exited while starting (log: $CONNECT_DIR/connect.log)"
    fi
    if ((SECONDS >= deadline)); then
      connect_down KILL >/dev/null
      die "connect: not answering at $CONNECT_URL within ${CONNECT_START_TIMEOUT_S}s, stopped (log: $CONNECT_DIR/connect.log)"
    fi
    sleep 0.5
  done
  log "connect: ready in $(elapsed_s "$start")s at $CONNECT_URL (group $CONNECT_GROUP)"
}

start_connect() {
  command -v java >/dev/null || die "java not found (Kafka Connect $CONNECT_VERSION needs Java 17+)"
  (($(java_major "$(command -v java)") >= 17)) || die "connect: Kafka Connect $CONNECT_VERSION needs Java 17 or newer; \`java\` is $(java_major "$(command -v java)")"
  port_open "$CONNECT_HOST" "$CONNECT_PORT" && die "connect: port $CONNECT_PORT is taken by a process that is not a Connect worker (CONNECT_URL)"
  ensure_connect_jars
  write_connect_config
  log "connect: starting Kafka Connect $CONNECT_VERSION on $CONNECT_HOST:$CONNECT_PORT (group $CONNECT_GROUP, brokers $(connect_brokers))"
  [[ -f $CONNECT_DIR/connect.log ]] && mv "$CONNECT_DIR/connect.log" "$CONNECT_DIR/connect.log.prev"
  rm -f "$CONNECT_DIR/pid"
  # as the brokers: own session, and the pid file names the JVM (bash writes its pid, then execs java)
  # shellcheck disable=SC2086
  setsid nohup bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$CONNECT_DIR/pid" \
    java $CONNECT_HEAP_OPTS -XX:+UseSerialGC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$CONNECT_DIR/log4j2.properties" -cp "$CONNECT_LIBS/*" \
    org.apache.kafka.connect.cli.ConnectDistributed "$CONNECT_DIR/worker.properties" \
    >"$CONNECT_DIR/stdout.log" 2>&1 </dev/null 9>&- &
  await_pid_file "$CONNECT_DIR/pid" "connect: did not start (see $CONNECT_DIR/stdout.log)"
}

# signal: TERM (default) or KILL
connect_down() {
  local signal=${1:-TERM} pid
  pid=$(connect_pid) || { log "connect: not running (nothing of ours to stop)"; return; }
  stop_process connect "$pid" "$CONNECT_DIR/pid" "$signal"
}

# Before the worker stops for good: the CDC connector removed, its replication slot and publication
# dropped (a slot nobody reads keeps every WAL segment since, until the disk is full).
connect_release() {
  connect_pid >/dev/null || return 0 # a worker infra.sh did not start is not ours to clear
  if ! connect_ready; then
    log "connect: our worker does not answer; the CDC connector and its slot are left (\`bun run connect drop\` drops the slot)"
    return 0
  fi
  (cd "$REPO" && bun run src/cli/connect.ts drop) || log "connect: could not drop the CDC connector and its slot (\`bun run connect drop\` retries)"
}

connect_status() {
  if connect_ready; then echo "connect    up    $CONNECT_URL"; else echo "connect    down  $CONNECT_URL"; fi
}
