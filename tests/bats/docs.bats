#!/usr/bin/env bats
# What a user reads and installs: man pages, completions, make install and
# the demo, checked against the programs themselves so they cannot drift.

load helpers

PROGS="sfd sfpipe sfcat sfctl"

# The options --help lists, one per line, sorted: the option column of
# each line that starts with two spaces and a dash ("  -l ADDR  listen on",
# "  -h, --help  print").  Fails unless --help works and lists some.
help_options() {
	local help
	help=$("$BUILD/cmd/$1/$1" --help) || fail "$1 --help failed"
	help=$(sed -nE 's/^  (-[^ ].*)$/\1/p' <<<"$help" | sed -E 's/  .*//' |
	    grep -oE '(^|[ ,])--?[A-Za-z0-9][a-z-]*' | tr -d ' ,') ||
	    fail "$1 --help lists no option"
	sort -u <<<"$help"
}

# The file of cmd/PROG that holds its getopt_long(3) table.
options_source() {
	grep -l 'longopts\[\] = {' "$ROOT"/cmd/"$1"/*.c | head -n 1
}

# The options the program's source takes, one per line, sorted: the names
# in its getopt_long(3) table and the letters of its short-option string.
# Fails unless it finds both.
source_options() {
	local src long short
	src=$(options_source "$1")
	[ -n "$src" ] || fail "cmd/$1: no getopt_long table"
	long=$(sed -n '/longopts\[\] = {/,/};/p' "$src" |
	    sed -nE 's/^[[:space:]]*\{ "([a-z][a-z-]*)",.*/--\1/p')
	[ -n "$long" ] || fail "$src: no getopt_long table"
	short=$(grep -oE 'getopt_long\(argc, argv, "[^"]*"' "$src" |
	    sed -E 's/.*"(.*)"$/\1/' | tr -d ':' | grep -o . | sed 's/^/-/')
	[ -n "$short" ] || fail "$src: no short-option string"
	printf '%s\n' $long $short | sort -u
}

# The options that the OPTIONS of the man page describe.
man_options() {
	# mdoc writes --ring as "Fl \-ring" and -l as "Fl l".
	sed -n '/^\.Sh OPTIONS/,/^\.Sh /p' "$ROOT/cmd/$1/$1.1" |
	    grep '^\.It' | grep -oE 'Fl (\\-[a-z][a-z-]*|[A-Za-z0-9])' |
	    sed -E 's/^Fl \\-/--/; s/^Fl /-/' | sort -u
}

# The options bash completion offers after a lone "-".
bash_options() {
	# shellcheck disable=SC1090
	source "$ROOT/completions/bash/$1"
	COMP_WORDS=("$1" -)
	COMP_CWORD=1
	COMPREPLY=()
	"_$1"
	printf '%s\n' "${COMPREPLY[@]}" | sort -u
}

# The options the fish completion lists.
fish_options() {
	# Quoted conditions (-n '... -s 0 -l raw') name options too: only
	# what stands outside quotes offers one.
	grep -E "^complete -c $1 " "$ROOT/completions/fish/$1.fish" |
	    sed -E "s/'[^']*'//g" | grep -oE ' -[sl] [A-Za-z0-9][a-z-]*' |
	    sed -E 's/^ -s /-/; s/^ -l /--/' | sort -u
}

# The options the zsh completion lists.
zsh_options() {
	# An option opens a spec: '-x[', '--opt=[', '(excl)-x[', '*-x['
	# (repeatable) or {-h,--help}.  The look-behind needs GNU grep -P,
	# as on any Linux this project builds on.
	grep -oP "(?<=['{,)*])--?[A-Za-z0-9][a-z-]*(?=[[=,}])" \
	    "$ROOT/completions/zsh/_$1" | sort -u
}

# same_options WHAT WANT GOT [FROM]: compare two sorted lists, WANT from
# FROM (default --help), GOT from WHAT; on a difference, name what is
# missing where.
same_options() {
	local what=$1 want=$2 got=$3 from=${4:---help}
	if [ "$want" != "$got" ]; then
		echo "$what differs from $from (< only in $from, > only in $what):"
		diff <(echo "$want") <(echo "$got") | grep '^[<>]'
		return 1
	fi
}

