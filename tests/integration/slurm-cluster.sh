#!/bin/sh
# A one-node Slurm cluster for the tests, run as the test's own processes:
#   slurm-cluster.sh start DIR   write DIR/slurm.conf (this machine's CPUs and
#                                memory), start munged, slurmctld, slurmd
#   slurm-cluster.sh stop DIR    stop them
# Clients use it with SLURM_CONF=DIR/slurm.conf. Nothing outside DIR is
# written; the host's /etc/slurm and munge set-up are not used.
set -eu
cmd=$1
dir=$2
stop() {
	for p in slurmd slurmctld munged; do
		if [ -f "$dir/$p.pid" ]; then
			kill "$(cat "$dir/$p.pid")" 2>/dev/null || true
		fi
	done
	sleep 1
	for p in slurmd slurmctld munged; do
		if [ -f "$dir/$p.pid" ]; then
			kill -9 "$(cat "$dir/$p.pid")" 2>/dev/null || true
			rm -f "$dir/$p.pid"
		fi
	done
}
case "$cmd" in
stop) stop; exit 0 ;;
start) ;;
*) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
for t in munged slurmctld slurmd sbatch; do
	command -v "$t" >/dev/null 2>&1 || { echo "$t not installed (apt-get install slurm-wlm munge)" >&2; exit 4; }
done
mkdir -p "$dir/state" "$dir/spool" "$dir/log"
host=$(hostname -s)
cpus=$(nproc)
mem=$(awk '/MemTotal/ { printf "%d", $2 / 1024 - 1024 }' /proc/meminfo)
# Ports from the directory's name, so two clusters of two test runs differ.
port=$(( 20000 + $(printf '%s' "$dir" | cksum | cut -d' ' -f1) % 20000 ))
head -c 1024 /dev/urandom > "$dir/munge.key"
chmod 600 "$dir/munge.key"
cat > "$dir/slurm.conf" <<CONF
ClusterName=swapbench-test
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$port
SlurmdPort=$((port + 1))
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
ReturnToService=2
AuthType=auth/munge
AuthInfo=socket=$dir/munge.sock
CredType=cred/munge
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
MinJobAge=3600
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
munged --key-file="$dir/munge.key" --socket="$dir/munge.sock" \
	--pid-file="$dir/munged.pid" --log-file="$dir/log/munged.log" \
	--seed-file="$dir/munge.seed" --force
SLURM_CONF=$dir/slurm.conf
export SLURM_CONF
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
# Ready when the node is idle.
for i in $(seq 1 60); do
	if sinfo -h -o %t 2>/dev/null | grep -q idle; then
		exit 0
	fi
	sleep 1
done
echo "slurm did not come up; logs in $dir/log" >&2
stop
exit 1
