use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::helpers::{dv_tro, spawn_app};

/// The binary, with a cache namespace of its own: servers of parallel tests run on different
/// databases and may share one Redis (`REDIS_URL`).
pub(crate) fn ccpor() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ccpor"));
    cmd.env(
        "CCPOR_CACHE_NAMESPACE",
        format!("ccpor-test-{}", uuid::Uuid::new_v4().simple()),
    );
    cmd
}

/// Starts `ccpor serve --demo` on `dir` and returns it with the playground URL it printed.
/// Starts `ccpor serve --demo`; returns the child, the playground URL and the demo tokens it
/// printed, by role.
pub(crate) fn serve_demo(
    dir: &std::path::Path,
) -> (
    std::process::Child,
    String,
    std::collections::HashMap<String, String>,
) {
    serve_demo_with(dir, &["--demo-orders", "500"])
}

/// `serve_demo` with more arguments (`--demo-orders N`, `--rules FILE`).
pub(crate) fn serve_demo_with(
    dir: &std::path::Path,
    extra: &[&str],
) -> (
    std::process::Child,
    String,
    std::collections::HashMap<String, String>,
) {
    let mut child = ccpor()
        .args(["serve", "--demo", "--addr", "127.0.0.1:0"])
        .args(extra)
        .env("CCPOR_DATA_DIR", dir)
        .env_remove("DATABASE_URL")
        .env_remove("CCPOR_KEY_FILE")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let url = first
        .strip_prefix("playground: ")
        .expect("first line names the playground")
        .to_owned();
    let mut tokens = std::collections::HashMap::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some((role, token)) = line.trim().split_once(char::is_whitespace)
            && ["clerk", "bench_officer", "lea", "analyst", "admin"].contains(&role)
        {
            tokens.insert(role.to_owned(), token.trim().to_owned());
        }
        if tokens.len() == 5 {
            break;
        }
    }
    (child, url, tokens)
}

/// The embedded SQLite database of a data dir `serve` ran on.
async fn data_dir_db(dir: &std::path::Path) -> sea_orm::DatabaseConnection {
    let url = format!("sqlite://{}?mode=rw", dir.join("ccpor.db").display());
    ccpor::db::connect(&url).await.unwrap().0
}

pub(crate) fn terminate(mut child: std::process::Child) {
    assert!(
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    let status = child.wait().unwrap();
    assert!(status.success(), "graceful shutdown exits 0: {status:?}");
}

#[test]
fn every_command_has_help() {
    for cmd in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["migrate", "--help"],
        vec!["demo", "--help"],
        vec!["schema", "--help"],
        vec!["import", "--help"],
    ] {
        let out = ccpor().args(&cmd).output().unwrap();
        assert!(out.status.success(), "{cmd:?}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Usage"),
            "{cmd:?}"
        );
    }
    let out = ccpor().arg("frobnicate").output().unwrap();
    assert_eq!(out.status.code(), Some(2), "usage errors exit 2");
}

/// Every command and subcommand, enumerated from clap's own definition (so a new command cannot
/// be forgotten), answers `--help` with its description; `ccpor --help` documents the exit codes.
#[test]
fn every_subcommand_answers_help() {
    use clap::CommandFactory;
    fn walk(cmd: &clap::Command, path: Vec<String>, out: &mut Vec<(Vec<String>, String)>) {
        for sub in cmd.get_subcommands().filter(|c| c.get_name() != "help") {
            let mut p = path.clone();
            p.push(sub.get_name().to_owned());
            let about = sub.get_about().map(|a| a.to_string()).unwrap_or_default();
            out.push((p.clone(), about));
            walk(sub, p, out);
        }
    }
    let mut commands = Vec::new();
    walk(&ccpor::cli::Cli::command(), Vec::new(), &mut commands);
    assert!(commands.len() >= 15, "{commands:?}");
    for (path, about) in &commands {
        assert!(
            !about.trim().is_empty(),
            "`ccpor {}` has a description",
            path.join(" ")
        );
        let out = ccpor().args(path).arg("--help").output().unwrap();
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "ccpor {} --help", path.join(" "));
        assert!(
            help.contains("Usage: ccpor"),
            "ccpor {} --help: {help}",
            path.join(" ")
        );
        let first_line = about.lines().next().unwrap_or_default();
        assert!(
            help.contains(first_line),
            "ccpor {} --help shows its description: {help}",
            path.join(" ")
        );
    }
    let out = ccpor().arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for code in [
        "0  success",
        "2  usage error",
        "3  import",
        "4  verification failed",
        "5  an input file",
        "6  the database is unreachable",
    ] {
        assert!(
            help.contains(code),
            "ccpor --help documents exit code `{code}`: {help}"
        );
    }
}

