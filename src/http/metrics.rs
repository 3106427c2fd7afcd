//! `GET /metrics`: Prometheus text. Request figures are recorded as requests run; the search
//! index lag, the database pool and the feed messages waiting for a predecessor (count, and age
//! of the oldest) are sampled at scrape time.
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use entities::search_outbox;
use sea_orm::{DbBackend, EntityTrait, QueryOrder};

use crate::http::HttpState;

/// Outbox rows written but not yet applied to this instance's name index.
async fn index_lag(s: &HttpState) -> Option<i64> {
    let newest = search_outbox::Entity::find()
        .order_by_desc(search_outbox::Column::Id)
        .one(&s.app.db)
        .await
        .ok()?
        .map(|r| r.id)
        .unwrap_or(0);
    Some((newest - s.app.search.cursor()).max(0))
}

fn pool_gauges(s: &HttpState) {
    let db = &s.app.db;
    let (size, idle) = match db.get_database_backend() {
        DbBackend::Postgres => {
            let p = db.get_postgres_connection_pool();
            (p.size(), p.num_idle())
        }
        DbBackend::Sqlite => {
            let p = db.get_sqlite_connection_pool();
            (p.size(), p.num_idle())
        }
        _ => return,
    };
    metrics::gauge!("ccpor_db_pool_connections").set(f64::from(size));
    metrics::gauge!("ccpor_db_pool_idle_connections").set(idle as f64);
}

pub async fn render(State(s): State<HttpState>) -> Response {
    let Some(handle) = crate::metrics::handle() else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "metrics recorder unavailable",
        )
            .into_response();
    };
    if let Some(lag) = index_lag(&s).await {
        metrics::gauge!("ccpor_search_index_lag_rows").set(lag as f64);
    }
    pool_gauges(&s);
    if let Ok((waiting, oldest)) = crate::feed::status::waiting(&s.app.db, chrono::Utc::now()).await
    {
        metrics::gauge!("ccpor_feed_deferred_messages").set(waiting as f64);
        metrics::gauge!("ccpor_feed_deferred_oldest_seconds").set(oldest as f64);
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    )
        .into_response()
}
