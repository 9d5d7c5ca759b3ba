#!/usr/bin/env bash
# Cache-hit throughput and server CPU per request on one core: our edge node against nginx
# proxy_cache (plain) and/or nginx with one njs header hook (njs), interleaved in one run.
#
#   bench/side-by-side.sh EDGE_BIN plain|njs|both [extra `edge node` arguments]
#
# Each server is pinned to CPU 0, wrk and the mock origin to CPU 1. Every run checks that the
# answers were 2xx cache hits: a server answering errors is reported, never counted.
# Unlike ../shared/peers/compare.sh, the work directory is made readable so nginx's unprivileged
# worker can open its cache when this runs as root (with a 0700 mktemp dir it answers 500s).
#
# Needs: nginx libnginx-mod-http-js wrk (apt-get), taskset, curl, python3.
# Env: RUNS (5), SECS (3), CONNS (64), OBJECT (/bytes/1024?cache_control=max-age%3D600).
set -uo pipefail
edge=${1:?EDGE_BIN}; variant=${2:?plain|njs|both}; shift 2
peers=../shared/peers
[[ -d $peers ]] || peers=$(cd "$(dirname "$0")/../../shared/peers" && pwd)
runs=${RUNS:-5} secs=${SECS:-3} conns=${CONNS:-64} object=${OBJECT:-/bytes/1024?cache_control=max-age%3D600}
for t in wrk nginx taskset curl python3; do command -v $t >/dev/null || { echo "needs $t"; exit 2; }; done
case $variant in plain) variants=(plain) ;; njs) variants=(njs) ;; both) variants=(plain njs) ;; *) echo "variant: plain|njs|both"; exit 2 ;; esac

work=$(mktemp -d); chmod 755 "$work"; pids=()
cleanup() {
  for v in "${variants[@]}"; do "$peers/nginx-edge.sh" stop "$work/nginx-$v"; done
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$work"
}
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
up() { for _ in $(seq 150); do (echo >/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.1; done; echo "nothing listens on $1"; exit 1; }
# CPU ticks (user+system) of a process and its children's threads, from /proc.
ticks() { local t=0; for p in "$@"; do t=$((t + $(awk '{print $14+$15}' /proc/$p/stat 2>/dev/null || echo 0))); done; echo $t; }
hz=$(getconf CLK_TCK)

po=$(port); pe=$(port)
taskset -c 1 "$edge" origin --listen 127.0.0.1:$po >"$work/origin.log" 2>&1 & pids+=($!); up $po
taskset -c 0 "$edge" node --listen 127.0.0.1:$pe --origin http://127.0.0.1:$po "$@" >"$work/node.log" 2>&1 & pids+=($!); edge_pid=$!; up $pe
declare -A nport npids
for v in "${variants[@]}"; do
  nport[$v]=$(port)
  master=$(taskset -c 0 "$peers/nginx-edge.sh" start "$work/nginx-$v" ${nport[$v]} 127.0.0.1:$po "$v") || { echo "nginx-$v did not start"; exit 1; }
  up ${nport[$v]}
  npids[$v]="$master $(pgrep -P "$master" | tr '\n' ' ')"
done

hit() { curl -s -D- -o /dev/null "$1" | tr -d '\r' | awk -F': ' 'tolower($1)=="x-cache"||tolower($1)=="x-cache-status"{print $2}'; }
for url in "http://127.0.0.1:$pe$object" $(for v in "${variants[@]}"; do echo "http://127.0.0.1:${nport[$v]}$object"; done); do
  curl -s -o /dev/null "$url"; h=$(hit "$url")
  case $h in Hit*|HIT) ;; *) echo "$url is not answered from cache (X-Cache: '$h')"; exit 1 ;; esac
done

# One wrk run: prints "req/s cpu_us_per_req"; fails when any answer was not 2xx/3xx.
measure() {
  local url=$1; shift
  local t0 out t1 rps errs reqs
  t0=$(ticks "$@")
  out=$(taskset -c 1 wrk -t1 -c$conns -d${secs}s "$url" 2>&1)
  t1=$(ticks "$@")
  errs=$(awk '/Non-2xx/ {print $5}' <<<"$out"); rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  reqs=$(awk '/requests in/ {print $1}' <<<"$out")
  if [[ -n $errs && $errs != 0 ]]; then echo "ERROR: $errs non-2xx answers from $url" >&2; return 1; fi
  python3 -c "print(f'{$rps:.0f} {($t1-$t0)/$hz*1e6/max($reqs,1):.2f}')"
}

declare -A ratio cpu_ratio
for v in "${variants[@]}"; do ratio[$v]=""; cpu_ratio[$v]=""; done
for i in $(seq "$runs"); do
  read -r erps ecpu < <(measure "http://127.0.0.1:$pe$object" $edge_pid) || exit 1
  line="run $i: edge $erps req/s ${ecpu} us/req"
  for v in "${variants[@]}"; do
    read -r nrps ncpu < <(measure "http://127.0.0.1:${nport[$v]}$object" ${npids[$v]}) || exit 1
    r=$(python3 -c "print(f'{$erps/max($nrps,1):.3f}')"); c=$(python3 -c "print(f'{$ecpu/max($ncpu,0.001):.3f}')")
    ratio[$v]+="$r "; cpu_ratio[$v]+="$c "
    line+=" | nginx-$v $nrps req/s ${ncpu} us/req, ratio $r"
  done
  echo "$line"
done
med() { python3 -c "import sys; v=sorted(float(x) for x in sys.argv[1:]); print(f'{v[len(v)//2]:.2f}')" $1; }
for v in "${variants[@]}"; do
  echo "median throughput ratio edge/nginx-$v: $(med "${ratio[$v]}")  (CPU us/req ratio edge/nginx-$v: $(med "${cpu_ratio[$v]}"))"
done
