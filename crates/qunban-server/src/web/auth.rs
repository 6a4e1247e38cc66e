//! Who is calling: browser sessions (cookie) and API tokens (bearer), and
//! what each caller may see and change.
//!
//! Per-project roles decide everything: PMs change the whole project, leads
//! any task of the project they lead, executors their own tasks, viewers
//! nothing. Task changes are checked by the interpreter itself (the same rules
//! as in chat); this module guards reads and the admin pages.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use qunban_core::Role;
use qunban_store::{Member, ProjectRole};
use serde::Deserialize;
use serde_json::json;

use crate::http::ApiError;
use crate::pipeline::Engine;

pub const SESSION_COOKIE: &str = "qunban_session";
const SESSION_TTL_SECS: i64 = 30 * 24 * 3600;

/// The signed-in member or token holder of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    /// `None` for the workspace admin token, which belongs to no member.
    pub member: Option<Member>,
    pub is_admin: bool,
    pub roles: Vec<ProjectRole>,
}

impl Caller {
    pub fn forbidden(what: &str) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", what)
    }

    pub fn roles_in(&self, project_id: i64) -> impl Iterator<Item = Role> + '_ {
        self.roles.iter().filter(move |r| r.project_id == project_id).map(|r| r.role)
    }

    /// PM or lead of the project (or an admin).
    pub fn manages(&self, project_id: i64) -> bool {
        self.is_admin || self.roles_in(project_id).any(|r| r.manages())
    }

    /// PM or lead of any project (or an admin): may see the outbox.
    pub fn manages_any(&self) -> bool {
        self.is_admin || self.roles.iter().any(|r| r.role.manages())
    }

    /// Members see the projects they have a role in, and projects nobody has
    /// roles in yet (a team that has not set up roles works openly, as in chat).
    pub async fn check_read(&self, engine: &Engine, project_id: i64) -> Result<(), ApiError> {
        if self.is_admin || self.roles_in(project_id).next().is_some() {
            return Ok(());
        }
        if engine.store().project_roles(project_id).await?.is_empty() {
            return Ok(());
        }
        Err(Caller::forbidden("you have no role in this project"))
    }

    pub async fn can_read(&self, engine: &Engine, project_id: i64) -> Result<bool, ApiError> {
        match self.check_read(engine, project_id).await {
            Ok(()) => Ok(true),
            Err(e) if e.status == StatusCode::FORBIDDEN => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The member who acts: the caller, or for the admin token the
    /// workspace's `API` member so that history still says who changed what.
    pub async fn actor(&self, engine: &Engine) -> Result<Member, ApiError> {
        match &self.member {
            Some(m) => Ok(m.clone()),
            None => Ok(engine.store().ensure_member("api", "admin", "API").await?),
        }
    }
}

fn unauthorized(msg: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", msg)
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
}

fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v)
}

impl Caller {
    /// The caller behind an API token given outside the headers (calendar
    /// apps put it in the feed URL).
    pub async fn from_token(engine: &Engine, token: Option<&str>) -> Result<Caller, ApiError> {
        let token = token.ok_or_else(|| unauthorized("missing token"))?;
        match engine.store().check_token(token.trim()).await? {
            Some((is_admin, member)) => Caller::load(engine, member, is_admin).await,
            None => Err(unauthorized("unknown API token")),
        }
    }

    async fn load(engine: &Engine, member_id: Option<i64>, token_admin: bool) -> Result<Caller, ApiError> {
        let store = engine.store();
        let (member, account_admin, roles) = match member_id {
            Some(id) => {
                let admin = store.account_of_member(id).await?.is_some_and(|a| a.is_admin);
                (Some(store.member(id).await?), admin, store.member_roles(id).await?)
            }
            None => (None, false, Vec::new()),
        };
        Ok(Caller { member, is_admin: token_admin || account_admin, roles })
    }
}

