#!/usr/bin/env bash
# Hosts for the fleet tests and bench/fleet.sh, on this machine: network namespaces on a bridge, each with its
# own sshd (root login by key), its own `slipway server --host-only` and its own container storage (h*/storage.conf). Needs root, iproute2 and openssh-server.
#   scripts/fleet-lab.sh up N DIR SLIPWAY_BIN [SSHD_EXTRA]   hosts h1..hN; writes DIR/ssh_config and DIR/hosts
#   scripts/fleet-lab.sh down DIR                            stops everything it started and removes the namespaces
# Addresses are 10.213.T.11.. on bridge slwbrT (T from DIR), only this lab's own namespaces.
set -euo pipefail
cmd=${1:?up or down}
tag_of() { echo $(( $(cksum <<<"$1" | cut -d' ' -f1) % 200 + 20 )); }

if [ "$cmd" = up ]; then
  n=${2:?N}; dir=${3:?DIR}; bin=${4:?SLIPWAY_BIN}; extra=${5:-}
  t=$(tag_of "$dir")
  mkdir -p "$dir" /run/sshd
  : > "$dir/empty-bashrc"
  echo "$t" > "$dir/tag"
  [ -f "$dir/id_ed25519" ] || ssh-keygen -q -t ed25519 -N "" -f "$dir/id_ed25519"
  [ -f "$dir/host_key" ] || ssh-keygen -q -t ed25519 -N "" -f "$dir/host_key"
  cp "$dir/id_ed25519.pub" "$dir/authorized_keys"
  chmod 600 "$dir/authorized_keys" "$dir/host_key"
  ip link add "slwbr$t" type bridge 2>/dev/null || true
  ip addr add "10.213.$t.1/24" dev "slwbr$t" 2>/dev/null || true
  ip link set "slwbr$t" up
  : > "$dir/ssh_config"; : > "$dir/hosts"
  for i in $(seq 1 "$n"); do
    ns="slw$t-h$i"; addr="10.213.$t.$((10 + i))"; h="$dir/h$i"
    mkdir -p "$h/root"
    ip netns add "$ns"
    ip link add "v$t-$i" type veth peer name eth0 netns "$ns"
    ip link set "v$t-$i" master "slwbr$t" up
    ip -n "$ns" addr add "$addr/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$ns" link set lo up
    cat > "$h/sshd_config" <<CFG
ListenAddress $addr
HostKey $dir/host_key
PidFile $h/sshd.pid
AuthorizedKeysFile $dir/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
SetEnv SLIPWAY_ROOT=$h/root
$extra
CFG
    # A host's commands run through root's shell, which reads ~/.bashrc over ssh: this machine's (pyenv, cargo) costs a
    # tenth of a second of CPU a session, which a server's does not. Each host's sshd sees an empty one (its own mount
    # namespace; this machine's file is left as it is).
    ip netns exec "$ns" unshare --mount --propagation private sh -c \
      'if [ -f /root/.bashrc ]; then mount --bind "$1" /root/.bashrc; fi; exec /usr/sbin/sshd -f "$2" -E "$3"' \
      sh "$dir/empty-bashrc" "$h/sshd_config" "$h/sshd.log"
    # Each host's container runtime keeps its images apart (an image release reaches it over ssh, as on a real host).
    printf '[storage]\ndriver = "vfs"\ngraphroot = "%s/containers/storage"\nrunroot = "%s/containers/run"\n' "$h" "$h" > "$h/storage.conf"
    # nsenter, not `ip netns exec`: the daemon keeps this machine's /sys (its cgroups, which containers need); only the network is the host's.
    # Its PATH is a systemd unit's: this machine's puts pyenv's shims first, and every `python3` an app ran went through
    # a bash script and `pyenv exec` (twice the CPU of the interpreter's own start), which a server's does not.
    setsid nsenter --net="/run/netns/$ns" env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin CONTAINERS_STORAGE_CONF="$h/storage.conf" \
      "$bin" server --host-only --root "$h/root" > "$h/agent.log" 2>&1 < /dev/null &
    echo $! > "$h/agent.pid"
    printf 'Host h%s\n  HostName %s\n  User root\n  IdentityFile %s/id_ed25519\n  IdentitiesOnly yes\n  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n  LogLevel ERROR\n' \
      "$i" "$addr" "$dir" >> "$dir/ssh_config"
    echo "h$i $addr $ns" >> "$dir/hosts"
  done
  for i in $(seq 1 "$n"); do
    for _ in $(seq 1 100); do [ -S "$dir/h$i/root/slipway.sock" ] && break; sleep 0.1; done
    [ -S "$dir/h$i/root/slipway.sock" ] || { echo "h$i: the host daemon did not start:"; cat "$dir/h$i/agent.log"; exit 1; }
  done
  echo "fleet lab: $n host(s) on slwbr$t (10.213.$t.0/24); ssh -F $dir/ssh_config h1"
elif [ "$cmd" = down ]; then
  dir=${2:?DIR}
  [ -f "$dir/tag" ] || exit 0
  t=$(cat "$dir/tag")
  while read -r _ _ ns; do
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    [ -n "$pids" ] && kill -9 $pids 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
  done < "$dir/hosts"
  ip link del "slwbr$t" 2>/dev/null || true
  # What killed containers left mounted (their /dev/shm) under the lab's directory.
  awk -v d="$dir/" 'index($2, d) == 1 { print $2 }' /proc/self/mounts | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
  rm -f "$dir/tag"
else
  echo "usage: $0 up N DIR SLIPWAY_BIN [SSHD_EXTRA] | down DIR" >&2; exit 2
fi
