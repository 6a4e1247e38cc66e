//! HTTP for reports: subscribable ICS calendar feeds and JSON reports.
//!
//! - `GET /api/v1/calendar/project/{name}.ics?token=…` and
//!   `GET /api/v1/calendar/member/{name}.ics?token=…`: deadlines as an
//!   iCalendar feed. Calendar apps cannot send headers, so a token travels in
//!   the query string: only a member's read-only calendar token
//!   (`qbcal_…`) is accepted there, with that member's read rights. A
//!   full-privilege API token in a URL is refused (403), since URLs end up in
//!   proxy logs and histories; the request trace never records queries
//!   ([`crate::trace`]).
//! - `GET|POST|DELETE /api/v1/calendar-token` (signed in): whether the
//!   caller has a calendar token, create or rotate it (shown once, with the
//!   feed URL), revoke it.
//! - `GET /api/v1/reports/{daily|weekly|metrics}?project=…&date=YYYY-MM-DD`
//!   (bearer token): the report as JSON.

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use qunban_report::export::IcsOptions;
use qunban_report::Ctx;
use qunban_store::StandupDays;
use serde::Deserialize;

use crate::http::ApiError;
use crate::web::auth::Caller;
use crate::pipeline::Engine;

pub fn routes() -> Router<Engine> {
    Router::new()
        .route("/api/v1/calendar/{kind}/{file}", get(calendar))
        .route("/api/v1/calendar-token", get(calendar_token_state).post(rotate_calendar_token).delete(revoke_calendar_token))
        .route("/api/v1/reports/{kind}", get(report))
}

#[derive(Debug, Deserialize)]
struct TokenQuery {
    token: Option<String>,
    #[serde(default)]
    all: bool,
}

async fn calendar(State(engine): State<Engine>, Path((kind, file)): Path<(String, String)>, Query(q): Query<TokenQuery>) -> Result<Response, ApiError> {
    let caller = calendar_caller(&engine, q.token.as_deref()).await?;
    let name = file.strip_suffix(".ics").unwrap_or(&file).to_string();
    let store = engine.store();
    let tz = engine.workspace().await?.tz();
    let ctx = Ctx::new(jiff::Timestamp::now().as_second(), tz);
    let (data, opts) = match kind.as_str() {
        "project" => {
            let p = store.project_by_name(&name).await?;
            caller.check_read(&engine, p.id).await?;
            let data = store.report_dataset(Some(p.id), &StandupDays::default()).await?;
            (data, IcsOptions { name: format!("{} 截止时间", p.name), include_closed: q.all, ..Default::default() })
        }
        "member" => {
            let m = store.member_by_name(&name).await?;
            // A member's calendar is theirs (and the admins').
            if !caller.is_admin && caller.member.as_ref().map(|c| c.id) != Some(m.id) {
                return Err(Caller::forbidden("a member's calendar feed needs their own token"));
            }
            let data = store.report_dataset(None, &StandupDays::default()).await?;
            (data, IcsOptions { name: format!("{} 的截止时间", m.display_name), member: Some(m.id), include_closed: q.all, ..Default::default() })
        }
        _ => return Err(ApiError::new(StatusCode::NOT_FOUND, "not_found", "calendar kind must be project or member")),
    };
    let body = qunban_report::export::ics(&data, &ctx, &opts);
    Ok(([(header::CONTENT_TYPE, "text/calendar; charset=utf-8")], body).into_response())
}

/// The member behind a calendar token, with their read rights. API tokens
/// are refused here: this route is the only one that takes a token from the
/// URL, and a URL is no place for a credential that can change things.
async fn calendar_caller(engine: &Engine, token: Option<&str>) -> Result<Caller, ApiError> {
    let unauthorized = |m: &str| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", m);
    let token = token.map(str::trim).filter(|t| !t.is_empty()).ok_or_else(|| unauthorized("missing token: add ?token= with your calendar token"))?;
    let store = engine.store();
    let Some(member_id) = store.calendar_token_member(token).await? else {
        if store.check_token(token).await?.is_some() {
            tracing::warn!("an API token was sent in a calendar feed URL and refused; it should be revoked");
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "token_not_allowed_in_url",
                "API tokens are not accepted in URLs; create a read-only calendar token (POST /api/v1/calendar-token) and revoke this API token, which is now exposed",
            ));
        }
        return Err(unauthorized("unknown calendar token"));
    };
    let is_admin = store.account_of_member(member_id).await?.is_some_and(|a| a.is_admin);
    Ok(Caller { member: Some(store.member(member_id).await?), is_admin, roles: store.member_roles(member_id).await? })
}