impl FromRequestParts<Engine> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, engine: &Engine) -> Result<Caller, ApiError> {
        let store = engine.store();
        let (member_id, token_admin) = if let Some(token) = bearer(&parts.headers) {
            match store.check_token(token).await? {
                Some((is_admin, member)) => (member, is_admin),
                None => return Err(unauthorized("unknown API token")),
            }
        } else if let Some(session) = session_cookie(&parts.headers) {
            match store.session_member(session).await? {
                Some(m) => (Some(m), false),
                None => return Err(unauthorized("your session has ended; sign in again")),
            }
        } else {
            return Err(unauthorized("sign in, or send an API token as Authorization: Bearer …"));
        };
        Caller::load(engine, member_id, token_admin).await
    }
}

/// Password hashing is the one thing an anonymous request can make the
/// server do that costs real memory and CPU (Argon2id: ~19 MiB and tens of
/// milliseconds each). At most one hash per core runs at a time; a few more
/// attempts may wait briefly for a slot, and the rest are answered 503 at
/// once, so a flood of sign-ins cannot take the server's memory.
struct HashGate {
    slots: tokio::sync::Semaphore,
    waiting: std::sync::atomic::AtomicUsize,
    max_waiting: usize,
}

static HASH_GATE: std::sync::LazyLock<HashGate> = std::sync::LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    HashGate { slots: tokio::sync::Semaphore::new(cores), waiting: Default::default(), max_waiting: 2 * cores }
});

/// How long an attempt waits for a hashing slot before it is turned away.
const HASH_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

fn busy() -> ApiError {
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "busy", "the server is busy checking other sign-ins; try again in a moment").retry_after(1)
}

/// Runs `f` (a hash or a verification) on a blocking thread once a hashing
/// slot is free, or fails fast with 503 `busy`.
async fn hashing<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, ApiError> {
    use std::sync::atomic::Ordering;
    let gate = &*HASH_GATE;
    let slot = match gate.slots.try_acquire() {
        Ok(s) => s,
        Err(_) => {
            if gate.waiting.fetch_add(1, Ordering::SeqCst) >= gate.max_waiting {
                gate.waiting.fetch_sub(1, Ordering::SeqCst);
                return Err(busy());
            }
            let got = tokio::time::timeout(HASH_WAIT, gate.slots.acquire()).await;
            gate.waiting.fetch_sub(1, Ordering::SeqCst);
            match got {
                Ok(Ok(s)) => s,
                _ => return Err(busy()),
            }
        }
    };
    let out = tokio::task::spawn_blocking(f).await.map_err(ApiError::internal);
    drop(slot);
    out
}

/// Hashes a password with Argon2id (default parameters) on a blocking thread.
pub async fn hash_password(password: String) -> Result<String, ApiError> {
    check_password_strength(&password)?;
    hashing(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default().hash_password(password.as_bytes(), &salt).map(|h| h.to_string())
    })
    .await?
    .map_err(ApiError::internal)
}

/// The CLI uses the same rules as the set-up page.
pub fn check_password_strength(password: &str) -> Result<(), ApiError> {
    if password.chars().count() < 8 {
        return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", "a password needs at least 8 characters"));
    }
    if password.len() > 1024 {
        return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", "a password is limited to 1024 bytes"));
    }
    Ok(())
}

/// Checks a password against a stored hash on a blocking thread (or 503
/// `busy` when every hashing slot is taken).
pub async fn verify_password(password: String, hash: String) -> Result<bool, ApiError> {
    hashing(move || PasswordHash::new(&hash).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())).await
}

/// A valid hash of a password nobody knows: an unknown login is checked
/// against it so that its answer takes as long as a wrong password's.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2dbZC4JkzJqS4cvKyFv7vZkGSBY8Umq2vDbkp0PiwGc";

/// `Secure` cookies need HTTPS; a server behind a TLS proxy or configured with
/// an https public URL sets it.
fn secure_cookie(headers: &HeaderMap) -> bool {
    let proxied_https = headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()) == Some("https");
    let public_https = std::env::var("QUNBAN_PUBLIC_URL").is_ok_and(|u| u.starts_with("https://"));
    proxied_https || public_https
}

