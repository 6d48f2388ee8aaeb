//! `acta observe` and `acta evidence`: run the observer, print its report
//! (terminal table, HTML, JSON), follow a center through the night, and
//! export or re-verify an evidence bundle with no network.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use acta_observer::verify::{thousands, PaperStatus, Report, Verdict};
use acta_observer::{Options, Progress, Source};
use anyhow::{Context, Result};

#[derive(clap::Args, Clone)]
pub struct ObserveArgs {
    /// The center's base URL (or a static mirror of it, or a proxy).
    #[arg(long, required_unless_present = "bundle", conflicts_with = "bundle")]
    center: Option<String>,
    /// Observe an evidence bundle or mirror on disk instead, with no network.
    #[arg(long)]
    bundle: Option<PathBuf>,
    /// Trust file: which keys must sign the election package.
    #[arg(long)]
    trust: PathBuf,
    /// Keep state here between runs: the last verified checkpoint and the
    /// folded log, so a later run verifies only what is new and catches a
    /// log rewritten in between.
    #[arg(long)]
    state: Option<PathBuf>,
    /// Another observer's (or a witness's) signed checkpoint: a file, or a
    /// URL serving it. Repeatable.
    #[arg(long = "peer")]
    peers: Vec<String>,
    /// Actas held on paper: PNG photos of printed actas or signed notes. Repeatable.
    #[arg(long = "paper")]
    paper: Vec<PathBuf>,
    /// Stations' receipts, `<table>.acta.tlog-proof`, checked with the paper
    /// acta of the same table. Repeatable.
    #[arg(long = "receipt")]
    receipts: Vec<PathBuf>,
    /// Write an evidence bundle here: everything the verdict rests on.
    #[arg(long)]
    evidence: Option<PathBuf>,
    /// Write the report as an HTML page here. With --state and --evidence
    /// it ends with the forensic screens over what was verified.
    #[arg(long)]
    html: Option<PathBuf>,
    /// The stations' published journals (`<table>.log` each), for the
    /// forensic screens' ballots per hour in --html.
    #[arg(long)]
    journals: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// Follow the center: observe again every N seconds, reporting each new
    /// finding as it appears (needs --state). Stops on Ctrl-C.
    #[arg(long, value_name = "SECONDS")]
    follow: Option<u64>,
    /// Print this process's peak memory on stderr at the end (benchmarks).
    #[arg(long, hide = true)]
    peak_memory: bool,
}

