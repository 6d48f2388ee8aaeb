//! The one typed client of the center.

use std::time::Duration;

use acta_tlog::Tile;

use crate::{ErrorBody, LoggedEntry, Submitted, Totals};

/// Why a request failed.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The connection failed or was cut: the submission may or may not
    /// have been logged; resending the same bytes is always safe.
    #[error("{url}: {source}")]
    Network {
        /// The URL.
        url: String,
        /// The transport error.
        #[source]
        source: reqwest::Error,
    },
    /// The center's pool is full: try again after the delay.
    #[error("{url}: the center is busy; retry after {retry_after:?}")]
    Busy {
        /// The URL.
        url: String,
        /// How long the center asked to wait.
        retry_after: Duration,
    },
    /// The center answered with an error status.
    #[error("{url}: HTTP {status}: {message}")]
    Refused {
        /// The URL.
        url: String,
        /// The status code.
        status: u16,
        /// The center's explanation.
        message: String,
    },
    /// The answer is not what the interface defines.
    #[error("{url}: unexpected answer: {what}")]
    Unexpected {
        /// The URL.
        url: String,
        /// What was wrong.
        what: String,
    },
}

/// A client of one center (cheap to clone).
#[derive(Debug, Clone)]
pub struct Client {
    base: String,
    http: reqwest::Client,
}

impl Client {
    /// A client of the center at `base` (e.g. `http://127.0.0.1:8080`).
    pub fn new(base: &str) -> Client {
        Client {
            base: base.trim_end_matches('/').to_string(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .expect("TLS-free client builds"),
        }
    }

    /// The base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn get(&self, path: &str) -> Result<reqwest::Response, ClientError> {
        let url = self.url(path);
        let r = self
            .http
            .get(&url)
            .send()
            .await
            .map_err(|source| ClientError::Network {
                url: url.clone(),
                source,
            })?;
        if !r.status().is_success() {
            let status = r.status().as_u16();
            let message = r.text().await.unwrap_or_default();
            return Err(ClientError::Refused {
                url,
                status,
                message,
            });
        }
        Ok(r)
    }

    /// GET a text resource.
    pub async fn text(&self, path: &str) -> Result<String, ClientError> {
        let url = self.url(path);
        self.get(path)
            .await?
            .text()
            .await
            .map_err(|source| ClientError::Network { url, source })
    }

    /// GET a JSON resource.
    pub async fn json<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        let text = self.text(path).await?;
        serde_json::from_str(&text).map_err(|e| ClientError::Unexpected {
            url: self.url(path),
            what: e.to_string(),
        })
    }

    /// Submits a signed note (`crate::ACTAS` or `crate::ZERO_REPORTS`) once.
    pub async fn submit(&self, path: &str, note: &[u8]) -> Result<Submitted, ClientError> {
        let url = self.url(path);
        let r = self
            .http
            .post(&url)
            .body(note.to_vec())
            .send()
            .await
            .map_err(|source| ClientError::Network {
                url: url.clone(),
                source,
            })?;
        let status = r.status().as_u16();
        let retry_after = r
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let body = r.text().await.map_err(|source| ClientError::Network {
            url: url.clone(),
            source,
        })?;
        match status {
            200 | 201 | 409 => {
                let s: Submitted =
                    serde_json::from_str(&body).map_err(|e| ClientError::Unexpected {
                        url: url.clone(),
                        what: e.to_string(),
                    })?;
                if s.outcome.http_status() != status {
                    return Err(ClientError::Unexpected {
                        url,
                        what: format!("status {status} with outcome {:?}", s.outcome),
                    });
                }
                Ok(s)
            }
            // 503: the pool or the request limit is full; 429: this
            // address sent too much; 408: the request outlived its time
            // limit. In each case: wait and resend (a resend is logged once).
            408 | 429 | 503 => Err(ClientError::Busy {
                url,
                retry_after: Duration::from_secs(retry_after.unwrap_or(1)),
            }),
            _ => Err(ClientError::Refused {
                url,
                status,
                message: serde_json::from_str::<ErrorBody>(&body)
                    .map(|e| e.error)
                    .unwrap_or(body),
            }),
        }
    }

    /// Submits until the center answers: network failures and a full pool
    /// are retried (the same bytes are the same submission, so a retry can
    /// never log twice); a refusal is returned at once.
    pub async fn submit_until_answered(
        &self,
        path: &str,
        note: &[u8],
        attempts: u32,
    ) -> Result<Submitted, ClientError> {
        let mut last = None;
        for attempt in 0..attempts.max(1) {
            match self.submit(path, note).await {
                Ok(s) => return Ok(s),
                Err(ClientError::Busy { retry_after, .. }) => {
                    let backoff = Duration::from_millis(50 << attempt.min(5));
                    tokio::time::sleep(retry_after.clamp(backoff, Duration::from_secs(2))).await;
                    last = None;
                }
                Err(e @ ClientError::Network { .. }) => {
                    tokio::time::sleep(Duration::from_millis(50 << attempt.min(6))).await;
                    last = Some(e);
                }
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| ClientError::Unexpected {
            url: self.url(path),
            what: format!("no answer after {attempts} attempts"),
        }))
    }

    /// The latest public checkpoint note.
    pub async fn checkpoint(&self) -> Result<String, ClientError> {
        self.text(&format!("{}/checkpoint", crate::LOG)).await
    }

    /// A tile or entry bundle, read no further than the most such a tile
    /// can hold (32 bytes a hash; 2 + 65,535 bytes an entry).
    pub async fn tile(&self, tile: &Tile) -> Result<Vec<u8>, ClientError> {
        let path = format!("{}/{}", crate::LOG, tile.path());
        let most = usize::from(tile.width)
            * match tile.level {
                acta_tlog::TileLevel::Entries => 2 + acta_tlog::tile::MAX_ENTRY_BYTES,
                acta_tlog::TileLevel::Hashes(_) => 32,
            };
        self.bytes_at_most(&path, most).await
    }

    /// GET a resource, refusing to read more than `most` bytes of it: what
    /// a reader of a hostile server uses for every answer it must hold.
    pub async fn bytes_at_most(&self, path: &str, most: usize) -> Result<Vec<u8>, ClientError> {
        let url = self.url(path);
        let mut r = self.get(path).await?;
        let mut out = Vec::new();
        while let Some(chunk) = r.chunk().await.map_err(|source| ClientError::Network {
            url: url.clone(),
            source,
        })? {
            if out.len() + chunk.len() > most {
                return Err(ClientError::Unexpected {
                    url,
                    what: format!("longer than the {most} bytes it can be"),
                });
            }
            out.extend_from_slice(&chunk);
        }
        Ok(out)
    }

    /// One page of entry statuses, `start..end` (at most [`crate::MAX_PAGE`]).
    pub async fn entries(&self, start: u64, end: u64) -> Result<Vec<LoggedEntry>, ClientError> {
        self.json(&format!("{}?start={start}&end={end}", crate::ENTRIES))
            .await
    }

    /// One page of entry statuses without their notes: what the center says
    /// became of each entry, for a client that has the notes from the tiles.
    pub async fn statuses(&self, start: u64, end: u64) -> Result<Vec<LoggedEntry>, ClientError> {
        self.json(&format!(
            "{}?start={start}&end={end}&notes=false",
            crate::ENTRIES
        ))
        .await
    }

    /// National totals.
    pub async fn results(&self) -> Result<Totals, ClientError> {
        self.json(crate::RESULTS).await
    }
}
