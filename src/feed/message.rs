//! One feed message, as a court's case-management system (or an import file) sends it: one JSON
//! object a line. ISSUE, MODIFY and RENEW carry the whole order as it now stands in
//! `CreateOrderInput`'s shape (`order`); SERVE, TERMINATE and CANCEL carry the inputs of
//! `recordService`, `terminateOrder` and `cancelOrder` without `orderId` (`service`,
//! `termination`, `cancellation`): the order is named by `externalId`, never by our ids.
use async_graphql::InputType;
use chrono::NaiveDate;
use serde::Deserialize;

use crate::error::{AppError, AppResult};
use crate::graphql::import_adapter;
use crate::graphql::inputs::{CancelOrderInput, RecordServiceInput, TerminateOrderInput};
use crate::service::commands::{CancelOrder, CreateOrder, RecordService, TerminateOrder};

/// Longest `messageId` and `externalId` (the columns' width).
pub const MAX_ID: usize = 128;

/// What a message does to its order chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Action {
    Issue,
    Modify,
    Renew,
    Serve,
    Terminate,
    Cancel,
}

impl Action {
    pub fn as_db(self) -> &'static str {
        match self {
            Action::Issue => "issue",
            Action::Modify => "modify",
            Action::Renew => "renew",
            Action::Serve => "serve",
            Action::Terminate => "terminate",
            Action::Cancel => "cancel",
        }
    }

    pub fn as_wire(self) -> &'static str {
        match self {
            Action::Issue => "ISSUE",
            Action::Modify => "MODIFY",
            Action::Renew => "RENEW",
            Action::Serve => "SERVE",
            Action::Terminate => "TERMINATE",
            Action::Cancel => "CANCEL",
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Wire {
    message_id: String,
    external_id: String,
    sequence: i64,
    action: Action,
    /// The court, for actions without an `order` (import files; a feed's court is its token's).
    #[serde(default)]
    court_code: Option<String>,
    #[serde(default)]
    order: Option<serde_json::Value>,
    #[serde(default)]
    service: Option<serde_json::Value>,
    #[serde(default)]
    termination: Option<serde_json::Value>,
    #[serde(default)]
    cancellation: Option<serde_json::Value>,
    /// RENEW: `{ "requestFiledOn": "2026-01-02" }` (Fam. Code 6345(a) for DV orders).
    #[serde(default)]
    renewal: Option<Renewal>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Renewal {
    request_filed_on: Option<NaiveDate>,
}

/// What the message carries, by action.
#[derive(Debug, Clone)]
pub enum Body {
    Issue(CreateOrder),
    Modify(CreateOrder),
    Renew(CreateOrder, Option<NaiveDate>),
    /// `order_id` is filled with the chain's current order when applied.
    Serve(RecordService),
    Terminate(TerminateOrder),
    Cancel(CancelOrder),
}

/// A parsed message.
#[derive(Debug, Clone)]
pub struct Message {
    pub message_id: String,
    pub external_id: String,
    pub sequence: i64,
    pub action: Action,
    /// The court the message names (its order's `courtCode`, or `courtCode`), upper-cased.
    pub court_code: Option<String>,
    pub body: Body,
}

/// Whether a line is in the message form (rather than a plain `CreateOrderInput`).
pub fn is_message(line: &str) -> bool {
    // Cheap test before parsing: a plain order has no `messageId`.
    line.contains("\"messageId\"")
        && serde_json::from_str::<serde_json::Value>(line)
            .ok()
            .is_some_and(|v| v.get("messageId").is_some() && v.get("action").is_some())
}

/// The `messageId` of a line that may not parse as a message, for its acknowledgement.
pub fn message_id_of(line: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(line).ok()?;
    let id = v.get("messageId")?.as_str()?;
    Some(crate::audit::clean::bounded(id, MAX_ID).into_owned())
}

fn id_field(field: &str, s: String) -> AppResult<String> {
    let t = s.trim();
    if t.is_empty() || t.len() > MAX_ID || t.chars().any(char::is_control) {
        return Err(AppError::invalid(
            field,
            format!("1 to {MAX_ID} characters, no control characters"),
        ));
    }
    Ok(t.to_owned())
}

/// Parses one line.
pub fn parse(line: &str) -> AppResult<Message> {
    let w: Wire = serde_json::from_str(line)
        .map_err(|e| AppError::invalid("", format!("not a feed message: {e}")))?;
    let message_id = id_field("messageId", w.message_id)?;
    let external_id = id_field("externalId", w.external_id)?;
    if w.sequence < 1 {
        return Err(AppError::invalid("sequence", "a positive integer"));
    }
    let wanted = match w.action {
        Action::Issue | Action::Modify | Action::Renew => "order",
        Action::Serve => "service",
        Action::Terminate => "termination",
        Action::Cancel => "cancellation",
    };
    let given = [
        ("order", w.order.is_some()),
        ("service", w.service.is_some()),
        ("termination", w.termination.is_some()),
        ("cancellation", w.cancellation.is_some()),
        ("renewal", w.renewal.is_some()),
    ];
    for (name, present) in given {
        let allowed = name == wanted || (name == "renewal" && w.action == Action::Renew);
        if present && !allowed {
            return Err(AppError::invalid(
                name,
                format!("not sent with {}", w.action.as_wire()),
            ));
        }
    }
    let missing = || AppError::invalid(wanted, format!("required with {}", w.action.as_wire()));
    let order = |v: Option<serde_json::Value>| -> AppResult<CreateOrder> {
        import_adapter::create_order_value(v.ok_or_else(missing)?).map_err(|e| e.at("order"))
    };
    let body = match w.action {
        Action::Issue => Body::Issue(order(w.order)?),
        Action::Modify => Body::Modify(order(w.order)?),
        Action::Renew => Body::Renew(order(w.order)?, w.renewal.and_then(|r| r.request_filed_on)),
        Action::Serve => Body::Serve(
            without_order_id::<RecordServiceInput>("service", w.service.ok_or_else(missing)?)?
                .into(),
        ),
        Action::Terminate => Body::Terminate(
            without_order_id::<TerminateOrderInput>(
                "termination",
                w.termination.ok_or_else(missing)?,
            )?
            .into(),
        ),
        Action::Cancel => Body::Cancel(
            without_order_id::<CancelOrderInput>(
                "cancellation",
                w.cancellation.ok_or_else(missing)?,
            )?
            .into(),
        ),
    };
    let court_code = match &body {
        Body::Issue(o) | Body::Modify(o) | Body::Renew(o, _) => Some(o.court_code.clone()),
        _ => w.court_code,
    }
    .map(|c| c.trim().to_ascii_uppercase());
    Ok(Message {
        message_id,
        external_id,
        sequence: w.sequence,
        action: w.action,
        court_code,
        body,
    })
}

/// Parses a mutation's input that names its order by `orderId`, sent without it: the chain's
/// current order is filled in when the message is applied.
fn without_order_id<T: InputType>(field: &str, mut v: serde_json::Value) -> AppResult<T> {
    let Some(obj) = v.as_object_mut() else {
        return Err(AppError::invalid(field, "an object"));
    };
    if obj.contains_key("orderId") {
        return Err(AppError::invalid(
            format!("{field}.orderId"),
            "not sent: the order is named by externalId",
        ));
    }
    // A well-formed placeholder, replaced before the command runs.
    obj.insert("orderId".into(), serde_json::Value::String(String::new()));
    let value = async_graphql::Value::from_json(v)
        .map_err(|e| AppError::invalid(field, format!("not valid: {e}")))?;
    T::parse(Some(value)).map_err(|e| {
        let err = e.into_server_error(Default::default());
        AppError::invalid(field, format!("not valid: {}", err.message))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(line: &str) -> String {
        match parse(line) {
            Err(AppError::Validation(inv)) => inv.field,
            other => panic!("expected a rejection, got {other:?}"),
        }
    }

    #[test]
    fn each_action_takes_its_own_input_and_no_order_id() {
        let serve = r#"{"messageId":"m1","externalId":"e1","sequence":2,"action":"SERVE",
            "service":{"servedAt":"2026-01-02T03:04:05Z","method":"PERSONAL"}}"#;
        let m = parse(serve).unwrap();
        assert_eq!(m.action, Action::Serve);
        assert!(matches!(m.body, Body::Serve(ref s) if s.order_id.is_empty()));
        assert_eq!(
            field(r#"{"messageId":"m1","externalId":"e1","sequence":2,"action":"SERVE"}"#),
            "service"
        );
        assert_eq!(
            field(
                r#"{"messageId":"m1","externalId":"e1","sequence":2,"action":"CANCEL",
                "cancellation":{"reason":"x","orderId":"T3JkZXI6MQ"}}"#
            ),
            "cancellation.orderId"
        );
        assert_eq!(
            field(r#"{"messageId":"","externalId":"e1","sequence":1,"action":"CANCEL"}"#),
            "messageId"
        );
        assert_eq!(
            field(
                r#"{"messageId":"m","externalId":"e1","sequence":0,"action":"CANCEL",
                "cancellation":{"reason":"x"}}"#
            ),
            "sequence"
        );
        assert!(is_message(serve));
        assert!(!is_message(r#"{"courtCode":"SC19"}"#));
    }
}