/// Exit codes mean something: usage, an unreadable input file and an unreachable database each
/// have their own.
#[test]
fn exit_codes_tell_failures_apart() {
    let dir = tempfile::tempdir().unwrap();
    let out = ccpor().arg("frobnicate").output().unwrap();
    assert_eq!(out.status.code(), Some(2), "usage error");
    let out = ccpor()
        .args(["import", "/nonexistent/orders.ndjson"])
        .env("CCPOR_DATA_DIR", dir.path())
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(i32::from(ccpor::cli::EXIT_BAD_INPUT_FILE)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/orders.ndjson"));
    // Nothing listens on port 1.
    let out = ccpor()
        .args([
            "migrate",
            "--database-url",
            "postgres://postgres@127.0.0.1:1/ccpor",
        ])
        .env("CCPOR_DATA_DIR", dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(i32::from(ccpor::cli::EXIT_DATABASE_UNREACHABLE)),
        "{stderr}"
    );
    assert!(stderr.contains("cannot reach the database"), "{stderr}");
}

/// Good lines are stored, each bad line is reported with its number, and nothing of a bad line
/// is written.
#[tokio::test]
async fn import_reports_bad_lines_and_keeps_the_good_ones() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("feed.ndjson");
    let mut f = std::fs::File::create(&path).unwrap();
    let mut bad_dob = dv_tro("26FL300002", 2);
    bad_dob["parties"][0]["person"]["dob"] = json!("2999-01-01");
    let mut unknown_person = dv_tro("26FL300005", 2);
    unknown_person["parties"][1] = json!({ "role": "PROTECTED", "personId": "UGVyc29uOjk5OTk5OQ" });
    let lines = [
        dv_tro("26FL300001", 3).to_string(),
        bad_dob.to_string(),
        "{ this is not json".to_owned(),
        String::new(),
        json!({ "courtCode": "SC19" }).to_string(),
        unknown_person.to_string(),
        dv_tro("26FL300006", 1).to_string(),
    ];
    for l in &lines {
        writeln!(f, "{l}").unwrap();
    }
    drop(f);
    let out = ccpor()
        .args(["import", path.to_str().unwrap(), "--batch-size", "10"])
        .env("DATABASE_URL", &app.database_url)
        .env("CCPOR_DATA_DIR", dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(3),
        "some lines rejected: {stdout}\n{stderr}"
    );
    assert!(
        stderr.contains("line 2: parties[0].person.dob:"),
        "{stderr}"
    );
    assert!(
        stderr.contains("line 3: : not JSON") || stderr.contains("line 3:"),
        "{stderr}"
    );
    assert!(stderr.contains("line 5:"), "{stderr}");
    assert!(
        stderr.contains("line 6: parties[1].personId: no person"),
        "{stderr}"
    );
    assert!(stdout.contains("imported 2 of 6 orders"), "{stdout}");
    assert_eq!(app.count("protective_order").await, 2);
    assert_eq!(
        app.count("person").await,
        4,
        "persons of rejected lines are not written"
    );
    let d = app
        .data(
            "{ ordersByCaseNumber(caseNumber: \"26FL300006\") { status } }",
            json!({}),
        )
        .await;
    assert_eq!(d["ordersByCaseNumber"][0]["status"], "ACTIVE");
}

