//! Account use cases: sign up, log in and out, profiles, API keys, and turning a credential
//! into the principal a request acts as.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::Todo;
use crate::api_key::{self, ApiKey, Scope};
use crate::error::{Error, Result};
use crate::ids::ApiKeyId;
use crate::password;
use crate::patch::Patch;
use crate::store::ProfileChanges;
use crate::time::now;
use crate::user::{Email, User, UserId, check_password, parse_name, parse_timezone};
use crate::validation::Validator;

/// How long a login lasts.
pub const SESSION_TTL: Duration = Duration::days(30);

/// A user row about to be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    pub id: UserId,
    pub email: Option<String>,
    pub name: Option<String>,
    pub password_hash: Option<String>,
    pub timezone: String,
    pub created_at: DateTime<Utc>,
}

/// A login: tokens name the session so that logging out ends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: String,
    pub user_id: UserId,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct SignupInput {
    pub email: String,
    /// 8–256 characters.
    #[schema(min_length = 8, max_length = 256)]
    pub password: String,
    #[serde(default)]
    pub name: Option<String>,
    /// An IANA zone such as `Europe/Paris` (default UTC): where dates and times are read.
    #[serde(default)]
    pub timezone: Option<String>,
}

/// One of the user's sessions (a login), as `GET /sessions` lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SessionInfo {
    pub id: String,
    #[serde(serialize_with = "crate::time::serialize_json")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::time::serialize_json")]
    pub expires_at: DateTime<Utc>,
    /// The session this request comes from.
    pub current: bool,
}

/// The body of `POST /me/password`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChangeInput {
    pub current_password: String,
    /// 8–256 characters.
    #[schema(min_length = 8, max_length = 256)]
    pub new_password: String,
}

/// The body of `DELETE /me`: the password confirms it.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountDeletionInput {
    pub password: String,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct LoginInput {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct ProfileInput {
    /// `null` or blank removes the name.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub name: Patch<String>,
    /// IANA time zone, e.g. `Europe/Paris`.
    #[serde(default)]
    pub timezone: Option<String>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ApiKeyInput {
    /// What the key is for, 1–100 characters.
    pub name: String,
    /// Defaults to `["read", "write"]`.
    #[serde(default)]
    pub scopes: Option<Vec<Scope>>,
    /// When the key stops working; never when absent.
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
}

/// A new key with its secret, which is shown this once and never stored.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CreatedApiKey {
    #[serde(flatten)]
    pub key: ApiKey,
    pub secret: String,
}

/// How a request proved who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialKind {
    Session(String),
    ApiKey(ApiKeyId),
    /// An OAuth access token, by the id of its grant (revoking the grant ends it).
    OAuth(String),
    External,
    /// Someone at the machine with access to the database, naming the user on the command
    /// line (`todo mcp --user`).
    Local,
}

/// The user a request acts as, and what it may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user_id: UserId,
    pub scopes: Vec<Scope>,
    pub credential: CredentialKind,
}

impl Principal {
    /// Someone at the machine acting for `user_id` with full access (the command line).
    pub fn local(user_id: UserId) -> Self {
        Self {
            user_id,
            scopes: vec![Scope::Read, Scope::Write],
            credential: CredentialKind::Local,
        }
    }

    pub fn can(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
    }
}

/// Who an external token says its bearer is: a subject within an issuer's namespace. It is
/// linked to a local account of our making through the identities table, never used as a
/// local user id (a token whose `sub` equals a local id must not act as that user).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalIdentity {
    /// Which trust root vouched for the token (`better-auth` for `BETTER_AUTH_SECRET`, `jwks`
    /// for `AUTH_JWKS_URL`): subjects of different roots never meet.
    pub issuer: &'static str,
    pub subject: String,
    pub email: Option<String>,
    pub name: Option<String>,
}

/// The longest subject accepted, in bytes (as stored).
pub const MAX_SUBJECT_BYTES: usize = 255;

impl ExternalIdentity {
    /// `None` for a subject that is empty, longer than [`MAX_SUBJECT_BYTES`] or holds control
    /// characters (NUL cannot even be stored in PostgreSQL text): such a token is refused.
    pub fn new(
        issuer: &'static str,
        subject: String,
        email: Option<String>,
        name: Option<String>,
    ) -> Option<Self> {
        let valid = !subject.is_empty()
            && subject.len() <= MAX_SUBJECT_BYTES
            && !subject.chars().any(char::is_control);
        valid.then_some(Self {
            issuer,
            subject,
            email,
            name,
        })
    }
}

