//! Every image read and upload passes the access gate (`images::access`) with the caller's
//! token, and lands in the hash-chained audit log under the user who did it.
use ccpor::auth::Role;
use ccpor::auth::token::{Narrowing, attenuate};
use ccpor::images::access::ReadPath;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use super::files::png;
use super::{assert_nothing_stored, get, images_of, post_image, post_image_with};
use crate::helpers::{TestApp, client_with, create, dv_tro, spawn_app};

/// `(event, user_id, outcome, object_ids)` of every image audit row, oldest first.
async fn image_audit(app: &TestApp) -> Vec<(String, Option<String>, String, String)> {
    let backend = app.db.get_database_backend();
    app.db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT event, user_id, outcome, object_ids FROM audit_event \
             WHERE event LIKE 'image.%' ORDER BY seq",
        ))
        .await
        .unwrap()
        .into_iter()
        .map(|r| {
            (
                r.try_get("", "event").unwrap(),
                r.try_get("", "user_id").unwrap(),
                r.try_get("", "outcome").unwrap(),
                r.try_get("", "object_ids").unwrap(),
            )
        })
        .collect()
}

/// `POST /images` of a small PNG for `order` with `token` (`None`: no Authorization header).
async fn post_as(app: &TestApp, token: Option<&str>, order: &str) -> (u16, Value) {
    let client = match token {
        Some(t) => client_with(t),
        None => reqwest::Client::new(),
    };
    let fields = [("orderId", order.to_owned())];
    post_image_with(&client, app, &fields, "scan.png", png(16, 16, 3)).await
}

