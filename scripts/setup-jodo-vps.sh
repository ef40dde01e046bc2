#!/usr/bin/env bash
# Prepares VPS 2, the machine where the genesis agent Jodo lives (seed 000, "VPS 2 Setup").
# Safe to run again: every step checks first and changes only what is missing.
set -euo pipefail

PROG="setup-jodo-vps.sh"
AGENT_USER="root"
BRAIN_PATH="/opt/jodo/brain"
AGENT_PORT="9000"
AUTHORIZED_KEY=""
WITH_DOCKER=1
WITH_PIP_OVERRIDE=1
MIN_PYTHON="3.12"
CHANGES=0

usage() {
  cat <<EOF
Usage: $PROG [options]

Prepares this machine (Ubuntu 22.04+ or Debian 12+, run as root) for a Jodo agent that the
kernel on VPS 1 manages over SSH. Running it again changes nothing that is already in place.

It makes sure of:
  - python3 with pip and venv (Python $MIN_PYTHON+ recommended), git, curl
  - Docker and Docker Compose (the agent may create containers; skip with --no-docker)
  - pip may install packages system-wide (/etc/pip.conf break-system-packages, where the
    distribution marks Python as externally managed; skip with --no-pip-override)
  - the agent user (default root), created if missing, in the docker group
  - the kernel's SSH public key in that user's ~/.ssh/authorized_keys
  - the brain directory (default $BRAIN_PATH), owned by the agent user; the kernel makes it
    a git repository on first boot
  - the agent's port (default $AGENT_PORT) allowed in ufw, when ufw is active

Options:
  --authorized-key KEY   the kernel's public key: a .pub file or the key line itself
                         (ssh-ed25519 AAAA... comment); e.g. from ssh-keygen -t ed25519 -f ~/.ssh/jodo_vps
  --user NAME            the user the kernel connects as and the agent runs as (default: root)
  --brain PATH           the agent's brain directory (default: $BRAIN_PATH)
  --port PORT            the agent's chat UI / health port (default: $AGENT_PORT)
  --no-docker            do not install Docker
  --no-pip-override      leave pip's externally-managed protection alone
  -h, --help             show this help and exit

Example, from VPS 1:
  scp scripts/setup-jodo-vps.sh ~/.ssh/jodo_vps.pub root@VPS2:/tmp/
  ssh root@VPS2 "bash /tmp/setup-jodo-vps.sh --authorized-key /tmp/jodo_vps.pub"
EOF
}

say() { printf '==> %s\n' "$*"; }
ok() { printf '    ok: %s\n' "$*"; }
changed() {
  printf '    changed: %s\n' "$*"
  CHANGES=$((CHANGES + 1))
}
warn() { printf '    warning: %s\n' "$*" >&2; }
die() {
  printf '%s: %s\n' "$PROG" "$*" >&2
  exit 1
}

