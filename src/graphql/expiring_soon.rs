//! `expiringSoon`: the orders entering a court's (or county's) EXPIRING_SOON work list, pushed
//! over graphql-ws (`/graphql/ws`) as they enter: at the start the orders already in the window,
//! then each order that comes into it, because time passed (checked each minute) or because an
//! order was issued, modified or renewed (checked at once, on the order's event). Scoped like
//! `workList` (`court` or `county`, within the token's reach), paged (`first` orders a push), and
//! audited: the start, and each push naming the orders it carries.
use std::collections::{HashSet, VecDeque};
use std::time::Duration;

use async_graphql::{Context, ErrorExtensions as _, SimpleObject, Subscription};
use chrono::{DateTime, Utc};
use entities::order;
use futures_util::Stream;
use tokio::sync::broadcast::error::RecvError;

use crate::audit::Outcome;
use crate::auth::{Caller, Operation, Permission};
use crate::graphql::access::{Need, require, scoped_court_ids};
use crate::graphql::subscription::SessionToken;
use crate::graphql::types::Order;
use crate::graphql::work_lists::{ListScope, check_within_days, list_scope};
use crate::graphql::{GqlResult, requester, state};
use crate::images::access::Requester;
use crate::service::events::{Notifier, OrderNotice};
use crate::service::reads::{MAX_PAGE, OrderCursor, OrderFilter, orders_page};
use crate::service::work_lists::WorkListKind;
use crate::state::AppState;

/// How often the window is looked at again when no event arrives: an order enters it as the
/// days pass.
const RECHECK: Duration = Duration::from_secs(60);
/// Orders a push carries when `first` is not given.
const DEFAULT_BATCH: usize = 20;

#[derive(Default)]
pub struct ExpiringSoonSubscription;

/// One push: orders that entered the window, at most `first` of them.
#[derive(SimpleObject)]
pub struct ExpiringSoonBatch {
    /// When the window was evaluated.
    pub at: DateTime<Utc>,
    /// The first push holds the orders already in the window when the subscription started
    /// (possibly none); later pushes only orders that entered since.
    pub initial: bool,
    /// Orders of this evaluation still to come in the pushes that follow at once.
    pub remaining: i32,
    pub orders: Vec<Order>,
}

struct Watching {
    rx: tokio::sync::broadcast::Receiver<OrderNotice>,
    scope: ListScope,
    /// The token's county scope (`None`: statewide).
    token_courts: Option<Vec<i32>>,
    within: i64,
    batch: usize,
    caller: Caller,
    token: String,
    app: AppState,
    who: Requester,
    operation: String,
    /// Orders already pushed that are still in the window.
    seen: HashSet<i32>,
    pending: VecDeque<order::Model>,
    evaluated_at: DateTime<Utc>,
    started: bool,
    ticks: tokio::time::Interval,
}

impl Drop for Watching {
    fn drop(&mut self) {
        metrics::gauge!("ccpor_subscriptions_active").decrement(1.0);
    }
}

impl Watching {
    fn filter(&self, at: DateTime<Utc>) -> OrderFilter {
        let mut f = self
            .scope
            .filter(WorkListKind::ExpiringSoon, at, self.within);
        f.court_ids.clone_from(&self.token_courts);
        f
    }

    /// Reads the window now; the orders not pushed before join `pending`.
    async fn evaluate(&mut self) -> async_graphql::Result<()> {
        let at = Utc::now();
        let filter = self.filter(at);
        let mut now_in = HashSet::new();
        let mut after = None;
        loop {
            let (rows, more) = orders_page(&self.app.db, &filter, MAX_PAGE, after)
                .await
                .gql()?;
            after = rows.last().map(OrderCursor::of);
            for o in rows {
                now_in.insert(o.id);
                if !self.seen.contains(&o.id) {
                    self.pending.push_back(o);
                }
            }
            if !more {
                break;
            }
        }
        // An order that left the window (renewed, ended) is forgotten.
        self.seen.retain(|id| now_in.contains(id));
        self.evaluated_at = at;
        Ok(())
    }

    /// Whether an event may change this subscription's window.
    fn concerns(&self, n: &OrderNotice) -> bool {
        self.caller.sees_county(&n.county) && n.county == self.scope.county
    }

    /// Waits for the next reason to look at the window again; `None`: the server is stopping.
    async fn wake(&mut self) -> Option<()> {
        loop {
            tokio::select! {
                _ = self.ticks.tick() => return Some(()),
                r = self.rx.recv() => match r {
                    Ok(n) if self.concerns(&n) => return Some(()),
                    Ok(_) => {}
                    Err(RecvError::Lagged(_)) => return Some(()),
                    Err(RecvError::Closed) => return None,
                },
            }
        }
    }