#[tokio::test]
async fn every_read_and_upload_is_gated_and_audited_under_its_user() {
    let app = spawn_app().await;
    let access = &app.images.access;
    let (order, _, _) = create(&app, dv_tro("26STRO-70201", 1)).await;

    let (status, body) =
        post_image(&app, &[("orderId", order.clone())], "s.png", png(32, 32, 1)).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(access.upload_checks(), 1);
    let image = body["image"]["id"].as_str().unwrap().to_owned();

    // The listing is audited in the GraphQL request's row, as reads of the order are.
    let listed = images_of(&app, &order).await;
    assert_eq!(access.read_checks(ReadPath::Listing), 1);

    // A link carries the user it was issued to; a bench officer's link is theirs.
    let bench = app.mint(Role::BenchOfficer, Some("SC19"));
    let d = app
        .gql_as(
            Some(&bench),
            "query($o: ID!) { order(id: $o) { images { url previewUrl } } }",
            json!({ "o": order }),
        )
        .await;
    let bench_url = d["data"]["order"]["images"][0]["url"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = reqwest::get(app.url(&bench_url)).await.unwrap();
    assert_eq!(
        r.status(),
        200,
        "a signed link needs no Authorization header"
    );
    assert_eq!(access.read_checks(ReadPath::Download), 1);

    let r = get(&app, listed[0]["previewUrl"].as_str().unwrap(), None).await;
    assert_eq!(r.status(), 200);
    assert_eq!(access.read_checks(ReadPath::Preview), 1);

    // Re-attributing a link to someone else breaks its signature; the attempt is audited.
    let forged = bench_url.replace(
        &format!("u={}", hex::encode("bench_officer-test")),
        &format!("u={}", hex::encode("clerk-sc19")),
    );
    assert_ne!(forged, bench_url);
    assert_eq!(get(&app, &forged, None).await.status(), 403);
    assert_eq!(
        access.read_checks(ReadPath::Download),
        1,
        "refused before the gate"
    );

    let rows = image_audit(&app).await;
    let events: Vec<(&str, Option<&str>, &str)> = rows
        .iter()
        .map(|(e, u, o, _)| (e.as_str(), u.as_deref(), o.as_str()))
        .collect();
    assert_eq!(
        events,
        vec![
            ("image.upload.start", Some("clerk-sc19"), "allowed"),
            ("image.upload", Some("clerk-sc19"), "allowed"),
            ("image.download", Some("bench_officer-test"), "allowed"),
            ("image.preview", Some("clerk-sc19"), "allowed"),
            ("image.link_refused", None, "denied"),
        ]
    );
    assert!(rows[1].3.contains(&image) && rows[1].3.contains(&order));
    assert!(rows[2].3.contains(&image));

    // The GraphQL listings went into the requests' rows with the order id.
    let backend = app.db.get_database_backend();
    let listed_rows = app
        .db
        .query_one_raw(Statement::from_string(
            backend,
            format!(
                "SELECT COUNT(*) AS n FROM audit_event WHERE event = 'graphql.query' \
                 AND object_ids LIKE '%{order}%'"
            ),
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap();
    assert_eq!(listed_rows, 2);

    // An order query that does not ask for images does not touch the gate.
    app.data(
        "query($o: ID!) { order(id: $o) { caseNumber } }",
        json!({ "o": order }),
    )
    .await;
    assert_eq!(access.read_checks(ReadPath::Listing), 2);
}

#[tokio::test]
async fn uploads_need_a_writer_of_the_orders_court() {
    let app = spawn_app().await;
    let (order, _, _) = create(&app, dv_tro("26STRO-70202", 1)).await;
    // (who, token, HTTP status, code, rule)
    type Case<'a> = (&'a str, Option<String>, u16, &'a str, Option<&'a str>);
    let cases: Vec<Case> = vec![
        ("no token", None, 401, "UNAUTHENTICATED", None),
        (
            "analyst",
            Some(app.mint(Role::Analyst, None)),
            403,
            "FORBIDDEN",
            Some("role_permission"),
        ),
        (
            "bench officer",
            Some(app.mint(Role::BenchOfficer, Some("SC19"))),
            403,
            "FORBIDDEN",
            Some("role_permission"),
        ),
        (
            "clerk of another court",
            Some(app.mint(Role::Clerk, Some("SC38"))),
            403,
            "FORBIDDEN",
            Some("own_court"),
        ),
        (
            "officer, not their agency's EPO",
            Some(app.mint(Role::Lea, Some("CA0190000"))),
            403,
            "FORBIDDEN",
            Some("own_agency"),
        ),
        (
            "read-only token",
            Some(
                attenuate(
                    &app.mint(Role::Clerk, Some("SC19")),
                    &Narrowing {
                        read_only: true,
                        ..Default::default()
                    },
                )
                .unwrap(),
            ),
            403,
            "FORBIDDEN",
            None,
        ),
        (
            "token narrowed to another county",
            Some(
                attenuate(
                    &app.mint(Role::Clerk, Some("SC19")),
                    &Narrowing {
                        county: Some("Sacramento".into()),
                        ..Default::default()
                    },
                )
                .unwrap(),
            ),
            // Answered as for a missing order (issue 22, item 15).
            404,
            "NOT_FOUND",
            None,
        ),
    ];
    for (who, token, status, code, rule) in &cases {
        let (got, body) = post_as(&app, token.as_deref(), &order).await;
        assert_eq!(got, *status, "{who}: {body}");
        assert_eq!(
            body["errors"][0]["extensions"]["code"], *code,
            "{who}: {body}"
        );
        if let Some(rule) = rule {
            assert_eq!(
                body["errors"][0]["extensions"]["rule"], *rule,
                "{who}: {body}"
            );
        }
    }
    // The narrowed token's refusal reads exactly as an upload to an order that does not exist.
    let narrowed = cases[cases.len() - 1].1.clone().unwrap();
    let missing = ccpor::domain::ids::encode(ccpor::domain::ids::Kind::Order, 987_654);
    let (got_in, body_in) = post_as(&app, Some(&narrowed), &order).await;
    let (got_none, body_none) = post_as(&app, Some(&narrowed), &missing).await;
    assert_eq!(got_in, got_none);
    assert_eq!(
        body_in.to_string().replace(&order, "<id>"),
        body_none.to_string().replace(&missing, "<id>"),
    );
    assert_nothing_stored(&app).await;
    assert_eq!(app.images.access.audits(), 0, "nothing was stored or read");
    // Each refusal is in the audit log.
    let refused = image_audit(&app)
        .await
        .into_iter()
        .filter(|(e, _, o, _)| e == "image.upload" && (o == "denied" || o == "error"))
        .count();
    let auth_refused = app
        .db
        .query_one_raw(Statement::from_string(
            app.db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM audit_event WHERE event LIKE 'auth.%' \
             AND operation = 'POST /images'",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap();
    // Each case, and the two narrowed uploads just above.
    assert_eq!(refused as i64 + auth_refused, cases.len() as i64 + 2);

    // The court's own clerk may; so may an officer for the EPO their agency entered.
    let (got, body) = post_as(&app, Some(&app.mint(Role::Clerk, Some("SC19"))), &order).await;
    assert_eq!(got, 201, "{body}");
    let epo = crate::helpers::epo("EPO26-000912", "CA0370000");
    let (epo_id, _, _) = create(&app, epo).await;
    let officer = app.mint(Role::Lea, Some("CA0370000"));
    let (got, body) = post_as(&app, Some(&officer), &epo_id).await;
    assert_eq!(got, 201, "{body}");
    let other_agency = app.mint(Role::Lea, Some("CA0190000"));
    let (got, body) = post_as(&app, Some(&other_agency), &epo_id).await;
    assert_eq!(got, 403, "{body}");
}

/// `registerImageOnlyOrder` / `POST /images` with a record, and `completeImageOnlyOrder`, for
/// every role: only a clerk of the image-only court registers and completes its orders.
#[tokio::test]
async fn image_only_orders_by_role() {
    let app = spawn_app().await;
    app.db
        .execute_unprepared(
            "UPDATE court SET participation_mode = 'image_only' WHERE code = 'SC02'",
        )
        .await
        .unwrap();
    app.cache.invalidate().await;
    let record = |case: &str| {
        json!({
            "courtCode": "SC02", "caseNumber": case, "family": "DV",
            "parties": [
                { "role": "RESTRAINED", "lastName": "Ferreira Baca", "firstName": "Octavio" },
                { "role": "PROTECTED", "lastName": "Ferreira Baca", "firstName": "Mireya" }
            ]
        })
    };
    let own_clerk = app.mint(Role::Clerk, Some("SC02"));
    // (who, token, rule; None = allowed)
    let roles: Vec<(&str, String, Option<&str>)> = vec![
        ("clerk of the court", own_clerk.clone(), None),
        (
            "clerk of another court",
            app.mint(Role::Clerk, Some("SC19")),
            Some("own_court"),
        ),
        (
            "bench officer",
            app.mint(Role::BenchOfficer, Some("SC02")),
            Some("role_permission"),
        ),
        (
            "officer",
            app.mint(Role::Lea, Some("CA0190000")),
            Some("own_agency"),
        ),
        (
            "analyst",
            app.mint(Role::Analyst, None),
            Some("role_permission"),
        ),
        (
            "admin",
            app.mint(Role::Admin, None),
            Some("role_permission"),
        ),
    ];
    const COMPLETE: &str = "mutation($o: ID!, $i: CreateOrderInput!) {
        completeImageOnlyOrder(orderId: $o, input: $i) { order { id imageOnly } } }";
    for (n, (who, token, rule)) in roles.iter().enumerate() {
        // Register by scanner upload.
        let (status, body) = post_as_record(&app, token, &record(&format!("26FL-0{n}100"))).await;
        match rule {
            None => assert_eq!(status, 201, "{who}: {body}"),
            Some(rule) => {
                assert_eq!(status, 403, "{who}: {body}");
                assert_eq!(body["errors"][0]["extensions"]["rule"], *rule, "{who}");
            }
        }
        // Complete an order the court's clerk registered.
        let (status, body) =
            post_as_record(&app, &own_clerk, &record(&format!("26FL-0{n}200"))).await;
        assert_eq!(status, 201, "{body}");
        let order = body["order"]["id"].as_str().unwrap().to_owned();
        let mut keyed = dv_tro(&format!("26FL-0{n}200"), 1);
        keyed["courtCode"] = json!("SC02");
        let d = app
            .gql_as(Some(token), COMPLETE, json!({ "o": order, "i": keyed }))
            .await;
        match rule {
            None => assert_eq!(
                d["data"]["completeImageOnlyOrder"]["order"]["imageOnly"], false,
                "{who}: {d}"
            ),
            Some(rule) => {
                let expected = if *rule == "own_agency" {
                    "role_permission"
                } else {
                    rule
                };
                assert_eq!(
                    d["errors"][0]["extensions"]["code"], "FORBIDDEN",
                    "{who}: {d}"
                );
                assert_eq!(d["errors"][0]["extensions"]["rule"], expected, "{who}: {d}");
            }
        }
    }
}

async fn post_as_record(app: &TestApp, token: &str, record: &Value) -> (u16, Value) {
    let fields = [("record", record.to_string())];
    post_image_with(
        &client_with(token),
        app,
        &fields,
        "scan.png",
        png(20, 20, 77),
    )
    .await
}
