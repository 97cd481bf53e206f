# Shared shell helpers for the Docker engine. Sourced, not executed.

# Starts the host's dockerd when /var/run/docker.sock does not answer; waits until it does.
ensure_dockerd() {
  if docker_answers; then return 0; fi
  echo "ensure_dockerd: starting dockerd"
  mkdir -p /var/log/opctl
  if command -v systemctl >/dev/null 2>&1 && systemctl is-system-running >/dev/null 2>&1; then
    systemctl start docker || true
  fi
  if ! docker_answers; then
    rm -f /var/run/docker.pid
    nohup dockerd >/var/log/opctl/dockerd.log 2>&1 &
  fi
  local deadline=$((SECONDS + 60))
  until docker_answers; do
    if ((SECONDS > deadline)); then
      echo "ensure_dockerd: dockerd did not answer within 60 s; see /var/log/opctl/dockerd.log" >&2
      tail -n 20 /var/log/opctl/dockerd.log >&2 || true
      return 1
    fi
    sleep 0.2
  done
}

docker_answers() {
  curl -fsS --max-time 2 --unix-socket /var/run/docker.sock http://localhost/_ping >/dev/null 2>&1
}