// Parsed once per process from the command line: the size of the larger
// variant costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
#[derive(clap::Subcommand)]
pub enum EvidenceCmd {
    /// Observe a center and write everything behind the verdict into one
    /// directory: package, trust file, checkpoints, the log's tiles, the
    /// center's statements, paper and receipts, exhibits and the report.
    Export {
        #[command(flatten)]
        args: ObserveArgs,
        /// Directory to write (must not exist yet, or be empty).
        #[arg(long)]
        out: PathBuf,
    },
    /// Check a bundle with no network and print the same verdict.
    Verify {
        /// The bundle directory.
        dir: PathBuf,
        /// Your trust file: the authority and auditor keys you trust (the
        /// bundle's own is not taken on its word).
        #[arg(long)]
        trust: PathBuf,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

fn options(args: &ObserveArgs) -> Result<Options> {
    let mut o = Options::new(crate::read_trust(&args.trust)?);
    o.state = args.state.clone();
    o.peers = args.peers.clone();
    o.paper = args.paper.clone();
    o.receipts = args.receipts.clone();
    o.record = args.evidence.clone();
    Ok(o)
}

/// A progress bar for the long phases and a line for the short ones.
pub fn progress_bar(quiet: bool) -> impl Fn(Progress) + Sync {
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("  {msg:<40} [{bar:30}] {pos}/{len} ({eta})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    if quiet {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    move |p: Progress| {
        if p.total == 0 {
            if !quiet {
                eprintln!("  … {}", p.phase);
            }
            return;
        }
        if bar.length() != Some(p.total) || bar.message() != p.phase {
            bar.set_message(p.phase.to_string());
            bar.set_length(p.total);
        }
        bar.set_position(p.done);
        if p.done == p.total {
            bar.finish_and_clear();
            bar.reset();
        }
    }
}

/// 0 consistent, 1 discrepancies, 2 no verdict (unusable or incomplete input).
fn exit(report: &Report) -> ExitCode {
    match report.verdict {
        Verdict::Consistent => ExitCode::SUCCESS,
        Verdict::Discrepancies => ExitCode::from(1),
        _ => ExitCode::from(2),
    }
}

pub async fn run(args: ObserveArgs) -> Result<ExitCode> {
    let opts = options(&args)?;
    let source = match (&args.center, &args.bundle) {
        (Some(url), _) => Source::Center(acta_api::Client::new(url)),
        (None, Some(dir)) => Source::Bundle(dir.clone()),
        (None, None) => anyhow::bail!("give --center URL or --bundle DIR"),
    };
    let progress = progress_bar(args.json);
    let Some(every) = args.follow else {
        let report = match acta_observer::observe(&source, &opts, &progress).await {
            Ok(r) => r,
            Err(e) => {
                eprintln!("unusable input: {e}");
                return Ok(ExitCode::from(2));
            }
        };
        let screens = args.html.as_ref().and_then(|_| forensic(&args));
        show(&report, args.json, args.html.as_deref(), screens.as_ref())?;
        if args.peak_memory {
            if let Some(mib) = crate::peak_mib() {
                eprintln!("peak memory {mib} MiB");
            }
        }
        return Ok(exit(&report));
    };
    anyhow::ensure!(
        opts.state.is_some(),
        "--follow needs --state to remember what it verified"
    );
    let mut known: BTreeSet<String> = BTreeSet::new();
    let mut last = None;
    // The screens of the last log size seen, recomputed only when it grows.
    let mut screens: Option<(u64, Option<acta_forensics::Report>)> = None;
    // The exit code says what the latest round concluded.
    let mut code = ExitCode::from(2);
    loop {
        match acta_observer::observe(&source, &opts, &progress).await {
            Ok(r) => {
                code = exit(&r);
                if last != Some(r.log_size) {
                    println!(
                        "log size {} — {} of {} tables counted — {}",
                        thousands(r.log_size),
                        thousands(r.tables_reported),
                        thousands(r.tables_total),
                        r.headline
                    );
                    last = Some(r.log_size);
                }
                for f in &r.findings {
                    let key = serde_json::to_string(f)?;
                    if known.insert(key) {
                        println!(
                            "  NEW {}: {} {} — center {}, signed {} ({})",
                            f.kind, f.place, f.figure, f.center, f.machines, f.evidence
                        );
                    }
                }
                if let Some(h) = &args.html {
                    if screens.as_ref().map(|s| s.0) != Some(r.log_size) {
                        let a = args.clone();
                        let f = tokio::task::spawn_blocking(move || forensic(&a))
                            .await
                            .ok()
                            .flatten();
                        screens = Some((r.log_size, f));
                    }
                    write_html(&r, h, screens.as_ref().and_then(|s| s.1.as_ref()))?;
                }
            }
            Err(e) => eprintln!("  this round failed, retrying: {e}"),
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(every.max(1))) => {}
            _ = tokio::signal::ctrl_c() => return Ok(code),
        }
    }
}

pub async fn evidence(cmd: EvidenceCmd) -> Result<ExitCode> {
    match cmd {
        EvidenceCmd::Export { mut args, out } => {
            if out.exists() && std::fs::read_dir(&out)?.next().is_some() {
                anyhow::bail!("{} exists and is not empty", out.display());
            }
            args.evidence = Some(out.clone());
            args.follow = None;
            let code = run(args).await?;
            eprintln!("evidence bundle written to {}", out.display());
            Ok(code)
        }
        EvidenceCmd::Verify { dir, trust, json } => {
            let (report, recorded) = verify_bundle(&dir, &trust).await?;
            show(&report, json, None, None)?;
            // Everything but remarks must be what the contents give: the
            // verdict, the headline, the sums, every finding and paper check.
            let strip = |r: &Report| {
                let mut v = serde_json::to_value(r).unwrap_or_default();
                if let Some(o) = v.as_object_mut() {
                    o.remove("notes");
                }
                v
            };
            if strip(&report) != strip(&recorded) {
                eprintln!(
                    "THE BUNDLE'S REPORT DIFFERS from what its contents give: it says {:?} with {} findings",
                    recorded.verdict,
                    recorded.findings.len()
                );
                return Ok(ExitCode::from(2));
            }
            eprintln!("the bundle's contents give the report it carries, under your trust file");
            Ok(exit(&report))
        }
    }
}

/// Re-runs the observer on a bundle with no network: returns what its
/// contents give, and the report it carries.
pub async fn verify_bundle(dir: &Path, trust: &Path) -> Result<(Report, Report)> {
    // The verifier's own trust file, never the bundle's: a bundle made up
    // with keys of its own must not verify.
    let trust = crate::read_trust(trust)?;
    if let Ok(theirs) = std::fs::read_to_string(dir.join("trust.txt")) {
        if theirs != trust.to_text() {
            eprintln!(
                "note: the bundle was recorded under another trust file; it is checked under yours"
            );
        }
    }
    let mut opts = Options::new(trust);
    let files = |sub: &str| -> Result<Vec<PathBuf>> {
        let d = dir.join(sub);
        Ok(match std::fs::read_to_string(d.join("order.txt")) {
            Ok(order) => order.lines().map(|l| d.join(l)).collect(),
            Err(_) => Vec::new(),
        })
    };
    opts.paper = files("paper")?;
    opts.receipts = files("receipts")?;
    let recorded: Report = serde_json::from_slice(
        &std::fs::read(dir.join("report.json")).context("the bundle has no report.json")?,
    )?;
    let report = acta_observer::observe(
        &Source::Bundle(dir.to_path_buf()),
        &opts,
        &progress_bar(true),
    )
    .await?;
    Ok((report, recorded))
}

/// The forensic screens over the observer's state and bundle, when it
/// keeps both (they are what the screens read); a screen that cannot run
/// is said on stderr and leaves the report without them.
fn forensic(args: &ObserveArgs) -> Option<acta_forensics::Report> {
    let (state, bundle) = (args.state.as_ref()?, args.evidence.as_ref()?);
    let run = || -> Result<acta_forensics::Report> {
        let trust = crate::read_trust(&args.trust)?;
        let snap = acta_results::Snapshot::load(state, bundle, &trust)?;
        let input = snap.forensic_input(None, args.journals.as_deref())?;
        Ok(acta_forensics::screen(
            &input,
            &acta_forensics::Options::default(),
        )?)
    };
    run()
        .map_err(|e| eprintln!("forensic screens not run: {e:#}"))
        .ok()
}

fn show(
    report: &Report,
    json: bool,
    html: Option<&Path>,
    screens: Option<&acta_forensics::Report>,
) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(report)?);
    } else {
        print_report(report);
    }
    if let Some(h) = html {
        write_html(report, h, screens)?;
        eprintln!("HTML report written to {}", h.display());
    }
    Ok(())
}