#[tokio::test]
async fn import_of_a_clean_file_exits_zero() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clean.ndjson");
    let body: String = (0..30)
        .map(|i| format!("{}\n", dv_tro(&format!("26FL4{i:05}"), 2)))
        .collect();
    std::fs::write(&path, body).unwrap();
    let out = ccpor()
        .args(["import", path.to_str().unwrap(), "--batch-size", "7"])
        .env("DATABASE_URL", &app.database_url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(app.count("protective_order").await, 30);
}

/// The README's first command: `ccpor serve --demo` on an empty data dir migrates, loads demo
/// data, prints the playground URL and serves; SIGTERM shuts it down cleanly.
#[tokio::test]
async fn serve_demo_on_an_empty_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let (child, url, tokens) = serve_demo(dir.path());
    assert_eq!(tokens.len(), 5, "a demo token per role: {tokens:?}");
    let base = url.trim_end_matches("/playground").to_owned();
    let client = reqwest::Client::new();
    let page = client.get(&url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("PersonHistory"));
    let op = ccpor::contract::operations::OPERATIONS
        .iter()
        .find(|o| o.name == "PersonHistory")
        .unwrap();
    let db = data_dir_db(dir.path()).await;
    let vars = ccpor::contract::operations::example_variables(&db, op)
        .await
        .unwrap();
    let anonymous = client
        .post(format!("{base}/graphql"))
        .json(&json!({ "query": op.document, "variables": vars }))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401, "no token, no data");
    let body: serde_json::Value = client
        .post(format!("{base}/graphql"))
        .bearer_auth(&tokens["bench_officer"])
        .json(&json!({ "query": op.document, "variables": vars }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(body["errors"].is_null(), "{body:#}");
    assert!(
        !body["data"]["person"]["orders"]["edges"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // The demo persons are in the search index from the start.
    let someone = <entities::person::Entity as sea_orm::EntityTrait>::find()
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.last_name.is_some() && p.first_name.is_some() && !p.confidential)
        .unwrap();
    let (last, first) = (someone.last_name.unwrap(), someone.first_name.unwrap());
    let found: serde_json::Value = client
        .post(format!("{base}/graphql"))
        .bearer_auth(&tokens["bench_officer"])
        .json(&json!({
            "query": "query($l: String, $f: String) { searchPersons(lastName: $l, firstName: $f, first: 10) { edges { node { person { lastName firstName } } } } }",
            "variables": { "l": last, "f": first },
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        found["data"]["searchPersons"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["node"]["person"]["lastName"] == last
                && e["node"]["person"]["firstName"] == first),
        "{last}, {first} not found in a fresh demo: {found:#}"
    );

    terminate(child);

    // A second start on the same data dir serves what is there; it does not load again.
    let (again, _, _) = serve_demo(dir.path());
    let orders = <entities::order::Entity as sea_orm::EntityTrait>::find()
        .all(&db)
        .await
        .unwrap()
        .len();
    assert_eq!(orders, 500, "no second demo load");
    terminate(again);
}

/// A search index built by an earlier version (other fields) is rebuilt from the database when
/// the server starts, not refused; searches then find the persons.
#[tokio::test]
async fn serve_rebuilds_a_search_index_of_an_earlier_version() {
    let dir = tempfile::tempdir().unwrap();
    let (child, _, _) = serve_demo(dir.path());
    terminate(child);
    let search = dir.path().join("search");
    let current = || {
        std::fs::read_to_string(search.join("CURRENT"))
            .unwrap()
            .trim()
            .to_owned()
    };
    let old = current();
    // what an index of the version before surname-and-given-name pairs looks like
    let meta_path = search.join(&old).join("meta.json");
    let mut meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&meta_path).unwrap()).unwrap();
    let fields = meta["schema"].as_array_mut().unwrap();
    let before = fields.len();
    fields.retain(|f| f["name"] != "pair");
    assert_eq!(fields.len(), before - 1, "the index has a pair field");
    std::fs::write(&meta_path, meta.to_string()).unwrap();

    let (child, url, tokens) = serve_demo(dir.path());
    assert_ne!(current(), old, "a rebuilt index is live");
    let db = data_dir_db(dir.path()).await;
    let someone = <entities::person::Entity as sea_orm::EntityTrait>::find()
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.last_name.is_some() && p.first_name.is_some() && !p.confidential)
        .unwrap();
    let (last, first) = (someone.last_name.unwrap(), someone.first_name.unwrap());
    let base = url.trim_end_matches("/playground").to_owned();
    let body: serde_json::Value = reqwest::Client::new()
        .post(format!("{base}/graphql"))
        .bearer_auth(&tokens["bench_officer"])
        .json(&json!({
            "query": "query($l: String, $f: String) { searchPersons(lastName: $l, firstName: $f, first: 10) { edges { node { person { lastName firstName } } } } }",
            "variables": { "l": last, "f": first },
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(body["errors"].is_null(), "{body:#}");
    let found = body["data"]["searchPersons"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| {
            e["node"]["person"]["lastName"] == last && e["node"]["person"]["firstName"] == first
        });
    assert!(found, "{last}, {first} not found: {body:#}");
    terminate(child);
}

/// `ccpor expire` records the EXPIRED event of every order past its end date that a loaded
/// dataset brings, exactly once: a second run records nothing.
#[tokio::test]
async fn expire_records_a_loaded_backlog_once() {
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = ccpor()
            .args(args)
            .env("DATABASE_URL", &app.database_url)
            .env("CCPOR_DATA_DIR", dir.path().join("data"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let expired = || async {
        entities::order_event::Entity::find()
            .filter(entities::order_event::Column::Kind.eq("expired"))
            .count(&app.db)
            .await
            .unwrap()
    };
    run(&["demo", "--orders", "400"]);
    let before = expired().await;
    let out = run(&["expire"]);
    let n: u64 = out
        .trim()
        .strip_prefix("recorded ")
        .and_then(|r| r.strip_suffix(" expiries"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("unexpected output: {out}"));
    assert!(n > 0, "400 demo orders include some past their end date");
    assert_eq!(expired().await, before + n);
    assert_eq!(run(&["expire"]).trim(), "recorded 0 expiries");
    assert_eq!(expired().await, before + n);
}

/// Records that came in by `import` are linked across courts by `ccpor link`, as `createOrder`
/// links each new record; a second run changes nothing.
#[tokio::test]
async fn link_joins_imported_records_across_courts() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("feed.ndjson");
    let la = dv_tro("26FL500001", 4);
    let mut oc = dv_tro("26FL500002", 2);
    oc["courtCode"] = json!("SC30");
    std::fs::write(&path, format!("{la}\n{oc}\n")).unwrap();
    let run = |args: &[&str]| {
        ccpor()
            .args(args)
            .env("DATABASE_URL", &app.database_url)
            .env("CCPOR_DATA_DIR", dir.path().join("data"))
            .output()
            .unwrap()
    };
    let out = run(&["import", path.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Automatic links and the clerk's queue of proposals.
    let links = "{ auto: personLinks(state: AUTO) { ...L } proposed: personLinks(state: PROPOSED) { ...L } }
        fragment L on PersonLink { state reasons persons { fullName court: orders(first: 1) { edges { node { court { code } } } } } }";
    let before = app.data(links, json!({})).await;
    assert_eq!(
        before,
        json!({ "auto": [], "proposed": [] }),
        "import does not link"
    );

    let out = run(&["link"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("looked at 4 person records"), "{stdout}");
    let after = app.data(links, json!({})).await;
    let auto: Vec<&Value> = after["auto"].as_array().unwrap().iter().collect();
    assert_eq!(
        auto.len(),
        1,
        "the restrained man, same name and DOB: {after:#}"
    );
    // The protected woman has no DOB on either order: proposed for a clerk, not linked.
    assert_eq!(after["proposed"].as_array().unwrap().len(), 1, "{after:#}");
    let mut courts: Vec<&str> = auto[0]["persons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            p["court"]["edges"][0]["node"]["court"]["code"]
                .as_str()
                .unwrap()
        })
        .collect();
    courts.sort();
    assert_eq!(courts, ["SC19", "SC30"], "{after:#}");

    let out = run(&["link"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("0 new links"), "{stdout}");
}
