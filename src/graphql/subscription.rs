//! `orderEvents`: order lifecycle events as they are recorded anywhere in the state, for bench
//! dashboards and dispatch screens (served over graphql-ws at `/graphql/ws`).
use std::collections::HashSet;

use async_graphql::{Context, ErrorExtensions, ID, Object, Subscription};
use chrono::{DateTime, Utc};
use futures_util::Stream;
use tokio::sync::broadcast::error::RecvError;

use crate::audit::Outcome;
use crate::auth::{Caller, Operation, Permission};
use crate::domain::codes::EventKind;
use crate::domain::ids::{self, Kind};
use crate::error::AppError;
use crate::graphql::access::{Need, require};
use crate::graphql::loaders::{EpochCache, OrderId};
use crate::graphql::types::{Order, OrderEvent};
use crate::graphql::{GqlResult, loader, requester, state};
use crate::images::access::Requester;
use crate::service::events::{Notifier, OrderNotice};
use crate::state::AppState;

/// The bearer token a graphql-ws connection was opened with, checked again for each event so a
/// revoked or expired token stops hearing them.
#[derive(Clone)]
pub struct SessionToken(pub String);

/// Subscriptions, one object per domain.
#[derive(Default)]
pub struct OrderSubscription;

/// One event as it was recorded, with the order as it is now.
pub struct OrderEventNotice(OrderNotice);

#[Object]
impl OrderEventNotice {
    async fn kind(&self) -> EventKind {
        self.0.kind
    }
    async fn occurred_at(&self) -> DateTime<Utc> {
        self.0.occurred_at
    }
    /// County of the issuing court.
    async fn county(&self) -> &str {
        &self.0.county
    }
    /// The entry in the order's history.
    async fn event(&self) -> OrderEvent {
        OrderEvent(self.0.event.as_ref().clone())
    }
    /// The order as it stands when the event is delivered.
    async fn order(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Order>> {
        Ok(loader(ctx)?
            .load_one(OrderId(self.0.order_id))
            .await
            .gql()?
            .map(Order))
    }
}

/// What one subscription listens for.
struct Filter {
    county: Option<String>,
    person: Option<i32>,
    kinds: Option<HashSet<EventKind>>,
}

impl Filter {
    fn admits(&self, caller: &Caller, n: &OrderNotice) -> bool {
        caller.sees_county(&n.county)
            && self.county.as_ref().is_none_or(|c| *c == n.county)
            && self.person.is_none_or(|p| n.person_ids.contains(&p))
            && self.kinds.as_ref().is_none_or(|k| k.contains(&n.kind))
    }
}

/// The state a subscription's stream carries from event to event.
struct Listening {
    rx: tokio::sync::broadcast::Receiver<OrderNotice>,
    filter: Filter,
    caller: Caller,
    token: String,
    app: AppState,
    who: Requester,
    operation: String,
    cache: EpochCache,
}

impl Drop for Listening {
    fn drop(&mut self) {
        metrics::gauge!("ccpor_subscriptions_active").decrement(1.0);
    }
}

fn county_arg(county: Option<String>) -> Result<Option<String>, AppError> {
    Ok(county
        .map(|c| crate::domain::county::county("county", &c).map(str::to_owned))
        .transpose()?)
}

/// Nothing is served that cannot be accounted for (CJIS AU-5).
fn audit_unavailable(e: &AppError) -> async_graphql::Error {
    let (code, message) = crate::http::authn::audit_failure(e);
    async_graphql::Error::new(message).extend_with(|_, ext| ext.set("code", code))
}

impl Listening {
    /// The next event this subscriber may see; `Err` ends the subscription.
    async fn next(&mut self) -> Option<async_graphql::Result<OrderNotice>> {
        loop {
            let notice = match self.rx.recv().await {
                Ok(n) => n,
                Err(RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "an orderEvents subscriber fell behind");
                    continue;
                }
                Err(RecvError::Closed) => return None,
            };
            if !self.filter.admits(&self.caller, &notice) {
                continue;
            }
            // The token as it is now: revoked or expired ends the subscription.
            if let Err(f) = self
                .app
                .auth
                .authenticate(&self.app.db, &self.token, Operation::Read)
                .await
            {
                let mut rec = self.who.record("auth.failed", Outcome::Denied);
                rec.operation = Some(self.operation.clone());
                rec.detail = Some(f.to_string());
                let _ = self.app.audit.append(rec).await;
                let code = f.code();
                return Some(Err(async_graphql::Error::new(f.to_string())
                    .extend_with(|_, e| e.set("code", code))));
            }
            // The event's audit row is written as the event leaves, once its fields are
            // resolved (`http::ws`), so that it names every object and confidential field sent.
            if let Some(log) = &self.who.log {
                log.objects(
                    std::iter::once(ids::encode(Kind::Order, notice.order_id)).chain(
                        notice
                            .person_ids
                            .iter()
                            .map(|p| ids::encode(Kind::Person, *p)),
                    ),
                );
                log.note(
                    self.operation.clone(),
                    format!("{} event {}", notice.kind.as_db(), notice.event.id),
                );
            }
            self.cache.forget();
            return Some(Ok(notice));
        }
    }
}

