//! The role matrix (issue 4), through HTTP: every role against every root operation of the
//! schema and every confidential field, allowed or denied; every data access and every write
//! leaves its audit row, and a denied write leaves nothing else.
use std::collections::BTreeSet;

use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};
use ccpor::auth::Role;
use entities::audit_event;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::helpers::{TestApp, client_with, create, dv_tro, spawn_app};
use crate::images::files::png;

/// What a role gets: the data, or null with a `FORBIDDEN` error naming this rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Allow,
    Deny(&'static str),
}
use Expect::{Allow, Deny};

// Rule names as clients see them in `extensions.rule`.
const ROLE: Expect = Deny("role_permission");
const DEIDENTIFIED: Expect = Deny("deidentified_only");
const CLETS: Expect = Deny("clets_confidential");
const MINOR: Expect = Deny("minor_confidential");
const EPO_ONLY: Expect = Deny("lea_enters_epo_only");
const OWN_AGENCY: Expect = Deny("own_agency");

/// Root fields whose role table lives beside their feature, because each needs a court in
/// another participation mode: (field, test).
const ELSEWHERE: [(&str, &str); 4] = [
    (
        "registerImageOnlyOrder",
        "images::access::image_only_orders_by_role",
    ),
    (
        "completeImageOnlyOrder",
        "images::access::image_only_orders_by_role",
    ),
    // Over graphql-ws, not HTTP.
    (
        "orderEvents",
        "subscriptions::every_role_that_reads_orders_may_subscribe (and ..._refused_...)",
    ),
    (
        "expiringSoon",
        "subscriptions_expiring::expiring_soon_is_scoped_like_the_work_list",
    ),
];

/// Column order of every table below.
const ROLES: [Role; 5] = [
    Role::Clerk,
    Role::BenchOfficer,
    Role::Lea,
    Role::Analyst,
    Role::Admin,
];

/// Court of the court roles and of every order here; agency of the LEA role.
const COURT: &str = "SC19";
const AGENCY: &str = "CA0190000";

fn token(app: &TestApp, role: Role) -> String {
    match role {
        Role::Clerk | Role::BenchOfficer => app.mint(role, Some(COURT)),
        Role::Lea => app.mint(role, Some(AGENCY)),
        Role::Analyst | Role::Admin => app.mint(role, None),
        Role::Feed => app.mint(role, Some(COURT)),
    }
}

/// Posts with a request id of its own, so the audit rows of exactly this request can be found.
/// A document taking `$file: Upload!` goes as a GraphQL multipart request with a small PNG.
async fn call(app: &TestApp, token: &str, query: &str, variables: Value) -> (Value, String) {
    let request_id = uuid::Uuid::new_v4().to_string();
    let req = client_with(token)
        .post(app.url("/graphql"))
        .header("x-request-id", &request_id);
    let req = if query.contains("$file: Upload!") {
        let mut variables = variables;
        variables["file"] = Value::Null;
        let form = reqwest::multipart::Form::new()
            .text(
                "operations",
                json!({ "query": query, "variables": variables }).to_string(),
            )
            .text("map", json!({ "0": ["variables.file"] }).to_string())
            .part(
                "0",
                reqwest::multipart::Part::bytes(png(24, 24, 9))
                    .file_name("scan.png")
                    .mime_str("image/png")
                    .unwrap(),
            );
        req.header("apollo-require-preflight", "true")
            .multipart(form)
    } else {
        req.json(&json!({ "query": query, "variables": variables }))
    };
    let resp = req.send().await.unwrap();
    assert_eq!(resp.status(), 200, "HTTP status");
    (resp.json().await.unwrap(), request_id)
}

async fn audit_rows(app: &TestApp, request_id: &str) -> Vec<audit_event::Model> {
    audit_event::Entity::find()
        .filter(audit_event::Column::RequestId.eq(request_id))
        .all(&app.db)
        .await
        .unwrap()
}

fn days(n: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::days(n)).to_rfc3339()
}

fn minutes(n: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::minutes(n)).to_rfc3339()
}

/// What an operation acts on; writes get a fresh row each so one role's write cannot change
/// what the next role is asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    /// The shared order and its persons.
    Shared,
    /// A new temporary restraining order (DV-110).
    FreshTro,
    /// A new order after hearing (DV-130), which can be renewed.
    FreshAfterHearing,
    /// The CARPOS entry of a new DV-110, rejected by the peer (set so in the database).
    FreshRejected,
}

/// Ids an operation's variables are built from.
#[derive(Default)]
struct Fixture {
    order: String,
    person: String,
    court: String,
    /// The fresh order of `Target::Fresh*`.
    fresh: String,
    /// A case number no order has yet.
    case: String,
    /// A link between two records of the shared order's restrained person.
    link: String,
}

/// Whether a request leaves an audit row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Audit {
    /// Reference data (courts, agencies, forms): allowed reads are not audited; denials are.
    Reference,
    /// Audited; the row lists the ids of the objects served when allowed.
    WithIds,
    /// Audited; what it returns has no object ids (search hits may be empty, audit rows).
    Row,
}

struct Op {
    /// The root field, as in `schema/schema.graphql`.
    field: &'static str,
    /// Which variant of the field this row is about, when there are several.
    case: &'static str,
    document: &'static str,
    variables: fn(&Fixture) -> Value,
    target: Target,
    audit: Audit,
    /// clerk, bench_officer, lea, analyst, admin.
    expect: [Expect; 5],
}

fn none(_: &Fixture) -> Value {
    json!({})
}

fn epo(case: &str) -> Value {
    crate::helpers::epo(case, AGENCY)
}

