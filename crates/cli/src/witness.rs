//! `acta witness …`: run a witness of a center's log (C2SP tlog-witness).

use axum::serve::ListenerExt as _;
use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::ceremony::read_key;

#[derive(clap::Subcommand)]
pub enum WitnessCmd {
    /// Print the witness's cosignature key, for the election definition.
    Key {
        /// The witness's private key (from `acta keygen --name <witness name>`).
        #[arg(long)]
        key: PathBuf,
    },
    /// Serve add-checkpoint for one log, keeping the latest cosigned
    /// checkpoint in the state directory.
    Serve {
        #[arg(long)]
        key: PathBuf,
        /// The log's origin line (the package's `log_origin`).
        #[arg(long)]
        origin: String,
        /// The center's verifier key (the package's `center_key`).
        #[arg(long)]
        log_key: String,
        /// Where the latest cosigned checkpoint is kept.
        #[arg(long)]
        state: PathBuf,
        #[arg(long, default_value = "127.0.0.1:8090")]
        listen: String,
    },
}

pub async fn run(cmd: WitnessCmd) -> Result<()> {
    match cmd {
        WitnessCmd::Key { key } => {
            let c = acta_note::cosignature::Cosigner::from_signer(&read_key(&key)?);
            println!("{}", c.verifier());
        }
        WitnessCmd::Serve {
            key,
            origin,
            log_key,
            state,
            listen,
        } => {
            let cosigner = acta_note::cosignature::Cosigner::from_signer(&read_key(&key)?);
            let log_key: acta_note::Verifier = log_key.parse().context("--log-key")?;
            let w = acta_witness::Witness::open(cosigner, vec![(origin.clone(), log_key)], &state)?;
            let listener = tokio::net::TcpListener::bind(&listen)
                .await
                .with_context(|| format!("binding {listen}"))?;
            eprintln!(
                "witness {} of {origin} on http://{} (state in {})",
                w.verifier(),
                listener.local_addr()?,
                state.display()
            );
            axum::serve(listener.tap_io(crate::no_delay), acta_witness::router(w)).await?;
        }
    }
    Ok(())
}