#[Subscription]
impl OrderSubscription {
    /// Order events (issued, served, modified, renewed, terminated, cancelled, expired, and
    /// CARPOS's acknowledgements and rejections) as they are recorded on any instance, optionally only in one county, for one person, or of some
    /// kinds. A county-narrowed token hears only its counties. Each event delivered is audited.
    #[graphql(guard = "Need(Permission::ReadIdentified)")]
    async fn order_events(
        &self,
        ctx: &Context<'_>,
        county: Option<String>,
        person_id: Option<ID>,
        kinds: Option<Vec<EventKind>>,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<OrderEventNotice>> + use<>>
    {
        let caller = require(ctx, Permission::ReadIdentified)?.clone();
        let county = county_arg(county).gql()?;
        if let Some(c) = &county {
            caller.require_county(c).gql()?;
        }
        let person = person_id
            .map(|p| ids::decode("personId", Kind::Person, &p))
            .transpose()
            .map_err(AppError::from)
            .gql()?;
        let app = state(ctx)?.clone();
        let token = ctx.data::<SessionToken>()?.0.clone();
        let cache = ctx.data::<EpochCache>()?.clone();
        let who = requester(ctx);
        let operation = format!(
            "subscription orderEvents(county={}, personId={}, kinds={})",
            county.as_deref().unwrap_or("*"),
            person.map_or_else(|| "*".to_owned(), |p| ids::encode(Kind::Person, p)),
            kinds.as_ref().map_or_else(
                || "*".to_owned(),
                |k| k.iter().map(|k| k.as_db()).collect::<Vec<_>>().join("|")
            ),
        );
        // Listening before the start row is written: whatever is recorded after a client sees
        // the subscription started reaches it.
        let rx = ctx.data::<Notifier>()?.subscribe();
        let mut rec = who.record("graphql.subscription", Outcome::Allowed);
        rec.operation = Some(operation.clone());
        app.audit
            .append(rec)
            .await
            .map_err(|e| audit_unavailable(&e))?;
        metrics::gauge!("ccpor_subscriptions_active").increment(1.0);
        let listening = Listening {
            rx,
            filter: Filter {
                county,
                person,
                kinds: kinds.map(|k| k.into_iter().collect()),
            },
            caller,
            token,
            app,
            who,
            operation,
            cache,
        };
        Ok(futures_util::stream::unfold(
            Some(listening),
            |state| async move {
                let mut l = state?;
                match l.next().await? {
                    Ok(n) => Some((Ok(OrderEventNotice(n)), Some(l))),
                    Err(e) => Some((Err(e), None)),
                }
            },
        ))
    }
}
