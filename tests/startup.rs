//! Start-up of the Lambda binary: a missing required variable stops it with a clear log line.

use std::process::Command;

const REQUIRED: [&str; 4] = [
    "USER_DOMAIN_TABLE",
    "MCC_TABLE",
    "TOKEN_TABLE",
    "DATA_CENTER",
];

fn start_without(missing: &str, json: bool) -> (Option<i32>, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_twitter-auth-login"));
    command.env_clear();
    for name in REQUIRED.iter().filter(|name| **name != missing) {
        command.env(name, "set");
    }
    if json {
        command.env("AWS_LAMBDA_LOG_FORMAT", "JSON");
    }
    // Were it to get past configuration, this runtime API address refuses connections.
    command.env("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9");
    let output = command.output().expect("run the function binary");
    let logs = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    (output.status.code(), logs)
}

#[test]
fn each_missing_variable_stops_start_up_naming_it() {
    for missing in REQUIRED {
        let (code, logs) = start_without(missing, false);
        assert_ne!(code, Some(0), "started without {missing}");
        assert!(logs.contains("refusing to start"), "{logs}");
        assert!(logs.contains(&format!("{missing} is required")), "{logs}");
    }
}

#[test]
fn the_start_up_log_line_is_json_when_lambda_asks() {
    let (code, logs) = start_without("TOKEN_TABLE", true);
    assert_ne!(code, Some(0));
    let line = logs
        .lines()
        .find(|l| l.contains("refusing to start"))
        .expect("a log line");
    let json: serde_json::Value = serde_json::from_str(line).expect("JSON log line");
    assert_eq!(json["level"], "ERROR");
    assert_eq!(json["error"], "TOKEN_TABLE is required");
}
