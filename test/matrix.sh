#!/usr/bin/env bash
# The whole suite on the configured Kafka client (KAFKA_CLIENT, kafkajs by default), then every
# suite that talks to Kafka once more on the other client, so both adapters pass the same tests
# (docs/design.md, "Kafka client"), in three lanes side by side:
#   1. every suite on the first client;
#   2. the Kafka suites on the second client (the fault suites last, so they do not meet lane 1's),
#      then the benchmark commands at a tiny size (once: they drive both clients themselves);
#   3. the suites that start JVMs of their own and kill them (a private Kafka cluster, a private
#      schema registry), one at a time, on both clients: two machines' worth of JVMs starting at
#      once on two cores is what made them miss their start budgets; then the engines' suites (a
#      Kafka Connect worker and a PostgreSQL with logical WAL of their own; Flink's mini-cluster),
#      once: Debezium and Flink talk to Kafka themselves, whichever client the checks read with;
#      then the frozen-PostgreSQL suites (a private server of their own) on both clients.
# Exits non-zero when any pass fails; each pass ends with bun's own "N pass" / "N fail" lines.
# Arguments narrow the first pass (bun test filters) and skip the rest.
set -uo pipefail
cd "$(dirname "$0")/.."

first=${KAFKA_CLIENT:-kafkajs}
case $first in
  kafkajs) second=platformatic ;;
  platformatic) second=kafkajs ;;
  *) echo "KAFKA_CLIENT: expected kafkajs or platformatic, got \"$first\"" >&2; exit 2 ;;
esac
# the second client's pass, in this order
KAFKA_SUITES=(test/kafka test/metrics test/bench test/pipeline test/faults)
JVM_FAULT_SUITES=(test/faults/brokers.test.ts test/faults/registry.test.ts)
FREEZE_SUITES=(test/kafka/postgres-freeze.test.ts test/services/postgres-freeze-services.test.ts)
ENGINE_SUITES=(test/connect test/flink)
# the README's benchmark commands at a tiny size: minutes of their own, on both clients in one run
BENCH_SUITE=test/cli/bench.test.ts
IGNORE_OWN_LANE=(--path-ignore-patterns="$BENCH_SUITE")
for d in "${ENGINE_SUITES[@]}"; do IGNORE_OWN_LANE+=(--path-ignore-patterns="$d/**"); done
for f in "${JVM_FAULT_SUITES[@]}" "${FREEZE_SUITES[@]}"; do IGNORE_OWN_LANE+=(--path-ignore-patterns="$f"); done

if [ $# -gt 0 ]; then
  # a run narrowed to some files or tests (bun run test <filter>) is that run alone
  KAFKA_CLIENT=$first bun test --timeout 120000 "$@"
  exit $?
fi

# three lanes side by side, each with a log of its own, printed in turn once all have ended (the
# lanes mostly wait: on brokers, on a frozen server, on services settling)
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
(
  echo "== every other suite, KAFKA_CLIENT=$first"
  KAFKA_CLIENT=$first bun test --timeout 120000 "${IGNORE_OWN_LANE[@]}"
) >"$logs/1" 2>&1 &
lane1=$!
(
  status=0
  for suite in "${KAFKA_SUITES[@]}"; do
    echo "== the Kafka suites again, KAFKA_CLIENT=$second: $suite"
    KAFKA_CLIENT=$second bun test --timeout 120000 "${IGNORE_OWN_LANE[@]}" "$suite" || status=1
  done
  echo "== the benchmark commands at a tiny size (both clients in one run)"
  KAFKA_CLIENT=$first bun test --timeout 120000 "$BENCH_SUITE" || status=1
  exit $status
) >"$logs/2" 2>&1 &
lane2=$!
(
  status=0
  for client in "$first" "$second"; do
    echo "== the suites that kill JVMs of their own (a private Kafka cluster, a private registry), KAFKA_CLIENT=$client"
    KAFKA_CLIENT=$client bun test --timeout 120000 "${JVM_FAULT_SUITES[@]}" || status=1
  done
  echo "== the engines' suites (Kafka Connect and a PostgreSQL of their own; Flink's mini-cluster), KAFKA_CLIENT=$first"
  KAFKA_CLIENT=$first bun test --timeout 120000 "${ENGINE_SUITES[@]}" || status=1
  for client in "$first" "$second"; do
    echo "== the suites that freeze a private PostgreSQL, KAFKA_CLIENT=$client"
    KAFKA_CLIENT=$client bun test --timeout 120000 "${FREEZE_SUITES[@]}" || status=1
  done
  exit $status
) >"$logs/3" 2>&1 &
lane3=$!

status=0
for lane in $lane1 $lane2 $lane3; do wait "$lane" || status=1; done
cat "$logs/1" "$logs/2" "$logs/3"
exit $status
