# Reads `bun test` output (several passes in a row) and prints one block per failing test: its file
# and name, then the first lines of its error. bun prints a test's error before its "(fail)" line,
# so the lines since the previous result are kept and searched for the error when a test fails; a
# timeout is said right after its "(fail)" line, so a failing test is printed once the next line is read.
function flush_block(name,    i, start, shown) {
  start = 0
  for (i = 1; i <= n; i++) if (buf[i] ~ /^[[:space:]]*([A-Za-z]*Error|error):/) { start = i; break }
  if (start == 0) start = (n > MAX ? n - MAX + 1 : 1)
  client = ""
  if (match(pass, /KAFKA_CLIENT=[a-z]+/)) client = " [" substr(pass, RSTART, RLENGTH) "]"
  print "✗ " file " > " name client
  shown = 0
  for (i = start; i <= n && shown < MAX; i++) { if (buf[i] ~ /^[[:space:]]*$/) continue; print "    " buf[i]; shown++ }
  count++
}
BEGIN { MAX = 8; n = 0; count = 0; file = "?"; pending = "" }
pending != "" && /^ *\^ this test timed out/ { buf[++n] = $0; flush_block(pending); pending = ""; n = 0; next }
pending != "" { flush_block(pending); pending = ""; n = 0 }
/^== / { pass = $0; n = 0; recap = 0; next }
# bun lists a pass's failures again at its end: those are already shown, under their own file
/^ *[0-9]+ tests? failed:$/ { recap = 1; next }
/^ *[0-9]+ pass$/ { recap = 0 }
recap && /^\(fail\) / { next }
/^[^ (].*\.test\.ts:$/ { file = substr($0, 1, length($0) - 1); n = 0; next }
/^\(pass\) / { n = 0; next }
/^\(fail\) / { pending = substr($0, 8); sub(/ \[[0-9.]+m?s\]$/, "", pending); next }
/^# Unhandled error/ { n = 0; unhandled = 1 }
{ buf[++n] = $0; if (n > 200) { for (i = 1; i <= 100; i++) buf[i] = buf[i + 100]; n = 100 } }
END { if (pending != "") flush_block(pending); if (count == 0 && unhandled) print "✗ an unhandled error between tests (see the log above)" }
