#!/usr/bin/env bash
# split_scp.sh -- split a Kaldi-style scp / text file into N contiguous parts by lines.
#
# Usage:
#   split_scp.sh in.scp out.1.scp ... out.N.scp
#   split_scp.sh --nj N in.scp [in2.scp ...] outdir/    # -> outdir/1/in.scp ... outdir/N/in.scp
#
# The parts keep the input order: part 1 gets the first lines, part N the last ones. With
# L lines, the first (L mod N) parts get ceil(L/N) lines and the others floor(L/N), so the
# result depends only on L and N (several files with the same lines, e.g. wav.scp and
# text of one data dir, split into matching parts). Every part gets at least one line:
# an input with fewer than N lines is an error. Output directories are created.
# Exit status: 0 on success, 1 on errors (nothing is written then).
set -euo pipefail

me=${0##*/}
die() { echo "${me}: ERROR: $*" >&2; exit 1; }
usage() { sed -n '2,/^set -euo pipefail$/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; }

nj=""
while [ $# -gt 0 ]; do
  case $1 in
    -h | --help) usage; exit 0 ;;
    --nj=*) nj=${1#--nj=}; shift ;;
    --nj) [ $# -ge 2 ] || die "--nj needs a value"; nj=$2; shift 2 ;;
    --) shift; break ;;
    --*) die "unknown option $1 (see ${me} --help)" ;;
    *) break ;;
  esac
done

# split_one IN OUT1 ... OUTN
split_one() {
  local in=$1 lines n out
  shift
  n=$#
  { [ -f "${in}" ] && [ -r "${in}" ]; } || die "no such readable file: ${in}"
  for out in "$@"; do
    if [ "${out}" -ef "${in}" ]; then die "output ${out} is the input file"; fi
  done
  lines=$(awk 'END { print NR }' "${in}")
  [ "${lines}" -ge "${n}" ] || die "${in} has ${lines} lines, fewer than the ${n} parts asked for"
  for out in "$@"; do mkdir -p -- "$(dirname -- "${out}")"; done
  # Output names travel through the environment (awk -v would interpret backslashes).
  SPLIT_SCP_OUTS=$(printf '%s\n' "$@") awk -v n="${n}" -v total="${lines}" '
    BEGIN {
      split(ENVIRON["SPLIT_SCP_OUTS"], outs, "\n")
      base = int(total / n); extra = total % n
      part = 1; left = base + (part <= extra ? 1 : 0)
    }
    {
      if (left == 0) { close(outs[part]); part++; left = base + (part <= extra ? 1 : 0) }
      print > outs[part]
      left--
    }
    END { close(outs[part]) }' "${in}"
}

if [ -n "${nj}" ]; then
  [[ ${nj} =~ ^[1-9][0-9]*$ ]] || die "--nj must be a positive integer, got '${nj}'"
  [ $# -ge 2 ] || die "usage: ${me} --nj N in.scp [in2.scp ...] outdir"
  outdir=${*: -1}
  inputs=("${@:1:$#-1}")
  # Check every input first, so that nothing is written when one of them is too short.
  for in in "${inputs[@]}"; do
    { [ -f "${in}" ] && [ -r "${in}" ]; } || die "no such readable file: ${in}"
    lines=$(awk 'END { print NR }' "${in}")
    [ "${lines}" -ge "${nj}" ] || die "${in} has ${lines} lines, fewer than the ${nj} parts asked for"
  done
  for in in "${inputs[@]}"; do
    outs=()
    for ((j = 1; j <= nj; j++)); do outs+=("${outdir%/}/${j}/$(basename -- "${in}")"); done
    split_one "${in}" "${outs[@]}"
  done
else
  [ $# -ge 2 ] || die "usage: ${me} in.scp out.1.scp ... out.N.scp  |  ${me} --nj N in.scp outdir"
  split_one "$@"
fi
