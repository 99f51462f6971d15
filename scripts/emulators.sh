# Sourced by scripts/demo and scripts/sandbox: starts the AWS emulator
# (moto_server) on a free port and the stand-in GitLab (scripts/demo-gitlab),
# exports what provision needs to use them, writes a configuration of
# stack $1 at $2, and creates the stack's permissions boundary as an
# administrator would. Needs $work (a directory for the binaries and logs).

start_emulators() {
  local stack=$1 config=$2 root
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  go build -o "$work/provision" "$root/cmd/provision"
  go build -o "$work/demo-gitlab" "$root/scripts/demo-gitlab"

  moto_server -H 127.0.0.1 -p 0 >"$work/moto.log" 2>&1 &
  moto_pid=$!
  url=""
  for _ in $(seq 1 100); do
    url="$(grep -o 'http://127.0.0.1:[0-9]*' "$work/moto.log" | head -1 || true)"
    [[ -n "$url" ]] && break
    sleep 0.1
  done
  [[ -n "$url" ]] || { echo "moto_server did not start:" >&2; cat "$work/moto.log" >&2; return 1; }

  export AWS_ENDPOINT_URL="$url" AWS_ACCESS_KEY_ID=sandbox AWS_SECRET_ACCESS_KEY=sandbox AWS_REGION=eu-west-1
  export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null

  : >"$work/gitlab.env"
  "$work/demo-gitlab" >"$work/gitlab.env" &
  gitlab_pid=$!
  for _ in $(seq 1 100); do
    [[ "$(wc -l <"$work/gitlab.env")" -ge 4 ]] && break
    sleep 0.1
  done
  set -a; source "$work/gitlab.env"; set +a

  cat >"$config" <<YAML
stack: $stack
region: eu-west-1
tags: {team: ci}
network:
  cidr: 192.168.0.0/24
  public_subnet_cidr: 192.168.0.0/27
  private_subnet_cidr: 192.168.0.128/25
gitlab:
  url: $GITLAB_URL
  security_group_id: $GITLAB_SG
  ssh_source_cidrs: [203.0.113.10/32]
YAML

  # The administrator's part, once per stack: the boundary of its roles.
  "$work/provision" -c "$config" iam-policy --boundary >"$work/boundary.json"
  python3 - "$url" "$work/boundary.json" "$stack" <<'PY'
import sys, boto3
iam = boto3.client("iam", endpoint_url=sys.argv[1], region_name="eu-west-1")
iam.create_policy(PolicyName=sys.argv[3] + "-eu-west-1-boundary", Path="/provision/", PolicyDocument=open(sys.argv[2]).read())
PY
}

# stop_emulators never fails: on Ctrl-C the emulators may have ended
# already (the whole process group gets the signal), and a failed kill
# under set -e would cut the caller's exit trap short.
stop_emulators() {
  if [[ -n "${gitlab_pid:-}" ]]; then kill "$gitlab_pid" 2>/dev/null || true; fi
  if [[ -n "${moto_pid:-}" ]]; then kill "$moto_pid" 2>/dev/null || true; fi
  return 0
}
