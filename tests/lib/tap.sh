# tap.sh - minimal TAP producer for shell tests (sourced).
#
#   tap_plan N            announce N tests
#   tap_ok STATUS DESC    "ok" if STATUS is 0
#   tap_is GOT WANT DESC  string equality, prints both on failure
#   tap_skip N WHY        N skipped tests
#   tap_skip_all WHY      plan "1..0 # SKIP WHY" and exit 0
#   tap_diag TEXT...      a comment line
#   tap_done              exit 1 if any test failed

TAP_N=0
TAP_FAILED=0

tap_plan() { echo "1..$1"; }

tap_diag() { printf '# %s\n' "$@"; }

tap_ok() {
	TAP_N=$((TAP_N + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $TAP_N - $2"
	else
		echo "not ok $TAP_N - $2"
		TAP_FAILED=$((TAP_FAILED + 1))
	fi
}

tap_is() {
	if [ "$1" = "$2" ]; then
		tap_ok 0 "$3"
	else
		tap_ok 1 "$3"
		tap_diag "got:  '$1'" "want: '$2'"
	fi
}

tap_skip() {
	local i
	for i in $(seq 1 "$1"); do
		TAP_N=$((TAP_N + 1))
		echo "ok $TAP_N # SKIP $2"
	done
}

tap_skip_all() {
	echo "1..0 # SKIP $1"
	exit 0
}

tap_done() {
	[ "$TAP_FAILED" -eq 0 ]
}