    /// The next push; `Err` ends the subscription.
    async fn next(&mut self) -> Option<async_graphql::Result<ExpiringSoonBatch>> {
        let initial = !self.started;
        if initial {
            self.started = true;
            if let Err(e) = self.evaluate().await {
                return Some(Err(e));
            }
        }
        while self.pending.is_empty() && !initial {
            self.wake().await?;
            if let Err(e) = self.evaluate().await {
                return Some(Err(e));
            }
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
            return Some(Err(
                async_graphql::Error::new(f.to_string()).extend_with(|_, e| e.set("code", code))
            ));
        }
        let take = self.batch.min(self.pending.len());
        let rows: Vec<order::Model> = self.pending.drain(..take).collect();
        self.seen.extend(rows.iter().map(|o| o.id));
        // The push's audit row is written as it leaves (`http::ws`), naming these orders.
        if let Some(log) = &self.who.log {
            log.orders(&rows);
            log.note(
                self.operation.clone(),
                format!("{} orders entering EXPIRING_SOON", rows.len()),
            );
        }
        Some(Ok(ExpiringSoonBatch {
            at: self.evaluated_at,
            initial,
            remaining: i32::try_from(self.pending.len()).unwrap_or(i32::MAX),
            orders: rows.into_iter().map(Order).collect(),
        }))
    }
}

#[Subscription]
impl ExpiringSoonSubscription {
    /// The orders entering the EXPIRING_SOON work list (in force, expiring within `withinDays`,
    /// default 30, at most 366) of a court or county, as they enter: the first push holds those
    /// already in it, later pushes each order that comes in (an order issued or changed is seen
    /// at once, one that the days bring in within a minute). `court` and `county` as for
    /// `workList`; `first` orders a push (default 20, at most 100), more following at once.
    /// Each push is audited with the orders it names.
    #[graphql(guard = "Need(Permission::ReadIdentified)")]
    async fn expiring_soon(
        &self,
        ctx: &Context<'_>,
        court: Option<String>,
        county: Option<String>,
        within_days: Option<i32>,
        first: Option<i32>,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<ExpiringSoonBatch>> + use<>>
    {
        let caller = require(ctx, Permission::ReadIdentified)?.clone();
        let within = check_within_days(within_days)?;
        let batch = match first {
            None => DEFAULT_BATCH,
            Some(n) if !(1..=100).contains(&n) => {
                return Err(crate::error::AppError::invalid("first", "must be 1 to 100")).gql();
            }
            Some(n) => usize::try_from(n).unwrap_or(DEFAULT_BATCH),
        };
        let scope = list_scope(ctx, court, county).await?;
        let token_courts = scoped_court_ids(ctx).await?;
        let app = state(ctx)?.clone();
        let token = ctx.data::<SessionToken>()?.0.clone();
        let who = requester(ctx);
        let operation = format!(
            "subscription expiringSoon(county={}, court={}, withinDays={within})",
            scope.county,
            scope
                .court_id
                .map_or_else(|| "*".to_owned(), |c| c.to_string()),
        );
        // Listening before the start row is written: an order issued after a client sees the
        // subscription started reaches it.
        let rx = ctx.data::<Notifier>()?.subscribe();
        let mut rec = who.record("graphql.subscription", Outcome::Allowed);
        rec.operation = Some(operation.clone());
        app.audit.append(rec).await.map_err(|e| {
            let (code, message) = crate::http::authn::audit_failure(&e);
            async_graphql::Error::new(message).extend_with(|_, ext| ext.set("code", code))
        })?;
        metrics::gauge!("ccpor_subscriptions_active").increment(1.0);
        let mut ticks = tokio::time::interval(RECHECK);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // The first tick is immediate; the initial evaluation stands for it.
        ticks.reset();
        let watching = Watching {
            rx,
            scope,
            token_courts,
            within,
            batch,
            caller,
            token,
            app,
            who,
            operation,
            seen: HashSet::new(),
            pending: VecDeque::new(),
            evaluated_at: Utc::now(),
            started: false,
            ticks,
        };
        Ok(futures_util::stream::unfold(
            Some(watching),
            |state| async move {
                let mut w = state?;
                match w.next().await? {
                    Ok(b) => Some((Ok(b), Some(w))),
                    Err(e) => Some((Err(e), None)),
                }
            },
        ))
    }
}
