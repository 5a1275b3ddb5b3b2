//! The `heirloom` binary as an operator meets it: configuration errors, the data
//! folder, migrations, and a serve that shuts down cleanly on SIGTERM.

use std::io::{BufRead, BufReader, Lines};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn heirloom(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_heirloom"));
    // A clean environment: only what each test sets, run from an empty folder.
    cmd.env_clear().env("PATH", std::env::var("PATH").unwrap_or_default()).current_dir(dir);
    cmd
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// `heirloom` with `args` and `env`, run in `dir`, which it must refuse with exit code 2;
/// what it wrote to stderr.
fn refused(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let output = heirloom(dir).args(args).envs(env.iter().copied()).output().unwrap();
    assert_eq!(output.status.code(), Some(2), "{args:?} with {env:?}");
    stderr(&output)
}

/// `heirloom check-config` with one environment variable set, which it must refuse.
fn refused_setting(name: &str, value: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    refused(dir.path(), &["check-config"], &[(name, value)])
}

#[test]
fn a_bad_environment_value_names_the_variable_and_exits_2() {
    let err = refused_setting("HEIRLOOM_LOG_FORMAT", "xml");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.contains("`log_format`") && err.contains("HEIRLOOM_LOG_FORMAT"), "{err}");
}

#[test]
fn an_unknown_setting_is_refused_by_name() {
    let err = refused_setting("HEIRLOOM_DATA_FOLDER", "/x");
    assert!(err.contains("data_folder"), "{err}");
}

#[test]
fn a_bad_value_in_the_config_file_names_the_key_and_the_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("heirloom.toml"), "request_timeout_secs = -5\n").unwrap();
    let err = refused(dir.path(), &["check-config"], &[]);
    assert!(err.contains("request_timeout_secs") && err.contains("heirloom.toml"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn a_named_config_file_that_is_missing_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = refused(dir.path(), &["--config", "nope.toml", "check-config"], &[]);
    assert!(err.contains("nope.toml"), "{err}");
}

#[test]
fn a_bad_listen_address_names_the_variable() {
    let err = refused_setting("LEPTOS_SITE_ADDR", "localhost-3000");
    assert!(err.contains("LEPTOS_SITE_ADDR"), "{err}");
}

#[test]
fn check_config_redacts_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let output = heirloom(dir.path())
        .arg("check-config")
        .env("DATABASE_URL", "postgres://heirloom:s3cret-pw@db.internal/heirloom")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let shown = String::from_utf8_lossy(&output.stdout);
    assert!(shown.contains("db.internal") && !shown.contains("s3cret-pw"), "{shown}");
}

#[test]
fn migrate_creates_a_missing_data_folder_and_database() {
    let dir = tempfile::tempdir().unwrap();
    let output = heirloom(dir.path()).arg("migrate").env("HEIRLOOM_DATA_DIR", "nested/data").output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(dir.path().join("nested/data/heirloom.db").is_file());
    let again = heirloom(dir.path()).arg("migrate").env("HEIRLOOM_DATA_DIR", "nested/data").output().unwrap();
    assert!(String::from_utf8_lossy(&again.stdout).contains("0 were pending"));
}

#[test]
fn check_says_whether_the_database_is_sound() {
    let dir = tempfile::tempdir().unwrap();
    let migrate = heirloom(dir.path()).arg("migrate").env("HEIRLOOM_DATA_DIR", "data").output().unwrap();
    assert!(migrate.status.success(), "{}", stderr(&migrate));
    let sound = heirloom(dir.path()).arg("check").env("HEIRLOOM_DATA_DIR", "data").output().unwrap();
    assert!(sound.status.success(), "{}", stderr(&sound));
    assert!(String::from_utf8_lossy(&sound.stdout).contains("sound"));

    // Page 2 onwards overwritten: the check fails, names the damage and the way back.
    // A write-ahead log left beside the file would still hold sound copies of pages, so
    // it goes first (whether one is left depends on when SQLite last checkpointed).
    for log in ["data/heirloom.db-wal", "data/heirloom.db-shm"] {
        let _ = std::fs::remove_file(dir.path().join(log));
    }
    let file = dir.path().join("data/heirloom.db");
    let mut bytes = std::fs::read(&file).unwrap();
    for (i, b) in bytes.iter_mut().enumerate().skip(4096) {
        *b = (i % 251) as u8;
    }
    std::fs::write(&file, &bytes).unwrap();
    let damaged = heirloom(dir.path()).arg("check").env("HEIRLOOM_DATA_DIR", "data").output().unwrap();
    assert!(!damaged.status.success());
    let err = stderr(&damaged);
    assert!(err.contains("damaged") && err.contains("heirloom restore"), "{err}");
    let serve = heirloom(dir.path()).arg("migrate").env("HEIRLOOM_DATA_DIR", "data").output().unwrap();
    assert!(!serve.status.success() && stderr(&serve).contains("damaged"), "{}", stderr(&serve));
}

