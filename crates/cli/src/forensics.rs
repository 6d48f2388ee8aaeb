//! `acta forensics`: the statistical screens over what an observer
//! verified — the counted actas of its mirror and, when given, the
//! stations' journals — printed headline first, with the charts in an HTML
//! page or as SVG files, and JSON for machines.

use std::path::PathBuf;

use acta_forensics::{chart, screen, Options};
use anyhow::{Context, Result};

#[derive(clap::Args)]
pub struct ForensicsArgs {
    /// The observer's directory (`observer-state/` and `evidence/`, as
    /// `acta results serve` and `acta demo` keep it).
    #[arg(long)]
    dir: PathBuf,
    /// Trust file: which keys must sign the election package.
    #[arg(long)]
    trust: PathBuf,
    /// The stations' published journals, `<table>.log` each: for ballots
    /// per hour and closing-hour bursts.
    #[arg(long)]
    journals: Option<PathBuf>,
    /// The contest to screen (default: among those on most ballots, the
    /// single-winner plurality one).
    #[arg(long)]
    contest: Option<String>,
    /// Replicates of each simulated null.
    #[arg(long, default_value_t = Options::default().replicates)]
    replicates: usize,
    /// Seed of the simulated nulls (the same seed gives the same figures).
    #[arg(long, default_value_t = Options::default().seed)]
    seed: u64,
    /// Write the report, with its charts, as an HTML page here.
    #[arg(long)]
    html: Option<PathBuf>,
    /// Write each chart as an SVG file into this directory.
    #[arg(long)]
    svg: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

/// Most tables to inspect printed on the terminal (all are in the JSON and
/// the HTML).
const MOST_PRINTED: usize = 20;

pub fn run(args: ForensicsArgs) -> Result<()> {
    let trust = crate::read_trust(&args.trust)?;
    let snap = acta_results::Snapshot::load(
        &args.dir.join("observer-state"),
        &args.dir.join("evidence"),
        &trust,
    )
    .with_context(|| format!("loading the observer's {}", args.dir.display()))?;
    let input = snap.forensic_input(args.contest.as_deref(), args.journals.as_deref())?;
    let opts = Options {
        seed: args.seed,
        replicates: args.replicates,
        ..Options::default()
    };
    let report = screen(&input, &opts)?;
    if let Some(path) = &args.html {
        std::fs::write(path, chart::page(&report))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(dir) = &args.svg {
        std::fs::create_dir_all(dir)?;
        for (name, svg) in chart::charts(&report) {
            std::fs::write(dir.join(name), svg.into_string())?;
        }
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!("{}", report.headline);
    println!();
    println!(
        "  contest {} · winner followed {} · {} counted tables · {} journals · α = {} per screen, {} null replicates, seed {}",
        report.contest,
        report.leader,
        report.tables,
        input.tables.iter().filter(|t| t.day.is_some()).count(),
        opts.alpha,
        opts.replicates,
        opts.seed
    );
    println!();
    for f in &report.findings {
        let what = f
            .skipped
            .as_ref()
            .map(|s| format!("not run: {s}"))
            .unwrap_or_else(|| f.summary.clone());
        println!(
            "  {:<5} {:<50} {}",
            if f.flagged { "FLAG" } else { "  -" },
            f.screen.title(),
            what
        );
    }
    if !report.flags.is_empty() {
        println!();
        println!("  Tables to inspect ({}):", report.flags.len());
        for f in report.flags.iter().take(MOST_PRINTED) {
            println!("    {:<20} {:<40} {}", f.table, f.screen.title(), f.detail);
        }
        if report.flags.len() > MOST_PRINTED {
            println!(
                "    … and {} more (all of them in --json and --html)",
                report.flags.len() - MOST_PRINTED
            );
        }
        println!();
        for s in acta_forensics::Screen::ALL {
            if report.flags.iter().any(|f| f.screen == s) {
                println!(
                    "  {}: a flag means {}; {}.",
                    s.title(),
                    s.means(),
                    s.does_not_mean()
                );
            }
        }
    }
    Ok(())
}
