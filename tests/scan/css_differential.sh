#!/bin/sh
# css_differential.sh - TAP: css.c's URLs against tinycss2's on random CSS.
# Skips when no python3 with tinycss2 (Debian: python3-tinycss2) is present.
tool="${top_builddir:-.}/tests/scan/css_urldump"
py=""
for p in python3 /usr/bin/python3; do
	if "$p" -c 'import tinycss2' >/dev/null 2>&1; then
		py="$p"
		break
	fi
done
if [ -z "$py" ]; then
	echo "1..0 # SKIP python3 with tinycss2 not installed"
	exit 0
fi
if [ ! -x "$tool" ]; then
	echo "1..1"
	echo "not ok 1 - $tool not built"
	exit 1
fi
exec "$py" "${top_srcdir:-.}/tests/scan/css_differential.py" "$tool"
