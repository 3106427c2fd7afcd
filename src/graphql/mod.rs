//! The GraphQL API: schema assembly, error mapping and the per-request context.
#![expect(
    clippy::unused_async,
    reason = "async-graphql's #[Object] resolvers are async fns by its contract, awaiting or not"
)]

pub mod access;
pub mod audit;
pub mod bench_officer;
pub mod clone;
pub mod connection;
pub mod document;
pub mod expiring_soon;
pub mod federation;
pub mod firearms;
pub mod identity;
pub mod images;
pub mod import_adapter;
pub mod inputs;
pub mod limits;
pub mod loaders;
pub mod mutation;
pub mod parsed;
pub mod query;
pub mod rules_table;
pub mod search;
pub mod statistics;
pub mod subscription;
pub mod transmission;
pub mod types;
pub mod work_lists;

use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{Context, ErrorExtensions, MergedObject, MergedSubscription, Schema};

use crate::error::AppError;
use crate::state::AppState;
use loaders::{DbLoader, EpochCache};

/// Queries, one object per domain.
#[derive(MergedObject, Default)]
pub struct QueryRoot(
    query::NodeQuery,
    query::OrderQuery,
    query::PersonQuery,
    query::CourtQuery,
    search::SearchQuery,
    audit::AuditQuery,
    bench_officer::BenchQuery,
    identity::IdentityQuery,
    statistics::StatisticsQuery,
    federation::FederationQuery,
    firearms::FirearmQuery,
    work_lists::WorkListQuery,
    transmission::TransmissionQuery,
    rules_table::RulesQuery,
);

/// Mutations, one object per domain.
#[derive(MergedObject, Default)]
pub struct MutationRoot(
    mutation::OrderMutation,
    mutation::CourtMutation,
    images::ImageMutation,
    identity::IdentityMutation,
    firearms::FirearmMutation,
    clone::CloneMutation,
    transmission::TransmissionMutation,
);

/// Subscriptions, one object per domain (served on `/graphql/ws`).
#[derive(MergedSubscription, Default)]
pub struct SubscriptionRoot(
    subscription::OrderSubscription,
    expiring_soon::ExpiringSoonSubscription,
);

pub type AppSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// Limits: introspection needs depth 15 (research/graphql.md §2.4).
pub const MAX_DEPTH: usize = 16;
pub const MAX_COMPLEXITY: usize = 5000;
/// Directives on one field (directive overloading, graphql-cop).
pub const MAX_DIRECTIVES: usize = 4;
/// Aliases in one document (alias batching); GraphiQL's introspection query uses none.
pub const MAX_ALIASES: usize = 30;
/// Fields repeated under the same response key in one document (field duplication, graphql-cop).
pub const MAX_DUPLICATE_FIELDS: usize = 30;

/// Builds the schema over the app state. Production mode turns off introspection (OWASP GraphQL
/// Cheat Sheet; the HTTP handler refuses such documents with an error, as async-graphql alone
/// answers `__schema` with a bare null) and field suggestions ("Did you mean …" would leak the
/// schema with introspection off).
pub fn build_schema(state: AppState) -> AppSchema {
    build_schema_with(state, crate::service::events::Notifier::default())
}

/// `build_schema` with the process's order-event notifier (what subscriptions listen to).
pub fn build_schema_with(state: AppState, events: crate::service::events::Notifier) -> AppSchema {
    let production = state.auth.config.production;
    let mut b = limited().data(state).data(events);
    if production {
        b = b.disable_introspection().disable_suggestions();
    }
    b.finish()
}

/// The schema with the served limits and cost extension, before its data.
fn limited() -> async_graphql::SchemaBuilder<QueryRoot, MutationRoot, SubscriptionRoot> {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        SubscriptionRoot::default(),
    )
    .limit_depth(MAX_DEPTH)
    .limit_complexity(MAX_COMPLEXITY)
    .limit_directives(MAX_DIRECTIVES)
    .limit_recursive_depth(32)
    .extension(limits::CostLimit)
}

/// The served schema's limits with no state (the GraphQL fuzz target's): documents are
/// validated as served, and every resolver past validation refuses for want of a caller.
#[doc(hidden)]
pub fn stateless_schema() -> AppSchema {
    limited().finish()
}

/// The SDL clients build against.
pub fn sdl() -> String {
    offline_schema().sdl()
}

/// The subgraph SDL a federation gateway composes (what `_service { sdl }` serves): the schema
/// with `@link` to Federation v2.5 and `@key(fields: "id")` on `Person`, `Order` and `Court`.
pub fn federation_sdl() -> String {
    offline_schema().sdl_with_options(
        async_graphql::SDLExportOptions::new()
            .federation()
            .compose_directive(),
    )
}

