#!/usr/bin/env bash
# A throwaway one-node Slurm cluster on this machine, everything under DIR (for tests and trying the
# templates; needs Debian's slurmctld, slurmd, slurm-client and munge, and root: slurmd starts each
# task as the job's user).
#   local_cluster.sh start DIR    start munged, slurmctld and slurmd (nothing if they already run),
#                                 wait until the node is idle, print `export SLURM_CONF=DIR/slurm.conf`
#   local_cluster.sh stop DIR     stop the three daemons (nothing if none runs); DIR is kept
#   local_cluster.sh status DIR   exit 0 when the cluster answers, 1 otherwise
# Use: eval "$(scripts/slurm/local_cluster.sh start /tmp/c)" && srun -n 2 --mpi=pmix surro info
# Exit codes: 0 done, 1 could not start (the reason and the daemons' log tails on stderr), 2 usage,
# 3 a program or privilege is missing (the reason on stderr).
# The node is this host (`hostname -s`, address 127.0.0.1) with the CPUs `slurmd -C` sees, in one
# partition `local` without a time limit. No cgroups (proctrack/linuxproc, task/none), no
# accounting; munged runs on a private key and socket in DIR, so the system's munge and Slurm
# configuration (/etc/munge, /etc/slurm) are neither used nor changed. The two Slurm ports are the
# first free pair from 16817 up. The job's environment is the submitter's (sbatch/srun --export=ALL).
set -u
usage() { echo "usage: local_cluster.sh start|stop|status DIR" >&2; exit 2; }
[[ $# -eq 2 ]] || usage
cmd=$1
mkdir -p "$2" || exit 1
dir=$(realpath "$2")
conf=$dir/slurm.conf
# munged refuses a socket under a folder that others cannot traverse (mktemp -d makes 0700 ones).
if [[ $cmd == start ]]; then
  p=$dir
  while [[ -n $p ]]; do
    mode=$(stat -c %A "$p")
    [[ ${mode:9:1} == [xt] ]] || { echo "local_cluster: $p is not searchable by others (mode $(stat -c %a "$p")); munged needs that for its socket: chmod o+x it or pick another DIR" >&2; exit 3; }
    p=${p%/*}
  done
fi
export SLURM_CONF=$conf

# alive PID NAME: PID runs and is NAME (not a zombie: where nothing reaps orphans, a dead daemon
# stays one, and kill -0 still succeeds on it).
alive() {
  local stat comm
  read -r stat comm < <(ps -o stat=,comm= -p "$1" 2>/dev/null) || return 1
  [[ $stat != Z* && $comm == "$2"* ]]
}

# pid_of NAME: the pid in DIR/run/NAME.pid when that process is alive and is NAME, else nothing.
pid_of() {
  local f=$dir/run/$1.pid pid
  [[ -s $f ]] || return 1
  pid=$(<"$f")
  [[ $pid =~ ^[0-9]+$ ]] && alive "$pid" "$1" || return 1
  echo "$pid"
}

# answers: slurmctld replies and the node is up (idle, mixed or allocated).
answers() {
  [[ -s $conf ]] && pid_of munged >/dev/null && pid_of slurmctld >/dev/null && pid_of slurmd >/dev/null \
    && [[ $(timeout 10 sinfo -h -N -o %T 2>/dev/null) =~ ^(idle|mixed|allocated|completing) ]]
}

# kill_tree PID: PID and its descendants, SIGKILL.
kill_tree() {
  local child
  for child in $(pgrep -P "$1"); do kill_tree "$child"; done
  kill -KILL "$1" 2>/dev/null
}

stop() {
  local name pid jobs
  # Jobs still running are cancelled (batch shell and steps) while the daemons can still do it.
  if pid_of slurmctld >/dev/null && jobs=$(timeout 10 squeue -h -o %i 2>/dev/null) && [[ -n $jobs ]]; then
    # shellcheck disable=SC2086 # one job id per word
    scancel --full $jobs 2>/dev/null
    for _ in $(seq 1 100); do [[ -z $(timeout 10 squeue -h -o %i 2>/dev/null) ]] && break; sleep 0.1; done
  fi
  for name in slurmd slurmctld munged; do
    pid=$(pid_of "$name") || continue
    kill "$pid"
    for _ in $(seq 1 100); do alive "$pid" "$name" || break; sleep 0.1; done
    if alive "$pid" "$name"; then
      echo "local_cluster: $name (pid $pid) ignored SIGTERM for 10 s: SIGKILL" >&2
      kill -KILL "$pid"
    fi
  done
  # Job steps that outlived slurmd (a job that did not end on scancel): this cluster's slurmstepd
  # are those whose working directory is inside DIR (slurmstepd changes to its log file's folder).
  for pid in $(pgrep -x slurmstepd 2>/dev/null); do
    [[ $(readlink "/proc/$pid/cwd" 2>/dev/null) == "$dir/"* ]] && alive "$pid" slurmstepd && kill_tree "$pid"
  done
  return 0
}

# fail WHY: the reason, the log tails, the daemons stopped, exit 1.
fail() {
  echo "local_cluster: $1" >&2
  local log
  for log in munged.log slurmctld.log slurmd.log; do
    [[ -s $dir/log/$log ]] && { echo "--- $dir/log/$log (last lines)" >&2; tail -n 15 "$dir/log/$log" >&2; }
  done
  stop
  exit 1
}

# free_port N: N is not listened on (TCP, any address).
free_port() { ! ss -Htln "sport = :$1" 2>/dev/null | grep -q .; }

start() {
  local p missing=()
  for p in munged mungekey slurmctld slurmd srun sbatch scontrol sinfo ss; do
    command -v "$p" >/dev/null || missing+=("$p")
  done
  if [[ ${#missing[@]} -gt 0 ]]; then
    echo "local_cluster: not installed: ${missing[*]} (Debian: apt-get install --no-install-recommends" \
      "slurmctld slurmd slurm-client munge iproute2)" >&2
    exit 3
  fi
  if [[ $(id -u) -ne 0 ]]; then
    echo "local_cluster: needs root (slurmd runs each task as the job's user; as $(id -un) it cannot)" >&2
    exit 3
  fi
  if answers; then
    echo "local_cluster: already running in $dir" >&2
    echo "export SLURM_CONF=$conf"
    return 0
  fi
  stop # leftovers of an earlier start that did not come up
  local host port cpus
  host=$(hostname -s)
  [[ -n $host ]] || fail "hostname -s printed nothing"
  # munged refuses a socket directory that others cannot traverse and a key others can read.
  chmod 755 "$dir"
  mkdir -p "$dir/munge" "$dir/run" "$dir/log" "$dir/spool" "$dir/state" || exit 1
  chmod 700 "$dir/munge" && chmod 755 "$dir/run" "$dir/log" "$dir/spool" "$dir/state" || exit 1
  [[ -s $dir/munge/munge.key ]] || mungekey -c -k "$dir/munge/munge.key" || fail "mungekey failed"
  munged --key-file="$dir/munge/munge.key" --socket="$dir/run/munge.socket" --pid-file="$dir/run/munged.pid" \
    --log-file="$dir/log/munged.log" --seed-file="$dir/munge/seed" || fail "munged did not start"
  for port in $(seq 16817 2 17817); do free_port "$port" && free_port $((port + 1)) && break; done
  free_port "$port" && free_port $((port + 1)) || fail "no free pair of ports in 16817-17818"
  # The node's CPUs, sockets, cores and threads as slurmd itself will report them (a mismatch drains
  # the node); RealMemory is left out (memory is not a consumable here).
  cpus=$(slurmd -C | head -1 | tr ' ' '\n' | grep -E '^(CPUs|Boards|SocketsPerBoard|CoresPerSocket|ThreadsPerCore)=' \
    | tr '\n' ' ')
  [[ $cpus == *CPUs=* ]] || fail "slurmd -C printed no CPU count: $(slurmd -C 2>&1 | head -3)"
  cat >"$conf" <<EOF
# Written by scripts/slurm/local_cluster.sh: a one-node cluster on $host, all state under $dir.
ClusterName=surro-local
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/run/munge.socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
KillWait=5
NodeName=$host NodeAddr=127.0.0.1 ${cpus}State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
  # -c: a clean start (no jobs or node states from an earlier cluster in DIR).
  slurmctld -c || fail "slurmctld did not start"
  slurmd -N "$host" || fail "slurmd did not start"
  for _ in $(seq 1 150); do
    answers && { echo "export SLURM_CONF=$conf"; return 0; }
    pid_of slurmctld >/dev/null || fail "slurmctld exited"
    pid_of slurmd >/dev/null || fail "slurmd exited"
    sleep 0.2
  done
  fail "the node did not come up within 30 s: $(sinfo -N -o '%N %T %E' 2>&1 | tail -1)"
}

case $cmd in
  start) start ;;
  stop) stop ;;
  status) answers ;;
  *) usage ;;
esac
