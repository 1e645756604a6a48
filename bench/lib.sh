# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
# Much here sets variables for the sourcing script (SC2034), and the
# defaults of bench_run_modes are the script's ($rounds, SC2154).
# shellcheck disable=SC2034,SC2154
# bench/lib.sh: what every bench script does the same way: its options and
# --help, the loop over sizes, rounds and modes, the results table, and the
# common steps (root and command checks, a veth pair in a network
# namespace, scratch space on tmpfs, a process's CPU time). Sourced, not
# run, before the script registers its options; set -euo pipefail is the
# caller's. bench/README.md says what each bench measures.
#
# A script's shape:
#
#   . "$here/../lib.sh"
#   bench_common_options build capx gen out       # the shared ones it takes
#   bench_option --rounds N rounds "runs of every mode (default 5)"
#   bench_parse_options "$@"
#   ...checks, setup...
#   run_mode() { ... }                            # SIZE ROUND MODE: one run
#   bench_results_init size round mode pps        # results.tsv's columns
#   bench_run_modes run_mode                      # rows via bench_row
#   ...summary of "$results"...

bench_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# "bench/ring/split.sh" etc., for messages.
bench_name="bench/$(basename "$(cd "$(dirname "$0")" && pwd)")/$(basename "$0")"

die() { echo "$bench_name: $*" >&2; exit 1; }

# --- options -------------------------------------------------------------------

# Options in registration order (the order --help lists them), and per
# option its value's placeholder ("" for a flag), what it sets and its help.
bench_opts=()
declare -A bench_opt_arg=() bench_opt_to=() bench_opt_help=()
# Positional arguments, for the scripts that take them (bench_args_usage
# names them in --help, e.g. "[build-dir]"); without it, any is an error.
bench_args=()
bench_args_usage=
bench_args_help=

# bench_option NAME ARG TO HELP: registers option NAME (--rounds). ARG is
# its value's placeholder in --help (N, DIR, "LIST"), empty for a flag. TO
# is what it does: VAR=VALUE for a flag (--no-rt: rt=0), a variable name
# for an option with a value, or FUNC() to call FUNC with the value (an
# option given more than once, or one that sets several variables). HELP is
# one line; --help wraps it. The default is the caller's plain assignment
# to the variable, and HELP says what it is. Registering a name again
# replaces it in place (a script rewording a common option's help).
bench_option() {
	local name=$1 arg=$2 to=$3 help=$4
	[[ -v bench_opt_to[$name] ]] || bench_opts+=("$name")
	bench_opt_arg[$name]=$arg bench_opt_to[$name]=$to bench_opt_help[$name]=$help
}

# bench_common_options NAME...: the options several scripts take with the
# same meaning and default, with those defaults set. The ones whose default
# differs from script to script (--sizes, --rounds, --seconds, --modes,
# --ring-mb, --quick) each script registers itself.
bench_common_options() {
	local o
	for o; do
		case $o in
		build)
			build=${CAPX_BUILD_ROOT:-$bench_root/build}
			bench_option --build DIR build "meson build dir holding capx, capx-gen and the bench binaries (default: \$CAPX_BUILD_ROOT or $bench_root/build)" ;;
		capx)
			capx=
			bench_option --capx PATH capx "capx binary (default: DIR/src/capx)" ;;
		gen)
			gen=
			bench_option --gen PATH gen "capx-gen binary (default: DIR/tests/progs/capx-gen)" ;;
		out)
			out=
			bench_option --out DIR out "keep results.tsv and logs here (default: a temp dir, removed at exit; results.tsv is copied to /tmp)" ;;
		gen-cpu)
			gen_cpu=0
			bench_option --gen-cpu N gen_cpu "CPU for the generator (default 0)" ;;
		cap-cpu)
			cap_cpu=1
			bench_option --cap-cpu N cap_cpu "CPU for the capture (default 1)" ;;
		no-rt)
			rt=1
			bench_option --no-rt "" rt=0 "do not run generator and capture as SCHED_FIFO" ;;
		*) die "bench_common_options: no option '$o'" ;;
		esac
	done
}