/// Every root operation. `the_matrix_names_every_root_field_of_the_schema` fails when the schema
/// gains a root field this table does not have.
fn operations() -> Vec<Op> {
    use Audit::{Reference, Row, WithIds};
    use Target::{FreshAfterHearing, FreshRejected, FreshTro, Shared};
    vec![
        // ---- queries ----------------------------------------------- clerk  bench  lea    analyst admin
        Op {
            field: "node",
            case: "an order",
            document: "query($id: ID!) { node(id: $id) { id } }",
            variables: |f| json!({ "id": f.order }),
            target: Shared,
            audit: WithIds,
            expect: [Allow, Allow, Allow, ROLE, ROLE],
        },
        Op {
            field: "node",
            case: "a person",
            document: "query($id: ID!) { node(id: $id) { id } }",
            variables: |f| json!({ "id": f.person }),
            target: Shared,
            audit: WithIds,
            expect: [Allow, Allow, Allow, ROLE, ROLE],
        },
        Op {
            field: "node",
            case: "a court",
            document: "query($id: ID!) { node(id: $id) { id } }",
            variables: |f| json!({ "id": f.court }),
            target: Shared,
            // `node` may name persons and orders, so every `node` read is audited.
            audit: Row,
            expect: [Allow, Allow, Allow, Allow, Allow],
        },
        Op {
            field: "order",
            case: "",
            document: "query($id: ID!) { order(id: $id) { id status } }",
            variables: |f| json!({ "id": f.order }),
            target: Shared,
            audit: WithIds,
            expect: [Allow, Allow, Allow, ROLE, ROLE],
        },
        Op {
            field: "ordersByCaseNumber",
            case: "",
            document: "{ ordersByCaseNumber(caseNumber: \"26fl-770001\") { id } }",
            variables: none,
            target: Shared,
            audit: WithIds,
            expect: [Allow, Allow, Allow, ROLE, ROLE],
        },
        Op {
            field: "orders",
            case: "",
            document: "{ orders(first: 5) { edges { node { id family status } } } }",
            variables: none,
            target: Shared,
            audit: WithIds,
            expect: [Allow, Allow, Allow, Allow, ROLE],
        },
        Op {
            field: "formRules",
            case: "",
            document: "{ formRules { formNumber maxDays } }",
            variables: none,
            target: Shared,
            audit: Reference,
            expect: [Allow, Allow, Allow, Allow, Allow],
        },
        Op {
            field: "formRules",
            case: "every row, with source and dates",
            document: "{ formRules(all: true, asOf: \"2020-08-01\") { formNumber source effective until tableVersion } }",
            variables: none,
            target: Shared,
            audit: Reference,
            expect: [Allow, Allow, Allow, Allow, Allow],
        },
        Op {
            field: "rulesTable",
            case: "",
            document: "{ rulesTable { version forms { formNumber } renewals { family max } hearingWindows { days } organisationFamilies { family } pcoConditions { code } courtHolidays(year: 2026) { date name source } } }",
            variables: none,
            target: Shared,
            audit: Reference,
            expect: [Allow, Allow, Allow, Allow, Allow],
        },
        // Apollo Federation: a gateway resolves our entities through `_entities`, under the
        // same rules as `node`.
        Op {
            field: "_entities",
            case: "a person",
            document: "query($r: [_Any!]!) { _entities(representations: $r) { ... on Person { id sex } } }",
            variables: |f| json!({ "r": [{ "__typename": "Person", "id": f.person }] }),
            target: Shared,
            audit: WithIds,
            expect: [Allow, Allow, Allow, ROLE, ROLE],
        },
        Op {
            field: "_entities",
            case: "an order",
            document: "query($r: [_Any!]!) { _entities(representations: $r) { ... on Order { id status } } }",
            variables: |f| json!({ "r": [{ "__typename": "Order", "id": f.order }] }),
            target: Shared,
            audit: WithIds,
            expect: [Allow, Allow, Allow, ROLE, ROLE],
        },
        Op {
            field: "_entities",
            case: "a court",
            document: "query($r: [_Any!]!) { _entities(representations: $r) { ... on Court { id code } } }",
            variables: |f| json!({ "r": [{ "__typename": "Court", "id": f.court }] }),
            target: Shared,
            // `_entities` may name persons and orders, so every `_entities` read is audited.
            audit: Row,
            expect: [Allow, Allow, Allow, Allow, Allow],
        },
        Op {
            field: "_service",
            case: "",
            document: "{ _service { sdl } }",
            variables: none,
            target: Shared,
            audit: Reference,
            expect: [Allow, Allow, Allow, Allow, Allow],
        },
        Op {
            field: "person",
            case: "",
            document: "query($id: ID!) { person(id: $id) { id sex } }",
            variables: |f| json!({ "id": f.person }),
            target: Shared,
            audit: WithIds,
            expect: [Allow, Allow, Allow, ROLE, ROLE],
        },
        Op {
            field: "carposWorkList",
            case: "",
            document: "{ carposWorkList(courtCode: \"SC19\") { id state } }",
            variables: none,
            target: Shared,
            audit: Row,
            expect: [Allow, ROLE, ROLE, ROLE, ROLE],
        },
        Op {
            field: "courts",
            case: "",
            document: "{ courts { code } }",
            variables: none,
            target: Shared,
            audit: Reference,
            expect: [Allow, Allow, Allow, Allow, Allow],
        },
        Op {
            field: "court",
            case: "",
            document: "{ court(code: \"SC19\") { code county } }",
            variables: none,
            target: Shared,
            audit: Reference,
            expect: [Allow, Allow, Allow, Allow, Allow],
        },
        Op {
            field: "agencies",
            case: "",
            document: "{ agencies { ori } }",
            variables: none,
            target: Shared,
            audit: Reference,
            expect: [Allow, Allow, Allow, Allow, Allow],
        },
        Op {
            field: "agency",
            case: "",
            document: "{ agency(ori: \"CA0190000\") { ori name } }",
            variables: none,
            target: Shared,
            audit: Reference,
            expect: [Allow, Allow, Allow, Allow, Allow],
        },
        Op {
            field: "searchPersons",
            case: "",
            document: "{ searchPersons(name: \"Ramiro Quintero Vale\") { edges { node { score } } } }",
            variables: none,
            target: Shared,
            audit: Row,
            expect: [Allow, Allow, Allow, ROLE, ROLE],
        },
        Op {
            field: "personHistory",
            case: "",
            document: "query($p: ID!) { personHistory(personId: $p) { chains { orders { id } } } }",
            variables: |f| json!({ "p": f.person }),
            target: Shared,
            audit: WithIds,
            expect: [Allow, Allow, Allow, ROLE, ROLE],
        },
        Op {
            field: "conflicts",
            case: "",
            document: "query($o: ID!) { conflicts(orderId: $o) { kinds } }",
            variables: |f| json!({ "o": f.order }),
            target: Shared,
            audit: Row,
            expect: [Allow, Allow, Allow, ROLE, ROLE],
        },
        Op {
            field: "checkConflicts",
            case: "",
            document: "query($i: CreateOrderInput!) { checkConflicts(input: $i) { kinds } }",
            variables: |f| json!({ "i": dv_tro(&f.case, 1) }),
            target: Shared,
            audit: Row,
            expect: [Allow, Allow, Allow, ROLE, ROLE],
        },
        Op {
            field: "personLinks",
            case: "",
            document: "{ personLinks(first: 5) { id } }",
            variables: none,
            target: Shared,
            audit: Row,
            expect: [Allow, Allow, Allow, ROLE, ROLE],
        },
        Op {
            field: "statistics",
            case: "",
            document: "{ statistics(from: \"2026-01-01\", to: \"2026-01-31\", groupBy: COUNTY) { group issued { display } } }",
            variables: none,
            target: Shared,
            audit: Row,
            expect: [Allow, Allow, Allow, Allow, ROLE],
        },
        Op {
            field: "statisticsSmallCell",
            case: "",
            document: "{ statisticsSmallCell }",
            variables: none,
            target: Shared,
            audit: Row,
            expect: [Allow, Allow, Allow, Allow, ROLE],
        },
        Op {
            field: "firearmsOverdue",
            case: "",
            document: "{ firearmsOverdue(court: \"SC19\", first: 5) { id } }",
            variables: none,
            target: Shared,
            // The list may be empty.
            audit: Row,
            expect: [Allow, Allow, Allow, ROLE, ROLE],
        },
        Op {
            field: "workList",
            case: "",
            document: "{ workList(kind: UNSERVED, court: \"SC19\", first: 5) { edges { node { id } } } }",
            variables: none,
            target: Shared,
            audit: Row,
            expect: [Allow, Allow, Allow, ROLE, ROLE],
        },
        Op {
            field: "workList",
            case: "UNSERVED by county (the court roles' own county)",
            document: "{ workList(kind: UNSERVED, county: \"Los Angeles\", first: 5) { edges { node { id } } } }",
            variables: none,
            target: Shared,
            audit: Row,
            expect: [Allow, Allow, Allow, ROLE, ROLE],
        },
        Op {
            field: "workList",
            case: "TRANSMISSION_PROBLEMS",
            document: "{ workList(kind: TRANSMISSION_PROBLEMS, court: \"SC19\", first: 5) { edges { node { id } } } }",
            variables: none,
            target: Shared,
            audit: Row,
            expect: [Allow, Allow, Allow, ROLE, ROLE],
        },
        Op {
            field: "auditEvents",
            case: "",
            document: "{ auditEvents(first: 3) { edges { node { seq outcome } } } }",
            variables: none,
            target: Shared,
            audit: Row,
            expect: [ROLE, ROLE, ROLE, ROLE, Allow],
        },
        // ---- mutations --------------------------------------------- clerk  bench  lea    analyst admin
        Op {
            field: "createOrder",
            case: "a court order (DV-110)",
            document: "mutation($i: CreateOrderInput!) { createOrder(input: $i) { order { id } } }",
            variables: |f| json!({ "i": dv_tro(&f.case, 1) }),
            target: Shared,
            audit: WithIds,
            expect: [Allow, ROLE, EPO_ONLY, ROLE, ROLE],
        },
        Op {
            field: "createOrder",
            case: "an emergency protective order for the LEA's agency",
            document: "mutation($i: CreateOrderInput!) { createOrder(input: $i) { order { id } } }",
            variables: |f| json!({ "i": epo(&f.case) }),
            target: Shared,
            audit: WithIds,
            expect: [Allow, ROLE, Allow, ROLE, ROLE],
        },
        Op {
            field: "confirmPersonLink",
            case: "",
            document: "mutation($l: ID!) { confirmPersonLink(linkId: $l) { link { state } } }",
            variables: |f| json!({ "l": f.link }),
            target: Shared,
            audit: WithIds,
            expect: [Allow, ROLE, ROLE, ROLE, ROLE],
        },
        Op {
            field: "rejectPersonLink",
            case: "",
            document: "mutation($l: ID!) { rejectPersonLink(linkId: $l, reason: \"different DOB on the order\") { link { state } } }",
            variables: |f| json!({ "l": f.link }),
            target: Shared,
            audit: WithIds,
            expect: [Allow, ROLE, ROLE, ROLE, ROLE],
        },
        Op {
            field: "uploadOrderImage",
            case: "",
            document: "mutation($o: ID!, $file: Upload!) { uploadOrderImage(orderId: $o, file: $file) { image { id } } }",
            variables: |f| json!({ "o": f.order }),
            target: Shared,
            audit: WithIds,
            expect: [Allow, ROLE, OWN_AGENCY, ROLE, ROLE],
        },
        Op {
            field: "cloneOrder",
            case: "the shared order into a new case",
            document: "mutation($i: CloneOrderInput!) { cloneOrder(input: $i) { order { id } } }",
            variables: |f| {
                let t = dv_tro(&f.case, 1);
                json!({ "i": { "orderId": f.order, "caseNumber": f.case, "issuedAt": t["issuedAt"],
                               "expiresAt": t["expiresAt"], "hearingDate": t["hearingDate"] } })
            },
            target: Shared,
            audit: WithIds,
            expect: [Allow, ROLE, EPO_ONLY, ROLE, ROLE],
        },
        Op {
            field: "recordService",
            case: "",
            document: "mutation($i: RecordServiceInput!) { recordService(input: $i) { order { id served } } }",
            variables: |f| {
                json!({ "i": { "orderId": f.fresh, "servedAt": minutes(-30), "method": "PERSONAL",
                               "serverName": "Deputy Synthetic" } })
            },
            target: FreshTro,
            audit: WithIds,
            expect: [Allow, ROLE, Allow, ROLE, ROLE],
        },
        Op {
            field: "modifyOrder",
            case: "",
            document: "mutation($i: ModifyOrderInput!) { modifyOrder(input: $i) { order { id } } }",
            variables: |f| {
                json!({ "i": { "orderId": f.fresh, "issuedAt": minutes(-30), "formNumber": "DV-130",
                               "expiresAt": days(3 * 365), "reason": "Order after hearing" } })
            },
            target: FreshTro,
            audit: WithIds,
            expect: [Allow, ROLE, ROLE, ROLE, ROLE],
        },
        Op {
            field: "renewOrder",
            case: "",
            document: "mutation($i: RenewOrderInput!) { renewOrder(input: $i) { order { id } } }",
            variables: |f| {
                json!({ "i": { "orderId": f.fresh, "issuedAt": minutes(-1), "expiresAt": days(6 * 365),
                           "requestFiledOn": chrono::Utc::now().date_naive().to_string() } })
            },
            target: FreshAfterHearing,
            audit: WithIds,
            expect: [Allow, ROLE, ROLE, ROLE, ROLE],
        },
        Op {
            field: "recordFirearmCompliance",
            case: "",
            document: "mutation($i: RecordFirearmComplianceInput!) { recordFirearmCompliance(input: $i) { order { id firearms { finding } } } }",
            variables: |f| json!({ "i": { "orderId": f.fresh, "finding": "NO_FIREARMS" } }),
            target: FreshTro,
            audit: WithIds,
            expect: [Allow, ROLE, ROLE, ROLE, ROLE],
        },
        Op {
            field: "terminateOrder",
            case: "",
            document: "mutation($i: TerminateOrderInput!) { terminateOrder(input: $i) { order { id status } } }",
            variables: |f| json!({ "i": { "orderId": f.fresh, "terminatedAt": minutes(-1), "reason": "Court order" } }),
            target: FreshTro,
            audit: WithIds,
            expect: [Allow, ROLE, ROLE, ROLE, ROLE],
        },
        Op {
            field: "cancelOrder",
            case: "",
            document: "mutation($i: CancelOrderInput!) { cancelOrder(input: $i) { order { id status } } }",
            variables: |f| json!({ "i": { "orderId": f.fresh, "reason": "Entered in error" } }),
            target: FreshTro,
            audit: WithIds,
            expect: [Allow, ROLE, ROLE, ROLE, ROLE],
        },
        Op {
            field: "retryTransmission",
            case: "",
            document: "mutation($id: ID!) { retryTransmission(id: $id) { id state } }",
            variables: |f| json!({ "id": f.fresh }),
            target: FreshRejected,
            audit: WithIds,
            expect: [Allow, ROLE, ROLE, ROLE, ROLE],
        },
        Op {
            field: "setCourtParticipation",
            case: "",
            document: "mutation { setCourtParticipation(code: \"SC58\", mode: IMAGE_ONLY) { code participationMode } }",
            variables: none,
            target: Shared,
            audit: Row,
            expect: [ROLE, ROLE, ROLE, ROLE, Allow],
        },
        Op {
            field: "setCourtParticipation",
            case: "keyed by the sheriff",
            document: "mutation { setCourtParticipation(code: \"SC58\", mode: FULL, keyedBy: SHERIFF, keyingAgencyOri: \"CA0580000\") { code keyedBy keyingAgencyOri } }",
            variables: none,
            target: Shared,
            audit: Row,
            expect: [ROLE, ROLE, ROLE, ROLE, Allow],
        },
    ]
}

