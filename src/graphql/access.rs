//! Authorization inside GraphQL: the caller from the request, permission guards for fields, row
//! rules (own court, own agency, county scope) and field confidentiality. Every denial names its
//! rule in the error's `rule` extension.
use async_graphql::{Context, Guard};
use entities::{order, person};

use crate::audit::AccessLog;
use crate::auth::{Caller, Permission};
use crate::domain::ids::{self, Kind};
use crate::error::AppError;
use crate::graphql::loaders::CourtId;
use crate::graphql::{GqlResult, loader, state};
use crate::service::scope::Scope;

pub use crate::auth::rules::{county_denied, rule};

/// The authenticated caller; `UNAUTHENTICATED` when the request carried no valid token.
pub fn caller<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Caller> {
    ctx.data_opt::<Caller>()
        .ok_or_else(|| {
            AppError::Unauthenticated("sign in: send Authorization: Bearer <token>".into())
        })
        .gql()
}

/// The caller, if their role has `p`.
pub fn require<'a>(ctx: &Context<'a>, p: Permission) -> async_graphql::Result<&'a Caller> {
    let c = caller(ctx)?;
    if c.can(p) {
        Ok(c)
    } else {
        Err(AppError::forbidden(
            rule::ROLE,
            format!("role {} may not {}", c.role, describe(p)),
        ))
        .gql()
    }
}

fn describe(p: Permission) -> &'static str {
    match p {
        Permission::ReadReference => "read reference data",
        Permission::ReadIdentified => "read identified order or person data",
        Permission::ReadDeidentified => "read order data",
        Permission::WriteOrders => "enter or change orders",
        Permission::EnterEpo => "enter emergency protective orders",
        Permission::RecordService => "record service",
        Permission::ReadConfidential => "read confidential fields",
        Permission::Administer => "administer courts and agencies",
        Permission::ReadAudit => "read the audit log",
        Permission::LinkPersons => "confirm or reject person links",
        Permission::SendFeed => "send feed messages",
    }
}

/// Field guard: `#[graphql(guard = "Need(Permission::X)")]`.
pub struct Need(pub Permission);

impl Guard for Need {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        require(ctx, self.0).map(|_| ())
    }
}

/// The request's access log (absent only in schema-less contexts such as SDL export).
pub fn log<'a>(ctx: &Context<'a>) -> Option<&'a AccessLog> {
    ctx.data_opt::<std::sync::Arc<AccessLog>>()
        .map(|a| a.as_ref())
}

/// Applies a nullable field's access check as GraphQL reports field errors (spec §6.4.4, "Handling
/// Field Errors"): on denial the error, with its rule, is recorded at this field and the resolver
/// answers null. Returning the error instead would make the executor leave the field out of its
/// object, and turn an object whose selected fields were all denied into null.
pub fn permit(ctx: &Context<'_>, check: async_graphql::Result<()>) -> bool {
    match check {
        Ok(()) => true,
        Err(e) => {
            ctx.add_error(ctx.set_error_path(e.into_server_error(ctx.item.pos)));
            false
        }
    }
}

/// Identifying fields (names, DOB, case numbers): not for de-identified roles.
pub fn identified(ctx: &Context<'_>) -> async_graphql::Result<()> {
    let c = caller(ctx)?;
    if c.can(Permission::ReadIdentified) {
        Ok(())
    } else {
        Err(AppError::forbidden(
            rule::DEIDENTIFIED,
            format!(
                "role {} sees de-identified data only (CJIS least privilege)",
                c.role
            ),
        ))
        .gql()
    }
}

/// A person's identity: identifying, and for a confidential minor, court and LEA roles only.
///
/// A denial names the most specific rule that closes the field: a confidential minor's identity
/// is closed by Fam. Code 6301.5 before the general de-identification rule applies.
pub fn person_identity(ctx: &Context<'_>, p: &person::Model) -> async_graphql::Result<()> {
    if p.confidential {
        let c = caller(ctx)?;
        if !c.can(Permission::ReadConfidential) {
            return Err(AppError::forbidden(
                rule::MINOR,
                "this identity is confidential (Fam. Code 6301.5); court and law enforcement only",
            ))
            .gql();
        }
    }
    identified(ctx)?;
    if p.confidential
        && let Some(l) = log(ctx)
    {
        l.field("Person.confidentialIdentity");
    }
    Ok(())
}

/// CLETS-001 class contact data (address, telephone, driver licence): court and LEA roles only,
/// and every read is recorded in the audit row. A denial names CRC 1.51, the rule of the field
/// itself, whatever else would also close it.
pub fn clets_field(ctx: &Context<'_>, p: &person::Model, field: &str) -> async_graphql::Result<()> {
    let c = caller(ctx)?;
    if !c.can(Permission::ReadConfidential) {
        return Err(AppError::forbidden(
            rule::CLETS,
            "confidential CLETS-001 information (Cal. Rules of Court 1.51): court and law enforcement only",
        ))
        .gql();
    }
    person_identity(ctx, p)?;
    if let Some(l) = log(ctx) {
        l.field(field);
    }
    Ok(())
}

