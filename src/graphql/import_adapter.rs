//! Adapter of the NDJSON import: each line is read as a `CreateOrderInput`, the type the
//! `createOrder` mutation takes, so a feed line is parsed (types, enum spellings, defaults) and
//! rejected with the same messages as the mutation's argument; it then becomes the service's
//! command.
use async_graphql::InputType;

use crate::error::{AppError, AppResult};
use crate::graphql::inputs::CreateOrderInput;
use crate::service::commands::CreateOrder;

/// Parses one NDJSON line into a `createOrder` command.
pub fn create_order(text: &str) -> AppResult<CreateOrder> {
    let json: serde_json::Value =
        serde_json::from_str(text).map_err(|e| AppError::invalid("", format!("not JSON: {e}")))?;
    create_order_value(json)
}

/// Reads a JSON value (a feed message's `order`) as a `createOrder` command.
pub fn create_order_value(json: serde_json::Value) -> AppResult<CreateOrder> {
    let value = async_graphql::Value::from_json(json)
        .map_err(|e| AppError::invalid("", format!("not a createOrder input: {e}")))?;
    let input = CreateOrderInput::parse(Some(value)).map_err(|e| {
        let err = e.into_server_error(Default::default());
        AppError::invalid("", format!("not a createOrder input: {}", err.message))
    })?;
    Ok(input.into())
}

#[cfg(test)]
mod tests {
    use super::create_order;
    use crate::error::AppError;

    fn message(text: &str) -> String {
        match create_order(text) {
            Err(AppError::Validation(inv)) => inv.message,
            other => panic!("expected a rejection, got {other:?}"),
        }
    }

    #[test]
    fn a_line_is_rejected_as_json_then_as_a_create_order_input() {
        assert!(message("{ this is not json").starts_with("not JSON: "));
        assert!(message(r#"{ "courtCode": "SC19" }"#).starts_with("not a createOrder input: "));
    }

    #[test]
    fn a_whole_line_becomes_the_command() {
        let line = r#"{ "courtCode": "SC19", "caseNumber": "26FL1", "family": "DV",
            "formNumber": "DV-110", "issuedAt": "2026-01-02T03:04:05Z",
            "parties": [{ "role": "RESTRAINED", "personId": "UGVyc29uOjE" }] }"#;
        let c = create_order(line).unwrap();
        assert_eq!(c.court_code, "SC19");
        assert_eq!(c.parties[0].person_id.as_deref(), Some("UGVyc29uOjE"));
        assert!(c.terms.pco_codes.is_empty());
    }
}
