# bench/lib.sh: the common start of the bench scripts (ab, icount, idlemem,
# syscount), sourced first: unset variables are errors, HERE is the
# checkout, LG the load generator, and the daemon helpers of fc_daemon.sh
# (fc_start, fc_settle, fc_scratch) are defined. Not a program of its own.
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LG=$HERE/build/bench/loadgen
. "$HERE/bench/fc_daemon.sh"