/// Ids of the courts in the caller's county scope; `None` when statewide.
pub async fn scoped_court_ids(ctx: &Context<'_>) -> async_graphql::Result<Option<Vec<i32>>> {
    let scope = Scope::of(&state(ctx)?.db, caller(ctx)?).await.gql()?;
    Ok(scope.court_ids().map(<[i32]>::to_vec))
}

/// Whether the order's court is in the caller's county scope.
pub async fn order_visible(ctx: &Context<'_>, o: &order::Model) -> async_graphql::Result<bool> {
    let c = caller(ctx)?;
    if c.counties.is_none() {
        return Ok(true);
    }
    let county = loader(ctx)?
        .load_one(CourtId(o.court_id))
        .await
        .gql()?
        .map(|ct| ct.county)
        .unwrap_or_default();
    Ok(c.sees_county(&county))
}

/// `NOT_FOUND` unless the order's court is in the caller's county scope: a narrowed token cannot
/// tell an order outside its counties from an id that names none (issue 22, item 15).
pub async fn order_in_scope(ctx: &Context<'_>, o: &order::Model) -> async_graphql::Result<()> {
    if order_visible(ctx, o).await? {
        Ok(())
    } else {
        Err(AppError::not_found(format!(
            "order {}",
            ids::encode(Kind::Order, o.id)
        )))
        .gql()
    }
}

/// Which of `person_ids` have an order in the caller's county scope (all of them when statewide).
pub async fn persons_in_scope(
    ctx: &Context<'_>,
    person_ids: &[i32],
) -> async_graphql::Result<Option<std::collections::HashSet<i32>>> {
    let db = &state(ctx)?.db;
    let scope = Scope::of(db, caller(ctx)?).await.gql()?;
    scope.persons_visible(db, person_ids).await.gql()
}

/// Whether the person appears in an order within the caller's county scope.
pub async fn person_visible(ctx: &Context<'_>, person_id: i32) -> async_graphql::Result<bool> {
    Ok(match persons_in_scope(ctx, &[person_id]).await? {
        Some(ids) => ids.contains(&person_id),
        None => true,
    })
}

/// `NOT_FOUND` unless the person appears in an order within the caller's county scope: the same
/// answer as for an id that names no one (issue 22, item 15).
pub async fn person_in_scope(ctx: &Context<'_>, person_id: i32) -> async_graphql::Result<()> {
    if person_visible(ctx, person_id).await? {
        Ok(())
    } else {
        Err(AppError::not_found(format!(
            "person {}",
            ids::encode(Kind::Person, person_id)
        )))
        .gql()
    }
}

/// Row rule for writes: a clerk changes only their own court's orders (and only within a county
/// scope, if the token is narrowed).
pub async fn may_write_court(ctx: &Context<'_>, court_id: i32) -> async_graphql::Result<()> {
    let c = caller(ctx)?;
    let court = loader(ctx)?
        .load_one(CourtId(court_id))
        .await
        .gql()?
        .ok_or_else(|| AppError::not_found("court"))
        .gql()?;
    let keying = crate::service::refs::keying_ori(&state(ctx)?.db, &court)
        .await
        .gql()?;
    c.require_keyer_of(&court.code, keying.as_deref(), "change")
        .and_then(|()| c.require_county(&court.county))
        .gql()
}

/// Existing persons an order command names by id: a narrowed token may name only persons it may
/// see (issue 22, item 10). One outside its counties gets the answer an id naming no one gets
/// (`createOrder`'s own check, same field and message), so the two cannot be told apart (item 15).
pub async fn parties_in_scope(
    ctx: &Context<'_>,
    parties: &[crate::service::commands::Party],
) -> async_graphql::Result<()> {
    if caller(ctx)?.counties.is_none() {
        return Ok(());
    }
    // Ids that do not decode are the validation's to report.
    let named: Vec<(usize, i32)> = parties
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            let id = p.person_id.as_ref()?;
            ids::decode("personId", Kind::Person, id)
                .ok()
                .map(|n| (i, n))
        })
        .collect();
    if named.is_empty() {
        return Ok(());
    }
    let wanted: Vec<i32> = named.iter().map(|&(_, n)| n).collect();
    let Some(seen) = persons_in_scope(ctx, &wanted).await? else {
        return Ok(());
    };
    // The first id naming no one in scope, missing ones included, as the service reports it.
    match named.into_iter().find(|(_, n)| !seen.contains(n)) {
        Some((i, n)) => Err(AppError::invalid(
            format!("parties[{i}].personId"),
            format!("no person with id {}", ids::encode(Kind::Person, n)),
        ))
        .gql(),
        None => Ok(()),
    }
}
