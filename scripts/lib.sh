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

# start_moto LOG [SERVER...]: starts a moto DynamoDB server on a free port (the given server
# command, else .venv/bin/moto_server), exports its URL as DYNAMODB_TEST_ENDPOINT and its pid
# as MOTO_PID, and fails with the end of LOG if it does not come up.
start_moto() {
    local log=$1
    shift
    local server=("$@")
    [ ${#server[@]} -gt 0 ] || server=(.venv/bin/moto_server)
    local port
    port=$(free_port)
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
