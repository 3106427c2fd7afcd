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

/// Complexity of a paged list field: one unit for the field plus its selection once per item the
/// page may hold (`first`, else the field's default, at most its cap). Without it, nested
/// `orders(first: 100)` cost a few units and returned 100³ orders (issue 22, item 7); with it,
/// such a document exceeds `MAX_COMPLEXITY` and is refused before anything runs.
pub fn page_cost(first: Option<i32>, default: usize, max: usize, child_complexity: usize) -> usize {
    let items = first.map_or(default, |n| usize::try_from(n).unwrap_or(0).min(max));
    items.saturating_mul(child_complexity).saturating_add(1)
}

#[cfg(test)]
mod tests {
    use async_graphql::Schema;

    use crate::graphql::{MAX_COMPLEXITY, MutationRoot, QueryRoot, SubscriptionRoot};

    #[tokio::test]
    async fn pages_multiply_what_they_select() {
        let schema = Schema::build(
            QueryRoot::default(),
            MutationRoot::default(),
            SubscriptionRoot::default(),
        )
        .limit_complexity(MAX_COMPLEXITY)
        .finish();
        let nested = "{ orders(first: 100) { edges { node { court {
            orders(first: 100) { edges { node { id } } } } } } } }";
        let r = schema.execute(nested).await;
        assert_eq!(r.errors[0].message, "Query is too complex.", "{r:?}");
    }
}