fn session_set_cookie(id: &str, headers: &HeaderMap) -> HeaderValue {
    let secure = if secure_cookie(headers) { "; Secure" } else { "" };
    HeaderValue::from_str(&format!("{SESSION_COOKIE}={id}; Path=/; HttpOnly; SameSite=Lax; Max-Age={SESSION_TTL_SECS}{secure}"))
        .expect("session ids are hex")
}

/// Opens a session for `member_id` and answers with the cookie and `body`.
pub async fn signed_in(engine: &Engine, headers: &HeaderMap, member_id: i64, status: StatusCode, body: serde_json::Value) -> Result<Response, ApiError> {
    let id = engine.store().create_session(member_id, SESSION_TTL_SECS).await?;
    let mut resp = (status, Json(body)).into_response();
    resp.headers_mut().insert(header::SET_COOKIE, session_set_cookie(&id, headers));
    Ok(resp)
}

#[derive(Debug, Deserialize)]
pub struct Credentials {
    login: String,
    password: String,
}

/// Failed sign-ins per login *and source address*: after [`MAX_FAILURES`]
/// within [`FAILURE_WINDOW`] (seconds, from the first failure) that login is
/// locked for that source until the window has passed, so a password cannot
/// be guessed at the speed of the network, while the account's owner,
/// signing in from elsewhere, is not locked out by whoever is guessing.
/// Guessing from many addresses is slowed by the per-address rate limit on
/// sign-in ([`crate::limits`]). Counted in the database, so every instance
/// on it agrees.
const MAX_FAILURES: i64 = 5;
const FAILURE_WINDOW: i64 = 15 * 60;

/// `POST /api/v1/session`
pub async fn sign_in(
    State(engine): State<Engine>,
    headers: HeaderMap,
    ip: Option<axum::Extension<crate::limits::ClientIp>>,
    body: crate::web::JsonBody<Credentials>,
) -> Result<Response, ApiError> {
    let c = body.0;
    let store = engine.store();
    let source = ip.map_or_else(|| "unknown".to_string(), |axum::Extension(ip)| ip.0.to_string());
    let now = jiff::Timestamp::now().as_second();
    if let Some(wait) = store.sign_in_locked_for(&c.login, &source, now, MAX_FAILURES, FAILURE_WINDOW).await? {
        let minutes = (wait as u64).div_ceil(60).max(1);
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_attempts",
            format!("too many failed sign-ins for this login from your address; try again in {minutes} min"),
        )
        .retry_after(wait.max(1) as u64));
    }
    let account = store.account_by_login(&c.login).await?;
    let hash = account.as_ref().map_or(DUMMY_HASH.to_string(), |a| a.password_hash.clone());
    let ok = verify_password(c.password, hash).await?;
    match account {
        Some(a) if ok => {
            store.clear_sign_in_failures(&c.login, &source).await?;
            let me = me_json(&engine, a.member_id).await?;
            signed_in(&engine, &headers, a.member_id, StatusCode::OK, json!({ "member": me })).await
        }
        _ => {
            store.record_sign_in_failure(&c.login, &source, now, FAILURE_WINDOW).await?;
            Err(unauthorized("wrong login or password"))
        }
    }
}

/// `DELETE /api/v1/session`
pub async fn sign_out(State(engine): State<Engine>, headers: HeaderMap) -> Result<Response, ApiError> {
    if let Some(id) = session_cookie(&headers) {
        engine.store().delete_session(id).await?;
    }
    let mut resp = StatusCode::NO_CONTENT.into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("qunban_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"),
    );
    Ok(resp)
}

/// The `Me` object of the API.
pub async fn me_json(engine: &Engine, member_id: i64) -> Result<serde_json::Value, ApiError> {
    let store = engine.store();
    let member = store.member(member_id).await?;
    let account = store.account_of_member(member_id).await?;
    let time_zone = engine.workspace().await?.timezone;
    Ok(json!({
        "id": member.id,
        "name": member.display_name,
        "login": account.as_ref().map(|a| a.login.clone()),
        "is_admin": account.is_some_and(|a| a.is_admin),
        "roles": store.member_roles(member_id).await?,
        "time_zone": time_zone,
    }))
}