fn cut(s: &str, n: usize) -> String {
    if s.chars().count() > n {
        format!("{}…", s.chars().take(n - 1).collect::<String>())
    } else {
        s.to_string()
    }
}

/// The observer's verdict as the terminal shows it: headline first, then
/// findings grouped by kind, the tables with no counted acta, the details.
pub fn print_report(r: &Report) {
    match r.verdict {
        Verdict::Consistent => println!("VERDICT: consistent — {}", r.headline),
        Verdict::Incomplete => println!("VERDICT: INCOMPLETE — {}", r.headline),
        _ => println!(
            "VERDICT: DISCREPANCIES FOUND ({}) — {}",
            r.findings.len(),
            r.headline
        ),
    }
    println!(
        "  log size {} root {}; {} signed entries and {} tiles verified; {} of {} tables counted ({} of {} registered voters); {} held",
        thousands(r.log_size),
        r.log_root,
        thousands(r.actas_verified),
        thousands(r.proofs_verified),
        thousands(r.tables_reported),
        thousands(r.tables_total),
        thousands(r.sums.registered),
        thousands(r.registered_total),
        r.held.len()
    );
    for n in &r.unchecked {
        println!("  NOT CHECKED: {n}");
    }
    for n in &r.notes {
        println!("  note: {n}");
    }
    for a in &r.audits {
        println!(
            "\n  audit {} (manifest at log entry {}, checkpoint {}, risk limit {}): {} — {} rounds, {} of {} drawn tables hand-counted",
            a.audit,
            a.manifest_index,
            thousands(a.checkpoint),
            a.risk_limit,
            a.status,
            a.rounds,
            a.tables_counted,
            a.tables_drawn
        );
        for c in &a.contests {
            println!("    {:<12} risk {}  {}", c.contest, c.risk, c.verdict);
        }
    }
    if !r.groups.is_empty() {
        println!("\n  {:<22} {:>7}  meaning", "finding", "count");
        for g in &r.groups {
            println!("  {:<22} {:>7}  {}", g.kind.as_str(), g.count, g.meaning);
        }
    }
    if !r.unreported.is_empty() {
        let reg: u64 = r.unreported.iter().map(|u| u.registered).sum();
        println!(
            "\n  tables with no counted acta in the log: {} ({} registered voters) — their witnesses should bring their paper:",
            thousands(r.unreported.len() as u64),
            thousands(reg)
        );
        for row in r.unreported.chunks(4) {
            let cells: Vec<String> = row
                .iter()
                .map(|u| format!("{} ({})", u.table, thousands(u.registered)))
                .collect();
            println!("    {}", cells.join("   "));
        }
    }
    if !r.held.is_empty() {
        println!("\n  held actas — authentic, logged, not counted, for review:");
        for h in &r.held {
            println!(
                "    {} (log entry {}): {}",
                h.table,
                h.index,
                h.reasons.join("; ")
            );
        }
    }
    if !r.paper.is_empty() {
        println!("\n  paper in hand:");
        for p in &r.paper {
            let mark = match p.status {
                PaperStatus::InLog | PaperStatus::ReceiptHonored | PaperStatus::Conflict => "ok ",
                PaperStatus::NotAuthentic | PaperStatus::BadReceipt => "?? ",
                _ => "!! ",
            };
            println!(
                "    {mark} {:<28} {:<18} {}",
                cut(&p.source, 28),
                p.table,
                p.detail
            );
        }
    }
    if r.findings.is_empty() {
        return;
    }
    println!(
        "\n  {:<20} {:<20} {:<28} {:>16} {:>16}  evidence",
        "kind", "where", "figure", "center", "signed"
    );
    for g in &r.groups {
        for f in r
            .findings
            .iter()
            .filter(|f| f.kind == g.kind)
            .take(DETAILS_PER_KIND)
        {
            println!(
                "  {:<20} {:<20} {:<28} {:>16} {:>16}  {}",
                f.kind.as_str(),
                cut(&f.place, 20),
                cut(&f.figure, 28),
                cut(&f.center, 16),
                cut(&f.machines, 16),
                f.evidence
            );
        }
        if g.count > DETAILS_PER_KIND {
            println!(
                "  {:<20} … and {} more (all of them in --json and --html)",
                g.kind.as_str(),
                g.count - DETAILS_PER_KIND
            );
        }
    }
}