@test "every option in each program's source is in its --help, its man page and its three completions" {
	local p src srcfile
	for p in $PROGS; do
		src=$(source_options "$p")
		srcfile=$(options_source "$p")
		same_options "--help of $p" "$src" "$(help_options "$p")" \
		    "${srcfile#"$ROOT"/}"
		same_options "OPTIONS of $p.1" "$src" "$(man_options "$p")" \
		    "${srcfile#"$ROOT"/}"
		same_options "bash completion of $p" "$src" \
		    "$(bash_options "$p")" "${srcfile#"$ROOT"/}"
		same_options "fish completion of $p" "$src" \
		    "$(fish_options "$p")" "${srcfile#"$ROOT"/}"
		same_options "zsh completion of $p" "$src" "$(zsh_options "$p")" \
		    "${srcfile#"$ROOT"/}"
	done
}

@test "each man page's OPTIONS list has exactly the program's options" {
	local p
	for p in $PROGS; do
		same_options "OPTIONS of $p.1" "$(help_options "$p")" \
		    "$(man_options "$p")"
	done
}

@test "each --help fits 80 columns and gives the exit statuses of its man page" {
	local p long want got
	for p in $PROGS; do
		sfrun "$BUILD/cmd/$p/$p" --help
		[ "$status" -eq 0 ] || fail "$p --help: exit $status"
		assert_eq "" "$stderr"
		long=$(LC_ALL=C awk 'length > 79 || /\t/' <<<"$output")
		[ -z "$long" ] || fail "$p --help, lines over 79 columns:" \
		    "$long"
		# .It 128+ Ns Ar N in the man page is 128+N in --help.
		want=$(sed -n '/^\.Sh EXIT STATUS/,/^\.Sh /p' \
		    "$ROOT/cmd/$p/$p.1" | sed -n 's/^\.It //p' |
		    sed 's/ Ns Ar //')
		got=$(sed -n '/^Exit status/,$p' <<<"$output" |
		    sed -nE 's/^  ([0-9]+(\+N)?)  +[^ ].*/\1/p')
		[ -n "$want" ] || fail "$p.1: no EXIT STATUS"
		assert_eq "$want" "$got"
	done
}

@test "a usage error prints one line and the short usage, not the help, and exits 2" {
	local p help usage
	for p in $PROGS; do
		help=$("$BUILD/cmd/$p/$p" --help)
		# The usage is what --help starts with, up to the empty line.
		usage=${help%%$'\n\n'*}
		[[ $usage == "usage: $p "* ]] || fail "$p --help: $usage"
		assert_eq "" "$(tail -n +2 <<<"$usage" | grep -v '^ ' || true)"
		sfrun "$BUILD/cmd/$p/$p" --bogus </dev/null
		[ "$status" -eq 2 ] || fail "$p --bogus: exit $status"
		assert_eq "" "$output"
		assert_eq "$p: unknown option --bogus"$'\n'"$usage" "$stderr"
	done
	sfrun "$SFD" -l </dev/null
	[ "$status" -eq 2 ] || fail "sfd -l: exit $status"
	assert_eq "" "$output"
	assert_eq "sfd: option -l needs a value" "${stderr%%$'\n'*}"
	sfrun "$SFCTL" -s </dev/null
	[ "$status" -eq 2 ] || fail "sfctl -s: exit $status"
	assert_eq "" "$output"
	assert_eq "sfctl: option -s needs a value
usage: sfctl [-s ADDR] [--json] stats | streams
       sfctl [-s ADDR] watch [--interval SECONDS]
       sfctl [-s ADDR] kick ID [--reason TEXT]" "$stderr"
}