# bench_usage: --help, from the registered options.
bench_usage() {
	local name head text line first width=22
	echo "usage: $0 [options]${bench_args_usage:+ $bench_args_usage}"
	[ -z "$bench_args_help" ] || printf '%s\n' "$bench_args_help" | fold -s -w 76 | sed 's/ *$//; s/^/  /'
	for name in "${bench_opts[@]}" -h; do
		if [ "$name" = -h ]; then
			head="  -h, --help" text="this list"
		else
			head="  $name${bench_opt_arg[$name]:+ ${bench_opt_arg[$name]}}" text=${bench_opt_help[$name]}
		fi
		first=1
		# Too long a head puts the help on the next line.
		[ ${#head} -lt $width ] || { echo "$head"; head=; }
		while IFS= read -r line; do
			if [ $first = 1 ]; then
				printf '%-*s%s\n' $width "$head" "$line"
				first=0
			else
				printf '%-*s%s\n' $width "" "$line"
			fi
		done < <(printf '%s\n' "$text" | fold -s -w $((78 - width)) | sed 's/ *$//')
	done
}

# bench_parse_options ARG...: sets what the options say; -h/--help prints
# the usage and exits 0, an unknown option prints it and exits 2.
bench_parse_options() {
	local name to
	while [ $# -gt 0 ]; do
		name=$1
		case $name in
		-h | --help) bench_usage; exit 0 ;;
		--) shift; bench_args+=("$@"); break ;;
		esac
		if [[ ! -v bench_opt_to[$name] ]]; then
			if [[ $name != -* && -n $bench_args_usage ]]; then
				bench_args+=("$name")
				shift
				continue
			fi
			echo "$bench_name: unknown option '$name'" >&2
			bench_usage >&2
			exit 2
		fi
		to=${bench_opt_to[$name]}
		if [ -z "${bench_opt_arg[$name]}" ]; then
			printf -v "${to%%=*}" %s "${to#*=}"
		else
			[ $# -ge 2 ] || { echo "$bench_name: $name takes ${bench_opt_arg[$name]}" >&2; exit 2; }
			if [[ $to == *'()' ]]; then
				"${to%'()'}" "$2"
			else
				printf -v "$to" %s "$2"
			fi
			shift
		fi
		shift
	done
}

# --- the runs --------------------------------------------------------------------

# bench_run_modes [OPTION...] FUNC: runs FUNC SIZE STEP MODE for each size,
# each step and each mode, in that nesting: all modes of a step run back to
# back, so that the machine's drifting load hits them alike and a step
# compares like with like. A FUNC that fails (a tool that did not start)
# leaves its row out; the loop goes on.
#   --sizes "LIST"   sizes (default: $sizes; bench/mbuf has one, 64)
#   --modes "LIST"   modes (default: $modes)
#   --steps FUNC     the steps of a size are the words FUNC SIZE prints
#                    (bench/ring: a ladder of rates); default: the rounds
#                    1..$rounds
#   --heading FUNC   FUNC SIZE STEP runs before the step's modes, in this
#                    shell (it may set what FUNC uses, e.g. a frame count)
#   --skip FUNC      FUNC SIZE STEP MODE true: the mode sits this step out
#                    (FUNC says why)
#   --rotate         each step starts one mode later than the one before, so
#                    that no mode always runs first after the pause between
#                    steps (bench/mbuf: testpmd's rate settles after each
#                    detach)
bench_run_modes() {
	local run_sizes=${sizes:-} run_modes=${modes:-} steps='' heading='' skip='' rotate=0
	while [ $# -gt 1 ]; do
		case $1 in
		--sizes) run_sizes=$2; shift ;;
		--modes) run_modes=$2; shift ;;
		--steps) steps=$2; shift ;;
		--heading) heading=$2; shift ;;
		--skip) skip=$2; shift ;;
		--rotate) rotate=1 ;;
		*) die "bench_run_modes: no option '$1'" ;;
		esac
		shift
	done
	local func=$1 size step mode n=0 i
	local -a order
	for size in $run_sizes; do
		for step in $(if [ -n "$steps" ]; then "$steps" "$size"; else seq "$rounds"; fi); do
			[ -z "$heading" ] || "$heading" "$size" "$step"
			read -ra order <<<"$run_modes"
			if [ $rotate = 1 ] && [ ${#order[@]} -gt 0 ]; then
				for ((i = 0; i < n % ${#order[@]}; i++)); do
					order=("${order[@]:1}" "${order[0]}")
				done
			fi
			n=$((n + 1))
			for mode in "${order[@]}"; do
				if [ -n "$skip" ] && "$skip" "$size" "$step" "$mode"; then
					continue
				fi
				"$func" "$size" "$step" "$mode" || true
			done
		done
	done
}

# bench_results_init COLUMN...: starts the results table, one row per run
# ($results: results.tsv in $logs, see bench_scratch), with these columns.
bench_results_init() {
	results=$logs/results.tsv
	(IFS=$'\t'; echo "$*") >"$results"
}

# bench_row FIELD...: appends a row to the results table.
bench_row() {
	(IFS=$'\t'; echo "$*") >>"$results"
}

# bench_results_done NAME: says where the table is. Without --out it is in
# the scratch dir, which the trap removes: a copy goes to
# /tmp/NAME-results.PID.tsv.
bench_results_done() {
	if [ -n "${out:-}" ]; then
		echo "results: $results"
	else
		cp "$results" "/tmp/$1-results.$$.tsv"
		echo "results: /tmp/$1-results.$$.tsv"
	fi
}

# bench_load_average WHEN: the load average, to read the figures by.
bench_load_average() {
	echo "load average $1: $(cut -d' ' -f1-3 /proc/loadavg)"
}

# --- checks and setup ------------------------------------------------------------

# bench_require_root WHY: WHY names what needs root (namespaces, BPF, ...).
bench_require_root() {
	[ "$(id -u)" = 0 ] || die "needs root ($1)"
}

# bench_require_commands CMD...: each must be on PATH.
bench_require_commands() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null || die "$c is not installed"
	done
}

# bench_require_built PATH NAME: a binary of the build tree (capx,
# capx-gen, ring-floor, ...) must be there.
bench_require_built() {
	[ -x "$1" ] || die "no $2 at $1 (build it: ninja -C ${build:-build}, or see --help)"
}

# bench_scratch NAME: sets `scratch` to a new directory on tmpfs (capture
# files go there so that disk speed limits no tool) and `logs` to $out when
# the caller was given one (kept), else to the scratch directory (removed
# by the caller's trap).
bench_scratch() {
	scratch=$(mktemp -d "/dev/shm/$1.XXXXXX")
	if [ -n "${out:-}" ]; then
		mkdir -p "$out"
		logs=$out
	else
		logs=$scratch
	fi
}

# bench_veth_pair NS TX RX: a network namespace NS holding a veth pair TX
# (where the generator sends) and RX (where captures look), both up, with
# IPv6 off so that nothing but the generator's frames crosses the link
# (router and neighbour solicitations would be extra frames in every
# capture). Defines nsx (run in NS) and sets rx_index. The caller's trap
# deletes NS.
bench_veth_pair() {
	local ns=$1 tx=$2 rx=$3
	ip netns add "$ns"
	eval "nsx() { ip netns exec '$ns' \"\$@\"; }"
	nsx sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	ip -n "$ns" link add "$tx" type veth peer name "$rx"
	ip -n "$ns" link set "$tx" up
	ip -n "$ns" link set "$rx" up
	rx_index=$(nsx cat /sys/class/net/"$rx"/ifindex)
}

# bench_running_packet_sockets IFINDEX: how many packet sockets in the
# namespace are bound to IFINDEX and running (columns Iface and R of
# /proc/net/packet, packet_seq_show(); R is 0 while a ring is being set up,
# packet_set_ring() unhooks the socket), i.e. how many captures listen.
bench_running_packet_sockets() {
	nsx awk -v idx="$1" 'NR > 1 && $5 == idx && $6 == 1 { n++ } END { print n + 0 }' /proc/net/packet
}

# --- measuring -------------------------------------------------------------------

# cpu_ns PID: on-CPU time of every thread of a process, in ns (the first
# field of /proc/PID/task/*/schedstat: ns precision, where /proc/PID/stat
# counts 10 ms ticks).
cpu_ns() {
	local total=0 f v
	for f in /proc/"$1"/task/*/schedstat; do
		read -r v _ < "$f" 2>/dev/null || continue
		total=$((total + v))
	done
	echo $total
}

file_size() { stat -c %s "$1" 2>/dev/null || echo 0; }

# bench_wait_drained FILE: returns once FILE has not grown for 1.2 s (at
# most 10 s). A capture has then written what it got: libpcap hands over a
# TPACKET_V3 block when it is full or its timeout (tcpdump: 1000 ms)
# expires, and tcpdump exits on SIGINT without reading the rest.
bench_wait_drained() {
	local last=-1 stable=0 now
	for _ in $(seq 100); do
		now=$(file_size "$1")
		if [ "$now" = "$last" ]; then
			stable=$((stable + 1))
			[ $stable -ge 12 ] && return 0
		else
			stable=0
			last=$now
		fi
		sleep 0.1
	done
}

# bench_pcap_count FILE: packets in a capture file (0 when unreadable).
bench_pcap_count() {
	local n
	n=$(capinfos -c -M "$1" 2>/dev/null | awk -F: '/Number of packets/ { gsub(/ /, "", $2); print $2 }')
	echo "${n:-0}"
}
