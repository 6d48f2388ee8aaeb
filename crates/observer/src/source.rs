//! Where the observer reads what the center published: the center itself
//! over HTTP, or an evidence bundle on disk (offline). Every byte read from
//! a center can be recorded into a bundle at a fixed file for its path, so
//! that `acta evidence verify` re-reads exactly the bytes the verdict was
//! reached on.
//!
//! Bundle layout: `package.note` (the package as served), `log/checkpoint`
//! and `log/tile/…` (C2SP tlog-tiles, servable as is), `api/….json` (the
//! center's statements, each at the path it was fetched from).

use std::path::{Path, PathBuf};

use crate::Error;

/// A place to read the center's publications from.
#[derive(Clone, Debug)]
pub enum Source {
    /// A center (or a static mirror of its log, or a proxy) over HTTP.
    Center(acta_api::Client),
    /// An evidence bundle directory, read with no network.
    Bundle(PathBuf),
}

/// The bundle file that holds what was fetched from `path`.
pub fn file_of(path: &str) -> PathBuf {
    let p = path.trim_start_matches('/');
    if p == "api/election" {
        return PathBuf::from("package.note");
    }
    if p.starts_with("log/") {
        return PathBuf::from(p);
    }
    let (p, q) = p.split_once('?').unwrap_or((p, ""));
    let mut name = p.to_string();
    for part in q.split('&').filter(|s| !s.is_empty()) {
        name.push('.');
        name.push_str(&part.replace('=', "-"));
    }
    PathBuf::from(format!("{name}.json"))
}

impl Source {
    /// Where this source is, for messages.
    pub fn name(&self) -> String {
        match self {
            Source::Center(c) => c.base().to_string(),
            Source::Bundle(d) => d.display().to_string(),
        }
    }

    /// The most bytes an answer at `path` is read to: a checkpoint or a
    /// page of statuses is small; the package and the per-table results
    /// grow with the election, up to what a 500,000-table one needs.
    fn most(&self, path: &str) -> usize {
        match path {
            "/log/checkpoint" => 1 << 16,
            p if p.starts_with(acta_api::ENTRIES) => 1 << 20,
            _ => 1 << 30,
        }
    }

    /// Reads `path` (a center path such as `/log/checkpoint`), bounded for
    /// tiles as [`acta_api::Client::tile`] bounds them, and every other
    /// answer by [`Source::most`].
    pub async fn get(&self, path: &str, record: Option<&Path>) -> Result<Vec<u8>, Error> {
        let bytes = match self {
            Source::Center(c) => {
                let r = if let Some(t) = path
                    .strip_prefix("/log/")
                    .filter(|p| p.starts_with("tile/"))
                    .and_then(|p| acta_tlog::Tile::parse_path(p).ok())
                {
                    c.tile(&t).await
                } else {
                    c.bytes_at_most(path, self.most(path)).await
                };
                let url = format!("{}{path}", c.base());
                r.map_err(|e| match e {
                    acta_api::ClientError::Refused { status: 404, .. } => {
                        Error::NotPublished { url }
                    }
                    e => Error::Http {
                        url,
                        what: e.to_string(),
                    },
                })?
            }
            Source::Bundle(dir) => {
                let f = dir.join(file_of(path));
                std::fs::read(&f).map_err(|e| match e.kind() {
                    std::io::ErrorKind::NotFound => Error::NotPublished {
                        url: f.display().to_string(),
                    },
                    _ => Error::Bundle {
                        file: f.display().to_string(),
                        what: e.to_string(),
                    },
                })?
            }
        };
        if let Some(dir) = record {
            let f = dir.join(file_of(path));
            if let Some(parent) = f.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(f, &bytes)?;
        }
        Ok(bytes)
    }

    /// Reads `path`, or `None` where it is not published (HTTP 404, or a
    /// bundle without that file): a static mirror of the log serves the
    /// tiles and the checkpoint but none of the center's statements.
    pub async fn get_opt(
        &self,
        path: &str,
        record: Option<&Path>,
    ) -> Result<Option<Vec<u8>>, Error> {
        match self.get(path, record).await {
            Ok(b) => Ok(Some(b)),
            Err(Error::NotPublished { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Reads `path` as JSON, or `None` where it is not published.
    pub async fn json_opt<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        record: Option<&Path>,
    ) -> Result<Option<T>, Error> {
        match self.get_opt(path, record).await? {
            None => Ok(None),
            Some(b) => serde_json::from_slice(&b)
                .map(Some)
                .map_err(|e| Error::Http {
                    url: format!("{}{path}", self.name()),
                    what: format!("unexpected JSON: {e}"),
                }),
        }
    }

    /// Reads `path` as UTF-8 text.
    pub async fn text(&self, path: &str, record: Option<&Path>) -> Result<String, Error> {
        let b = self.get(path, record).await?;
        String::from_utf8(b).map_err(|_| Error::Http {
            url: format!("{}{path}", self.name()),
            what: "not UTF-8".into(),
        })
    }

    /// Reads `path` as JSON.
    pub async fn json<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        record: Option<&Path>,
    ) -> Result<T, Error> {
        let b = self.get(path, record).await?;
        serde_json::from_slice(&b).map_err(|e| Error::Http {
            url: format!("{}{path}", self.name()),
            what: format!("unexpected JSON: {e}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::file_of;
    use std::path::PathBuf;

    #[test]
    fn paths_map_to_distinct_files() {
        assert_eq!(file_of("/api/election"), PathBuf::from("package.note"));
        assert_eq!(
            file_of("/log/tile/0/000.p/5"),
            PathBuf::from("log/tile/0/000.p/5")
        );
        assert_eq!(file_of("/api/results"), PathBuf::from("api/results.json"));
        assert_eq!(
            file_of("/api/results/areas"),
            PathBuf::from("api/results/areas.json")
        );
        assert_eq!(
            file_of("/api/log/entries?start=0&end=1000&notes=false"),
            PathBuf::from("api/log/entries.start-0.end-1000.notes-false.json")
        );
    }
}
