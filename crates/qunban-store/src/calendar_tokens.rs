//! Per-member calendar tokens: read-only credentials for the ICS feeds.
//!
//! Calendar apps cannot send headers, so a feed's credential travels in its
//! URL, where proxies, browser histories and shared screenshots see it. A
//! full API token there would hand out everything; a calendar token opens
//! only the calendar feeds of its member, with that member's read rights,
//! and can be rotated on its own. Only its SHA-256 is stored.

use sqlx::Row;

use crate::directory::token_digest;
use crate::{now_secs, Result, Store};

/// Calendar tokens start with this, so a leaked one is recognisable.
pub const CALENDAR_TOKEN_PREFIX: &str = "qbcal_";

impl Store {
    /// Creates the member's calendar token, replacing (revoking) any earlier
    /// one. The token is returned once.
    pub async fn rotate_calendar_token(&self, member_id: i64) -> Result<String> {
        let token = format!("{CALENDAR_TOKEN_PREFIX}{}", hex::encode(rand::random::<[u8; 24]>()));
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM calendar_tokens WHERE member_id = $1").bind(member_id).execute(&mut *tx).await?;
        sqlx::query("INSERT INTO calendar_tokens (member_id, token_sha256, created_at) VALUES ($1, $2, $3)")
            .bind(member_id)
            .bind(token_digest(&token))
            .bind(now_secs())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(token)
    }

    /// Revokes the member's calendar token; false if there was none.
    pub async fn revoke_calendar_token(&self, member_id: i64) -> Result<bool> {
        let n = sqlx::query("DELETE FROM calendar_tokens WHERE member_id = $1").bind(member_id).execute(&self.pool).await?.rows_affected();
        Ok(n > 0)
    }

    /// When the member's calendar token was created, if they have one.
    pub async fn calendar_token_created_at(&self, member_id: i64) -> Result<Option<i64>> {
        let row = sqlx::query("SELECT created_at FROM calendar_tokens WHERE member_id = $1").bind(member_id).fetch_optional(&self.pool).await?;
        row.map(|r| r.try_get("created_at").map_err(Into::into)).transpose()
    }

    /// The member a calendar token belongs to.
    pub async fn calendar_token_member(&self, token: &str) -> Result<Option<i64>> {
        let row = sqlx::query("SELECT member_id FROM calendar_tokens WHERE token_sha256 = $1")
            .bind(token_digest(token.trim()))
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| r.try_get("member_id").map_err(Into::into)).transpose()
    }
}
