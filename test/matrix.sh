#!/usr/bin/env bash
# The whole suite on the configured Kafka client (KAFKA_CLIENT, kafkajs by default), then every
# suite that talks to Kafka once more on the other client, so both adapters pass the same tests
# (docs/design.md, "Kafka client"), in three lanes side by side: every suite on the first client;
# the Kafka suites on the second, then the benchmark commands at a tiny size (once: they drive both
# clients themselves); and the broker-fault suite (its own private cluster) and the frozen-PostgreSQL
# suites (a private server of their own), which spend most of their time waiting on the server they
# stop, on both clients. Exits non-zero when any pass fails; each pass ends with bun's own "N pass" /
# "N fail" lines. Arguments narrow the first pass (bun test filters) and skip the rest.
set -uo pipefail
cd "$(dirname "$0")/.."

first=${KAFKA_CLIENT:-kafkajs}
case $first in
  kafkajs) second=platformatic ;;
  platformatic) second=kafkajs ;;
  *) echo "KAFKA_CLIENT: expected kafkajs or platformatic, got \"$first\"" >&2; exit 2 ;;
esac
KAFKA_SUITES=(test/kafka test/pipeline test/faults test/metrics test/bench)
BESIDE_SUITES=(test/faults/brokers.test.ts test/kafka/postgres-freeze.test.ts test/services/postgres-freeze-services.test.ts)
# the README's benchmark commands at a tiny size: minutes of their own, on both clients in one run
BENCH_SUITE=test/cli/bench.test.ts
IGNORE_BESIDE=(--path-ignore-patterns="$BENCH_SUITE")
for f in "${BESIDE_SUITES[@]}"; do IGNORE_BESIDE+=(--path-ignore-patterns="$f"); done

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
  KAFKA_CLIENT=$first bun test --timeout 120000 "${IGNORE_BESIDE[@]}"
) >"$logs/1" 2>&1 &
lane1=$!
(
  status=0
  echo "== the Kafka suites again, KAFKA_CLIENT=$second"
  KAFKA_CLIENT=$second bun test --timeout 120000 "${IGNORE_BESIDE[@]}" "${KAFKA_SUITES[@]}" || status=1
  echo "== the benchmark commands at a tiny size (both clients in one run)"
  KAFKA_CLIENT=$first bun test --timeout 120000 "$BENCH_SUITE" || status=1
  exit $status
) >"$logs/2" 2>&1 &
lane2=$!
(
  status=0
  for client in "$first" "$second"; do
    echo "== the suites that stop their own servers (a private cluster, a private PostgreSQL), KAFKA_CLIENT=$client"
    KAFKA_CLIENT=$client bun test --timeout 120000 "${BESIDE_SUITES[@]}" || status=1
  done
  exit $status
) >"$logs/3" 2>&1 &
lane3=$!

status=0
for lane in $lane1 $lane2 $lane3; do wait "$lane" || status=1; done
cat "$logs/1" "$logs/2" "$logs/3"
exit $status
