//! Charges each token's rate-limit bucket with the query's complexity once validation has computed
//! it, so nothing runs for a caller over budget.
use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextValidation};
use async_graphql::{ServerError, ValidationResult};

use crate::auth::Caller;
use crate::state::AppState;

/// The extension factory registered on the schema.
pub struct CostLimit;

impl ExtensionFactory for CostLimit {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(CostLimitExtension)
    }
}

struct CostLimitExtension;

#[async_trait::async_trait]
impl Extension for CostLimitExtension {
    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let result = next.run(ctx).await?;
        // Kept with a reusable answer, so serving it again charges the same.
        if let Some(log) = ctx.data_opt::<Arc<crate::audit::AccessLog>>() {
            log.cost(result.complexity);
        }
        if let (Some(caller), Some(state)) = (ctx.data_opt::<Caller>(), ctx.data_opt::<AppState>())
            && !state
                .auth
                .limiter
                .charge(&caller.token_id, result.complexity)
        {
            let mut e = ServerError::new(
                "query budget exceeded for this token; retry in a minute",
                None,
            );
            let mut ext = async_graphql::ErrorExtensionValues::default();
            ext.set("code", "RATE_LIMITED");
            e.extensions = Some(ext);
            return Err(vec![e]);
        }
        Ok(result)
    }
}