/// Don't rewrite `last_used_at` on every request: once a minute is precise enough.
const TOUCH_INTERVAL: Duration = Duration::minutes(1);

impl Todo {
    /// Creates a local account (used by signup and by `todo user create`).
    pub async fn create_user(&self, input: SignupInput) -> Result<User> {
        let mut v = Validator::new();
        let email = v.check("email", Email::parse(&input.email));
        v.check("password", check_password(&input.password));
        let name = match &input.name {
            Some(n) => v.check("name", parse_name(n)).flatten(),
            None => None,
        };
        let timezone = match &input.timezone {
            Some(tz) => v.check("timezone", parse_timezone(tz)),
            None => Some("UTC".to_owned()),
        };
        v.finish()?;
        let password_hash = password::hash(input.password).await?;
        let new = NewUser {
            id: UserId::generate(),
            email: email.map(|e| e.as_str().to_owned()),
            name,
            password_hash: Some(password_hash),
            timezone: timezone.unwrap_or_else(|| "UTC".to_owned()),
            created_at: now(),
        };
        self.store.insert_user(&new).await
    }

    pub async fn signup(&self, input: SignupInput) -> Result<(User, Session)> {
        let user = self.create_user(input).await?;
        // The account stands without its confirmation email (it can ask for another).
        if self.sends_mail()
            && user.email.is_some()
            && let Err(e) = self.send_email_verification(&user.id).await
        {
            tracing::warn!(error = %e, "queueing an email confirmation failed");
        }
        let session = self.start_session(&user.id).await?;
        Ok((user, session))
    }

    pub async fn login(&self, input: LoginInput) -> Result<(User, Session)> {
        const WRONG: Error = Error::Unauthenticated("wrong email or password");
        let Ok(email) = Email::parse(&input.email) else {
            return Err(WRONG);
        };
        let found = self.store.user_with_password(email.as_str()).await?;
        let (user, hash) = match found {
            Some((user, hash)) => (Some(user), hash),
            None => (None, None),
        };
        // Verify even when the account is unknown, so both failures take as long.
        let matches = password::verify(input.password, hash).await?;
        match user {
            Some(user) if matches => {
                let session = self.start_session(&user.id).await?;
                Ok((user, session))
            }
            _ => Err(WRONG),
        }
    }

    async fn start_session(&self, user_id: &UserId) -> Result<Session> {
        let created_at = now();
        let session = Session {
            id: uuid::Uuid::now_v7().to_string(),
            user_id: user_id.to_owned(),
            created_at,
            expires_at: created_at + SESSION_TTL,
        };
        self.store.insert_session(&session).await?;
        Ok(session)
    }

    /// The actor's user's sessions, the actor's own marked.
    pub async fn sessions(&self, actor: &Principal) -> Result<Vec<SessionInfo>> {
        crate::oauth::refuse_oauth_actor(actor)?;
        let current = match &actor.credential {
            CredentialKind::Session(id) => Some(id.as_str()),
            _ => None,
        };
        Ok(self
            .store
            .list_sessions(&actor.user_id, now())
            .await?
            .into_iter()
            .map(|s| SessionInfo {
                current: current == Some(s.id.as_str()),
                id: s.id,
                created_at: s.created_at,
                expires_at: s.expires_at,
            })
            .collect())
    }

    /// Ends one of the actor's user's sessions (signs that browser or device out).
    pub async fn end_session(&self, actor: &Principal, session_id: &str) -> Result<()> {
        crate::oauth::refuse_oauth_actor(actor)?;
        if !self.store.end_session(&actor.user_id, session_id).await? {
            return Err(Error::NotFound("session"));
        }
        self.credentials
            .forget_credential(&CredentialKind::Session(session_id.to_owned()));
        Ok(())
    }

