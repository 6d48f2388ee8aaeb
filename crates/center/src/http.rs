//! The center's HTTP API (JSON for machines, signed notes as `text/plain`).
//!
//! | method | path | answer |
//! |---|---|---|
//! | POST | `/api/actas` | 201 logged (`accepted`: counted, or `held`), 200 duplicate, 409 conflict (kept as evidence), 422 refused, 413 too large |
//! | GET | `/api/election` | the signed election package |
//! | GET | `/api/log/checkpoint` | a signed C2SP checkpoint of the current log |
//! | GET | `/api/log/entries?start=&end=` | log entries (at most 1000) |
//! | GET | `/api/log/proof/inclusion?index=&size=` | RFC 9162 inclusion proof |
//! | GET | `/api/log/proof/consistency?old=&new=` | RFC 9162 consistency proof |
//! | GET | `/api/results` and `/api/results/area/{code}` | totals by contest for the country or an area |
//! | GET | `/api/results/tables` | the per-table figures the totals are made of |
//! | GET | `/api/tables/{id}` | a table's actas and status |
//! | GET | `/api/conflicts` | every conflicting acta kept as evidence |
//! | GET | `/api/held` | every held acta, with the reason it is not counted |
//! | GET | `/api/announcement` | a signed announcement of the totals at the current checkpoint |

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::{Center, Error, Ingest, MAX_ACTA_BYTES};

/// The center's routes.
pub fn router(center: Center) -> Router {
    Router::new()
        .route(
            "/api/actas",
            post(submit).layer(DefaultBodyLimit::max(MAX_ACTA_BYTES)),
        )
        .route("/api/election", get(election))
        .route("/api/log/checkpoint", get(checkpoint))
        .route("/api/log/entries", get(entries))
        .route("/api/log/proof/inclusion", get(inclusion))
        .route("/api/log/proof/consistency", get(consistency))
        .route("/api/results", get(results))
        .route("/api/results/area/{code}", get(area_results))
        .route("/api/results/tables", get(table_results))
        .route("/api/tables/{id}", get(table))
        .route("/api/conflicts", get(conflicts))
        .route("/api/held", get(held))
        .route("/api/announcement", get(announcement))
        .with_state(center)
}

struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(serde_json::json!({ "error": self.1 }))).into_response()
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        let status = match &e {
            Error::Rejected(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Error::Log(_) => StatusCode::BAD_REQUEST,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError(status, e.to_string())
    }
}

fn note(text: String) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response()
}

async fn submit(State(c): State<Center>, body: Bytes) -> Result<Response, ApiError> {
    let outcome = c.ingest(&body).await?;
    let status = match outcome {
        Ingest::Accepted { .. } | Ingest::Held { .. } => StatusCode::CREATED,
        Ingest::Duplicate { .. } => StatusCode::OK,
        Ingest::Conflict { .. } => StatusCode::CONFLICT,
    };
    Ok((status, Json(outcome)).into_response())
}

async fn election(State(c): State<Center>) -> Response {
    note(String::from_utf8_lossy(&c.0.package).into_owned())
}

async fn checkpoint(State(c): State<Center>) -> Response {
    note(c.checkpoint().await)
}

#[derive(Deserialize)]
struct Range {
    start: u64,
    end: u64,
}

/// One log entry on the wire: the acta exactly as logged, what became of
/// it, and why if it is held.
#[derive(Serialize, Deserialize)]
struct Entry {
    index: u64,
    table: String,
    status: crate::Status,
    #[serde(skip_serializing_if = "String::is_empty", default)]
    reason: String,
    acta: String,
}

impl From<crate::store::EntryRow> for Entry {
    fn from(r: crate::store::EntryRow) -> Self {
        Entry {
            index: r.index,
            table: r.table,
            status: r.status,
            reason: r.reason,
            acta: r.acta,
        }
    }
}

async fn entries(
    State(c): State<Center>,
    Query(r): Query<Range>,
) -> Result<Json<Vec<Entry>>, ApiError> {
    let end = r.end.min(r.start.saturating_add(1000));
    let rows = c.0.store.entries(r.start, end).await?;
    Ok(Json(rows.into_iter().map(Entry::from).collect()))
}

#[derive(Deserialize)]
struct InclusionQuery {
    index: u64,
    size: u64,
}

#[derive(Serialize)]
struct Proof {
    hashes: Vec<String>,
}

fn proof(hashes: Vec<[u8; 32]>) -> Json<Proof> {
    Json(Proof {
        hashes: hashes.iter().map(|h| B64.encode(h)).collect(),
    })
}

async fn inclusion(
    State(c): State<Center>,
    Query(q): Query<InclusionQuery>,
) -> Result<Json<Proof>, ApiError> {
    let p = c
        .with_log(|t| t.inclusion_proof(q.index, q.size))
        .await
        .map_err(Error::from)?;
    Ok(proof(p))
}

#[derive(Deserialize)]
struct ConsistencyQuery {
    old: u64,
    new: u64,
}

async fn consistency(
    State(c): State<Center>,
    Query(q): Query<ConsistencyQuery>,
) -> Result<Json<Proof>, ApiError> {
    let p = c
        .with_log(|t| t.consistency_proof(q.old, q.new))
        .await
        .map_err(Error::from)?;
    Ok(proof(p))
}

async fn results(State(c): State<Center>) -> Result<Json<crate::Totals>, ApiError> {
    Ok(Json(c.totals("").await?))
}

async fn area_results(
    State(c): State<Center>,
    Path(code): Path<String>,
) -> Result<Json<crate::Totals>, ApiError> {
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
    Ok(Json(c.totals(&code).await?))
}

async fn table_results(
    State(c): State<Center>,
) -> Result<Json<Vec<crate::store::TableResult>>, ApiError> {
    Ok(Json(c.0.store.table_results().await?))
}

async fn table(
    State(c): State<Center>,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Some(t) = c.election().table(&id) else {
        return Err(ApiError(StatusCode::NOT_FOUND, format!("no table {id}")));
    };
    let rows = c.0.store.table_entries(&id).await?;
    let status = match (rows.first().map(|r| r.status), rows.len()) {
        (None, _) => "not reported",
        (Some(_), n) if n > 1 => "conflict",
        (Some(crate::Status::Held), _) => "held",
        _ => "reported",
    };
    let actas: Vec<_> = rows
        .into_iter()
        .map(|r| {
            let code = acta_sheet::security_code(r.acta.as_bytes());
            let mut v = serde_json::to_value(Entry::from(r)).expect("serializes");
            v["security_code"] = code.into();
            v
        })
        .collect();
    Ok(Json(
        serde_json::json!({ "table": t.id, "machine": t.machine, "registered": t.registered, "status": status, "actas": actas }),
    ))
}

async fn listed(c: &Center, status: crate::Status) -> Result<Json<Vec<Entry>>, ApiError> {
    let rows = c.0.store.entries_with(status).await?;
    Ok(Json(rows.into_iter().map(Entry::from).collect()))
}

async fn conflicts(State(c): State<Center>) -> Result<Json<Vec<Entry>>, ApiError> {
    listed(&c, crate::Status::Conflict).await
}

async fn held(State(c): State<Center>) -> Result<Json<Vec<Entry>>, ApiError> {
    listed(&c, crate::Status::Held).await
}

async fn announcement(State(c): State<Center>) -> Result<Response, ApiError> {
    Ok(note(c.announce().await?))
}
