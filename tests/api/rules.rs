//! The rules table through the real binary: `serve --rules FILE` judges `createOrder` and
//! `renewOrder` by the file it was given; a file with a mistake stops the server with its line;
//! `ccpor rules` prints the table; the committed docs/law/rules.md is the generated one.
use std::process::Stdio;

use serde_json::{Value, json};

use crate::cli::{ccpor, serve_demo_with, terminate};
use crate::helpers::{dv_tro, spawn_app};

fn days(n: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::days(n)).to_rfc3339()
}

fn date(n: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::days(n))
        .date_naive()
        .to_string()
}

/// The shipped table with `from` replaced by `to` (once), written to `dir/rules.toml`.
fn override_file(dir: &std::path::Path, edits: &[(&str, &str)]) -> std::path::PathBuf {
    let mut text = ccpor::domain::rules::SHIPPED.to_owned();
    for (from, to) in edits {
        assert_eq!(text.matches(from).count(), 1, "{from}");
        text = text.replacen(from, to, 1);
    }
    let path = dir.join("rules.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// A GV-130 issued now that runs `months`.
fn gv130(case: &str, months: u32) -> Value {
    let mut o = dv_tro(case, 0);
    let issued = chrono::Utc::now();
    o["issuedAt"] = json!(issued.to_rfc3339());
    o["family"] = json!("GV");
    o["formNumber"] = json!("GV-130");
    o["hearingDate"] = Value::Null;
    o["expiresAt"] = json!(
        issued
            .checked_add_months(chrono::Months::new(months))
            .unwrap()
            .to_rfc3339()
    );
    o
}

/// A DV-130 issued `ago` days ago that expires in `left` days.
fn dv_oah(case: &str, ago: i64, left: i64) -> Value {
    let mut o = dv_tro(case, ago);
    o["formNumber"] = json!("DV-130");
    o["hearingDate"] = Value::Null;
    o["expiresAt"] = json!(days(left));
    o
}

const CREATE: &str =
    "mutation($i: CreateOrderInput!) { createOrder(input: $i) { order { id expiresAt } } }";
const RENEW: &str =
    "mutation($i: RenewOrderInput!) { renewOrder(input: $i) { order { id expiresAt } } }";

async fn post(base: &str, token: &str, query: &str, vars: Value) -> Value {
    reqwest::Client::new()
        .post(format!("{base}/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": vars }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn field(v: &Value) -> &str {
    v["errors"][0]["extensions"]["field"]
        .as_str()
        .unwrap_or_default()
}

/// The override makes a GV-130 run at least 2 years and a DV renewal request be filed in the
/// month before expiry: what the shipped table accepts, the server with `--rules` refuses.
#[tokio::test]
async fn serve_with_rules_judges_create_and_renew_by_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let rules = override_file(
        dir.path(),
        &[
            ("version = \"", "version = \"test-override-"),
            ("min = \"1 year\"", "min = \"2 years\""),
            (
                "request_window = \"3 months\"",
                "request_window = \"1 month\"",
            ),
            // A court holiday the shipped table does not have: Wednesday 7 October 2026.
            (
                "[[holiday]]\ndate = \"2026-11-11\"",
                "[[holiday]]\ndate = \"2026-10-07\"\nname = \"Test closure\"\nbasis = \"statute\"\nsource = \"test\"\n\n[[holiday]]\ndate = \"2026-11-11\"",
            ),
        ],
    );
    let data = dir.path().join("data");
    let (child, url, tokens) = serve_demo_with(
        &data,
        &["--demo-orders", "100", "--rules", rules.to_str().unwrap()],
    );
    let base = url.trim_end_matches("/playground").to_owned();
    let clerk = &tokens["clerk"];

    // The shipped table: 18 months is a lawful GV-130 (1 to 5 years).
    let shipped = spawn_app().await;
    let clerk_token = shipped.mint(ccpor::auth::Role::Clerk, Some("SC19"));
    let ok = shipped
        .gql_as(
            Some(&clerk_token),
            CREATE,
            json!({ "i": gv130("26CV260001", 18) }),
        )
        .await;
    assert!(ok.get("errors").is_none(), "{ok:#}");

    // The override: at least 2 years.
    let refused = post(
        &base,
        clerk,
        CREATE,
        json!({ "i": gv130("26CV260002", 18) }),
    )
    .await;
    assert_eq!(field(&refused), "expiresAt", "{refused:#}");
    let msg = refused["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(msg.contains("at least 2 years"), "{msg}");
    let two = post(
        &base,
        clerk,
        CREATE,
        json!({ "i": gv130("26CV260003", 24) }),
    )
    .await;
    assert!(two.get("errors").is_none(), "{two:#}");

    // formRules serves the loaded table.
    let rules_answer = post(
        &base,
        clerk,
        "{ formRules { formNumber minYears source effective until tableVersion } }",
        json!({}),
    )
    .await;
    let gv = rules_answer["data"]["formRules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["formNumber"] == "GV-130")
        .cloned()
        .unwrap();
    assert_eq!(gv["minYears"], 2);
    assert_eq!(gv["effective"], "2020-09-01");
    assert!(
        gv["tableVersion"]
            .as_str()
            .unwrap()
            .starts_with("test-override-")
    );

    // rulesTable serves the loaded table, holidays included.
    let table = post(
        &base,
        clerk,
        "{ rulesTable(asOf: \"2026-10-01\") { version asOf renewals { family requestWindow source } courtHolidays(year: 2026) { date name basis source } } }",
        json!({}),
    )
    .await;
    let t = &table["data"]["rulesTable"];
    assert!(
        t["version"].as_str().unwrap().starts_with("test-override-"),
        "{table:#}"
    );
    assert_eq!(t["asOf"], "2026-10-01");
    let dv = t["renewals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["family"] == "DV")
        .cloned()
        .unwrap();
    assert_eq!(dv["requestWindow"], "1 month", "{dv:#}");
    let holidays = t["courtHolidays"].as_array().unwrap();
    assert!(
        holidays
            .iter()
            .all(|h| h["date"].as_str().unwrap().starts_with("2026-"))
    );
    assert!(
        holidays
            .iter()
            .any(|h| h["date"] == "2026-10-07" && h["name"] == "Test closure"),
        "{table:#}"
    );

    // Court days follow the file's holidays. An EPO issued Saturday 3 October 2026: the shipped
    // table ends it with Friday 9 October (5 court days); with Wednesday 7 October closed the
    // fifth court day is Monday 12 October, so the 7-day cap (Saturday 10 October) decides.
    let lea = &tokens["lea"];
    let mut epo = crate::helpers::epo("EPO26-620001", "CA0190000");
    epo["issuedAt"] = json!("2026-10-03T17:00:00Z");
    epo["expiresAt"] = json!("2026-10-10T17:00:00Z");
    let entered = post(&base, lea, CREATE, json!({ "i": epo })).await;
    assert!(entered.get("errors").is_none(), "{entered:#}");
    let mut epo = crate::helpers::epo("EPO26-620002", "CA0370000");
    epo["issuedAt"] = json!("2026-10-03T17:00:00Z");
    epo["expiresAt"] = json!("2026-10-10T17:00:00Z");
    let shipped_epo = shipped
        .gql_as(
            Some(&shipped.mint(ccpor::auth::Role::Lea, Some("CA0370000"))),
            CREATE,
            json!({ "i": epo }),
        )
        .await;
    assert_eq!(field(&shipped_epo), "expiresAt", "{shipped_epo:#}");

    // renewOrder: a request filed 40 days before expiry is outside the override's month.
    let created = post(
        &base,
        clerk,
        CREATE,
        json!({ "i": dv_oah("26FL260004", 300, 41) }),
    )
    .await;
    let id = created["data"]["createOrder"]["order"]["id"].clone();
    let late = post(
        &base,
        clerk,
        RENEW,
        json!({ "i": { "orderId": id, "issuedAt": days(0), "expiresAt": days(6 * 365), "requestFiledOn": date(0) } }),
    )
    .await;
    assert_eq!(field(&late), "requestFiledOn", "{late:#}");
    let msg = late["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(msg.contains("in the 1 month before"), "{msg}");
    let created = post(
        &base,
        clerk,
        CREATE,
        json!({ "i": dv_oah("26FL260005", 300, 20) }),
    )
    .await;
    let id = created["data"]["createOrder"]["order"]["id"].clone();
    let renewed = post(
        &base,
        clerk,
        RENEW,
        json!({ "i": { "orderId": id, "issuedAt": days(0), "expiresAt": days(6 * 365), "requestFiledOn": date(0) } }),
    )
    .await;
    assert!(renewed.get("errors").is_none(), "{renewed:#}");
    // The shipped table accepts the 40-day-early request the override refused.
    let (old, _, _) = {
        let d = shipped
            .gql_as(
                Some(&clerk_token),
                CREATE,
                json!({ "i": dv_oah("26FL260006", 300, 41) }),
            )
            .await;
        (d["data"]["createOrder"]["order"]["id"].clone(), (), ())
    };
    let shipped_renewal = shipped
        .gql_as(
            Some(&clerk_token),
            RENEW,
            json!({ "i": { "orderId": old, "issuedAt": days(0), "expiresAt": days(6 * 365), "requestFiledOn": date(0) } }),
        )
        .await;
    assert!(
        shipped_renewal.get("errors").is_none(),
        "{shipped_renewal:#}"
    );
    terminate(child);
}

/// A rules file with a mistake stops `serve` before it listens, naming the file, line and field.
#[test]
fn serve_refuses_a_bad_rules_file_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let rules = override_file(
        dir.path(),
        &[(
            "max = \"10 years\"\nexpiry_required = false\nsource = \"PC 136.2(i)(1): post-conviction order up to 10 years; pre-judgment orders run until terminated\"\neffective = \"1900-01-01\"\n\n[[form]]\nform = \"CR-161\"",
            "max = \"ten years\"\nexpiry_required = false\nsource = \"PC 136.2(i)(1): post-conviction order up to 10 years; pre-judgment orders run until terminated\"\neffective = \"1900-01-01\"\n\n[[form]]\nform = \"CR-161\"",
        )],
    );
    let text = std::fs::read_to_string(&rules).unwrap();
    let out = ccpor()
        .args(["serve", "--addr", "127.0.0.1:0", "--rules"])
        .arg(&rules)
        .env("CCPOR_DATA_DIR", dir.path().join("data"))
        .env_remove("DATABASE_URL")
        .stdout(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    let row = text.lines().position(|l| l == "form = \"CR-160\"").unwrap() + 1;
    assert!(err.contains(&rules.display().to_string()), "{err}");
    assert!(
        err.contains(&format!("line {row}")) || err.contains(&format!("line {}", row - 1)),
        "{err} (row at line {row})"
    );
    assert!(
        err.contains("field `max`") && err.contains("CR-160"),
        "{err}"
    );
    assert!(err.contains("'ten years' is not a length"), "{err}");
}

/// `ccpor rules` prints every row with its source; `--json` the same as data; `--markdown` is
/// the committed docs/law/rules.md section.
#[test]
fn rules_command_prints_the_table() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = ccpor()
            .args(args)
            .env("CCPOR_DATA_DIR", dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let text = run(&["rules"]);
    assert!(
        text.contains("GV-130") && text.contains("2016-01-01 to 2020-08-31"),
        "{text}"
    );
    assert!(text.contains("AB 12"), "{text}");
    let json: Value = serde_json::from_str(&run(&["rules", "--json"])).unwrap();
    let gv: Vec<&Value> = json["forms"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["form"] == "GV-130")
        .collect();
    assert_eq!(gv.len(), 2);
    assert_eq!(
        (gv[0]["max"].clone(), gv[0]["until"].clone()),
        (json!("1 year"), json!("2020-08-31"))
    );
    assert!(
        json["forms"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["source"].as_str().is_some_and(|s| !s.is_empty()))
    );
    let md = run(&["rules", "--markdown"]);
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/law/rules.md")).unwrap();
    assert!(
        committed.contains(&md),
        "docs/law/rules.md is not what `ccpor rules --markdown` prints; regenerate: CCPOR_BLESS_DOCS=1 cargo test --lib docs::"
    );
}