/// Findings of one kind shown in the terminal; the JSON and HTML have all.
const DETAILS_PER_KIND: usize = 12;

/// The report as one self-contained HTML page: headline, findings by kind,
/// then sortable tables (discrepancies first).
pub fn write_html(r: &Report, path: &Path, screens: Option<&acta_forensics::Report>) -> Result<()> {
    use maud::{html, DOCTYPE};
    let consistent = r.verdict == Verdict::Consistent;
    let page = html! {
           (DOCTYPE)
           html lang="en" {
               head {
                   meta charset="utf-8";
                   meta name="viewport" content="width=device-width, initial-scale=1";
                   title { "acta observer — " (r.election) }
                   style { (maud::PreEscaped(CSS)) }
               }
               body {
                   h1 class=(if consistent { "ok" } else { "bad" }) {
                       @if consistent { "Consistent" } @else { "Discrepancies found (" (r.findings.len()) ")" }
                   }
                   p class="headline" { (r.headline) }
                   p {
                       "Election " (r.election) ": log of " (thousands(r.log_size)) " entries, root " code { (r.log_root) } "; "
                       (thousands(r.actas_verified)) " signed entries and " (thousands(r.proofs_verified)) " tiles verified; "
                       (thousands(r.tables_reported)) " of " (thousands(r.tables_total)) " tables counted."
                   }
                   @if !r.groups.is_empty() {
                       h2 { "Findings by kind" }
                       table class="sortable" {
                           thead { tr { th { "kind" } th { "count" } th { "meaning" } } }
                           tbody { @for g in &r.groups { tr { td { (g.kind.as_str()) } td class="n" { (g.count) } td { (g.meaning) } } } }
                       }
                       h2 { "Discrepancies" }
                       table class="sortable" {
                           thead { tr { th { "kind" } th { "where" } th { "figure" } th { "center says" } th { "signed evidence says" } th { "evidence" } } }
                           tbody {
                               @for f in &r.findings {
                                   tr { td { (f.kind.as_str()) } td { (f.place) } td { (f.figure) } td class="n" { (f.center) } td class="n" { (f.machines) } td { (f.evidence) } }
                               }
                           }
                       }
                   }
    @for a in &r.audits {
                       h2 { "Audit " (a.audit) ": " (a.status) }
                       p {
                           "Manifest at log entry " (a.manifest_index) " over checkpoint " (thousands(a.checkpoint))
                           "; risk limit " (a.risk_limit) "; seed " (a.seed.as_deref().unwrap_or("not yet rolled"))
                           "; " (a.rounds) " rounds; " (a.tables_counted) " of " (a.tables_drawn) " drawn tables hand-counted. Every step re-derived from the log."
                       }
                       table class="sortable" {
                           thead { tr { th { "contest" } th { "risk" } th { "verdict" } } }
                           tbody { @for c in &a.contests { tr { td { (c.contest) } td class="n" { (c.risk) } td { (c.verdict) } } } }
                       }
                   }
                   @if !r.unreported.is_empty() {
                       h2 { "Tables with no counted acta in the log (" (r.unreported.len()) ")" }
                       p { "The witnesses of these tables should bring their paper actas." }
                       table class="sortable" {
                           thead { tr { th { "table" } th { "registered" } th { "the log holds" } } }
                           tbody { @for u in &r.unreported { tr { td { (u.table) } td class="n" { (u.registered) } td { (u.log) } } } }
                       }
                   }
                   @if !r.paper.is_empty() {
                       h2 { "Paper in hand" }
                       table class="sortable" {
                           thead { tr { th { "file" } th { "table" } th { "status" } th { "detail" } } }
                           tbody { @for p in &r.paper { tr { td { (p.source) } td { (p.table) } td { (format!("{:?}", p.status)) } td { (p.detail) } } } }
                       }
                   }
                   @if !r.held.is_empty() {
                       h2 { "Held actas" }
                       table class="sortable" {
                           thead { tr { th { "table" } th { "log entry" } th { "reasons" } } }
                           tbody { @for h in &r.held { tr { td { (h.table) } td class="n" { (h.index) } td { (h.reasons.join("; ")) } } } }
                       }
                   }
                   @if let Some(f) = screens {
                       h2 { "Forensic screens" }
                       style { (maud::PreEscaped(FORENSICS_CSS)) }
                       (acta_forensics::chart::section(f, &|_| None))
                   }
                   script { (maud::PreEscaped(SORT)) }
               }
           }
       };
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d)?;
    }
    std::fs::write(path, page.into_string())?;
    Ok(())
}