fn own_member(caller: &Caller) -> Result<&qunban_store::Member, ApiError> {
    caller
        .member
        .as_ref()
        .ok_or_else(|| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", "the workspace admin token belongs to no member and has no calendar"))
}

/// `GET /api/v1/calendar-token`: whether the caller has one, and since when.
async fn calendar_token_state(State(engine): State<Engine>, caller: Caller) -> Result<Json<serde_json::Value>, ApiError> {
    let me = own_member(&caller)?;
    let created = engine.store().calendar_token_created_at(me.id).await?;
    Ok(Json(serde_json::json!({ "exists": created.is_some(), "created_at": created })))
}

/// `POST /api/v1/calendar-token`: creates or rotates the caller's calendar
/// token; the old one stops working. The token is shown once.
async fn rotate_calendar_token(State(engine): State<Engine>, caller: Caller) -> Result<Json<serde_json::Value>, ApiError> {
    let me = own_member(&caller)?;
    let token = engine.store().rotate_calendar_token(me.id).await?;
    let name = percent_encoding::utf8_percent_encode(&me.display_name, percent_encoding::NON_ALPHANUMERIC);
    Ok(Json(serde_json::json!({
        "token": token,
        "member_feed": format!("/api/v1/calendar/member/{name}.ics?token={token}"),
    })))
}

/// `DELETE /api/v1/calendar-token`.
async fn revoke_calendar_token(State(engine): State<Engine>, caller: Caller) -> Result<StatusCode, ApiError> {
    let me = own_member(&caller)?;
    engine.store().revoke_calendar_token(me.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
struct ReportQuery {
    project: String,
    date: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

async fn report(State(engine): State<Engine>, caller: Caller, Path(kind): Path<String>, Query(q): Query<ReportQuery>) -> Result<Json<serde_json::Value>, ApiError> {
    let bad = |what: &str, e: String| ApiError::new(StatusCode::BAD_REQUEST, "bad_request", format!("{what}: {e}"));
    let parse = |s: &Option<String>, what: &str| -> Result<Option<jiff::civil::Date>, ApiError> {
        s.as_deref()
            .map(|d| d.parse::<jiff::civil::Date>().map_err(|e| bad(what, e.to_string())).and_then(|d| crate::http::check_date(what, d)))
            .transpose()
    };
    let date = parse(&q.date, "date")?;
    let (from, to) = (parse(&q.from, "from")?, parse(&q.to, "to")?);
    let store = engine.store();
    let tz = engine.workspace().await?.tz();
    let ctx = Ctx::new(jiff::Timestamp::now().as_second(), tz);
    let day = date.unwrap_or_else(|| ctx.day_of(ctx.now));
    let p = store.project_by_name(&q.project).await?;
    caller.check_read(&engine, p.id).await?;
    let monday = qunban_report::week_monday(day);
    let days = if kind == "daily" {
        StandupDays { from: day.to_string(), to: day.to_string() }
    } else {
        StandupDays { from: monday.to_string(), to: qunban_report::add_days(monday, 6).to_string() }
    };
    // Each report loads only its window (Store::report_window*): results
    // are those of the full load, at a fraction of the cost on big projects.
    let v = match kind.as_str() {
        "daily" => {
            let data = store.report_window_daily(Some(p.id), &days, ctx.start_of(day), &ctx.tz).await?;
            serde_json::to_value(qunban_report::daily_report(&data, &ctx, day))
        }
        "weekly" => {
            let data = store.report_window(Some(p.id), &days, ctx.start_of(monday), &ctx.tz).await?;
            serde_json::to_value(qunban_report::weekly_report(&data, &ctx, day))
        }
        "metrics" => {
            let (a, b) = match (from, to) {
                (Some(f), Some(t)) => (ctx.start_of(f), ctx.start_of(qunban_report::add_days(t, 1))),
                _ => ctx.week_range(day),
            };
            let data = store.report_window_metrics(Some(p.id), &days, a, &ctx).await?;
            serde_json::to_value(qunban_report::compute_metrics(&data, &ctx, a, b))
        }
        _ => return Err(ApiError::new(StatusCode::NOT_FOUND, "not_found", "report must be daily, weekly or metrics")),
    };
    Ok(Json(v.map_err(ApiError::internal)?))
}