    /// Checks the user's password (401 `wrong password` when it does not match, 422 for an
    /// account that has none).
    async fn confirm_password(
        &self,
        user_id: &UserId,
        password: String,
        field: &str,
    ) -> Result<()> {
        let hash = self
            .store
            .password_hash(user_id)
            .await?
            .ok_or(Error::NotFound("user"))?;
        if hash.is_none() {
            return Err(Error::invalid(
                field,
                "this account signs in through another service and has no password here",
            ));
        }
        if !password::verify(password, hash).await? {
            return Err(Error::invalid(field, "is not the account's password"));
        }
        Ok(())
    }

    /// Changes the password and ends every other session (a login elsewhere with the old
    /// password stops working at once).
    pub async fn change_password(
        &self,
        actor: &Principal,
        input: PasswordChangeInput,
    ) -> Result<()> {
        crate::oauth::refuse_oauth_actor(actor)?;
        check_password(&input.new_password).map_err(|e| Error::invalid("new_password", e))?;
        self.confirm_password(&actor.user_id, input.current_password, "current_password")
            .await?;
        let hash = password::hash(input.new_password).await?;
        self.store
            .set_password(&actor.user_id, &hash, now())
            .await?;
        let keep = match &actor.credential {
            CredentialKind::Session(id) => Some(id.as_str()),
            _ => None,
        };
        self.forget_sessions(&actor.user_id, keep).await
    }

    /// Sets a user's password from the command line (an operator), ending every session.
    pub async fn set_password(&self, user_id: &UserId, new_password: String) -> Result<()> {
        check_password(&new_password).map_err(|e| Error::invalid("password", e))?;
        let hash = password::hash(new_password).await?;
        self.store.set_password(user_id, &hash, now()).await?;
        self.forget_sessions(user_id, None).await
    }

    pub(crate) async fn forget_sessions(&self, user_id: &UserId, keep: Option<&str>) -> Result<()> {
        for ended in self.store.end_other_sessions(user_id, keep).await? {
            self.credentials
                .forget_credential(&CredentialKind::Session(ended));
        }
        Ok(())
    }

    /// Deletes the actor's account and its data, the password confirming it (see
    /// [`crate::sharing::successor`] for the shared projects it owns).
    pub async fn delete_account(
        &self,
        actor: &Principal,
        input: AccountDeletionInput,
    ) -> Result<()> {
        crate::oauth::refuse_oauth_actor(actor)?;
        self.confirm_password(&actor.user_id, input.password, "password")
            .await?;
        self.delete_user(&actor.user_id).await
    }

    /// Deletes an account and its data (the command line's `todo user delete`, or the user).
    pub async fn delete_user(&self, user_id: &UserId) -> Result<()> {
        if !self.store.delete_account(user_id).await? {
            return Err(Error::NotFound("user"));
        }
        self.credentials.forget_user(user_id);
        Ok(())
    }

    pub async fn logout(&self, session_id: &str) -> Result<()> {
        self.store.delete_session(session_id).await?;
        self.credentials
            .forget_credential(&CredentialKind::Session(session_id.to_owned()));
        Ok(())
    }

    pub async fn session_principal(&self, session_id: &str) -> Result<Principal> {
        let cache_key = format!("s:{session_id}");
        if let Some(principal) = self.credentials.get(&cache_key) {
            return Ok(principal);
        }
        let user =
            self.store
                .session_user(session_id, now())
                .await?
                .ok_or(Error::Unauthenticated(
                    "the session has ended: log in again",
                ))?;
        let principal = Principal {
            user_id: user.id,
            scopes: vec![Scope::Read, Scope::Write],
            credential: CredentialKind::Session(session_id.to_owned()),
        };
        self.credentials.put(cache_key, principal.clone(), None);
        Ok(principal)
    }

    /// The user behind a verified external token: the account linked to its identity, created
    /// (with an id of ours) the first time the identity is seen. The email is kept only if no
    /// other account holds it: accounts are never merged by email, nor by id.
    pub async fn external_principal(&self, identity: ExternalIdentity) -> Result<Principal> {
        let user = self.external_user(identity).await?;
        Ok(Principal {
            user_id: user.id,
            scopes: vec![Scope::Read, Scope::Write],
            credential: CredentialKind::External,
        })
    }

