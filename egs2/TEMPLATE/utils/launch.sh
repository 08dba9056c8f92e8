#!/usr/bin/env bash
# launch.sh -- run a command as one job or as an array of jobs, on this machine or on
# Slurm, with one log file per job (the calling convention of Kaldi's run.pl/slurm.pl).
#
# Usage:
#   launch.sh [options] JOB=1:N log/name.JOB.log command [args...]   # N jobs, JOB=1..N
#   launch.sh [options] JOB=3   log/name.JOB.log command [args...]   # one job, JOB=3
#   launch.sh [options]         log/name.log     command [args...]   # one job
#
#   Any variable name works in place of JOB (e.g. SPLIT=1:4). Its name is replaced by
#   the job id everywhere in the log path and in the command arguments (plain substring
#   replacement: out.JOB.ark, split4/JOB/wav.scp). With more than one job the log path
#   must contain it. Options may come before or after JOB=..., never after the log path.
#
# Command: several arguments are joined Kaldi-style: an argument without whitespace is
#   passed to the shell as is (so \| \> \&\& \; make pipelines and redirections, $VAR
#   expands), an argument with whitespace is quoted and stays one argument. A single
#   argument is taken as a complete shell command line:
#       launch.sh JOB=1:4 log/x.JOB.log 'python -m foo --part JOB | gzip -c > out.JOB.gz'
#   The command runs with `bash -o pipefail -c`, in the current directory, with the
#   current environment, stdin from /dev/null, stdout and stderr appended to its log.
#
# Options (--name value or --name=value; dashes or underscores):
#   --backend local|slurm  where to run (default: local)
#   --max_jobs_run N       local: at most N jobs at a time (default: number of CPUs);
#                          slurm: array throttle (--array=1-N%M; default: none)
#   --gpu N                slurm: --gres=gpu:N (nothing if 0)          } not enforced by
#   --mem SIZE             slurm: --mem=SIZE, per job (e.g. 16G)       } the local backend:
#   --time T               slurm: --time=T (e.g. 1:00:00)              } jobs run as they
#   --num_threads N        slurm: --cpus-per-task=N                    } are
#   --partition P          slurm: --partition=P
#   --account A            slurm: --account=A
#   --sbatch_opts "..."    slurm: more sbatch options (split at whitespace)
#   --tail_lines N         how many lines of a failed job's log to show (default: 10)
#   --help                 this text
#
# Logs: each log starts with "# <command line>" and "# Started at <date> on <host>",
#   and ends with "# Accounting: time=<s> threads=<n>" and
#   "# Ended (code <exit code>) at <date>, elapsed time <s> seconds".
#
# local: runs the jobs in parallel (each in its own process group; SIGINT/SIGTERM to
#   launch.sh stops them all), waits for all of them.
# slurm: writes <logdir>/q/<name>.sh, which runs launch.sh --backend local for one job id
#   on the compute node (so the logs look the same), and submits it with
#   `sbatch --wait` (an array job for JOB=a:b). Slurm's own output goes to
#   <logdir>/q/<name>-<jobid>_<task>.out. SIGINT/SIGTERM to launch.sh cancels the job.
#   Needs a filesystem shared with the compute nodes.
#
# Exit status: 0 if every job ended with code 0; 1 if any failed (a report on stderr
#   names each failed job, its log and the last lines of the log); 2 on usage errors
#   or when the backend is unavailable (e.g. no sbatch).
set -euo pipefail

