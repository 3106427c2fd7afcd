use serde_json::json;

use crate::helpers::{error_code, error_field, spawn_app};

#[tokio::test]
async fn all_58_superior_courts_and_tribal_courts_are_seeded() {
    let app = spawn_app().await;
    let d = app
        .data("{ courts(courtType: SUPERIOR) { code county fips ori participationMode } tribal: courts(courtType: TRIBAL) { code name county } }", json!({}))
        .await;
    let sc = d["courts"].as_array().unwrap();
    assert_eq!(sc.len(), 58);
    assert_eq!(
        sc[0],
        json!({ "code": "SC01", "county": "Alameda", "fips": "06001", "ori": "CA001015J", "participationMode": "FULL" })
    );
    assert_eq!(sc[57]["county"], "Yuba");
    assert!(d["tribal"].as_array().unwrap().len() >= 10);
}

#[tokio::test]
async fn court_by_code_and_errors() {
    let app = spawn_app().await;
    let d = app
        .data(
            r#"{ court(code: "sc19") { code name countyNumber courtType } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        d["court"]["name"],
        "Superior Court of California, County of Los Angeles"
    );
    assert_eq!(d["court"]["countyNumber"], 19);

    let bad = app
        .gql(r#"{ court(code: "LA") { code } }"#, json!({}))
        .await;
    assert_eq!(error_code(&bad), "VALIDATION");
    assert_eq!(error_field(&bad), "code");
    let missing = app
        .gql(r#"{ court(code: "SC99") { code } }"#, json!({}))
        .await;
    assert_eq!(error_code(&missing), "NOT_FOUND");
    assert_eq!(missing["data"]["court"], json!(null));
}

#[tokio::test]
async fn agencies_are_seeded_and_found_by_ori() {
    let app = spawn_app().await;
    let d = app
        .data(
            r#"{ agencies { ori } agency(ori: "ca0190000") { name agencyType county } }"#,
            json!({}),
        )
        .await;
    assert_eq!(d["agencies"].as_array().unwrap().len(), 59);
    assert_eq!(
        d["agency"],
        json!({ "name": "Los Angeles County Sheriff's Office", "agencyType": "SHERIFF", "county": "Los Angeles" })
    );
    let bad = app
        .gql(r#"{ agency(ori: "CA01") { name } }"#, json!({}))
        .await;
    assert_eq!(error_code(&bad), "VALIDATION");
}
