//! The single gate every image read and upload passes: `check_read`, `check_upload`, `audit`.
//!
//! Access control (biscuit tokens, roles, the audit log) is issue 4 and not built yet, so for now
//! every check allows and every audit event goes to the `ccpor::audit` tracing target. When it
//! lands, only this file changes: build `Requester` from the verified token in
//! `Requester::from_headers`, make `check_read` apply the same rule as reading the order (court,
//! county, role), make `check_upload` require a writer for the order's court, and send `audit`
//! to the audit log. Callers already hand in everything those rules need.
//!
//! Call sites: `Order.images` (listing), `GET /images/{id}` (download), `GET /images/{id}/preview`
//! (preview), `uploadOrderImage`, `registerImageOnlyOrder` and `POST /images` (upload). The signed
//! link of a download is checked before, and apart from, this gate.
use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::HeaderMap;

use crate::error::AppResult;

/// Who is asking. Until issue 4 there is no identity to carry.
#[derive(Debug, Clone, Default)]
pub struct Requester {
    /// Verified principal (user or system); `None` while requests are unauthenticated.
    pub principal: Option<String>,
}

impl Requester {
    /// The requester of an HTTP request. Issue 4 replaces this with token verification.
    pub fn from_headers(_headers: &HeaderMap) -> Self {
        Self::default()
    }

    /// Stored as an image's `uploadedBy`.
    pub fn label(&self) -> String {
        self.principal
            .clone()
            .unwrap_or_else(|| "unauthenticated".to_owned())
    }
}

/// Which read an access check is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadPath {
    /// `Order.images`: metadata and signed links.
    Listing,
    /// `GET /images/{id}`: the bytes.
    Download,
    /// `GET /images/{id}/preview`.
    Preview,
}

/// What happened, for the audit trail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditEvent {
    /// Images of an order listed.
    Listed { order_id: i32 },
    /// Image bytes or preview sent.
    Read {
        image_id: i32,
        order_id: i32,
        path: ReadPath,
    },
    /// An image stored for an order (`deduplicated`: its content was already stored).
    Uploaded {
        image_id: i32,
        order_id: i32,
        deduplicated: bool,
    },
}

/// The gate, one per server. Counts its calls so tests can prove each path goes through it.
#[derive(Debug, Default)]
pub struct Access {
    reads: [AtomicU64; 3],
    uploads: AtomicU64,
    audits: AtomicU64,
}

impl Access {
    /// May `who` read the images of order `order_id` (issued by court `court_id`) by `path`?
    /// Same rule as reading the order. Allows everything until issue 4.
    pub fn check_read(
        &self,
        who: &Requester,
        order_id: i32,
        court_id: i32,
        path: ReadPath,
    ) -> AppResult<()> {
        let _ = (who, order_id, court_id);
        self.reads[path as usize].fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// May `who` add images to orders of court `court_id` (`order_id`: `None` when the upload
    /// registers a new image-only order)? Allows everything until issue 4.
    pub fn check_upload(
        &self,
        who: &Requester,
        court_id: i32,
        order_id: Option<i32>,
    ) -> AppResult<()> {
        let _ = (who, court_id, order_id);
        self.uploads.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Records `event` by `who`. Goes to the audit log when issue 4 brings one.
    pub fn audit(&self, who: &Requester, event: AuditEvent) {
        self.audits.fetch_add(1, Ordering::Relaxed);
        tracing::info!(target: "ccpor::audit", principal = %who.label(), ?event, "image access");
    }

    /// Calls of `check_read` for `path` so far.
    pub fn read_checks(&self, path: ReadPath) -> u64 {
        self.reads[path as usize].load(Ordering::Relaxed)
    }

    /// Calls of `check_upload` so far.
    pub fn upload_checks(&self) -> u64 {
        self.uploads.load(Ordering::Relaxed)
    }

    /// Calls of `audit` so far.
    pub fn audits(&self) -> u64 {
        self.audits.load(Ordering::Relaxed)
    }
}