parse_args() {
  while [ $# -gt 0 ]; do
    case "$1" in
      -h | --help)
        usage
        exit 0
        ;;
      --authorized-key)
        [ $# -ge 2 ] || die "--authorized-key needs a value (a .pub file or a key line)"
        AUTHORIZED_KEY="$2"
        shift 2
        ;;
      --user)
        [ $# -ge 2 ] || die "--user needs a user name"
        AGENT_USER="$2"
        shift 2
        ;;
      --brain)
        [ $# -ge 2 ] || die "--brain needs an absolute path"
        BRAIN_PATH="$2"
        shift 2
        ;;
      --port)
        [ $# -ge 2 ] || die "--port needs a port number"
        AGENT_PORT="$2"
        shift 2
        ;;
      --no-docker)
        WITH_DOCKER=0
        shift
        ;;
      --no-pip-override)
        WITH_PIP_OVERRIDE=0
        shift
        ;;
      *) die "unknown option '$1'; see $PROG --help" ;;
    esac
  done
  [[ "$AGENT_USER" =~ ^[a-z_][a-z0-9_-]*$ ]] || die "--user '$AGENT_USER' is not a valid user name"
  [[ "$BRAIN_PATH" == /* ]] || die "--brain '$BRAIN_PATH' must be an absolute path"
  if ! [[ "$AGENT_PORT" =~ ^[0-9]+$ ]] || [ "$AGENT_PORT" -lt 1 ] || [ "$AGENT_PORT" -gt 65535 ]; then
    die "--port '$AGENT_PORT' is not a port; use a whole number from 1 to 65535"
  fi
}

require_root_and_apt() {
  if [ "$(id -u)" -ne 0 ]; then
    die "must run as root (it installs packages and creates users); try: sudo bash $0${*:+ $*}"
  fi
  command -v apt-get >/dev/null 2>&1 || die "needs apt-get (Ubuntu 22.04+ or Debian 12+)"
}

is_installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

APT_UPDATED=0
apt_install() {
  local missing=() pkg
  for pkg in "$@"; do
    is_installed "$pkg" || missing+=("$pkg")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    ok "installed: $*"
    return 0
  fi
  if [ "$APT_UPDATED" -eq 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  changed "installed ${missing[*]}"
}

# The first of the given packages this machine's apt sources know, or nothing.
first_available() {
  local pkg
  for pkg in "$@"; do
    if apt-cache show "$pkg" >/dev/null 2>&1; then
      echo "$pkg"
      return 0
    fi
  done
  return 0
}

setup_base_packages() {
  say "packages: python3 with pip and venv, git, curl, ssh server"
  apt_install python3 python3-pip python3-venv python-is-python3 git curl ca-certificates openssh-server
  local version
  version="$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
  if python3 -c "import sys; sys.exit(0 if sys.version_info[:2] >= (${MIN_PYTHON/./, }) else 1)"; then
    ok "python3 is $version"
  else
    warn "python3 is $version; Jodo's genesis expects $MIN_PYTHON+ (Ubuntu 24.04 has it)"
  fi
}

setup_pip_override() {
  [ "$WITH_PIP_OVERRIDE" -eq 1 ] || return 0
  say "pip: system-wide installs for the agent"
  local marker
  marker="$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])')/EXTERNALLY-MANAGED"
  if [ ! -f "$marker" ]; then
    ok "python3 is not marked externally managed"
  elif grep -qs '^break-system-packages *= *true' /etc/pip.conf; then
    ok "/etc/pip.conf already allows it"
  else
    if grep -qs '^\[global\]' /etc/pip.conf; then
      sed -i '/^\[global\]/a break-system-packages = true' /etc/pip.conf
    else
      printf '[global]\nbreak-system-packages = true\n' >>/etc/pip.conf
    fi
    changed "/etc/pip.conf: break-system-packages = true (the agent installs what it needs with pip)"
  fi
}

setup_docker() {
  if [ "$WITH_DOCKER" -eq 0 ]; then
    say "docker: skipped (--no-docker)"
    return 0
  fi
  say "docker and docker compose"
  if command -v docker >/dev/null 2>&1; then
    ok "docker is installed ($(docker --version 2>/dev/null || echo 'version unknown'))"
  else
    apt_install docker.io
  fi
  if docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null 2>&1; then
    ok "docker compose is installed"
  else
    local compose_pkg
    [ "$APT_UPDATED" -eq 1 ] || {
      DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
      APT_UPDATED=1
    }
    compose_pkg="$(first_available docker-compose-v2 docker-compose-plugin docker-compose)"
    if [ -n "$compose_pkg" ]; then
      apt_install "$compose_pkg"
    else
      warn "no Docker Compose package in this machine's apt sources; install it by hand"
    fi
  fi
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    if systemctl is-active --quiet docker; then
      ok "the docker service runs"
    else
      if systemctl enable --now docker >/dev/null 2>&1; then
        changed "started and enabled the docker service"
      else
        warn "could not start the docker service; see: systemctl status docker"
      fi
    fi
  fi
}

as_agent() {
  su -s /bin/sh "$AGENT_USER" -c "$1" 2>/dev/null
}

agent_home() {
  getent passwd "$AGENT_USER" | cut -d: -f6
}

setup_user() {
  say "agent user: $AGENT_USER"
  if id -u "$AGENT_USER" >/dev/null 2>&1; then
    ok "user $AGENT_USER exists"
  else
    useradd --create-home --shell /bin/bash "$AGENT_USER"
    changed "created user $AGENT_USER"
  fi
  if [ "$AGENT_USER" != "root" ] && getent group docker >/dev/null 2>&1; then
    if id -nG "$AGENT_USER" | tr ' ' '\n' | grep -qx docker; then
      ok "$AGENT_USER is in the docker group"
    else
      usermod -aG docker "$AGENT_USER"
      changed "added $AGENT_USER to the docker group (it may run containers)"
    fi
  fi
  # Commits in the brain need an identity; the kernel's own commits may still set theirs.
  if [ -n "$(as_agent 'git config --global user.email' || true)" ]; then
    ok "$AGENT_USER has a git identity"
  else
    as_agent 'git config --global user.name "Jodo" && git config --global user.email "jodo@localhost"'
    changed "git identity for $AGENT_USER: Jodo <jodo@localhost>"
  fi
}

# The key line of --authorized-key: from a file, or the argument itself.
key_line() {
  local line
  if [ -f "$AUTHORIZED_KEY" ]; then
    line="$(grep -v '^[[:space:]]*\(#\|$\)' "$AUTHORIZED_KEY" | head -n 1 || true)"
  else
    line="$AUTHORIZED_KEY"
  fi
  case "$line" in
    ssh-* | ecdsa-* | sk-*) printf '%s\n' "$line" ;;
    *) die "--authorized-key: '$AUTHORIZED_KEY' is neither a public key file nor a key line (ssh-ed25519 AAAA...)" ;;
  esac
}

setup_ssh_key() {
  say "ssh: the kernel's key for $AGENT_USER"
  local home ssh_dir keys line blob
  home="$(agent_home)"
  [ -n "$home" ] || die "user $AGENT_USER has no home directory"
  ssh_dir="$home/.ssh"
  keys="$ssh_dir/authorized_keys"
  if [ ! -d "$ssh_dir" ]; then
    install -d -m 700 -o "$AGENT_USER" -g "$(id -gn "$AGENT_USER")" "$ssh_dir"
    changed "created $ssh_dir"
  fi
  if [ -z "$AUTHORIZED_KEY" ]; then
    if [ -s "$keys" ]; then
      ok "$keys has $(grep -c '^[^#]' "$keys" || true) key(s); pass --authorized-key to add the kernel's"
    else
      warn "$keys is empty: the kernel cannot connect until its key is added (--authorized-key)"
    fi
    return 0
  fi
  line="$(key_line)"
  blob="$(printf '%s\n' "$line" | awk '{print $2}')"
  [ -n "$blob" ] || die "--authorized-key: the key line has no key data"
  if [ -f "$keys" ] && grep -qF -- "$blob" "$keys"; then
    ok "the key is already in $keys"
  else
    printf '%s\n' "$line" >>"$keys"
    changed "added the kernel's key to $keys"
  fi
  chown "$AGENT_USER:$(id -gn "$AGENT_USER")" "$keys"
  chmod 600 "$keys"
}

setup_brain() {
  say "brain: $BRAIN_PATH"
  local parent group
  parent="$(dirname "$BRAIN_PATH")"
  group="$(id -gn "$AGENT_USER")"
  # A parent this script creates (/opt/jodo) belongs to the agent too, so that a rebirth can
  # archive the old brain beside it; an existing parent is left as it is.
  if [ ! -d "$parent" ]; then
    mkdir -p "$(dirname "$parent")"
    install -d -m 755 -o "$AGENT_USER" -g "$group" "$parent"
    changed "created $parent"
  fi
  if [ -d "$BRAIN_PATH" ]; then
    ok "$BRAIN_PATH exists"
  else
    install -d -m 755 -o "$AGENT_USER" -g "$group" "$BRAIN_PATH"
    changed "created $BRAIN_PATH"
  fi
  if [ "$(stat -c %U "$BRAIN_PATH")" = "$AGENT_USER" ]; then
    ok "$BRAIN_PATH belongs to $AGENT_USER"
  else
    chown -R "$AGENT_USER:$group" "$BRAIN_PATH"
    changed "$BRAIN_PATH (and everything in it) now belongs to $AGENT_USER"
  fi
}

setup_firewall() {
  say "firewall: port $AGENT_PORT/tcp for the agent's chat UI"
  if ! command -v ufw >/dev/null 2>&1 || ! ufw status 2>/dev/null | grep -q "Status: active"; then
    ok "ufw is not active; make sure your provider's firewall lets $AGENT_PORT/tcp in"
    return 0
  fi
  if ufw status | grep -qE "^$AGENT_PORT/tcp[[:space:]]+ALLOW"; then
    ok "ufw already allows $AGENT_PORT/tcp"
  else
    ufw allow "$AGENT_PORT/tcp" >/dev/null
    changed "ufw now allows $AGENT_PORT/tcp"
  fi
}

summary() {
  local host
  host="$(hostname -I 2>/dev/null | awk '{print $1}' || true)"
  [ -n "$host" ] || host="<this machine's address>"
  echo
  if [ "$CHANGES" -eq 0 ]; then
    say "done: nothing needed changing"
  else
    say "done: $CHANGES change(s)"
  fi
  cat <<EOF
In the kernel's configs/config.yaml (VPS 1):
  jodo:
    host: "$host"
    ssh_user: "$AGENT_USER"
    ssh_key_path: "/root/.ssh/jodo_vps"   # the private key on VPS 1; with docker compose:
                                          # "/home/jodo/.ssh/jodo_vps" (docs/deployment.md)
    port: $AGENT_PORT
    brain_path: "$BRAIN_PATH"
EOF
}

main() {
  parse_args "$@"
  require_root_and_apt "$@"
  setup_base_packages
  setup_pip_override
  setup_docker
  setup_user
  setup_ssh_key
  setup_brain
  setup_firewall
  summary
}

main "$@"
