#!/bin/sh
# Instructions per operation of the loops in examples/ctx_profile.rs, under callgrind:
# (Ir at 2N − Ir at N) ÷ N, so set-up and start-up cancel out. Unlike wall time, the count
# does not move with the load of a shared machine.
#   crates/bench/callgrind.sh [N] LOOP...
set -e
N=${N:-20000}
BIN=${BIN:-target/release/examples/ctx_profile}
for loop in "$@"; do
    a=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$BIN" "$loop" "$N" 2>&1 | sed -n 's/.*Collected : //p')
    b=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$BIN" "$loop" $((2 * N)) 2>&1 | sed -n 's/.*Collected : //p')
    echo "$loop $(( (b - a) / N )) instructions/op"
done