/// Root fields of `QueryRoot` and `MutationRoot` in the committed schema.
fn schema_root_fields() -> BTreeSet<String> {
    let sdl = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/schema/schema.graphql"
    ))
    .unwrap();
    let doc = async_graphql::parser::parse_schema(&sdl).unwrap();
    let mut out = BTreeSet::new();
    for def in &doc.definitions {
        if let TypeSystemDefinition::Type(t) = def
            && ["QueryRoot", "MutationRoot", "SubscriptionRoot"]
                .contains(&t.node.name.node.as_str())
            && let TypeKind::Object(o) = &t.node.kind
        {
            out.extend(o.fields.iter().map(|f| f.node.name.node.to_string()));
        }
    }
    out
}

#[test]
fn the_matrix_names_every_root_field_of_the_schema() {
    let in_schema = schema_root_fields();
    assert!(in_schema.len() >= 19, "{in_schema:?}");
    let in_table: BTreeSet<String> = operations()
        .iter()
        .map(|o| o.field.to_owned())
        .chain(ELSEWHERE.iter().map(|(f, _)| (*f).to_owned()))
        .collect();
    let missing: Vec<_> = in_schema.difference(&in_table).collect();
    assert!(
        missing.is_empty(),
        "root fields with no row in the role matrix: {missing:?}"
    );
    let stale: Vec<_> = in_table.difference(&in_schema).collect();
    assert!(
        stale.is_empty(),
        "rows for fields not in the schema: {stale:?}"
    );
}