fn offline_schema() -> AppSchema {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        SubscriptionRoot::default(),
    )
    .finish()
}

/// A per-request loader: batching within the request; entity rows go through `cache`, the
/// request's view of the cross-request cache (`None` for mutations, which read what they have
/// just written, or when answers are not cached).
pub fn request_loader(
    state: &AppState,
    log: std::sync::Arc<crate::audit::AccessLog>,
    cache: Option<std::sync::Arc<crate::cache::RequestCache>>,
) -> RequestLoader {
    build_loader(state, log, cache, EpochCache::default())
}

/// The loader every resolver reaches through `loader(ctx)`.
pub type RequestLoader = DataLoader<DbLoader, EpochCache>;

/// `request_loader` whose per-request cache the caller can empty (subscriptions, between
/// events).
pub fn request_loader_with(
    state: &AppState,
    log: std::sync::Arc<crate::audit::AccessLog>,
    cached: bool,
    cache: EpochCache,
) -> RequestLoader {
    let rows = (cached && state.cache.caches_answers())
        .then(|| std::sync::Arc::new(state.cache.for_request()));
    build_loader(state, log, rows, cache)
}

fn build_loader(
    state: &AppState,
    log: std::sync::Arc<crate::audit::AccessLog>,
    rows: Option<std::sync::Arc<crate::cache::RequestCache>>,
    cache: EpochCache,
) -> RequestLoader {
    DataLoader::with_cache(
        DbLoader {
            db: state.db.clone(),
            log,
            cache: rows,
            prefetched: Default::default(),
        },
        tokio::spawn,
        cache,
    )
}

pub(crate) fn state<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a AppState> {
    ctx.data::<AppState>()
}

/// Who sent the request (set by the HTTP handler; see `images::access`).
pub(crate) fn requester(ctx: &Context<'_>) -> crate::images::access::Requester {
    ctx.data_opt::<crate::images::access::Requester>()
        .cloned()
        .unwrap_or_default()
}

/// The request's view of the cross-request cache; `None` for mutations and subscriptions.
pub(crate) fn request_cache<'a>(
    ctx: &Context<'a>,
) -> async_graphql::Result<Option<&'a crate::cache::RequestCache>> {
    Ok(loader(ctx)?.loader().cache.as_deref())
}

pub(crate) fn loader<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a RequestLoader> {
    ctx.data::<RequestLoader>()
}

/// The rows of keys all known at once (a root field's page), loaded now. `load_many` would
/// first wait out the loader's batching delay (1 ms, a timer's tick) for keys from fields
/// resolved beside it, which such a field never has: about a fifth of an uncached search's
/// time over HTTP (BENCHMARKS.md). The rows pass the loader's caches and access log (the audit
/// row's objects) and seed its per-request cache for the fields below.
pub(crate) async fn load_now<K>(
    ctx: &Context<'_>,
    keys: &[K],
) -> async_graphql::Result<std::collections::HashMap<K, <DbLoader as Loader<K>>::Value>>
where
    K: Send + Sync + std::hash::Hash + Eq + Clone + 'static,
    DbLoader: Loader<K, Error = std::sync::Arc<sea_orm::DbErr>>,
{
    let l = loader(ctx)?;
    let rows = l.loader().load(keys).await.gql()?;
    l.feed_many(rows.clone()).await;
    Ok(rows)
}

/// Converts service errors to GraphQL errors with a stable `code` extension (and `field` for
/// validation). Internal errors are logged here, once, and masked.
pub fn to_gql_error(e: AppError) -> async_graphql::Error {
    let code = e.code();
    match e {
        AppError::Internal(inner) => {
            tracing::error!(error = %inner, "internal error");
            async_graphql::Error::new("internal error").extend_with(|_, ext| ext.set("code", code))
        }
        AppError::Validation(inv) => {
            let message = inv.to_string();
            async_graphql::Error::new(message).extend_with(|_, ext| {
                ext.set("code", code);
                ext.set("field", inv.field.clone());
            })
        }
        AppError::Forbidden { rule, message } => {
            async_graphql::Error::new(message).extend_with(|_, ext| {
                ext.set("code", code);
                ext.set("rule", rule);
            })
        }
        other => {
            async_graphql::Error::new(other.to_string()).extend_with(|_, ext| ext.set("code", code))
        }
    }
}

/// `.gql()` on service results.
pub trait GqlResult<T> {
    fn gql(self) -> async_graphql::Result<T>;
}

impl<T, E: Into<AppError>> GqlResult<T> for Result<T, E> {
    fn gql(self) -> async_graphql::Result<T> {
        self.map_err(|e| to_gql_error(e.into()))
    }
}
