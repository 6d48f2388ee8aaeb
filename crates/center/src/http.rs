//! The center's HTTP interface; routes and wire types are those of
//! [`acta_api`], and the tiled log is served exactly as C2SP tlog-tiles
//! says, under `/log/`.
//!
//! Every unauthenticated request is bounded: bodies by
//! [`crate::MAX_NOTE_BYTES`], time by [`Limits::request_timeout`], requests
//! in flight by [`Limits::concurrency`] (beyond it: 503 at once), pages by
//! [`acta_api::MAX_PAGE`]; results are computed once per log size.

use std::time::Duration;

use acta_api::{ErrorBody, Status};
use acta_sheet::EntryKind;
use acta_tlog::Tile;
use axum::body::Bytes;
use axum::error_handling::HandleErrorLayer;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{BoxError, Json, Router};
use serde::Deserialize;
use tower::ServiceBuilder;

use crate::{Center, Error};

/// Bounds on what any client can make the center do.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Longest time a request may take, body included.
    pub request_timeout: Duration,
    /// Requests handled at once; beyond it the center answers 503 at once.
    pub concurrency: usize,
    /// Connections open at once ([`crate::serve`]).
    pub connections: usize,
    /// Connections open at once from one address ([`crate::serve`]).
    pub per_address_connections: usize,
    /// A connection that sends nothing this long is closed ([`crate::serve`]).
    pub idle: Duration,
    /// Time a client has to send a request's headers ([`crate::serve`]).
    pub header_timeout: Duration,
    /// Requests one address may make at once ([`crate::serve`]).
    pub per_address_burst: u32,
    /// Requests one address may make per second after its burst ([`crate::serve`]).
    pub per_address_per_second: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            request_timeout: Duration::from_secs(30),
            concurrency: 1024,
            connections: 4096,
            per_address_connections: 512,
            idle: Duration::from_secs(30),
            header_timeout: Duration::from_secs(10),
            per_address_burst: 2000,
            per_address_per_second: 1000,
        }
    }
}

/// The center's routes, with the default [`Limits`].
pub fn router(center: Center) -> Router {
    router_with(center, Limits::default())
}

/// The center's routes with explicit limits.
pub fn router_with(center: Center, limits: Limits) -> Router {
    Router::new()
        .route(acta_api::ACTAS, post(submit_acta))
        .route(acta_api::ZERO_REPORTS, post(submit_zero))
        .route(acta_api::ELECTION, get(election))
        .route(acta_api::ENTRIES, get(entries))
        .route(acta_api::ANNOUNCEMENTS, get(announcements))
        .route(acta_api::RESULTS, get(results))
        .route("/api/results/area/{code}", get(area_results))
        .route(acta_api::RESULTS_TABLES, get(table_results))
        .route(acta_api::RESULTS_AREAS, get(area_totals))
        .route("/api/tables/{id}", get(table))
        .route(acta_api::CONFLICTS, get(conflicts))
        .route(acta_api::HELD, get(held))
        .route("/log/checkpoint", get(checkpoint))
        .route("/log/tile/{*path}", get(tile))
        .layer(DefaultBodyLimit::max(crate::MAX_NOTE_BYTES))
        .layer(
            ServiceBuilder::new()
                .layer(HandleErrorLayer::new(overloaded))
                .load_shed()
                .concurrency_limit(limits.concurrency.max(1))
                .timeout(limits.request_timeout),
        )
        .with_state(center)
}

async fn overloaded(e: BoxError) -> Response {
    if e.is::<tower::timeout::error::Elapsed>() {
        ApiError(StatusCode::REQUEST_TIMEOUT, "request took too long".into()).into_response()
    } else {
        let mut r =
            ApiError(StatusCode::SERVICE_UNAVAILABLE, "the center is busy".into()).into_response();
        r.headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
        r
    }
}

struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (self.0, Json(ErrorBody { error: self.1 })).into_response();
        if self.0 == StatusCode::SERVICE_UNAVAILABLE {
            r.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
        }
        r
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        let status = match &e {
            Error::Rejected(_) | Error::WrongKind(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Error::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Error::Log(_) => StatusCode::BAD_REQUEST,
            Error::Busy(_) | Error::Stopped | Error::NotYetWitnessed(_) | Error::Unavailable(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            // A database that went away (restarted, connections cut) makes
            // the center unavailable, not wrong: sending again is safe.
            Error::Database(d) if database_gone(d) => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError(status, e.to_string())
    }
}

/// Whether a database error is the database being out of reach —
/// connections cut or refused, the pool closed or exhausted, the server
/// shutting down (SQLSTATE classes 08 and 57P) — rather than a fault of the
/// request or of the center.
fn database_gone(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(d) => d
            .code()
            .is_some_and(|c| c.starts_with("08") || c.starts_with("57P")),
        _ => false,
    }
}

