//! `auditEvents`: the audit log for administrators (CJIS AU-6 review, AU-7 reporting). Reading it
//! is itself audited like any other request.
use async_graphql::connection::{Connection, Edge, EmptyFields};
use async_graphql::{Context, InputObject, Object, SimpleObject};
use chrono::{DateTime, SecondsFormat, Utc};
use entities::audit_event;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::auth::Permission;
use crate::error::AppError;
use crate::graphql::access::Need;
use crate::graphql::{GqlResult, state};

/// One audit record.
#[derive(SimpleObject)]
pub struct AuditEvent {
    /// Position in the hash chain (1, 2, 3, … without gaps).
    pub seq: i64,
    pub occurred_at: String,
    pub event: String,
    pub user_id: Option<String>,
    pub role: Option<String>,
    pub court: Option<String>,
    pub agency_ori: Option<String>,
    pub operation: Option<String>,
    pub object_ids: Vec<String>,
    pub fields: Vec<String>,
    pub client_addr: Option<String>,
    pub request_id: Option<String>,
    /// `allowed`, `denied` or `error`.
    pub outcome: String,
    pub detail: Option<String>,
    pub hash: String,
}

impl From<audit_event::Model> for AuditEvent {
    fn from(m: audit_event::Model) -> Self {
        AuditEvent {
            seq: m.seq,
            occurred_at: m.occurred_at,
            event: m.event,
            user_id: m.user_id,
            role: m.role,
            court: m.court,
            agency_ori: m.agency_ori,
            operation: m.operation,
            object_ids: serde_json::from_str(&m.object_ids).unwrap_or_default(),
            fields: serde_json::from_str(&m.fields).unwrap_or_default(),
            client_addr: m.client_addr,
            request_id: m.request_id,
            outcome: m.outcome,
            detail: m.detail,
            hash: m.hash,
        }
    }
}

/// Which audit records to list.
#[derive(InputObject, Default)]
pub struct AuditFilter {
    pub user_id: Option<String>,
    pub role: Option<String>,
    /// `allowed`, `denied` or `error`.
    pub outcome: Option<String>,
    pub event: Option<String>,
    /// A global id the record must mention (an order or person).
    pub object_id: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

pub type AuditConnection = Connection<String, AuditEvent, EmptyFields, EmptyFields>;

const MAX_AUDIT_PAGE: usize = 200;

#[derive(Default)]
pub struct AuditQuery;

#[Object]
impl AuditQuery {
    /// Audit records, newest first.
    #[graphql(
        guard = "Need(Permission::ReadAudit)",
        complexity = "crate::graphql::limits::page_cost(first, 50, MAX_AUDIT_PAGE, child_complexity)"
    )]
    async fn audit_events(
        &self,
        ctx: &Context<'_>,
        filter: Option<AuditFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<AuditConnection> {
        let f = filter.unwrap_or_default();
        let first = match first {
            None => 50,
            Some(n) if n < 0 => {
                return Err(AppError::invalid("first", "must not be negative")).gql();
            }
            Some(n) => usize::try_from(n)
                .unwrap_or(MAX_AUDIT_PAGE)
                .min(MAX_AUDIT_PAGE),
        };
        let mut q = audit_event::Entity::find();
        let paged = after.is_some();
        if let Some(a) = after {
            let seq: i64 = a
                .parse()
                .map_err(|_| AppError::invalid("after", "not a cursor from auditEvents"))
                .gql()?;
            q = q.filter(audit_event::Column::Seq.lt(seq));
        }
        if let Some(u) = f.user_id {
            q = q.filter(audit_event::Column::UserId.eq(u));
        }
        if let Some(r) = f.role {
            q = q.filter(audit_event::Column::Role.eq(r));
        }
        if let Some(o) = f.outcome {
            q = q.filter(audit_event::Column::Outcome.eq(o));
        }
        if let Some(e) = f.event {
            q = q.filter(audit_event::Column::Event.eq(e));
        }
        if let Some(id) = f.object_id {
            q = q.filter(object_id_is(&id));
        }
        if let Some(t) = f.since {
            q = q.filter(
                audit_event::Column::OccurredAt.gte(t.to_rfc3339_opts(SecondsFormat::Micros, true)),
            );
        }
        if let Some(t) = f.until {
            q = q.filter(
                audit_event::Column::OccurredAt.lt(t.to_rfc3339_opts(SecondsFormat::Micros, true)),
            );
        }
        let mut rows = q
            .order_by_desc(audit_event::Column::Seq)
            .limit(first as u64 + 1)
            .all(&state(ctx)?.db)
            .await
            .gql()?;
        let more = rows.len() > first;
        rows.truncate(first);
        let mut conn = Connection::new(paged, more);
        conn.edges.extend(
            rows.into_iter()
                .map(|r| Edge::new(r.seq.to_string(), AuditEvent::from(r))),
        );
        Ok(conn)
    }
}

/// Rows whose `object_ids` (a JSON array of strings) holds `id` exactly: the id is matched as
/// its JSON text, with LIKE's wildcards escaped, so `%` finds only ids containing `%`.
fn object_id_is(id: &str) -> sea_orm::sea_query::SimpleExpr {
    use sea_orm::sea_query::{Expr, ExprTrait, LikeExpr};
    let json = serde_json::to_string(id).unwrap_or_default();
    let mut pattern = String::with_capacity(json.len() + 4);
    pattern.push('%');
    for c in json.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    Expr::col(audit_event::Column::ObjectIds).like(LikeExpr::new(pattern).escape('\\'))
}