    async fn external_user(&self, identity: ExternalIdentity) -> Result<User> {
        let (issuer, subject) = (identity.issuer, identity.subject.as_str());
        if let Some(user) = self.store.external_user(issuer, subject).await? {
            return Ok(user);
        }
        let mut new = NewUser {
            id: UserId::generate(),
            email: identity
                .email
                .as_deref()
                .and_then(|e| Email::parse(e).ok())
                .map(|e| e.as_str().to_owned()),
            name: identity
                .name
                .as_deref()
                .and_then(|n| parse_name(n).ok().flatten()),
            password_hash: None,
            timezone: "UTC".into(),
            created_at: now(),
        };
        loop {
            match self.store.insert_external_user(issuer, subject, &new).await {
                Err(Error::Conflict(_)) => {
                    // Another request linked this identity just now, or the email is taken.
                    if let Some(user) = self.store.external_user(issuer, subject).await? {
                        return Ok(user);
                    }
                    if new.email.take().is_none() {
                        return Err(Error::internal("linking an external identity conflicts"));
                    }
                }
                result => return result,
            }
        }
    }

    pub async fn me(&self, user_id: &UserId) -> Result<User> {
        self.store
            .user_by_id(user_id)
            .await?
            .ok_or(Error::NotFound("user"))
    }

    /// The user with this id, or else with this email (for the command line).
    pub async fn find_user(&self, id_or_email: &str) -> Result<User> {
        if let Some(user) = self.store.user_by_id(&UserId::new(id_or_email)).await? {
            return Ok(user);
        }
        let email = Email::parse(id_or_email).map_err(|_| Error::NotFound("user"))?;
        self.store
            .user_with_password(email.as_str())
            .await?
            .map(|(user, _)| user)
            .ok_or(Error::NotFound("user"))
    }

    pub async fn list_users(&self) -> Result<Vec<User>> {
        self.store.list_users().await
    }

    pub async fn update_profile(&self, user_id: &UserId, input: ProfileInput) -> Result<User> {
        let mut v = Validator::new();
        let name = match &input.name {
            Patch::Missing => None,
            Patch::Null => Some(None),
            Patch::Value(n) => v.check("name", parse_name(n)),
        };
        let timezone = match &input.timezone {
            Some(tz) => v.check("timezone", parse_timezone(tz)),
            None => None,
        };
        v.finish()?;
        let new_zone = timezone
            .as_deref()
            .and_then(|tz| tz.parse::<chrono_tz::Tz>().ok());
        let changes = ProfileChanges { name, timezone };
        let user = self
            .store
            .update_user(user_id, &changes, now())
            .await?
            .ok_or(Error::NotFound("user"))?;
        if let Some(tz) = new_zone {
            self.zones.forget(user_id.as_str());
            self.retime_tasks(user_id, tz).await?;
            // The digest's local hour is another moment in the new zone.
            self.store.reschedule_digest(user_id, now()).await?;
        }
        Ok(user)
    }

