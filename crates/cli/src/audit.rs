//! `acta audit …`: audits. For now, the sample.

use std::path::PathBuf;

use anyhow::{Context, Result};

#[derive(clap::Subcommand)]
pub enum AuditCmd {
    /// Draw a sample with Rivest's consistent sampler: one line per draw,
    /// `<ticket> <id> <generation>`, as the reference implementation
    /// prints them.
    Sample {
        /// The public seed (the parties' dice digits).
        #[arg(long)]
        seed: String,
        /// The canonical ids, one per line (table ids or ballot-record ids).
        #[arg(long)]
        ids: PathBuf,
        /// Draw with replacement (an id may come back, with its generation).
        #[arg(long)]
        with_replacement: bool,
        /// How many draws to print (all ids without replacement).
        #[arg(long)]
        take: Option<usize>,
        /// Skip the first draws (a later round continues an earlier one).
        #[arg(long, default_value_t = 0)]
        drop: usize,
        /// Significant digits printed after any leading nines.
        #[arg(long, default_value_t = 9)]
        digits: usize,
    },
}

pub fn run(cmd: AuditCmd) -> Result<()> {
    let AuditCmd::Sample {
        seed,
        ids,
        with_replacement,
        take,
        drop,
        digits,
    } = cmd;
    let text =
        std::fs::read_to_string(&ids).with_context(|| format!("reading {}", ids.display()))?;
    let ids = acta_audit::parse_ids(&text).with_context(|| format!("{}", ids.display()))?;
    let take = take.unwrap_or(ids.len());
    let mut out = String::new();
    for d in acta_audit::sample(&seed, &ids, with_replacement, drop, take)? {
        out.push_str(&format!(
            "{} {} {}\n",
            acta_audit::print_ticket(&d.ticket, digits),
            d.id,
            d.generation
        ));
    }
    print!("{out}");
    Ok(())
}