@test "the man pages are clean mdoc (mandoc -Tlint)" {
	command -v mandoc >/dev/null ||
	    skip "mandoc is not installed (apt-get install mandoc)"
	local m
	for m in "$ROOT"/cmd/*/*.[1-8]; do
		sfrun mandoc -Tlint -Wwarning "$m"
		[ "$status" -eq 0 ] || fail "$m: $output$stderr"
	done
}

@test "bash completion offers exactly each program's options" {
	local p
	for p in $PROGS; do
		same_options "bash completion of $p" "$(help_options "$p")" \
		    "$(bash_options "$p")"
	done
}

@test "bash completion offers the values of --on-lag and --from" {
	source "$ROOT/completions/bash/sfcat"
	COMP_WORDS=(sfcat --on-lag s)
	COMP_CWORD=2
	_sfcat
	assert_eq skip "${COMPREPLY[*]}"
	COMP_WORDS=(sfcat --from '')
	_sfcat
	assert_eq "now oldest" "${COMPREPLY[*]}"
}

@test "fish completion lists exactly each program's options" {
	local p f
	for p in $PROGS; do
		f=$ROOT/completions/fish/$p.fish
		same_options "fish completion of $p" "$(help_options "$p")" \
		    "$(fish_options "$p")"
		if command -v fish >/dev/null; then
			fish --no-execute "$f" || fail "$f: fish syntax"
		fi
	done
}

@test "zsh completion lists exactly each program's options" {
	local p f
	for p in $PROGS; do
		f=$ROOT/completions/zsh/_$p
		same_options "zsh completion of $p" "$(help_options "$p")" \
		    "$(zsh_options "$p")"
		if command -v zsh >/dev/null; then
			zsh -n "$f" || fail "$f: zsh syntax"
		fi
	done
}

@test "make install honours DESTDIR, PREFIX and MANPREFIX; uninstall removes it all" {
	local d=$T/dest want got
	# make install takes the default build, which make check made
	# first; nothing may be compiled here.
	make -q -C "$ROOT" all || skip "the default build is not current: run make"
	sfrun make -s -C "$ROOT" install DESTDIR="$d" PREFIX=/opt/sf \
	    MANPREFIX=/opt/man
	[ "$status" -eq 0 ] || fail "make install: $stderr"
	want=$(printf '%s\n' \
	    /opt/sf/bin/sfd /opt/sf/bin/sfpipe /opt/sf/bin/sfcat \
	    /opt/sf/bin/sfctl \
	    /opt/man/man1/sfd.1 /opt/man/man1/sfpipe.1 /opt/man/man1/sfcat.1 \
	    /opt/man/man1/sfctl.1 \
	    /opt/man/man7/sf-protocol.7 \
	    /opt/sf/share/bash-completion/completions/sfd \
	    /opt/sf/share/bash-completion/completions/sfpipe \
	    /opt/sf/share/bash-completion/completions/sfcat \
	    /opt/sf/share/bash-completion/completions/sfctl \
	    /opt/sf/share/zsh/site-functions/_sfd \
	    /opt/sf/share/zsh/site-functions/_sfpipe \
	    /opt/sf/share/zsh/site-functions/_sfcat \
	    /opt/sf/share/zsh/site-functions/_sfctl \
	    /opt/sf/share/fish/vendor_completions.d/sfd.fish \
	    /opt/sf/share/fish/vendor_completions.d/sfpipe.fish \
	    /opt/sf/share/fish/vendor_completions.d/sfcat.fish \
	    /opt/sf/share/fish/vendor_completions.d/sfctl.fish | sort)
	got=$(cd "$d" && find . -type f | sed 's/^\.//' | sort)
	assert_eq "$want" "$got"
	for p in $PROGS; do
		"$d/opt/sf/bin/$p" --version | grep -q "^$p " ||
		    fail "installed $p does not run"
	done
	sfrun make -s -C "$ROOT" uninstall DESTDIR="$d" PREFIX=/opt/sf \
	    MANPREFIX=/opt/man
	[ "$status" -eq 0 ] || fail "make uninstall: $stderr"
	assert_eq "" "$(cd "$d" && find . -type f)"
}

@test "the demo runs to its end: a burst whole at the defaults, a paced file, a frozen consumer cut off" {
	export SF_BUILD=$BUILD
	# The demo bounds each of its own waits; this bounds their sum.
	run --separate-stderr timeout "$(secs 120)" sh "$ROOT/examples/demo.sh"
	printf '%s\n' "$stderr" >>"$T/run.err"
	[ "$status" -eq 0 ] || fail "demo exit $status: $output$stderr"
	local want
	# The records are generated, not random: the consumers' summaries
	# are fixed, and show that they ran to the end.
	for want in "sfpipe exited 0 after 200000 records" \
	    "kept 2061 records" \
	    "200000 records: 182713 info, 15226 warn, 2061 error" \
	    "it printed all 200000 records, exactly as published: nobody was cut off" \
	    "kept 1030 records, all there are" \
	    "stalled on stream file: took no byte for 1 s" \
	    "evicted from stream file, reason=lag" "exit status 4:" \
	    "all 100000 records, none twice, none missing" \
	    "sfd exit status 0"; do
		grep -qF "$want" <<<"$output" || fail "demo never said: $want"
	done
}