    /// Creates a key for the actor's user. An actor that is itself an API key creates keys
    /// within its own reach only (see [`ApiKey::covers`]): what the input leaves out is taken
    /// from the actor's key, and asking for more is refused.
    pub async fn create_api_key(
        &self,
        actor: &Principal,
        input: ApiKeyInput,
    ) -> Result<CreatedApiKey> {
        crate::oauth::refuse_oauth_actor(actor)?;
        let created_at = now();
        let acting_key = self.acting_key(actor).await?;
        let mut v = Validator::new();
        let name = input.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            v.fail("name", "must be 1–100 characters");
        }
        v.check("name", crate::validation::storable_text(name));
        let mut scopes = input.scopes.unwrap_or_else(|| match &acting_key {
            Some(key) => key.scopes.clone(),
            None => vec![Scope::Read, Scope::Write],
        });
        scopes.sort_by_key(|s| s.as_str());
        scopes.dedup();
        if scopes.is_empty() {
            v.fail("scopes", "must name at least one of read, write");
        }
        let expires_at = input
            .expires_at
            .or_else(|| acting_key.as_ref().and_then(|key| key.expires_at));
        if expires_at.is_some_and(|at| at <= created_at) {
            v.fail("expires_at", "must be in the future");
        }
        if let Some(at) = expires_at {
            v.check("expires_at", crate::validation::storable_moment(at));
        }
        v.finish()?;
        let key = ApiKey {
            id: ApiKeyId::generate(),
            user_id: actor.user_id.clone(),
            name: name.to_owned(),
            prefix: String::new(),
            scopes,
            created_at,
            last_used_at: None,
            expires_at,
            revoked_at: None,
        };
        if let Some(acting) = &acting_key
            && !acting.covers(&key)
        {
            return Err(Error::Forbidden(
                "an API key cannot create a key with more scopes or a later expiry than its own"
                    .into(),
            ));
        }
        let generated = api_key::generate_secret();
        let key = ApiKey {
            prefix: generated.prefix,
            ..key
        };
        self.store.insert_api_key(&key, &generated.hash).await?;
        Ok(CreatedApiKey {
            key,
            secret: generated.secret,
        })
    }

    pub async fn list_api_keys(&self, user_id: &UserId) -> Result<Vec<ApiKey>> {
        self.store.list_api_keys(user_id).await
    }

    /// Revokes one of the actor's user's keys. An actor that is an API key may revoke only
    /// keys within its own reach (itself included), so a narrow key cannot cut off a wide one.
    pub async fn revoke_api_key(&self, actor: &Principal, id: &ApiKeyId) -> Result<()> {
        crate::oauth::refuse_oauth_actor(actor)?;
        if let Some(acting) = self.acting_key(actor).await? {
            let keys = self.store.list_api_keys(&actor.user_id).await?;
            let target = keys
                .iter()
                .find(|key| &key.id == id)
                .ok_or(Error::NotFound("api key"))?;
            if !acting.covers(target) {
                return Err(Error::Forbidden(
                    "an API key cannot revoke a key with more scopes or a later expiry than its own"
                        .into(),
                ));
            }
        }
        if self.store.revoke_api_key(&actor.user_id, id, now()).await? {
            self.credentials
                .forget_credential(&CredentialKind::ApiKey(id.to_owned()));
            Ok(())
        } else {
            Err(Error::NotFound("api key"))
        }
    }

    /// The key an actor authenticated with, when it is one.
    async fn acting_key(&self, actor: &Principal) -> Result<Option<ApiKey>> {
        let CredentialKind::ApiKey(id) = &actor.credential else {
            return Ok(None);
        };
        let keys = self.store.list_api_keys(&actor.user_id).await?;
        keys.into_iter()
            .find(|key| &key.id == id)
            .map(Some)
            .ok_or(Error::Unauthenticated(
                "invalid, expired or revoked API key",
            ))
    }

    /// HTTP Basic as CalDAV clients send it: the account's email (or id) and an API key as the
    /// app password. The account's own password is never taken here: it has its own door
    /// with its own limits (`POST /auth/login`).
    pub async fn app_password_principal(&self, username: &str, secret: &str) -> Result<Principal> {
        let principal = self.api_key_principal(secret).await?;
        let user = self.me(&principal.user_id).await?;
        let username = username.trim();
        let theirs = user.id.as_str() == username
            || user
                .email
                .as_deref()
                .is_some_and(|email| email.eq_ignore_ascii_case(username));
        if !theirs {
            return Err(Error::Unauthenticated(
                "the user name is not the account of that API key",
            ));
        }
        Ok(principal)
    }

    pub async fn api_key_principal(&self, secret: &str) -> Result<Principal> {
        const INVALID: Error = Error::Unauthenticated("invalid, expired or revoked API key");
        let hash = api_key::hash_secret(secret);
        let cache_key = format!("k:{hash}");
        if let Some(principal) = self.credentials.get(&cache_key) {
            return Ok(principal);
        }
        let at = now();
        let key = self.store.api_key_by_hash(&hash).await?.ok_or(INVALID)?;
        if !key.is_usable_at(at) {
            return Err(INVALID);
        }
        if key
            .last_used_at
            .is_none_or(|used| at - used >= TOUCH_INTERVAL)
        {
            self.store.touch_api_key(&key.id, at).await?;
        }
        let expires_in = key
            .expires_at
            .map(|until| (until - at).to_std().unwrap_or_default());
        let principal = Principal {
            user_id: key.user_id,
            scopes: key.scopes,
            credential: CredentialKind::ApiKey(key.id),
        };
        self.credentials
            .put(cache_key, principal.clone(), expires_in);
        Ok(principal)
    }
}
