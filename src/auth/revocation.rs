//! Revocation list, in the database so every instance sees it; checked on every request.
use chrono::Utc;
use entities::revoked_token;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};

/// Whether any of a token's block revocation ids has been revoked (revoking a block revokes every
/// token derived from it).
pub async fn any_revoked<C: ConnectionTrait>(
    db: &C,
    ids: &[String],
) -> Result<bool, sea_orm::DbErr> {
    let n = revoked_token::Entity::find()
        .filter(revoked_token::Column::RevocationId.is_in(ids.iter().cloned()))
        .count(db)
        .await?;
    Ok(n > 0)
}

/// Adds revocation ids; revoking twice is harmless.
pub async fn revoke<C: ConnectionTrait>(
    db: &C,
    ids: &[String],
    reason: Option<&str>,
) -> Result<(), sea_orm::DbErr> {
    let now = Utc::now();
    for id in ids {
        revoked_token::Entity::insert(revoked_token::ActiveModel {
            revocation_id: Set(id.to_ascii_lowercase()),
            revoked_at: Set(now),
            reason: Set(reason.map(str::to_owned)),
        })
        .on_conflict_do_nothing()
        .exec(db)
        .await?;
    }
    Ok(())
}
