#!/usr/bin/env bash
# A real single-node Slurm on this machine, for docs/slurm/check.sh: munge
# (authentication) and slurmctld + slurmd with a configuration of one node
# and one partition, everything under one directory.
#
#   bash docs/slurm/cluster.sh start DIR   # then: export SLURM_CONF=DIR/slurm.conf
#   bash docs/slurm/cluster.sh stop DIR
#
# Needs root and Debian's slurm-wlm and munge (apt-get install slurm-wlm munge).
set -euo pipefail
cmd=${1:?usage: cluster.sh start|stop DIR}
dir=$(mkdir -p "${2:?usage: cluster.sh start|stop DIR}" && cd "$2" && pwd)
export SLURM_CONF=$dir/slurm.conf
# Stops the daemons and waits for them to exit: slurmctld saves its state
# as it goes, so its directory is not done with before then.
stop() {
  local pids=""
  for d in slurmd slurmctld; do
    [ -f "$dir/$d.pid" ] || continue
    pid=$(cat "$dir/$d.pid")
    kill "$pid" 2>/dev/null && pids="$pids $pid"
  done
  for pid in $pids; do
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  done
  return 0
}
case $cmd in
stop) stop; exit 0 ;;
start) ;;
*) echo "usage: cluster.sh start|stop DIR" >&2; exit 2 ;;
esac
command -v slurmctld >/dev/null || { echo "no slurmctld: apt-get install slurm-wlm munge" >&2; exit 1; }
host=$(hostname -s)
# Memory a job may ask for: all but 1 GiB of this machine's, in MiB.
mem=$(awk '/MemTotal/ { m = int($2 / 1024) - 1024; print (m > 1024 ? m : 1024) }' /proc/meminfo)
mkdir -p "$dir/state" "$dir/spool"
cat >"$SLURM_CONF" <<CONF
ClusterName=rnnlab
SlurmctldHost=$host
SlurmUser=root
AuthType=auth/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
NodeName=$host CPUs=$(nproc) RealMemory=$mem State=UNKNOWN
PartitionName=main Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
# munge: a key (the package makes one; make it if not), then the daemon.
if [ ! -s /etc/munge/munge.key ]; then mungekey --create --force; fi
chown munge:munge /etc/munge/munge.key 2>/dev/null || true
mkdir -p /run/munge && chown munge:munge /run/munge 2>/dev/null || true
if ! munge -n >/dev/null 2>&1; then munged --force; fi
munge -n | unmunge >/dev/null
stop
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
for _ in $(seq 60); do
  if sinfo -h -o %T 2>/dev/null | grep -q idle; then
    echo "slurm: node $host idle (SLURM_CONF=$SLURM_CONF)"
    exit 0
  fi
  sleep 1
done
echo "slurm did not come up; logs in $dir" >&2
tail -n 20 "$dir/slurmctld.log" "$dir/slurmd.log" >&2 || true
exit 1
