#!/usr/bin/env bash
# Builds the web service, runs it detached with tsrunc, fetches its page from inside the
# container's network namespace with `tsrunc exec`, then stops and removes everything. Like runc,
# tsrunc leaves networking to its caller: the loopback interface is brought up here, as
# containerd's CNI loopback plugin would.
source "$(dirname "$0")/../common.sh" web-service
build_and_unpack
"$tsrunc" --root "$work/state" run --detach --bundle "$work/bundle" "$id" </dev/null >/dev/null 2>&1
pid=$("$tsrunc" --root "$work/state" state "$id" | sed -n 's/.*"pid": \([0-9]*\).*/\1/p')
nsenter --net="/proc/$pid/ns/net" ip link set lo up
for _ in $(seq 1 50); do
  if page=$("$tsrunc" --root "$work/state" exec "$id" wget -qO- http://127.0.0.1:8080/ 2>/dev/null); then
    echo "$page"
    exit 0
  fi
  sleep 0.1
done
echo "the service did not answer" >&2
exit 1
