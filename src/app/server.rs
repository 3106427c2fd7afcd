//! Running the HTTP server with graceful shutdown.
use std::net::SocketAddr;

use sea_orm::DatabaseConnection;
use tokio::net::TcpListener;

use crate::state::AppState;

/// Serves until `shutdown` resolves, then drains in-flight requests. Meanwhile runs, on
/// `jobs` (a pool of their own, so request statement counts stay the requests'), the expiry
/// job and the relay that brings order events recorded anywhere to this process's subscribers.
pub async fn run(
    listener: TcpListener,
    app: AppState,
    jobs: DatabaseConnection,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let events = crate::service::events::Notifier::default();
    let relay = crate::service::events::spawn_relay(jobs.clone(), events.clone())
        .await
        .map_err(std::io::Error::other)?;
    let expiry =
        crate::service::expiry::spawn(jobs, app.cache.clone(), crate::service::expiry::EVERY);
    let served = axum::serve(
        listener,
        crate::http::router_with(app, events).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    expiry.abort();
    relay.abort();
    served
}

/// Binds `addr`; port 0 picks a free port.
pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr).await
}

/// Resolves on SIGTERM or Ctrl-C. The handlers are installed when this is called, not when the
/// future is first polled: call it before announcing the server, or a supervisor that stops it
/// right after the announcement kills it instead of shutting it down.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let (term, int) = {
        use tokio::signal::unix::{SignalKind, signal};
        let listen = |kind: SignalKind, what: &'static str| match signal(kind) {
            Ok(s) => Some(s),
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for {what}");
                None
            }
        };
        (
            listen(SignalKind::terminate(), "SIGTERM"),
            listen(SignalKind::interrupt(), "Ctrl-C"),
        )
    };
    async move {
        #[cfg(unix)]
        {
            let wait = |s: Option<tokio::signal::unix::Signal>| async move {
                match s {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = wait(term) => {},
                () = wait(int) => {},
            }
        }
        #[cfg(not(unix))]
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
        tracing::info!("shutting down");
    }
}
