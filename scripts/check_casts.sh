#!/usr/bin/env bash
# Fails on any cast of a function, or of a function pointer, to a function
# pointer type, e.g. (tmr_h *)reconnect_start where reconnect_start takes
# a struct db *: calling a function through a pointer of another type is
# undefined behaviour (C11 6.3.2.3p8), even when it happens to work.
# Handlers are written with the exact type their caller expects, and
# convert their void *arg themselves.
#
#   scripts/check_casts.sh BUILD/compile_commands.json
#
# Run by ctest (check.function_casts) on every file the build compiles.
# Why not a sanitizer: clang 14 (Debian 12) accepts -fsanitize=function
# for C but instruments nothing (C support came with clang 17), and
# -fsanitize=cfi-icall needs LTO and would not see the calls made from
# inside libre (every fd and timer handler).  So the casts themselves are
# found, in clang's syntax tree: a C-style cast with kind BitCast from a
# function or function pointer to a function pointer type.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
db=${1:?usage: check_casts.sh BUILD/compile_commands.json}
[ -f "$db" ] || { echo "check_casts: $db not found" >&2; exit 1; }

# casts FILE [CLANG ARGS...]: "FILE:LINE: cast to TYPE" for each cast of
# a function or function pointer to a function pointer type in FILE
# itself (not in the headers it includes).  A pointer from dlsym() is a
# void *, not a function's: converting it is how dlsym() is used.
casts() {
	local file=$1; shift
	clang -fsyntax-only -w -Xclang -ast-dump -fno-color-diagnostics \
		"$@" "$file" | awk -v main="$file" '
	# the last quoted type on the line: the desugared one if both are
	function last_type(s) {
		while (match(s, /\047[^\047]*\047/)) {
			t = substr(s, RSTART + 1, RLENGTH - 2)
			s = substr(s, RSTART + RLENGTH)
		}
		return t
	}
	function is_fp(type,   name) {
		name = type; sub(/^const /, "", name)
		return type ~ /\(\*\)\(/ || name in fp_typedef ||
			(sub(/ \*$/, "", name) && name in fn_typedef)
	}
	# typedefs of function types (tmr_h: "void (void *)") and of
	# function pointer types ("void (*)(void *)")
	/TypedefDecl / && match($0, /[A-Za-z_0-9]+ \047/) {
		name = substr($0, RSTART, RLENGTH - 2)
		t = last_type($0)
		if (t ~ /\(\*\)\(/) fp_typedef[name] = 1
		else if (t ~ /\)$/) fn_typedef[name] = 1
	}
	{
		# where we are: the dump names a file or line only when it
		# changes, so follow every location it prints
		here = ""
		s = $0
		while (match(s, /([^ <>,:]+\.[ch]|line):[0-9]+:[0-9]+/)) {
			split(substr(s, RSTART, RLENGTH), p, ":")
			if (p[1] != "line") file = p[1]
			line = p[2]
			if (here == "") here = file ":" line
			s = substr(s, RSTART + RLENGTH)
		}
		if (here == "") here = file ":" line
	}
	# the operand of the cast before: a function, or a function pointer?
	pending != "" {
		if (/<FunctionToPointerDecay>/ || is_fp(last_type($0)))
			print pending
		pending = ""
	}
	/CStyleCastExpr .*<BitCast>/ && file == main {
		match($0, /\047[^\047]*\047(:\047[^\047]*\047)? <BitCast>/)
		type = last_type(substr($0, RSTART, RLENGTH))
		if (is_fp(type))
			pending = here ": cast to " type
	}'
}

# The check must be able to fail: it has to find these two, and only them.
sample=$(mktemp --suffix=.c)
trap 'rm -f "$sample"' EXIT
cat >"$sample" <<'C'
typedef void (handler_h)(void *arg);
struct thing;
void *lookup(const char *name);
static void typed(struct thing *t) { (void)t; }
void use(void)
{
	handler_h *a = (handler_h *)typed;
	void (*b)(void *) = (void (*)(void *))typed;
	handler_h *c = (handler_h *)lookup("typed");   /* as from dlsym() */
	(void)a; (void)b; (void)c;
}
C
if [ "$(casts "$sample" | wc -l)" != 2 ]; then
	echo "check_casts: the check does not find the casts it should with" \
		"this clang; fix the check" >&2
	exit 1
fi

# CMake writes one "command" line per file, JSON-escaped: \" and \\.
commands() {
	sed -n 's/^ *"command": "\(.*\)",\{0,1\}$/\1/p' "$db" |
		sed 's/\\\(["\\]\)/\1/g' | sort -u
}

found=0 files=0
while IFS= read -r cmd; do
	eval "set -- $cmd"
	args=() file=
	while [ $# -gt 0 ]; do
		case $1 in
		-D*|-I*|-std=*) args+=("$1") ;;
		-isystem) args+=("$1" "$2"); shift ;;
		-c) file=$2; shift ;;
		esac
		shift
	done
	case $file in "$top"/*) ;; *) continue ;; esac
	files=$((files + 1))
	out=$(casts "$file" "${args[@]}")
	if [ -n "$out" ]; then
		echo "${out//$top\//}"
		found=1
	fi
done < <(commands)

[ $files -gt 0 ] || { echo "check_casts: no file of $top in $db" >&2; exit 1; }
if [ $found = 1 ]; then
	echo "check_casts: a function is called through a pointer of another" \
		"type there; give the handler the exact type instead" >&2
	exit 1
fi
echo "check_casts: no function casts in $files compiled files"