#[test]
fn a_read_only_data_folder_is_a_clear_error() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o555)).unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut cmd = heirloom(dir.path());
    // root writes through permission bits, so run as an ordinary user when root.
    if is_root() {
        let exe = env!("CARGO_BIN_EXE_heirloom");
        cmd = Command::new("setpriv");
        cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups", exe]).env_clear().current_dir(dir.path());
    }
    let output = cmd.arg("migrate").env("HEIRLOOM_DATA_DIR", &data).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(err.contains(&data.display().to_string()) && err.contains("not writable"), "{err}");
}

/// `heirloom serve` on a free port in `dir`, with its log (stdout) to read line by line.
fn serve(dir: &Path, stderr: Stdio) -> (Child, Lines<BufReader<ChildStdout>>) {
    let mut child = heirloom(dir)
        .arg("serve")
        .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
        .env("LEPTOS_SITE_ROOT", dir)
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap();
    let lines = BufReader::new(child.stdout.take().unwrap()).lines();
    (child, lines)
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| o.stdout.starts_with(b"0\n")).unwrap_or(false)
}

#[test]
fn serve_logs_json_with_request_ids_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, mut lines) = serve(dir.path(), Stdio::piped());
    let deadline = Instant::now() + Duration::from_secs(60);
    let addr = loop {
        assert!(Instant::now() < deadline, "server did not start");
        let line = lines.next().expect("server exited early").unwrap();
        let entry: serde_json::Value = serde_json::from_str(&line).unwrap_or_else(|_| panic!("not JSON: {line}"));
        if let Some(addr) = entry["addr"].as_str() {
            break addr.to_string();
        }
    };
    assert!(dir.path().join("data/heirloom.db").is_file(), "data folder created on first start");

    let response = std::process::Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "-H",
            "x-request-id: cli-test-7",
            &format!("http://{addr}/readyz"),
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&response.stdout), "200");

    let request_line = loop {
        let line = lines.next().expect("log ended").unwrap();
        if line.contains("cli-test-7") {
            break line;
        }
    };
    let entry: serde_json::Value = serde_json::from_str(&request_line).unwrap();
    assert_eq!(entry["span"]["request_id"], "cli-test-7", "{request_line}");

    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert!(exit.success(), "{exit:?}");
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(rest.iter().any(|l| l.contains("shut down cleanly")), "{rest:?}");
}

#[test]
fn invite_prints_a_sign_up_link_and_refuses_bad_durations() {
    let dir = tempfile::tempdir().unwrap();
    let output = heirloom(dir.path())
        .args(["invite", "--days", "3"])
        .env("HEIRLOOM_PUBLIC_URL", "https://family.example")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let link = String::from_utf8_lossy(&output.stdout);
    assert!(link.starts_with("https://family.example/signup?invite="), "{link}");
    assert_eq!(link.trim().rsplit('=').next().unwrap().len(), 64);

    let refused = heirloom(dir.path()).args(["invite", "--days", "365"]).output().unwrap();
    assert_eq!(refused.status.code(), Some(1));
    assert!(stderr(&refused).contains("between 1 and 90"), "{}", stderr(&refused));
}

#[test]
fn reindex_rebuilds_the_search_index_and_refuses_while_a_server_holds_it() {
    let dir = tempfile::tempdir().unwrap();
    let output = heirloom(dir.path()).arg("reindex").output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(printed.contains("search index rebuilt: 0 stories, 0 legacies"), "{printed}");

    let (mut child, mut lines) = serve(dir.path(), Stdio::null());
    let deadline = Instant::now() + Duration::from_secs(60);
    while !lines.next().expect("server exited early").unwrap().contains("\"addr\"") {
        assert!(Instant::now() < deadline, "server did not start");
    }

    let refused = heirloom(dir.path()).arg("reindex").output().unwrap();
    assert_eq!(refused.status.code(), Some(1));
    let err = stderr(&refused);
    assert!(
        err.contains("in use by a running Heirloom server") && err.contains("POST /api/v1/search/reindex"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    // Commands that need only the database still work beside the server.
    let invite = heirloom(dir.path()).arg("invite").output().unwrap();
    assert!(invite.status.success(), "{}", stderr(&invite));

    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(child.wait().unwrap().success());
    let again = heirloom(dir.path()).arg("reindex").output().unwrap();
    assert!(again.status.success(), "{}", stderr(&again));
}