const CSS: &str = "body{font:16px/1.45 system-ui,sans-serif;margin:2em auto;max-width:70em;padding:0 1em;color:#111}\
h1.ok{color:#0a5c2b}h1.bad{color:#a00}.headline{font-size:1.3em;font-weight:600}\
table{border-collapse:collapse;margin:1em 0;width:100%}th,td{border:1px solid #bbb;padding:.3em .5em;text-align:left;vertical-align:top}\
th{background:#eee;cursor:pointer}td.n{text-align:right;font-variant-numeric:tabular-nums}";

const FORENSICS_CSS: &str = ".forensics table{width:auto}.forensics td{font-size:.85em}.forensics tr.flagged td{background:#fff1e0}.forensics .charts{display:flex;flex-wrap:wrap;gap:1em}.forensics figure{margin:0}.forensics .caveat{font-style:italic}";

/// A few lines so that a click on a column heading sorts the table.
const SORT: &str = "document.querySelectorAll('table.sortable th').forEach(function(th){th.addEventListener('click',function(){\
var t=th.closest('table'),b=t.tBodies[0],i=Array.prototype.indexOf.call(th.parentNode.children,th),asc=th.dataset.asc!=='1';th.dataset.asc=asc?'1':'0';\
var rows=Array.prototype.slice.call(b.rows);rows.sort(function(a,c){var x=a.cells[i].textContent,y=c.cells[i].textContent,nx=parseFloat(x),ny=parseFloat(y);\
var r=(!isNaN(nx)&&!isNaN(ny))?nx-ny:x.localeCompare(y);return asc?r:-r});rows.forEach(function(r){b.appendChild(r)})})});";
