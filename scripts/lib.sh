# Sourced by the scripts: a free port, waiting for a port, and a moto DynamoDB server that
# fails loudly when it does not start.

# Prints a free TCP port on loopback.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_for_port PORT NAME [TENTHS]: waits until something listens on 127.0.0.1:PORT, or fails
# naming NAME after TENTHS tenths of a second (default 600).
wait_for_port() {
    local port=$1 name=$2 tenths=${3:-600}
    for _ in $(seq 1 "$tenths"); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    echo "error: $name did not listen on 127.0.0.1:$port within $((tenths / 10)) s" >&2
    return 1
}

# start_moto LOG [SERVER...]: starts a moto DynamoDB server on a free port, or on MOTO_PORT
# when set (the given server command, else .venv/bin/moto_server), exports its URL as
# DYNAMODB_TEST_ENDPOINT and its pid as MOTO_PID, and fails with the end of LOG if it does not
# come up.
start_moto() {
    local log=$1
    shift
    local server=("$@")
    [ ${#server[@]} -gt 0 ] || server=(.venv/bin/moto_server)
    local port=${MOTO_PORT:-}
    [ -n "$port" ] || port=$(free_port)
    "${server[@]}" -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
    MOTO_PID=$!
    if ! wait_for_port "$port" "moto (${server[*]})" 600 || ! kill -0 "$MOTO_PID" 2>/dev/null; then
        echo "error: moto did not start; the end of $log:" >&2
        tail -n 20 "$log" >&2 || true
        return 1
    fi
    export DYNAMODB_TEST_ENDPOINT="http://127.0.0.1:$port"
    export MOTO_PID
}

# port_is_free PORT: whether nothing listens on 127.0.0.1:PORT.
port_is_free() {
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# sam_env NAME: NAME's value in local/sam-env.json, the variables `sam local --env-vars` gives
# every function. The local stack listens where they point.
sam_env() {
    python3 -c 'import json, sys; print(json.load(open("local/sam-env.json"))["Parameters"][sys.argv[1]])' "$1"
}

# start_local_stack STATE: what the functions need, on loopback, logging into STATE:
#   - moto (DynamoDB, Secrets Manager, SSM, and every other AWS API on the same port) with the
#     tables of template.yaml, seeded with local/demo.json by the admin CLI;
#   - the keys, as a new stack has them: the signing keys' secret created without a value, the
#     public keys' parameter publishing none, and the derivation secret (local/demo.json's
#     derivationKeySecret, from which the demo uid of events/ is derived); then one rotation by
#     the admin CLI, as the stack's rotation schedule rotates once at creation;
#   - the Twitter stand-in, which checks OAuth 1.0a signatures.
# They listen at the ports of local/sam-env.json (AWS_ENDPOINT_URL_DYNAMODB, TWITTER_API_BASE),
# unless DYNAMODB_PORT or TWITTER_PORT say otherwise. Exports every variable of that file
# (pointed at the ports in use; SIGNING_KEYS_SECRET, PUBLIC_KEYS_PARAMETER and
# DERIVATION_KEY_SECRET name the keys) with loopback credentials, so that the admin CLI and the
# functions find the stack; appends the pids to STACK_PIDS. Needs target/debug built and .venv.
start_local_stack() {
    local state=$1 dynamodb_port twitter_port name
    dynamodb_port=${DYNAMODB_PORT:-$(sam_env AWS_ENDPOINT_URL_DYNAMODB | sed 's|.*:||; s|/.*||')}
    twitter_port=${TWITTER_PORT:-$(sam_env TWITTER_API_BASE | sed 's|.*:||; s|/.*||')}
    for port in "$dynamodb_port" "$twitter_port"; do
        port_is_free "$port" || {
            echo "error: 127.0.0.1:$port is in use: stop what listens there, or set DYNAMODB_PORT and TWITTER_PORT" >&2
            return 1
        }
    done

    MOTO_PORT=$dynamodb_port start_moto "$state/moto.log"
    STACK_PIDS+=("$MOTO_PID")

    python3 - >"$state/twitter-accounts.json" <<'PY'
import json
d = json.load(open("local/demo.json"))
print(json.dumps([{k: d[v] for k, v in [("consumerKey", "consumerKey"), ("consumerSecret", "consumerSecret"),
      ("token", "oauthToken"), ("tokenSecret", "oauthTokenSecret"), ("userId", "twitterUserId"),
      ("username", "twitterUsername")]}]))
PY
    target/debug/twitter-stub "$twitter_port" "$state/twitter-accounts.json" >"$state/twitter.log" 2>&1 &
    STACK_PIDS+=($!)
    wait_for_port "$twitter_port" "the Twitter stand-in"

    for name in $(python3 -c 'import json; print(*json.load(open("local/sam-env.json"))["Parameters"])'); do
        export "$name=$(sam_env "$name")"
        # moto serves every AWS API on its one port.
        if [[ $name == AWS_ENDPOINT_URL* ]]; then export "$name=$DYNAMODB_TEST_ENDPOINT"; fi
    done
    export TWITTER_API_BASE="http://127.0.0.1:$twitter_port"
    export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=us-east-1

    local admin=target/debug/twitter-auth-admin
    demo() { python3 -c "import json,sys; print(json.load(open('local/demo.json'))[sys.argv[1]])" "$1"; }
    $admin create-tables >/dev/null
    # Secrets go in on standard input, never as flags or variables.
    demo userDomainSecret | $admin add-domain "$(demo userDomain)" --secret-stdin >/dev/null
    demo consumerSecret | $admin add-app "$(demo userDomain)" "$(demo appId)" --consumer-key "$(demo consumerKey)"
    python3 -c "import json; [print(k, v) for k, v in json.load(open('local/demo.json'))['mccRoutes'].items()]" |
        while read -r mcc data_center; do $admin set-mcc "$mcc" "$data_center"; done

    # The keys as CloudFormation creates them (the derivation secret's value read from the demo
    # data, never passed on a command line), then the first rotation.
    .venv/bin/python - <<'PY'
import json, os
import boto3
region = os.environ["AWS_REGION"]
secrets = boto3.client("secretsmanager", region_name=region,
                       endpoint_url=os.environ["AWS_ENDPOINT_URL_SECRETS_MANAGER"])
secrets.create_secret(Name=os.environ["SIGNING_KEYS_SECRET"])
secrets.create_secret(Name=os.environ["DERIVATION_KEY_SECRET"],
                      SecretString=json.load(open("local/demo.json"))["derivationKeySecret"])
boto3.client("ssm", region_name=region, endpoint_url=os.environ["AWS_ENDPOINT_URL_SSM"]).put_parameter(
    Name=os.environ["PUBLIC_KEYS_PARAMETER"], Value='{"keys":[]}', Type="String")
PY
    $admin rotate-signing-keys | tee "$state/keys.log"
}
