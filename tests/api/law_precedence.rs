//! Fam. Code 6457 / PC 136.2(c)(1) through HTTP (docs/law/precedence.md#enforcement-order): one
//! controlling order among all the orders between the same parties, not one per pair, and an EPO
//! taking precedence only when it is more restrictive than the other orders.
use ccpor::auth::Role;
use serde_json::{Value, json};

use crate::bench_support::{enter, existing, new_party, order, order_id, party_id, person};
use crate::helpers::spawn_app;

/// Every conflict of a list names `id` as the controlling order, by `rule`.
fn all_name(conflicts: &Value, id: &str, rule: &str) {
    let list = conflicts.as_array().cloned().unwrap_or_default();
    assert!(!list.is_empty(), "{conflicts:#}");
    for c in &list {
        assert_eq!(
            (
                c["controlling"]["order"]["id"].as_str(),
                c["controlling"]["rule"].as_str(),
                c["controlling"]["isCheckedOrder"].as_bool()
            ),
            (Some(id), Some(rule), Some(false)),
            "{c:#}"
        );
    }
}

#[tokio::test]
async fn one_controlling_order_among_several_and_only_a_qualifying_epo_first() {
    let app = spawn_app().await;
    let peaceful = json!({ "pcoCodes": ["01", "04"], "contactLevel": "PEACEFUL_CONTACT", "stayAwayYards": 100 });
    let no_contact = json!({ "pcoCodes": ["01", "04", "05"], "contactLevel": "NO_CONTACT", "stayAwayYards": 100 });
    // 1. A Los Angeles DV order allowing peaceful contact, 40 days ago.
    let base = enter(
        &app,
        order(
            "SC19",
            "26STRO45001",
            "DV-130",
            40,
            Some(700),
            peaceful.clone(),
            vec![
                new_party(
                    "RESTRAINED",
                    person("Quillfeather", "Osric", Some("1979-03-03"), "MALE"),
                ),
                new_party(
                    "PROTECTED",
                    person("Quillfeather", "Rowena", Some("1981-04-04"), "FEMALE"),
                ),
            ],
        ),
    )
    .await;
    let (r, p) = (party_id(&base, "RESTRAINED"), party_id(&base, "PROTECTED"));
    let parties = || vec![existing("RESTRAINED", &r), existing("PROTECTED", &p)];
    // 2. A criminal no-contact order, 20 days ago; 3. a civil no-contact order, 10 days ago.
    let cpo = enter(
        &app,
        order(
            "SC19",
            "26CR045002",
            "CR-160",
            20,
            None,
            no_contact.clone(),
            parties(),
        ),
    )
    .await;
    let civil = enter(
        &app,
        order(
            "SC30",
            "26FL045003",
            "DV-130",
            10,
            Some(700),
            no_contact.clone(),
            parties(),
        ),
    )
    .await;
    // 4. A civil harassment order allowing contact, yesterday. Decided two at a time, it would
    // control over the first order (both civil, it is later), the civil no-contact order over it,
    // and the criminal order over that: three answers. The law names one: among the no-contact
    // orders, the criminal one.
    let fourth = enter(
        &app,
        order(
            "SC34",
            "26CH045004",
            "CH-130",
            1,
            Some(700),
            peaceful.clone(),
            parties(),
        ),
    )
    .await;
    assert_eq!(fourth["conflicts"].as_array().map(Vec::len), Some(3));
    all_name(&fourth["conflicts"], &order_id(&cpo), "NO_CONTACT");

    // The same answer from any of the orders.
    let bench = app.mint(Role::BenchOfficer, Some("SC19"));
    let q = "query($o: ID!) { conflicts(orderId: $o) { order { id } controlling { order { id } isCheckedOrder rule } } }";
    let d = app
        .gql_as(Some(&bench), q, json!({ "o": order_id(&base) }))
        .await;
    all_name(&d["data"]["conflicts"], &order_id(&cpo), "NO_CONTACT");
    let d = app
        .gql_as(Some(&bench), q, json!({ "o": order_id(&civil) }))
        .await;
    all_name(&d["data"]["conflicts"], &order_id(&cpo), "NO_CONTACT");
    let d = app
        .gql_as(Some(&bench), q, json!({ "o": order_id(&cpo) }))
        .await;
    for c in d["data"]["conflicts"]
        .as_array()
        .cloned()
        .unwrap_or_default()
    {
        assert_eq!(c["controlling"]["isCheckedOrder"], true, "{c:#}");
    }

    // 5. An EPO that restrains no more than the criminal order (no contact, 100 yards): it does
    // not have precedence under PC 136.2(c)(1), and the criminal order still controls.
    let weak = enter(
        &app,
        order(
            "SC19",
            "EPO-26-45005",
            "EPO-001",
            0,
            Some(5),
            no_contact.clone(),
            parties(),
        ),
    )
    .await;
    all_name(&weak["conflicts"], &order_id(&cpo), "NO_CONTACT");

    // 6. An EPO with a longer stay-away than every other order takes precedence over all.
    let strong = enter(
        &app,
        order(
            "SC19",
            "EPO-26-45006",
            "EPO-001",
            0,
            Some(5),
            json!({ "pcoCodes": ["01", "04", "05"], "contactLevel": "NO_CONTACT", "stayAwayYards": 300 }),
            parties(),
        ),
    )
    .await;
    let list = strong["conflicts"].as_array().cloned().unwrap_or_default();
    assert_eq!(list.len(), 5, "{:#}", strong["conflicts"]);
    for c in &list {
        assert_eq!(
            (
                c["controlling"]["rule"].as_str(),
                c["controlling"]["isCheckedOrder"].as_bool()
            ),
            (Some("EPO"), Some(true)),
            "{c:#}"
        );
    }
    let d = app
        .gql_as(Some(&bench), q, json!({ "o": order_id(&fourth) }))
        .await;
    all_name(&d["data"]["conflicts"], &order_id(&strong), "EPO");
}
