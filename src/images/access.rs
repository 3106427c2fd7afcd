//! The single gate every image read and upload passes: `check_read`, `check_upload`, `audit`.
//!
//! The rules are those of the order the image belongs to (issue 4): reading needs a role that
//! may see identified order data and, for a county-narrowed token, the order's county; adding an
//! image needs a writer of the order's court (a clerk of that court), or, for an EPO, the law
//! enforcement agency that entered it (Fam. Code 6250: officers obtain EPOs and file them).
//! Signed download links are issued only after a listing passed this gate and carry the user
//! they were issued to, so a download is audited under that user.
//!
//! Call sites: `Order.images` (listing), `GET /images/{id}` (download), `GET /images/{id}/preview`
//! (preview), `uploadOrderImage`, `registerImageOnlyOrder` and `POST /images` (upload).
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use entities::{agency, court, order};
use sea_orm::{DatabaseConnection, EntityTrait};

use crate::audit::{self, AccessLog, AuditRecord, Outcome};
use crate::auth::rules::rule;
use crate::auth::{Caller, Permission, Role};
use crate::domain::ids::{self, Kind};
use crate::error::{AppError, AppResult};

/// Who is asking, and where the request's audit trail goes.
#[derive(Debug, Clone, Default)]
pub struct Requester {
    /// The verified token holder; `None` for a signed-link download or an anonymous request.
    pub caller: Option<Caller>,
    /// The user a verified signed link was issued to.
    pub link_user: Option<String>,
    /// The GraphQL request's access log: its one audit row lists the images touched.
    pub log: Option<Arc<AccessLog>>,
    pub request_id: Option<String>,
    pub client_addr: Option<String>,
}

impl Requester {
    /// Stored as an image's `uploadedBy` and bound into signed links.
    pub fn label(&self) -> String {
        self.caller
            .as_ref()
            .map(|c| c.user.clone())
            .or_else(|| self.link_user.clone())
            .unwrap_or_else(|| "anonymous".to_owned())
    }

    /// The revocation ids of the caller's token, bound into signed links.
    pub fn link_tokens(&self) -> std::sync::Arc<[String]> {
        self.caller
            .as_ref()
            .map(|c| c.revocation_ids.clone())
            .unwrap_or_default()
    }

    fn caller(&self) -> AppResult<&Caller> {
        self.caller.as_ref().ok_or_else(|| {
            AppError::Unauthenticated("sign in: send Authorization: Bearer <token>".into())
        })
    }

    /// An audit row of this request, attributed to the caller or the link's user.
    pub fn record(&self, event: &str, outcome: Outcome) -> AuditRecord {
        let mut r = AuditRecord::new(event, outcome);
        r.request_id = self.request_id.clone();
        r.client_addr = self.client_addr.clone();
        match &self.caller {
            Some(c) => {
                r.user_id = Some(c.user.clone());
                r.role = Some(c.role.as_str().to_owned());
                r.court = c.court.clone();
                r.agency_ori = c.agency.clone();
            }
            None => r.user_id = self.link_user.clone(),
        }
        r
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

impl AuditEvent {
    fn name(self) -> &'static str {
        match self {
            AuditEvent::Listed { .. } => "image.list",
            AuditEvent::Read {
                path: ReadPath::Preview,
                ..
            } => "image.preview",
            AuditEvent::Read { .. } => "image.download",
            AuditEvent::Uploaded { .. } => "image.upload",
        }
    }

    fn object_ids(self) -> Vec<String> {
        let order = |id| ids::encode(Kind::Order, id);
        let image = |id| ids::encode(Kind::Image, id);
        match self {
            AuditEvent::Listed { order_id } => vec![order(order_id)],
            AuditEvent::Read {
                image_id, order_id, ..
            }
            | AuditEvent::Uploaded {
                image_id, order_id, ..
            } => vec![image(image_id), order(order_id)],
        }
    }
}

/// The gate, one per server. Counts its calls so tests can prove each path goes through it.
#[derive(Debug, Default)]
pub struct Access {
    reads: [AtomicU64; 3],
    uploads: AtomicU64,
    audits: AtomicU64,
}

async fn court_of(db: &DatabaseConnection, court_id: i32) -> AppResult<court::Model> {
    court::Entity::find_by_id(court_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("court"))
}

impl Access {
    /// May `who` read the images of order `o` by `path`? Same rule as reading the order.
    pub async fn check_read(
        &self,
        db: &DatabaseConnection,
        who: &Requester,
        o: &order::Model,
        path: ReadPath,
    ) -> AppResult<()> {
        self.reads[path as usize].fetch_add(1, Ordering::Relaxed);
        let Some(c) = &who.caller else {
            // A verified signed link is the capability for the bytes; nothing else reads anonymously.
            return match (path, &who.link_user) {
                (ReadPath::Download | ReadPath::Preview, Some(_)) => Ok(()),
                _ => who.caller().map(|_| ()),
            };
        };
        if !c.can(Permission::ReadIdentified) {
            return Err(AppError::forbidden(
                rule::DEIDENTIFIED,
                format!(
                    "role {} sees de-identified data only; order images identify the parties",
                    c.role
                ),
            ));
        }
        if c.counties.is_some() && !c.sees_county(&court_of(db, o.court_id).await?.county) {
            // Answered as a missing one: a narrowed token cannot tell an image or order outside
            // its counties from an id that names none (issue 22, item 15).
            return Err(AppError::not_found(match path {
                ReadPath::Listing => format!("order {}", ids::encode(Kind::Order, o.id)),
                ReadPath::Download | ReadPath::Preview => "image".to_owned(),
            }));
        }
        Ok(())
    }

