//! Scratch databases for tests and benchmarks: a SQLite file in a
//! directory, or a fresh PostgreSQL database (created here, named after the
//! tag and the process) on the server in `ACTA_TEST_POSTGRES`, by default
//! `postgres://postgres@127.0.0.1:5432`.

use sqlx::Connection as _;

/// The PostgreSQL server the suite uses.
pub fn postgres_server() -> String {
    std::env::var("ACTA_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

/// A URL for an empty database of `backend` (`sqlite` or `postgres`).
///
/// # Panics
/// When PostgreSQL is asked for and not running: the PostgreSQL half of the
/// suite needs it.
pub async fn database(backend: &str, dir: &std::path::Path, tag: &str) -> String {
    match backend {
        "sqlite" => format!("sqlite://{}", dir.join(format!("{tag}.db")).display()),
        "postgres" => {
            let base = postgres_server();
            let mut conn = sqlx::PgConnection::connect(&format!("{base}/postgres"))
                .await
                .expect("PostgreSQL must be running for the PostgreSQL half of the suite");
            let name = format!("acta_{tag}_{}", std::process::id()).replace('-', "_");
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut conn)
                .await
                .expect("drop scratch database");
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .await
                .expect("create scratch database");
            format!("{base}/{name}")
        }
        other => panic!("unknown backend {other}"),
    }
}
