//! Person identity across courts through HTTP: automatic links, proposals a clerk confirms or
//! rejects, records left apart, and reversal, all recorded as events.
use ccpor::auth::Role;
use serde_json::json;

use crate::bench_support::{enter, new_party, no_contact, order, party_id, person};
use crate::helpers::{error_code, spawn_app};

const IDENTITY: &str = "query($p: ID!) { person(id: $p) { identity {
    persons { id fullName dob }
    links { id state linked score reasons persons { id } decidedBy
            events { fromState toState actor reason } } } } }";

fn ids(v: &serde_json::Value) -> Vec<String> {
    let mut out: Vec<String> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn bench_identity_links_auto_proposed_apart_rejected_and_reversed() {
    let app = spawn_app().await;
    ccpor::demo::generate(&app.db, 200, 5, None).await.unwrap();
    let victim = || {
        new_party(
            "PROTECTED",
            person("Okonkwo-Lind", "Teodora", Some("1990-06-12"), "FEMALE"),
        )
    };
    // Los Angeles: the first record.
    let la = enter(
        &app,
        order("SC19", "26STRO01234", "DV-110", 3, Some(21), no_contact(), vec![
            json!({ "role": "RESTRAINED", "person": { "lastName": "Quintero Vale", "firstName": "Ramiro",
                    "dob": "1984-02-29", "sex": "MALE", "heightInches": 70, "weightPounds": 180 } }),
            victim(),
        ]),
    )
    .await;
    let ramiro_la = party_id(&la, "RESTRAINED");
    // Alameda: same man, hyphenated surname, same DOB and descriptors: linked automatically.
    let ala = enter(
        &app,
        order("SC01", "HG26-118822", "CH-110", 2, Some(21), no_contact(), vec![
            json!({ "role": "RESTRAINED", "person": { "lastName": "Quintero-Vale", "firstName": "Ramiro",
                    "dob": "1984-02-29", "sex": "MALE", "heightInches": 71, "weightPounds": 176 } }),
            new_party("PROTECTED", person("Baptiste", "Marguerite", Some("1979-11-03"), "FEMALE")),
        ]),
    )
    .await;
    let ramiro_ala = party_id(&ala, "RESTRAINED");
    // San Diego: same name, DOB one digit off: proposed to a clerk.
    let sd = enter(
        &app,
        order("SC37", "CR-26-004411", "CR-160", 1, None, no_contact(), vec![
            json!({ "role": "RESTRAINED", "person": { "lastName": "Quintero Vale", "firstName": "Ramiro",
                    "dob": "1984-02-28", "sex": "MALE" } }),
            new_party("PROTECTED", person("Ferreira", "Lucia", Some("1992-01-15"), "FEMALE")),
        ]),
    )
    .await;
    let ramiro_sd = party_id(&sd, "RESTRAINED");
    // Fresno: a different man of the same name, born decades earlier: left apart.
    let fr = enter(
        &app,
        order("SC10", "26CEFL0777", "DV-110", 1, Some(21), no_contact(), vec![
            json!({ "role": "RESTRAINED", "person": { "lastName": "Quintero Vale", "firstName": "Ramiro",
                    "dob": "1951-09-17", "sex": "MALE" } }),
            new_party("PROTECTED", person("Quintero", "Esperanza", Some("1953-04-02"), "FEMALE")),
        ]),
    )
    .await;
    let ramiro_fr = party_id(&fr, "RESTRAINED");

    let bench = app.mint(Role::BenchOfficer, Some("SC19"));
    let d = app
        .gql_as(Some(&bench), IDENTITY, json!({ "p": ramiro_la }))
        .await;
    assert!(d.get("errors").is_none(), "{d:#}");
    let ident = &d["data"]["person"]["identity"];
    let mut want = vec![ramiro_la.clone(), ramiro_ala.clone()];
    want.sort();
    assert_eq!(ids(&ident["persons"]), want, "auto link only: {ident:#}");
    let links = ident["links"].as_array().unwrap();
    let link_to = |other: &str| {
        links
            .iter()
            .find(|l| ids(&l["persons"]).contains(&other.to_owned()))
            .cloned()
    };
    let auto = link_to(&ramiro_ala).expect("auto link");
    assert_eq!(auto["state"], "AUTO");
    assert_eq!(auto["linked"], true);
    assert!(
        auto["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r == "DOB exact"),
        "{auto:#}"
    );
    assert_eq!(
        auto["events"],
        json!([{ "fromState": null, "toState": "AUTO", "actor": "system", "reason": null }])
    );
    let proposed = link_to(&ramiro_sd).expect("proposed link");
    assert_eq!(proposed["state"], "PROPOSED");
    assert_eq!(proposed["linked"], false);
    assert!(
        link_to(&ramiro_fr).is_none(),
        "different man stays apart: {links:?}"
    );

    // The clerk's queue lists the proposal; a bench officer may not decide it.
    let clerk = app.mint(Role::Clerk, Some("SC37"));
    let q = app
        .gql_as(
            Some(&clerk),
            "{ personLinks { id persons { id } } }",
            json!({}),
        )
        .await;
    assert!(
        q["data"]["personLinks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["id"] == proposed["id"])
    );
    const CONFIRM: &str = "mutation($l: ID!, $r: String) { confirmPersonLink(linkId: $l, reason: $r) { link { state decidedBy events { fromState toState actor reason } } } }";
    const REJECT: &str = "mutation($l: ID!, $r: String) { rejectPersonLink(linkId: $l, reason: $r) { link { state linked events { fromState toState } } } }";
    let denied = app
        .gql_as(Some(&bench), CONFIRM, json!({ "l": proposed["id"] }))
        .await;
    assert_eq!(error_code(&denied), "FORBIDDEN");
    let analyst = app.mint(Role::Analyst, None);
    let masked = app
        .gql_as(Some(&analyst), IDENTITY, json!({ "p": ramiro_la }))
        .await;
    assert_eq!(error_code(&masked), "FORBIDDEN");

    // Confirmed: San Diego joins the identity.
    let c = app
        .gql_as(
            Some(&clerk),
            CONFIRM,
            json!({ "l": proposed["id"], "r": "same booking photo and CII number" }),
        )
        .await;
    assert!(c.get("errors").is_none(), "{c:#}");
    assert_eq!(c["data"]["confirmPersonLink"]["link"]["state"], "CONFIRMED");
    assert_eq!(
        c["data"]["confirmPersonLink"]["link"]["events"][1],
        json!({ "fromState": "PROPOSED", "toState": "CONFIRMED", "actor": "clerk-test", "reason": "same booking photo and CII number" })
    );
    let again = app
        .gql_as(Some(&clerk), CONFIRM, json!({ "l": proposed["id"] }))
        .await;
    assert_eq!(error_code(&again), "CONFLICT");
    let d = app
        .gql_as(Some(&bench), IDENTITY, json!({ "p": ramiro_sd }))
        .await;
    let mut want = vec![ramiro_la.clone(), ramiro_ala.clone(), ramiro_sd.clone()];
    want.sort();
    assert_eq!(
        ids(&d["data"]["person"]["identity"]["persons"]),
        want,
        "transitive over links"
    );

    // The automatic link reversed: Alameda's record is apart again, history kept.
    let r = app
        .gql_as(
            Some(&clerk),
            REJECT,
            json!({ "l": auto["id"], "r": "different CII" }),
        )
        .await;
    assert!(r.get("errors").is_none(), "{r:#}");
    let link = &r["data"]["rejectPersonLink"]["link"];
    assert_eq!(link["state"], "REJECTED");
    assert_eq!(link["linked"], false);
    assert_eq!(
        link["events"],
        json!([{ "fromState": null, "toState": "AUTO" }, { "fromState": "AUTO", "toState": "REJECTED" }])
    );
    let d = app
        .gql_as(Some(&bench), IDENTITY, json!({ "p": ramiro_la }))
        .await;
    let mut want = vec![ramiro_la.clone(), ramiro_sd.clone()];
    want.sort();
    assert_eq!(ids(&d["data"]["person"]["identity"]["persons"]), want);
    // …and restored.
    let c = app
        .gql_as(Some(&clerk), CONFIRM, json!({ "l": auto["id"] }))
        .await;
    assert_eq!(c["data"]["confirmPersonLink"]["link"]["state"], "CONFIRMED");
    let d = app
        .gql_as(Some(&bench), IDENTITY, json!({ "p": ramiro_la }))
        .await;
    assert_eq!(
        d["data"]["person"]["identity"]["persons"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    // The link is a node.
    let n = app
        .gql_as(
            Some(&bench),
            "query($id: ID!) { node(id: $id) { id ... on PersonLink { state } } }",
            json!({ "id": auto["id"] }),
        )
        .await;
    assert_eq!(n["data"]["node"]["state"], "CONFIRMED");
}
