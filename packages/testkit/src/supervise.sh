#!/usr/bin/env bash
# Runs one service (PostgreSQL, HAProxy, nginx) for a test process and makes sure it does not
# outlive that process. Started by supervise.ts, in a session of its own so that a Ctrl-C meant for
# the test run reaches only the test process, which then dies and closes our stdin.
#
# usage: supervise.sh <stop signal> <grace seconds> <folder to remove, or -> <command> [args...]
#
# The parent holds our stdin open for as long as it wants the service. When that pipe closes (the
# parent called stop(), exited, or was killed in any way, SIGKILL included) or we get TERM/INT/HUP,
# the service gets <stop signal>, then SIGKILL after <grace seconds>; once it has exited the folder
# is removed. Lines on fd 3, which only the parent reads: "pid <n>" once the service is started,
# "exit <status>" once it has ended. We exit after the clean-up, so the parent waits for our exit.
# If this script itself is SIGKILLed, the service gets its parent-death signal (supervise.ts starts
# it through `setpriv --pdeathsig`) and the parent removes the folder.
set -u
stop_signal=$1 grace=$2 folder=$3
shift 3

# The parent may be gone by the time we report: a write to a closed pipe must not kill us before
# the clean-up.
trap '' PIPE
# A signal interrupts the wait below, which then stops the service like a closed stdin does.
trap ':' TERM INT HUP

"$@" </dev/null 3>&- &
service=$!
echo "pid $service" >&3

# Background jobs of a script read /dev/null unless told otherwise: this one reads our stdin.
cat <&0 >/dev/null 3>&- &
watcher=$!

ended=
wait -n -p ended "$service" "$watcher"
status=$?
# Kill only what has not been reaped yet: a reaped pid may already belong to another process.
[ "$ended" = "$watcher" ] && watcher=
if [ "$ended" != "$service" ]; then
  # Stdin closed or a signal came: stop the service. No signal interrupts the waits from here on.
  trap '' TERM INT HUP
  kill -s "$stop_signal" "$service" 2>/dev/null
  sleep "$grace" 3>&- &
  timer=$!
  ended=
  wait -n -p ended "$service" "$timer"
  status=$?
  if [ "$ended" != "$service" ]; then
    kill -s KILL "$service" 2>/dev/null
    wait "$service"
    status=$?
  else
    kill -s KILL "$timer" 2>/dev/null  # it ignores TERM, like everything started after the trap above
  fi
fi
[ -n "$watcher" ] && kill "$watcher" 2>/dev/null
echo "exit $status" >&3
if [ "$folder" != - ]; then
  rm -rf -- "$folder"
fi