fn text(body: String) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response()
}

async fn submit(c: Center, body: Bytes, kind: EntryKind) -> Result<Response, ApiError> {
    match c.submit(&body, kind).await {
        Ok(s) => {
            let status = StatusCode::from_u16(s.outcome.http_status()).expect("valid status");
            Ok((status, Json(s)).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

async fn submit_acta(State(c): State<Center>, body: Bytes) -> Result<Response, ApiError> {
    submit(c, body, EntryKind::Acta).await
}

async fn submit_zero(State(c): State<Center>, body: Bytes) -> Result<Response, ApiError> {
    submit(c, body, EntryKind::Zero).await
}

async fn election(State(c): State<Center>) -> Response {
    text(String::from_utf8_lossy(&c.0.package).into_owned())
}

/// tlog-tiles §"Checkpoints": mutable, so cached for a second at most.
async fn checkpoint(State(c): State<Center>) -> Result<Response, ApiError> {
    let note = c.checkpoint().await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=1"),
        ],
        note,
    )
        .into_response())
}

/// tlog-tiles §"Merkle Tree" and §"Log entries": immutable resources.
async fn tile(State(c): State<Center>, Path(path): Path<String>) -> Result<Response, ApiError> {
    let t = Tile::parse_path(&format!("tile/{path}"))
        .map_err(|e| ApiError(StatusCode::NOT_FOUND, e.to_string()))?;
    match c.tile(&t).await? {
        Some(bytes) => Ok((
            [
                (header::CONTENT_TYPE, "application/octet-stream"),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            ],
            bytes,
        )
            .into_response()),
        None => Err(ApiError(
            StatusCode::NOT_FOUND,
            format!("the log has no {}", t.path()),
        )),
    }
}

#[derive(Deserialize)]
struct Range {
    start: u64,
    end: u64,
    /// `notes=false`: statuses only, without the notes (the tiles have them).
    #[serde(default)]
    notes: Option<bool>,
}

async fn entries(State(c): State<Center>, Query(r): Query<Range>) -> Result<Response, ApiError> {
    let mut page = c.entries(r.start, r.end).await?;
    if r.notes == Some(false) {
        for e in &mut page {
            e.note = String::new();
        }
    }
    Ok(Json(page).into_response())
}

async fn announcements(State(c): State<Center>) -> Result<Response, ApiError> {
    Ok(Json(c.entries_with(EntryKind::Announcement, None).await?).into_response())
}

async fn area_totals(State(c): State<Center>) -> Result<Response, ApiError> {
    Ok(Json(c.area_totals().await?.as_ref().clone()).into_response())
}

async fn results(State(c): State<Center>) -> Result<Response, ApiError> {
    Ok(Json(c.totals("").await?.as_ref().clone()).into_response())
}

async fn area_results(
    State(c): State<Center>,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    match acta_election::Level::of(&code) {
        Some(acta_election::Level::Table) | None => {
            return Err(ApiError(
                StatusCode::BAD_REQUEST,
                format!("{code:?} is not an area code"),
            ))
        }
        _ => {}
    }
    if c.election().area_name(&code).is_none() {
        return Err(ApiError(StatusCode::NOT_FOUND, format!("no area {code}")));
    }
    Ok(Json(c.totals(&code).await?.as_ref().clone()).into_response())
}

async fn table_results(State(c): State<Center>) -> Result<Response, ApiError> {
    Ok(Json(c.table_results().await?.as_ref()).into_response())
}

async fn table(State(c): State<Center>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let Some(t) = c.election().table(&id) else {
        return Err(ApiError(StatusCode::NOT_FOUND, format!("no table {id}")));
    };
    let rows = c.table_entries(&id).await?;
    let actas: Vec<_> = rows.iter().filter(|r| r.kind == "acta").collect();
    let status = match (actas.first().map(|r| r.status), actas.len()) {
        (None, _) => "not reported",
        (Some(_), n) if n > 1 => "conflict",
        (Some(Status::Held), _) => "held",
        _ => "reported",
    };
    let entries: Vec<_> = rows
        .iter()
        .map(|r| {
            let mut v = serde_json::to_value(r).expect("serializes");
            v["security_code"] = acta_sheet::security_code(r.note.as_bytes()).into();
            v
        })
        .collect();
    Ok(Json(serde_json::json!({
        "table": t.id, "machine": t.machine, "registered": t.registered,
        "status": status, "entries": entries,
    }))
    .into_response())
}

async fn conflicts(State(c): State<Center>) -> Result<Response, ApiError> {
    Ok(Json(
        c.entries_with(EntryKind::Acta, Some(Status::Conflict))
            .await?,
    )
    .into_response())
}

async fn held(State(c): State<Center>) -> Result<Response, ApiError> {
    Ok(Json(c.entries_with(EntryKind::Acta, Some(Status::Held)).await?).into_response())
}