/// `GET /api/v1/me`
pub async fn me(State(engine): State<Engine>, caller: Caller) -> Result<Json<serde_json::Value>, ApiError> {
    match &caller.member {
        Some(m) => Ok(Json(me_json(&engine, m.id).await?)),
        None => {
            let time_zone = engine.workspace().await?.timezone;
            Ok(Json(json!({ "id": null, "name": "admin token", "login": null, "is_admin": true, "roles": [], "time_zone": time_zone })))
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct FirstAccount {
    login: String,
    password: String,
    name: String,
}

/// `GET /api/v1/setup`
pub async fn setup_state(State(engine): State<Engine>) -> Result<Json<serde_json::Value>, ApiError> {
    let store = engine.store();
    let has_accounts = store.account_count().await? > 0;
    let empty = store.is_empty().await?;
    Ok(Json(json!({ "has_accounts": has_accounts, "has_projects": !store.projects().await?.is_empty(), "demo_available": empty })))
}

/// `POST /api/v1/setup`: the first account, an admin. Only while there is none.
pub async fn setup(State(engine): State<Engine>, headers: HeaderMap, body: crate::web::JsonBody<FirstAccount>) -> Result<Response, ApiError> {
    let a = body.0;
    if engine.store().account_count().await? > 0 {
        return Err(ApiError::new(StatusCode::CONFLICT, "conflict", "the workspace already has accounts; sign in"));
    }
    let hash = hash_password(a.password).await?;
    let account = engine.store().create_first_account(&a.name, &a.login, &hash).await?;
    let me = me_json(&engine, account.member_id).await?;
    signed_in(&engine, &headers, account.member_id, StatusCode::CREATED, json!({ "member": me })).await
}

#[derive(Debug, Deserialize)]
pub struct NewToken {
    name: String,
}

fn own_member(caller: &Caller) -> Result<i64, ApiError> {
    caller
        .member
        .as_ref()
        .map(|m| m.id)
        .ok_or_else(|| Caller::forbidden("the admin token belongs to no member; sign in as a member to manage tokens"))
}

/// `GET /api/v1/tokens`
pub async fn list_tokens(State(engine): State<Engine>, caller: Caller) -> Result<Json<serde_json::Value>, ApiError> {
    let id = own_member(&caller)?;
    Ok(Json(json!({ "tokens": engine.store().member_tokens(id).await? })))
}

/// `POST /api/v1/tokens`: the secret is in this answer only.
pub async fn create_token(State(engine): State<Engine>, caller: Caller, body: crate::web::JsonBody<NewToken>) -> Result<Response, ApiError> {
    let id = own_member(&caller)?;
    let (info, secret) = engine.store().create_member_token(id, &body.0.name).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": info.id, "name": info.name, "created_at": info.created_at, "token": secret })))
        .into_response())
}

/// `DELETE /api/v1/tokens/{id}`
pub async fn delete_token(
    State(engine): State<Engine>,
    caller: Caller,
    axum::extract::Path(token_id): axum::extract::Path<i64>,
) -> Result<StatusCode, ApiError> {
    let id = own_member(&caller)?;
    if engine.store().delete_member_token(id, token_id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such token of yours"))
    }
}

impl axum::extract::OptionalFromRequestParts<Engine> for Caller {
    type Rejection = ApiError;

    /// No credentials (or stale ones) is no caller; a database error is still an error.
    async fn from_request_parts(parts: &mut Parts, engine: &Engine) -> Result<Option<Caller>, ApiError> {
        match <Caller as FromRequestParts<Engine>>::from_request_parts(parts, engine).await {
            Ok(c) => Ok(Some(c)),
            Err(e) if e.status == StatusCode::UNAUTHORIZED => Ok(None),
            Err(e) => Err(e),
        }
    }
}