/// The errors whose path leads to (or above) `path`.
fn errors_on<'a>(body: &'a Value, path: &[Value]) -> Vec<&'a Value> {
    body["errors"]
        .as_array()
        .map(|errs| {
            errs.iter()
                .filter(|e| {
                    e["path"]
                        .as_array()
                        .is_some_and(|p| !p.is_empty() && path.starts_with(p))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Asserts the value at `path` (resolved as far as the data goes) against `expect`.
fn check(body: &Value, path: &[Value], value: &Value, expect: Expect, what: &str) {
    let errors = errors_on(body, path);
    match expect {
        Allow => {
            assert!(errors.is_empty(), "{what}: allowed, got {body:#}");
            assert!(!value.is_null(), "{what}: allowed, got null: {body:#}");
        }
        Deny(rule) => {
            assert!(value.is_null(), "{what}: denied, got data: {body:#}");
            assert!(
                !errors.is_empty(),
                "{what}: denied without an error: {body:#}"
            );
            for e in errors {
                assert_eq!(e["extensions"]["code"], "FORBIDDEN", "{what}: {body:#}");
                assert_eq!(e["extensions"]["rule"], rule, "{what}: {body:#}");
            }
        }
    }
}

/// A DV order after hearing (DV-130), entered as such.
fn after_hearing(case: &str) -> Value {
    let mut o = dv_tro(case, 10);
    o["formNumber"] = json!("DV-130");
    o["hearingDate"] = Value::Null;
    // Expiring within 3 months, so a DV renewal request can be filed (Fam. Code 6345(a)).
    o["expiresAt"] = json!(days(60));
    o
}

/// The newest CARPOS transmission, marked rejected as the peer would; its global id.
async fn rejected_transmission(app: &TestApp) -> String {
    use entities::carpos_transmission as tx;
    use sea_orm::{ActiveModelTrait, QueryOrder, Set};
    let row = tx::Entity::find()
        .order_by_desc(tx::Column::Id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let id = i32::try_from(row.id).unwrap();
    let mut r: tx::ActiveModel = row.into();
    r.state = Set("rejected".to_owned());
    r.error = Set(Some(
        "CARPOS rejected the message: MALFORMED HGT".to_owned(),
    ));
    r.update(&app.db).await.unwrap();
    ccpor::domain::ids::encode(ccpor::domain::ids::Kind::Transmission, id)
}

#[tokio::test]
async fn every_role_against_every_root_operation() {
    let app = spawn_app().await;
    let (order, person, _) = create(&app, dv_tro("26FL770001", 3)).await;
    let court = app
        .data("{ court(code: \"SC19\") { id } }", json!({}))
        .await["court"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // The same restrained person entered again: the two records are linked as one identity.
    create(&app, dv_tro("26FL770002", 2)).await;
    let link = app.data("{ personLinks { id } }", json!({})).await["personLinks"][0]["id"]
        .as_str()
        .expect("the second record is linked to the first")
        .to_owned();
    let mut fx = Fixture {
        order,
        person,
        court,
        link,
        ..Default::default()
    };
    let mut n = 0;
    let mut cells = 0;
    for (col, role) in ROLES.into_iter().enumerate() {
        let token = token(&app, role);
        for op in operations() {
            n += 1;
            fx.case = format!("26FL77{n:04}");
            if op.case.starts_with("an emergency") {
                fx.case = format!("EPO26-77{n:04}");
            }
            fx.fresh = match op.target {
                Target::Shared => String::new(),
                Target::FreshTro => create(&app, dv_tro(&format!("26FL78{n:04}"), 3)).await.0,
                Target::FreshAfterHearing => {
                    create(&app, after_hearing(&format!("26FL79{n:04}")))
                        .await
                        .0
                }
                Target::FreshRejected => {
                    create(&app, dv_tro(&format!("26FL76{n:04}"), 3)).await;
                    rejected_transmission(&app).await
                }
            };
            let expect = op.expect[col];
            let what = format!("{role} × {} {}", op.field, op.case);
            let mutation = op.document.starts_with("mutation");
            let before = if mutation {
                Some(app.snapshot().await)
            } else {
                None
            };
            let (body, request_id) = call(&app, &token, op.document, (op.variables)(&fx)).await;
            let path = [json!(op.field)];
            check(&body, &path, &body["data"][op.field], expect, &what);
            if expect == Allow {
                assert!(body["errors"].is_null(), "{what}: {body:#}");
            }
            if let (Some(before), Deny(_)) = (before, expect) {
                assert_eq!(
                    app.snapshot().await,
                    before,
                    "{what}: a denied write leaves nothing behind"
                );
            }

            // The audit trail of this request.
            let rows = audit_rows(&app, &request_id).await;
            let last = rows.iter().max_by_key(|r| r.seq);
            if op.audit == Audit::Reference && expect == Allow {
                assert!(rows.is_empty(), "{what}: reference reads are not audited");
            } else {
                let last = last.unwrap_or_else(|| panic!("{what}: no audit row"));
                assert_eq!(last.role.as_deref(), Some(role.as_str()), "{what}");
                assert_eq!(
                    last.event,
                    if mutation {
                        "graphql.mutation"
                    } else {
                        "graphql.query"
                    },
                    "{what}"
                );
                let outcome = if expect == Allow { "allowed" } else { "denied" };
                assert_eq!(last.outcome, outcome, "{what}: {last:?}");
                assert!(
                    last.operation
                        .as_deref()
                        .is_some_and(|o| o.contains(op.field)),
                    "{what}: {last:?}"
                );
                if op.audit == Audit::WithIds && expect == Allow {
                    assert_ne!(last.object_ids, "[]", "{what}: object ids are listed");
                }
            }
            if mutation {
                let started = rows.iter().filter(|r| r.event == "graphql.mutation.start");
                assert_eq!(
                    started.count(),
                    1,
                    "{what}: a write is recorded before it runs"
                );
            }
            cells += 1;
        }
    }
    assert_eq!(cells, ROLES.len() * operations().len());
}

/// The `feed` role (issue 24) is its own row of the matrix: every root operation is refused at
/// the door (HTTP 403, audited, nothing written), and the feed endpoint is the feed role's
/// alone: every other role is refused there, audited.
#[tokio::test]
async fn the_feed_role_gets_no_root_operation_and_only_it_sends_feed_messages() {
    let app = spawn_app().await;
    let feed = token(&app, Role::Feed);
    let fx = Fixture::default();
    let before = app.snapshot().await;
    for op in operations() {
        let what = format!("feed × {} {}", op.field, op.case);
        let request_id = uuid::Uuid::new_v4().to_string();
        let resp = client_with(&feed)
            .post(app.url("/graphql"))
            .header("x-request-id", &request_id)
            .json(&json!({ "query": op.document, "variables": (op.variables)(&fx) }))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 403, "{what}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "FORBIDDEN",
            "{what}"
        );
        let rows = audit_rows(&app, &request_id).await;
        let last = rows.iter().max_by_key(|r| r.seq).expect("audited");
        assert_eq!(last.outcome, "denied", "{what}");
        assert_eq!(last.role.as_deref(), Some("feed"), "{what}");
    }
    assert_eq!(app.snapshot().await, before, "nothing written");
    let line = json!({ "messageId": "m1", "externalId": "E1", "sequence": 1, "action": "ISSUE",
                       "order": dv_tro("26FL990001", 2) })
    .to_string();
    for role in ROLES {
        let request_id = uuid::Uuid::new_v4().to_string();
        let resp = client_with(&token(&app, role))
            .post(app.url("/feeds/v1/messages"))
            .header("x-request-id", &request_id)
            .header("content-type", "application/x-ndjson")
            .body(line.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 403, "{role} × POST /feeds/v1/messages");
        let rows = audit_rows(&app, &request_id).await;
        assert!(
            rows.iter()
                .any(|r| r.outcome == "denied" && r.role.as_deref() == Some(role.as_str())),
            "{role}: the refusal is audited"
        );
    }
    assert_eq!(app.snapshot().await, before, "nothing written");
    let request_id = uuid::Uuid::new_v4().to_string();
    let resp = client_with(&feed)
        .post(app.url("/feeds/v1/messages"))
        .header("x-request-id", &request_id)
        .header("content-type", "application/x-ndjson")
        .body(line)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let ack: Value = serde_json::from_str(resp.text().await.unwrap().trim()).unwrap();
    assert_eq!(ack["status"], "ACCEPTED", "{ack}");
    let rows = audit_rows(&app, &request_id).await;
    let row = rows
        .iter()
        .find(|r| r.event == "feed.message")
        .expect("audited");
    assert_eq!(row.outcome, "allowed");
    assert!(row.object_ids.contains(ack["orderId"].as_str().unwrap()));
}

/// Orders of other courts and agencies: the row rules, for roles that pass the role check.
#[tokio::test]
async fn row_rules_keep_writes_to_the_callers_court_and_agency() {
    let app = spawn_app().await;
    let (order, _, _) = create(&app, dv_tro("26FL771001", 3)).await;
    let sf_clerk = app.mint(Role::Clerk, Some("SC38"));
    let other_lea = app.mint(Role::Lea, Some("CA0370000"));
    let lea = app.mint(Role::Lea, Some(AGENCY));
    let service = "mutation($i: RecordServiceInput!) { recordService(input: $i) { order { id } } }";
    let create_doc = "mutation($i: CreateOrderInput!) { createOrder(input: $i) { order { id } } }";
    let cases: Vec<(&str, &str, &str, Value, &str, &str)> = vec![
        (
            "clerk of SC38 modifies an SC19 order",
            sf_clerk.as_str(),
            "mutation($i: ModifyOrderInput!) { modifyOrder(input: $i) { order { id } } }",
            json!({ "i": { "orderId": order, "issuedAt": minutes(-5), "formNumber": "DV-130", "expiresAt": days(365) } }),
            "modifyOrder",
            "own_court",
        ),
        (
            "clerk of SC38 enters an SC19 order",
            sf_clerk.as_str(),
            create_doc,
            json!({ "i": dv_tro("26FL771002", 1) }),
            "createOrder",
            "own_court",
        ),
        (
            "clerk of SC38 records service of an SC19 order",
            sf_clerk.as_str(),
            service,
            json!({ "i": { "orderId": order, "servedAt": minutes(-5), "method": "PERSONAL" } }),
            "recordService",
            "own_court",
        ),
        (
            "LEA enters an EPO as another agency",
            other_lea.as_str(),
            create_doc,
            json!({ "i": epo("EPO26-771003") }),
            "createOrder",
            "own_agency",
        ),
        (
            "LEA records service as another agency",
            lea.as_str(),
            service,
            json!({ "i": { "orderId": order, "servedAt": minutes(-5), "method": "PERSONAL", "agencyOri": "CA0370000" } }),
            "recordService",
            "own_agency",
        ),
    ];
    for (what, token, doc, vars, field, rule) in cases {
        let before = app.snapshot().await;
        let (body, request_id) = call(&app, token, doc, vars).await;
        check(
            &body,
            &[json!(field)],
            &body["data"][field],
            Deny(rule),
            what,
        );
        assert_eq!(app.snapshot().await, before, "{what}: nothing written");
        let rows = audit_rows(&app, &request_id).await;
        assert!(
            rows.iter()
                .any(|r| r.event == "graphql.mutation" && r.outcome == "denied"),
            "{what}: the denial is audited: {rows:?}"
        );
    }
}

/// One field a role may or may not see. `path` leads from the order node to the value; a part
/// `key[k=v]` picks the element of list `key` whose `k` is `v`.
struct Field {
    label: &'static str,
    /// Selection inside `orders(first: 1) { edges { node { id … } } }`.
    select: &'static str,
    path: &'static [&'static str],
    /// The field name an allowed read adds to the audit row.
    audited_as: Option<&'static str>,
    /// clerk, bench_officer, lea, analyst, admin.
    expect: [Expect; 5],
}

/// Every confidential field (and, for contrast, fields every data role sees).
fn fields() -> Vec<Field> {
    const R: &str = "parties[role=RESTRAINED]";
    const P: &str = "parties[role=PROTECTED]";
    let f = |label, select, path, audited_as, expect| Field {
        label,
        select,
        path,
        audited_as,
        expect,
    };
    // Roles:                                                                       clerk  bench  lea    analyst       admin
    let identifying = [Allow, Allow, Allow, DEIDENTIFIED, ROLE];
    let clets = [Allow, Allow, Allow, CLETS, ROLE];
    let minor = [Allow, Allow, Allow, MINOR, ROLE];
    let open = [Allow, Allow, Allow, Allow, ROLE];
    vec![
        // Names, DOBs, case numbers and free text: identified roles only (CJIS least privilege).
        f(
            "Order.caseNumber",
            "caseNumber",
            &["caseNumber"],
            None,
            identifying,
        ),
        f(
            "Order.transmissions",
            "transmissions { messageKey state dueBy }",
            &["transmissions"],
            None,
            identifying,
        ),
        f(
            "Order.judicialOfficer",
            "judicialOfficer",
            &["judicialOfficer"],
            None,
            identifying,
        ),
        f(
            "OrderConditions.specialConditions",
            "conditions { contactLevel specialConditions }",
            &["conditions", "specialConditions"],
            None,
            identifying,
        ),
        f(
            "OrderConditions.notes",
            "conditions { contactLevel notes }",
            &["conditions", "notes"],
            None,
            identifying,
        ),
        f(
            "Party.relationship",
            "parties { role relationship }",
            &[R, "relationship"],
            None,
            identifying,
        ),
        f(
            "Person.fullName",
            "parties { role person { id fullName } }",
            &[R, "person", "fullName"],
            None,
            identifying,
        ),
        f(
            "Person.lastName",
            "parties { role person { id lastName } }",
            &[R, "person", "lastName"],
            None,
            identifying,
        ),
        f(
            "Person.firstName",
            "parties { role person { id firstName } }",
            &[R, "person", "firstName"],
            None,
            identifying,
        ),
        f(
            "Person.dob",
            "parties { role person { id dob } }",
            &[R, "person", "dob"],
            None,
            identifying,
        ),
        f(
            "Person.aliases",
            "parties { role person { id aliases { lastName } } }",
            &[R, "person", "aliases"],
            None,
            identifying,
        ),
        f(
            "ServiceRecord.serverName",
            "serviceRecords { method serverName }",
            &["serviceRecords[method=PERSONAL]", "serverName"],
            None,
            identifying,
        ),
        f(
            "ServiceRecord.notes",
            "serviceRecords { method notes }",
            &["serviceRecords[method=PERSONAL]", "notes"],
            None,
            identifying,
        ),
        f(
            "OrderEvent.reason",
            "events { kind reason }",
            &["events[kind=TERMINATED]", "reason"],
            None,
            identifying,
        ),
        // CLETS-001 contact data (CRC 1.51): court and law enforcement only.
        f(
            "Person.address",
            "parties { role person { id address } }",
            &[R, "person", "address"],
            Some("Person.address"),
            clets,
        ),
        f(
            "Person.phone",
            "parties { role person { id phone } }",
            &[R, "person", "phone"],
            Some("Person.phone"),
            clets,
        ),
        f(
            "Person.driverLicenseNumber",
            "parties { role person { id driverLicenseNumber } }",
            &[R, "person", "driverLicenseNumber"],
            Some("Person.driverLicenseNumber"),
            clets,
        ),
        f(
            "Person.driverLicenseState",
            "parties { role person { id driverLicenseState } }",
            &[R, "person", "driverLicenseState"],
            Some("Person.driverLicenseState"),
            clets,
        ),
        f(
            "Person.address of a confidential minor",
            "parties { role person { id address } }",
            &[P, "person", "address"],
            Some("Person.address"),
            clets,
        ),
        // A confidential minor's identity (Fam. Code 6301.5).
        f(
            "Person.fullName of a confidential minor",
            "parties { role person { id fullName } }",
            &[P, "person", "fullName"],
            Some("Person.confidentialIdentity"),
            minor,
        ),
        f(
            "Person.firstName of a confidential minor",
            "parties { role person { id firstName } }",
            &[P, "person", "firstName"],
            Some("Person.confidentialIdentity"),
            minor,
        ),
        f(
            "Person.dob of a confidential minor",
            "parties { role person { id dob } }",
            &[P, "person", "dob"],
            Some("Person.confidentialIdentity"),
            minor,
        ),
        // Not identifying: what analysts work with.
        f("Order.family", "family", &["family"], None, open),
        f(
            "OrderConditions.contactLevel",
            "conditions { contactLevel }",
            &["conditions", "contactLevel"],
            None,
            open,
        ),
        f(
            "Person.sex",
            "parties { role person { id sex } }",
            &[R, "person", "sex"],
            None,
            open,
        ),
        f(
            "Person.age",
            "parties { role person { id age } }",
            &[P, "person", "age"],
            None,
            open,
        ),
        f(
            "Person.confidential",
            "parties { role person { id confidential } }",
            &[P, "person", "confidential"],
            None,
            open,
        ),
        f(
            "Person.cletsPurgedAt",
            "parties { role person { id cletsPurgedAt } }",
            &[
                "parties[role=ADDITIONAL_PROTECTED]",
                "person",
                "cletsPurgedAt",
            ],
            None,
            open,
        ),
    ]
}

/// Follows `path` from `node` (at `base`) as far as the data goes: the value, its full path, and
/// whether its object has the key (a denied field is there as null, not left out).
fn resolve(node: &Value, base: &[Value], path: &[&str]) -> (Value, Vec<Value>, bool) {
    let mut at = node.clone();
    let mut full = base.to_vec();
    let mut present = true;
    for part in path {
        if at.is_null() {
            return (Value::Null, full, false);
        }
        match part.split_once('[') {
            Some((key, pick)) => {
                let (k, v) = pick.trim_end_matches(']').split_once('=').unwrap();
                full.push(json!(key));
                let list = at[key].as_array().cloned().unwrap_or_default();
                let i = list
                    .iter()
                    .position(|e| e[k] == v)
                    .unwrap_or_else(|| panic!("no {key} with {k}={v} in {at:#}"));
                full.push(json!(i));
                at = list[i].clone();
            }
            None => {
                full.push(json!(part));
                present = at.get(*part).is_some();
                at = at[*part].clone();
            }
        }
    }
    (at, full, present)
}

/// Purges the additional protected person's CLETS-001 data as an acknowledged entry does.
async fn purge_additional_protected(app: &TestApp, order: &str) {
    let q = "query($o: ID!) { order(id: $o) { parties { role person { id } } } }";
    let d = app.data(q, json!({ "o": order })).await;
    let id = d["order"]["parties"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["role"] == "ADDITIONAL_PROTECTED")
        .unwrap()["person"]["id"]
        .clone();
    let id =
        ccpor::domain::ids::decode("id", ccpor::domain::ids::Kind::Person, id.as_str().unwrap())
            .unwrap();
    ccpor::carpos::outcome::purge(&app.db, &[id], chrono::Utc::now())
        .await
        .unwrap();
}

#[tokio::test]
async fn every_role_against_every_confidential_field() {
    let app = spawn_app().await;
    let mut input = dv_tro("26FL772001", 3);
    input["conditions"]["specialConditions"] = json!("Stay away from the school on Synthetic St.");
    input["conditions"]["notes"] = json!("Petitioner asked for a safe mailing address.");
    input["parties"][0]["person"]["address"] = json!("1200 Synthetic Ave, Pasadena CA 91101");
    input["parties"][0]["person"]["phone"] = json!("(626) 555-0100");
    input["parties"][0]["person"]["driverLicenseNumber"] = json!("D1234567");
    input["parties"][0]["person"]["driverLicenseState"] = json!("CA");
    input["parties"][1] = json!({ "role": "PROTECTED", "relationship": "child",
        "person": { "lastName": "Okonkwo-Lind", "firstName": "Ada", "dob": "2015-05-05", "sex": "FEMALE",
                    "address": "Confidential shelter address", "confidential": true } });
    // A person whose CLETS-001 data went to DOJ and was purged (`Person.cletsPurgedAt`).
    input["parties"].as_array_mut().unwrap().push(json!({ "role": "ADDITIONAL_PROTECTED",
        "person": { "lastName": "Okonkwo-Lind", "firstName": "Bea", "estimatedAge": 40, "sex": "FEMALE",
                    "phone": "(626) 555-0199" } }));
    let (order, _, _) = create(&app, input).await;
    purge_additional_protected(&app, &order).await;
    let clerk = token(&app, Role::Clerk);
    let (served, _) = call(
        &app,
        &clerk,
        "mutation($i: RecordServiceInput!) { recordService(input: $i) { order { id } } }",
        json!({ "i": { "orderId": order, "servedAt": minutes(-60), "method": "PERSONAL",
                       "serverName": "Deputy Synthetic", "notes": "Served at work." } }),
    )
    .await;
    assert!(served["errors"].is_null(), "{served:#}");
    let (ended, _) = call(
        &app,
        &clerk,
        "mutation($i: TerminateOrderInput!) { terminateOrder(input: $i) { order { id } } }",
        json!({ "i": { "orderId": order, "terminatedAt": minutes(-1), "reason": "Request of protected party" } }),
    )
    .await;
    assert!(ended["errors"].is_null(), "{ended:#}");

    let base = [json!("orders"), json!("edges"), json!(0), json!("node")];
    for (col, role) in ROLES.into_iter().enumerate() {
        let token = token(&app, role);
        for field in fields() {
            let what = format!("{role} × {}", field.label);
            let query = format!(
                "{{ orders(first: 1) {{ edges {{ node {{ id {} }} }} }} }}",
                field.select
            );
            let (body, request_id) = call(&app, &token, &query, json!({})).await;
            let node = &body["data"]["orders"]["edges"][0]["node"];
            let (value, full, present) = if body["data"]["orders"].is_null() {
                (Value::Null, vec![json!("orders")], false)
            } else {
                resolve(node, &base, field.path)
            };
            let expect = field.expect[col];
            check(&body, &full, &value, expect, &what);
            if role != Role::Admin {
                assert!(present, "{what}: the field is in the response: {body:#}");
            }
            let rows = audit_rows(&app, &request_id).await;
            let row = rows
                .iter()
                .max_by_key(|r| r.seq)
                .unwrap_or_else(|| panic!("{what}: no audit row"));
            assert_eq!(row.role.as_deref(), Some(role.as_str()), "{what}");
            if let (Some(name), Allow) = (field.audited_as, expect) {
                assert!(
                    row.fields.contains(&format!("\"{name}\"")),
                    "{what}: the audit row names {name}: {row:?}"
                );
            }
            if let Deny(_) = expect {
                assert_eq!(row.outcome, "denied", "{what}");
            }
        }
    }
}