    /// May `who` add images to orders of court `court_id`? `o` is the order, or `None` when the
    /// upload registers a new image-only order (a court's act, so clerks only).
    pub async fn check_upload(
        &self,
        db: &DatabaseConnection,
        who: &Requester,
        court_id: i32,
        o: Option<&order::Model>,
    ) -> AppResult<()> {
        self.uploads.fetch_add(1, Ordering::Relaxed);
        let c = who.caller()?;
        let court = court_of(db, court_id).await?;
        if let Some(o) = o
            && !c.sees_county(&court.county)
        {
            // As for a missing order (issue 22, item 15); a court named for a new image-only
            // order is public reference data, so that refusal below stays FORBIDDEN.
            return Err(AppError::not_found(format!(
                "order {}",
                ids::encode(Kind::Order, o.id)
            )));
        }
        c.require_county(&court.county)?;
        let keying = crate::service::refs::keying_ori(db, &court).await?;
        if c.is_keyer(keying.as_deref()) {
            return Ok(());
        }
        if c.role == Role::Lea {
            return lea_may_attach(db, c, o).await;
        }
        c.require_clerk_of(&court.code, "add images to")
    }

    /// Records `event` by `who`: in the GraphQL request's audit row, or as its own row for the
    /// HTTP transfer routes. A failure here must stop the transfer (CJIS AU-5: fail closed).
    pub async fn audit(
        &self,
        db: &DatabaseConnection,
        who: &Requester,
        event: AuditEvent,
    ) -> AppResult<()> {
        self.audits.fetch_add(1, Ordering::Relaxed);
        if let Some(log) = &who.log {
            log.objects(event.object_ids());
            return Ok(());
        }
        let mut rec = who.record(event.name(), Outcome::Allowed);
        rec.object_ids = event.object_ids();
        if let AuditEvent::Uploaded {
            deduplicated: true, ..
        } = event
        {
            rec.detail = Some("deduplicated".into());
        }
        audit::append(db, rec).await.map(|_| ())
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

/// An officer files the image of an EPO their own agency entered (Fam. Code 6250, 6271).
async fn lea_may_attach(
    db: &DatabaseConnection,
    c: &Caller,
    o: Option<&order::Model>,
) -> AppResult<()> {
    let denied = || {
        AppError::forbidden(
            rule::OWN_AGENCY,
            "law enforcement adds images only to the EPOs its own agency entered",
        )
    };
    if !c.can(Permission::EnterEpo) {
        return Err(denied());
    }
    let Some(agency_id) = o.and_then(|o| o.entered_by_agency_id) else {
        return Err(denied());
    };
    let entered_by = agency::Entity::find_by_id(agency_id).one(db).await?;
    match (entered_by, &c.agency) {
        (Some(a), Some(own)) if &a.ori == own => Ok(()),
        _ => Err(denied()),
    }
}