me=${0##*/}
self_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
self="${self_dir}/$(basename "${BASH_SOURCE[0]}")"

usage() { sed -n '2,/^set -euo pipefail$/{/^set -euo/d;s/^# \{0,1\}//;p}' "${self}"; }
die() { echo "${me}: ERROR: $*" >&2; exit 2; }

backend=local
max_jobs_run=""
gpu=0
mem=""
time_limit=""
num_threads=1
partition=""
account=""
sbatch_opts=""
tail_lines=10

jobvar=""
job_start=""
job_end=""

while [ $# -gt 0 ]; do
  case $1 in
    --help | -h) usage; exit 0 ;;
    --?*)
      opt=${1#--}
      if [[ ${opt} == *=* ]]; then
        val=${opt#*=}; opt=${opt%%=*}; shift
      else
        [ $# -ge 2 ] || die "option --${opt} needs a value"
        val=$2; shift 2
      fi
      case ${opt//-/_} in
        backend) backend=${val} ;;
        max_jobs_run) max_jobs_run=${val} ;;
        gpu) gpu=${val} ;;
        mem) mem=${val} ;;
        time) time_limit=${val} ;;
        num_threads) num_threads=${val} ;;
        partition) partition=${val} ;;
        account) account=${val} ;;
        sbatch_opts) sbatch_opts=${val} ;;
        tail_lines) tail_lines=${val} ;;
        *) die "unknown option --${opt} (see ${me} --help)" ;;
      esac
      ;;
    *=*)
      [[ $1 =~ ^([A-Za-z_][A-Za-z0-9_]*)=([0-9]+)(:([0-9]+))?$ ]] || break
      [ -z "${jobvar}" ] || die "more than one job range ($jobvar=... and $1)"
      jobvar=${BASH_REMATCH[1]}
      job_start=$((10#${BASH_REMATCH[2]}))
      job_end=$((10#${BASH_REMATCH[4]:-${BASH_REMATCH[2]}}))
      [ "${job_start}" -le "${job_end}" ] || die "empty job range $1"
      shift
      ;;
    *) break ;;
  esac
done

[ $# -ge 2 ] || die "expected a log file and a command (see ${me} --help)"
log_tmpl=$1
shift
cmd_args=("$@")

for v in gpu num_threads tail_lines; do
  [[ ${!v} =~ ^[0-9]+$ ]] || die "--${v} must be a non-negative integer, got '${!v}'"
done
if [ -n "${max_jobs_run}" ]; then
  [[ ${max_jobs_run} =~ ^[1-9][0-9]*$ ]] || die "--max_jobs_run must be a positive integer, got '${max_jobs_run}'"
fi
case ${backend} in local | slurm) ;; *) die "unknown backend '${backend}' (local or slurm)" ;; esac

if [ -z "${jobvar}" ]; then
  # One job, no substitution.
  jobvar=""
  ids=("")
else
  if [ "${job_end}" -gt "${job_start}" ] && [[ ${log_tmpl} != *"${jobvar}"* ]]; then
    die "the log path '${log_tmpl}' must contain ${jobvar} when running ${job_start}..${job_end}"
  fi
  mapfile -t ids < <(seq "${job_start}" "${job_end}")
fi

# subst STRING ID: STRING with the job variable replaced by ID.
subst() {
  if [ -n "${jobvar}" ]; then printf '%s' "${1//"${jobvar}"/$2}"; else printf '%s' "$1"; fi
}

# quote STRING: STRING quoted for the shell (single quotes where possible: readable logs).
quote() {
  if [[ $1 != *"'"* ]]; then printf "'%s'" "$1"; else printf '%q' "$1"; fi
}

# command_line ID: the shell command line of job ID.
command_line() {
  local a out=""
  if [ "${#cmd_args[@]}" -eq 1 ]; then
    subst "${cmd_args[0]}" "$1"
    return 0
  fi
  for a in "${cmd_args[@]}"; do
    a=$(subst "${a}" "$1")
    if [[ ${a} =~ ^[^[:space:]]+$ ]]; then
      out+="${a} "
    else
      out+="$(quote "${a}") "
    fi
  done
  printf '%s' "${out% }"
}

job_label() { if [ -n "${jobvar}" ]; then printf '%s=%s' "${jobvar}" "$1"; else printf 'the job'; fi; }

# exit_code_of LOG: the code in the log's "# Ended (code N)" line; empty if none.
exit_code_of() {
  sed -n 's/^# Ended (code \([0-9]*\)).*/\1/p' "$1" 2>/dev/null | tail -n 1
}

# report [OUT]: checks every job's log; prints a failure report; returns 1 if any
# failed. OUT: where the scheduler's own output of a job went ("%a": the job id).
report() {
  local id log code why failed=() shown=0 out
  for id in "${ids[@]}"; do
    log=$(subst "${log_tmpl}" "${id}")
    out=${1:-}
    out=${out//"%a"/${id}}
    if [ ! -f "${log}" ]; then
      why="no log file: the job did not start${out:+; see ${out}}"
    else
      code=$(exit_code_of "${log}")
      if [ -z "${code}" ]; then
        why="no exit code in its log: killed?${out:+ see ${out}}"
      elif [ "${code}" -ne 0 ]; then
        why="exit code ${code}"
      else
        continue
      fi
    fi
    failed+=("${id}")
    if [ "${shown}" -lt 3 ]; then
      shown=$((shown + 1))
      echo "${me}: $(job_label "${id}") failed (${why}); log: ${log}" >&2
      if [ -f "${log}" ] && [ "${tail_lines}" -gt 0 ]; then
        echo "${me}: last lines of ${log}:" >&2
        grep -v -e '^# Accounting: ' -e '^# Ended (code ' "${log}" | tail -n "${tail_lines}" |
          sed 's/^/    | /' >&2 || true
      fi
    else
      echo "${me}: $(job_label "${id}") failed (${why}); log: ${log}" >&2
    fi
  done
  [ "${#failed[@]}" -gt 0 ] || return 0
  if [ -n "${jobvar}" ]; then
    echo "${me}: ${#failed[@]} of ${#ids[@]} jobs failed (${jobvar}=${failed[*]}); command: $(command_line "${jobvar}")" >&2
  else
    echo "${me}: the job failed; command: $(command_line "")" >&2
  fi
  return 1
}

# ---------------------------------------------------------------- local backend
# run_job ID: runs job ID with its log (in a subshell of its own).
run_job() {
  local id=$1 log cmd rc=0 t0 t1
  log=$(subst "${log_tmpl}" "${id}")
  cmd=$(command_line "${id}")
  mkdir -p -- "$(dirname -- "${log}")"
  t0=$(date +%s)
  {
    printf '%s\n' "${cmd}" | sed 's/^/# /'
    printf '# Started at %s on %s\n#\n' "$(date)" "${HOSTNAME:-$(uname -n)}"
  } > "${log}"
  exec 2>> "${log}"  # also this shell's own messages (e.g. "Terminated")
  # A TERM sent to this process group reaches the command too; the trap only makes this
  # shell wait for it and write the footer.
  trap 'true' TERM
  bash -o pipefail -c "${cmd}" >> "${log}" 2>&1 < /dev/null || rc=$?
  t1=$(date +%s)
  printf '# Accounting: time=%d threads=%d\n# Ended (code %d) at %s, elapsed time %d seconds\n' \
    "$((t1 - t0))" "${num_threads}" "${rc}" "$(date)" "$((t1 - t0))" >> "${log}"
  return "${rc}"
}

run_local() {
  local id max pids=()
  max=${max_jobs_run:-$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)}
  # shellcheck disable=SC2317  # invoked by the trap
  on_signal() {
    trap - INT TERM
    local p
    for p in "${pids[@]}"; do kill -TERM -- "-${p}" 2> /dev/null || true; done
    wait || true
    echo "${me}: interrupted by SIG$1; stopped the running jobs (logs: ${log_tmpl})" >&2
    [ "$1" = INT ] && exit 130
    exit 143
  }
  trap 'on_signal INT' INT
  trap 'on_signal TERM' TERM
  for id in "${ids[@]}"; do
    while [ "$(jobs -rp | wc -l)" -ge "${max}" ]; do wait -n || true; done
    set -m  # the job gets a process group of its own, so that it can be stopped as a whole
    run_job "${id}" > /dev/null &
    set +m
    pids+=("$!")
  done
  for id in "${pids[@]}"; do wait "${id}" || true; done
  trap - INT TERM
  report ""
}

# ---------------------------------------------------------------- slurm backend
run_slurm() {
  command -v sbatch > /dev/null 2>&1 ||
    die "--backend slurm needs Slurm's 'sbatch', which is not on PATH on this machine; use --backend local (cmd_backend=local in cmd.sh)"
  local first_log qdir name script out sb sb_pid rc=0 jobid="" a
  first_log=$(subst "${log_tmpl}" "${ids[0]}")
  qdir="$(dirname -- "${first_log}")/q"
  name=$(basename -- "${log_tmpl}")
  name=${name%.log}
  if [ -n "${jobvar}" ]; then
    name=${name//".${jobvar}"/}
    name=${name//"${jobvar}"/}
  fi
  [ -n "${name}" ] || name=job
  mkdir -p -- "${qdir}"
  script="${qdir}/${name}.sh"

  sb=(sbatch --wait --parsable "--job-name=${name}")
  local inner=("${self}" --backend local --num_threads "${num_threads}" --tail_lines "${tail_lines}")
  if [ -n "${jobvar}" ]; then
    out="${qdir}/${name}-%A_%a.out"
    sb+=("--array=${job_start}-${job_end}${max_jobs_run:+%${max_jobs_run}}")
  else
    out="${qdir}/${name}-%j.out"
  fi
  sb+=("--output=${out}")
  [ "${gpu}" -eq 0 ] || sb+=("--gres=gpu:${gpu}")
  [ -z "${mem}" ] || sb+=("--mem=${mem}")
  [ -z "${time_limit}" ] || sb+=("--time=${time_limit}")
  [ "${num_threads}" -le 1 ] || sb+=("--cpus-per-task=${num_threads}")
  [ -z "${partition}" ] || sb+=("--partition=${partition}")
  [ -z "${account}" ] || sb+=("--account=${account}")
  if [ -n "${sbatch_opts}" ]; then
    local extra
    read -r -a extra <<< "${sbatch_opts}"
    sb+=("${extra[@]}")
  fi

  {
    echo '#!/usr/bin/env bash'
    echo "# Written by ${me} at $(date); submitted with:"
    printf '#   %s\n' "$(printf '%q ' "${sb[@]}")${script}"
    printf 'cd %q || exit 1\n' "$(pwd)"
    printf 'exec'
    printf ' %q' "${inner[@]}"
    # shellcheck disable=SC2016  # expands in the job script, not here
    if [ -n "${jobvar}" ]; then printf ' "%s=${SLURM_ARRAY_TASK_ID}"' "${jobvar}"; fi
    for a in "${log_tmpl}" "${cmd_args[@]}"; do printf ' %q' "${a}"; done
    printf '\n'
  } > "${script}"
  chmod +x "${script}"

  local idfile="${qdir}/${name}.jobid"
  rm -f -- "${idfile}"
  local runner=()
  if command -v stdbuf > /dev/null 2>&1; then runner=(stdbuf -oL); fi
  "${runner[@]}" "${sb[@]}" "${script}" > "${idfile}" &
  sb_pid=$!
  # shellcheck disable=SC2317  # invoked by the trap
  on_signal() {
    trap - INT TERM
    local id
    id=$(head -n 1 "${idfile}" 2> /dev/null | cut -d';' -f1)
    if [ -n "${id}" ] && command -v scancel > /dev/null 2>&1; then
      scancel "${id}" || true
      echo "${me}: interrupted by SIG$1; cancelled Slurm job ${id}" >&2
    else
      echo "${me}: interrupted by SIG$1; could not cancel the Slurm job (job name ${name}); check squeue" >&2
    fi
    kill -TERM "${sb_pid}" 2> /dev/null || true
    [ "$1" = INT ] && exit 130
    exit 143
  }
  trap 'on_signal INT' INT
  trap 'on_signal TERM' TERM
  wait "${sb_pid}" || rc=$?
  trap - INT TERM
  jobid=$(head -n 1 "${idfile}" 2> /dev/null | cut -d';' -f1)
  if [ -z "${jobid}" ]; then
    echo "${me}: sbatch failed (exit code ${rc}) and submitted nothing: $(printf '%q ' "${sb[@]}")${script}" >&2
    exit 1
  fi
  local slurm_out=${out//"%A"/${jobid}}
  slurm_out=${slurm_out//"%j"/${jobid}}
  if report "${slurm_out}"; then
    [ "${rc}" -eq 0 ] || echo "${me}: warning: sbatch --wait exited with ${rc}, but every job log ends with code 0" >&2
    return 0
  fi
  echo "${me}: Slurm job ${jobid}; Slurm's output: ${slurm_out//"%a"/<${jobvar:-id}>}" >&2
  return 1
}

if [ "${backend}" = local ]; then
  run_local || exit 1
else
  run_slurm || exit 1
fi
