#!/usr/bin/env bats
# What a user reads and installs: man pages, completions, make install and
# the demo, checked against the programs themselves so they cannot drift.

load helpers

PROGS="sfd sfpipe sfcat sfctl"

# The options a program takes, one per line: what its --help shows, plus
# -h, --help and --version.  Fails unless --help works and shows some.
options_of() {
	local help
	help=$("$BUILD/cmd/$1/$1" --help) || fail "$1 --help failed"
	help=$(tr -c 'A-Za-z0-9-' '\n' <<<"$help" |
	    grep -E '^-([A-Za-z0-9]|-[a-z][a-z-]*)$') ||
	    fail "$1 --help shows no option"
	printf '%s\n' $help -h --help --version | sort -u
}

# Compare two sorted lists; on a difference, name what is missing where.
same_options() {
	local what=$1 want=$2 got=$3
	if [ "$want" != "$got" ]; then
		echo "$what differs from --help (< only in --help, > only in $what):"
		diff <(echo "$want") <(echo "$got") | grep '^[<>]'
		return 1
	fi
}

@test "each man page's OPTIONS list has exactly the program's options" {
	local p
	for p in $PROGS; do
		# mdoc writes --ring as "Fl \-ring" and -l as "Fl l".
		same_options "OPTIONS of $p.1" "$(options_of "$p")" \
		    "$(sed -n '/^\.Sh OPTIONS/,/^\.Sh /p' "$ROOT/cmd/$p/$p.1" |
		    grep '^\.It' | grep -oE 'Fl (\\-[a-z][a-z-]*|[A-Za-z0-9])' |
		    sed -E 's/^Fl \\-/--/; s/^Fl /-/' | sort -u)"
	done
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
		# shellcheck disable=SC1090
		source "$ROOT/completions/bash/$p"
		COMP_WORDS=("$p" -)
		COMP_CWORD=1
		COMPREPLY=()
		"_$p"
		same_options "bash completion of $p" "$(options_of "$p")" \
		    "$(printf '%s\n' "${COMPREPLY[@]}" | sort -u)"
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
		# Quoted conditions (-n '... -s 0 -l raw') name options too:
		# only what stands outside quotes offers one.
		same_options "fish completion of $p" "$(options_of "$p")" \
		    "$(grep -E "^complete -c $p " "$f" | sed -E "s/'[^']*'//g" |
		    grep -oE ' -[sl] [A-Za-z0-9][a-z-]*' |
		    sed -E 's/^ -s /-/; s/^ -l /--/' | sort -u)"
		if command -v fish >/dev/null; then
			fish --no-execute "$f" || fail "$f: fish syntax"
		fi
	done
}

@test "zsh completion lists exactly each program's options" {
	local p f
	for p in $PROGS; do
		f=$ROOT/completions/zsh/_$p
		# An option opens a spec: '-x[', '--opt=[', '(excl)-x[',
		# '*-x[' (repeatable) or {-h,--help}.  The look-behind needs
		# GNU grep -P, as on any Linux this project builds on.
		same_options "zsh completion of $p" "$(options_of "$p")" \
		    "$(grep -oP "(?<=['{,)*])--?[A-Za-z0-9][a-z-]*(?=[[=,}])" \
		    "$f" | sort -u)"
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
