#!/usr/bin/env bash
# The whole suite on the configured Kafka client (KAFKA_CLIENT, kafkajs by default), then every
# suite that talks to Kafka once more on the other client, so both adapters pass the same tests
# (docs/design.md, "Kafka client"). The broker-fault suite (its own private cluster) and the frozen
# PostgreSQL suites (a private server of their own) spend most of their time waiting on the server they
# stop: they run beside the others, on both clients, after the benchmark commands' suite (once: it
# drives both clients itself), and their output follows theirs. Exits non-zero when any pass fails; each pass ends with bun's own "N pass" /
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

faults_log=$(mktemp)
trap 'rm -f "$faults_log"' EXIT
(
  status=0
  echo "== the benchmark commands at a tiny size (both clients in one run)"
  KAFKA_CLIENT=$first bun test --timeout 120000 "$BENCH_SUITE" || status=1
  for client in "$first" "$second"; do
    echo "== the suites that stop their own servers (a private cluster, a private PostgreSQL), KAFKA_CLIENT=$client"
    KAFKA_CLIENT=$client bun test --timeout 120000 "${BESIDE_SUITES[@]}" || status=1
  done
  exit $status
) >"$faults_log" 2>&1 &
faults=$!

echo "== every other suite, KAFKA_CLIENT=$first"
KAFKA_CLIENT=$first bun test --timeout 120000 "${IGNORE_BESIDE[@]}"
first_status=$?
echo "== the Kafka suites again, KAFKA_CLIENT=$second"
KAFKA_CLIENT=$second bun test --timeout 120000 "${IGNORE_BESIDE[@]}" "${KAFKA_SUITES[@]}"
second_status=$?
wait $faults
faults_status=$?
cat "$faults_log"
[ "$first_status" -eq 0 ] && [ "$second_status" -eq 0 ] && [ "$faults_status" -eq 0 ]
