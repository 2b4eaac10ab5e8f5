#!/bin/sh
# make lint: static analysis of lib/ and cmd/ with cppcheck and clang-tidy.
#
# Any finding is a failure (exit 1).  What is deliberately not reported is
# configured, with reasons, in tests/lint/cppcheck.supp and .clang-tidy at
# the top of the repository.  CPPCHECK and CLANG_TIDY name the tools when
# they are not on PATH under their usual names.
set -u
cd "$(dirname "$0")/../.." || exit 2

CPPCHECK=${CPPCHECK:-cppcheck}
if [ -z "${CLANG_TIDY:-}" ]; then
	if command -v clang-tidy-14 >/dev/null 2>&1; then
		CLANG_TIDY=clang-tidy-14
	else
		CLANG_TIDY=clang-tidy
	fi
fi
for tool in "$CPPCHECK" "$CLANG_TIDY"; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "lint: $tool not found" >&2
		exit 2
	fi
done

# Sorted so that the report reads the same on every machine.
SRC=$(find lib cmd -name '*.c' | LC_ALL=C sort)
tmp=$(mktemp) || exit 2
trap 'rm -f "$tmp"' EXIT
status=0

echo "== cppcheck"
# "information" is on so that a suppression that no longer matches anything
# fails too; cppcheck is not given the system headers (it knows libc from
# its own configuration), so it is not told that it did not find them.
# shellcheck disable=SC2086 # SRC is a list of plain paths
if ! "$CPPCHECK" --quiet --std=c11 -D_GNU_SOURCE -Ilib \
    --enable=warning,style,performance,portability,information \
    --suppress=missingIncludeSystem \
    --inline-suppr --suppressions-list=tests/lint/cppcheck.supp \
    --error-exitcode=1 \
    --template='{file}:{line}:{column}: {severity}: {message} [{id}]' \
    $SRC; then
	status=1
fi

echo "== clang-tidy"
# clang-tidy reads .clang-tidy from the top of the repository; the compile
# flags are those of the Makefile (SF_VERSION only has to exist).
# shellcheck disable=SC2086
if ! "$CLANG_TIDY" --quiet $SRC -- -std=c11 -D_GNU_SOURCE \
    -DSF_VERSION='"lint"' -Ilib -Icmd/sfd >"$tmp" 2>&1; then
	status=1
fi
# Drop clang's per-file "N warnings generated." tally: it counts warnings
# in system headers that are never shown.
grep -v -E '^[0-9]+ warnings?( and [0-9]+ errors?)? generated\.$' "$tmp"

echo "== va_end"
# In place of clang-analyzer-valist.Unterminated (see .clang-tidy): each
# function ends as many va_lists as it starts.  A function's body ends
# at a '}' in the first column, its name is the last line before that
# which starts with a name and '('.
for f in $SRC; do
	awk -v file="$f" '
	/^[A-Za-z_][A-Za-z_0-9]*\(/ { name = $0; sub(/\(.*/, "", name) }
	{ started += gsub(/(^|[^A-Za-z_0-9])va_(start|copy) *\(/, "&")
	  ended += gsub(/(^|[^A-Za-z_0-9])va_end *\(/, "&") }
	/^}/ {
		if (started != ended)
			printf "%s: %s: %d va_start or va_copy, %d va_end\n",
			    file, name, started, ended
		started = ended = 0
	}' "$f" | grep . && status=1
done

if [ "$status" -ne 0 ]; then
	echo "lint: findings above" >&2
	exit 1
fi
echo "lint: clean"
