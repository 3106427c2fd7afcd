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
    let value = async_graphql::Value::from_json(json)
        .map_err(|e| AppError::invalid("", format!("not a createOrder input: {e}")))?;
    let input = CreateOrderInput::parse(Some(value)).map_err(|e| {
        let err = e.into_server_error(Default::default());
        AppError::invalid("", format!("not a createOrder input: {}", err.message))
    })?;
    Ok(input.into())
}
