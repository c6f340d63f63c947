//! OAuth rows (clients, grants, tokens) as either database returns them, and their mapping to
//! the domain types of `todo_core::oauth`.

use todo_core::ids::UserId;
use todo_core::oauth::{Client, ConnectedApp, Grant, TokenKind, TokenRecord, scopes_from_text};

use crate::rows::{Columns, FromColumns};

pub const OAUTH_CLIENT_COLUMNS: &str = "c.id, c.name, c.redirect_uris, c.created_at, \
     EXISTS (SELECT 1 FROM oauth_grants eg WHERE eg.client_id = c.id)";
pub const OAUTH_GRANT_COLUMNS: &str = "g.id, g.user_id, g.client_id, g.scopes, g.resource, \
     g.redirect_uri, g.code_challenge, g.code_expires_at, g.code_used_at, g.created_at, \
     g.last_used_at, g.revoked_at";
/// A token, then its grant ([`OAUTH_GRANT_COLUMNS`]), from `oauth_tokens t JOIN oauth_grants g`.
pub const OAUTH_TOKEN_COLUMNS: &str = "t.grant_id, t.kind, t.scopes, t.expires_at, t.spent_at";
pub const CONNECTED_APP_COLUMNS: &str =
    "g.id, g.client_id, c.name, g.scopes, g.created_at, g.last_used_at";

/// Redirect URIs as stored: one per line (a URI holds no line break).
pub fn redirect_uris_to_text(uris: &[String]) -> String {
    uris.join("\n")
}

pub struct OAuthClientRow(pub Client);

impl FromColumns for OAuthClientRow {
    fn from_columns<C: Columns>(row: &C) -> Result<Self, C::Error> {
        Ok(OAuthClientRow(Client {
            id: row.text(0)?,
            name: row.text(1)?,
            redirect_uris: row.text(2)?.lines().map(str::to_owned).collect(),
            created_at: row.time(3)?,
            used: row.bool(4)?,
        }))
    }
}

impl From<OAuthClientRow> for Client {
    fn from(r: OAuthClientRow) -> Self {
        r.0
    }
}

fn grant_at<C: Columns>(row: &C, at: usize) -> Result<Grant, C::Error> {
    Ok(Grant {
        id: row.text(at)?,
        user_id: UserId::new(row.text(at + 1)?),
        client_id: row.text(at + 2)?,
        scopes: scopes_from_text(&row.text(at + 3)?),
        resource: row.text(at + 4)?,
        redirect_uri: row.text(at + 5)?,
        code_challenge: row.text(at + 6)?,
        code_expires_at: row.time(at + 7)?,
        code_used_at: row.opt_time(at + 8)?,
        created_at: row.time(at + 9)?,
        last_used_at: row.opt_time(at + 10)?,
        revoked_at: row.opt_time(at + 11)?,
    })
}

pub struct OAuthGrantRow(pub Grant);

impl FromColumns for OAuthGrantRow {
    fn from_columns<C: Columns>(row: &C) -> Result<Self, C::Error> {
        grant_at(row, 0).map(OAuthGrantRow)
    }
}

impl From<OAuthGrantRow> for Grant {
    fn from(r: OAuthGrantRow) -> Self {
        r.0
    }
}

/// A token and its grant. A kind this build does not know reads as a spent refresh token
/// (never accepted).
pub struct OAuthTokenRow(pub TokenRecord, pub Grant);

impl FromColumns for OAuthTokenRow {
    fn from_columns<C: Columns>(row: &C) -> Result<Self, C::Error> {
        let kind = TokenKind::parse(&row.text(1)?);
        let spent_at = row.opt_time(4)?;
        let expires_at = row.time(3)?;
        let record = TokenRecord {
            grant_id: row.text(0)?,
            kind: kind.unwrap_or(TokenKind::Refresh),
            scopes: scopes_from_text(&row.text(2)?),
            expires_at,
            spent_at: if kind.is_none() {
                Some(expires_at)
            } else {
                spent_at
            },
        };
        Ok(OAuthTokenRow(record, grant_at(row, 5)?))
    }
}

impl From<OAuthTokenRow> for (TokenRecord, Grant) {
    fn from(r: OAuthTokenRow) -> Self {
        (r.0, r.1)
    }
}

pub struct ConnectedAppRow(pub ConnectedApp);

impl FromColumns for ConnectedAppRow {
    fn from_columns<C: Columns>(row: &C) -> Result<Self, C::Error> {
        Ok(ConnectedAppRow(ConnectedApp {
            id: row.text(0)?,
            client_id: row.text(1)?,
            client_name: row.text(2)?,
            scopes: scopes_from_text(&row.text(3)?)
                .into_iter()
                .map(|s| s.as_str().to_owned())
                .collect(),
            created_at: row.time(4)?,
            last_used_at: row.opt_time(5)?,
        }))
    }
}

impl From<ConnectedAppRow> for ConnectedApp {
    fn from(r: ConnectedAppRow) -> Self {
        r.0
    }
}
