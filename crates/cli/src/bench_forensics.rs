//! `acta bench forensics`: the screens' calibration. Many synthetic
//! elections on our own table sizes, each from its own seed: clean ones,
//! for each screen's false-alarm rate, and ones the simulator stuffs,
//! inflates or bursts by a known amount at a known share of tables, for
//! each screen's detection rate, how close the fingerprint fit comes to the
//! true stuffing rates, and how high the touched tables rank.

use std::collections::BTreeMap;

use acta_forensics::{screen, Options, Screen};
use acta_synth::forensic::{simulate, Scenario, Truth};
use anyhow::Result;

#[derive(clap::Args)]
pub struct CalibrationArgs {
    /// Tables per synthetic election (their register sizes are those of
    /// `acta demo`'s generated elections).
    #[arg(long, default_value_t = 3000)]
    tables: usize,
    /// Elections per scenario, each from its own seed.
    #[arg(long, default_value_t = 100)]
    trials: u64,
    /// Replicates of each simulated null.
    #[arg(long, default_value_t = 400)]
    replicates: usize,
    /// Run only the scenarios whose name contains this.
    #[arg(long)]
    only: Option<String>,
    /// Print the table as JSON too.
    #[arg(long)]
    json: bool,
}

/// A scenario: its name, what the simulator does, and the touched tables
/// the ranking is scored on.
struct Case {
    name: &'static str,
    set: fn(&mut Scenario),
    touched: fn(&Truth) -> Vec<usize>,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "clean",
            set: |_| {},
            touched: |_| Vec::new(),
        },
        Case {
            name: "clean, rougher: uneven regions, town clusters, overdispersed overrides and arrivals",
            set: |s| s.rough = true,
            touched: |_| Vec::new(),
        },
        Case {
            name: "incremental stuffing: 10 % of tables, θ = 0.2, α = 1",
            set: |s| {
                s.incremental = 0.10;
                s.theta = 0.2;
                s.alpha = Some(1.0);
            },
            touched: Truth::stuffed,
        },
        Case {
            name: "extreme stuffing: 3 % of tables, α = 1",
            set: |s| {
                s.extreme = 0.03;
                s.alpha = Some(1.0);
            },
            touched: Truth::stuffed,
        },
        Case {
            name: "both: 10 % incremental (θ = 0.2) + 3 % extreme",
            set: |s| {
                s.incremental = 0.10;
                s.theta = 0.2;
                s.extreme = 0.03;
                s.alpha = Some(1.0);
            },
            touched: Truth::stuffed,
        },
        Case {
            name: "turnout inflated to the next 5 % at 5 % of tables",
            set: |s| s.inflated = 0.05,
            touched: |t| t.inflated.clone(),
        },
        Case {
            name: "closing-hour burst of 10 % of registered at 1 % of tables",
            set: |s| {
                s.bursts = 0.01;
                s.burst_size = 0.10;
            },
            touched: |t| t.bursts.clone(),
        },
        Case {
            name: "incremental stuffing 10 % (θ = 0.2), half its ballots by override code",
            set: |s| {
                s.incremental = 0.10;
                s.theta = 0.2;
                s.alpha = Some(1.0);
                s.stuffed_with_overrides = 0.5;
            },
            touched: Truth::stuffed,
        },
    ]
}

#[derive(Default, serde::Serialize)]
struct Row {
    scenario: String,
    elections: u64,
    /// Screen → elections it flagged.
    flagged: BTreeMap<String, u64>,
    /// Fitted minus true incremental rate, mean and mean absolute.
    incremental_error: (f64, f64),
    extreme_error: (f64, f64),
    /// Share of the touched tables among the top-k ranked (k = touched),
    /// by the screen that names tables for this scenario.
    precision: Option<f64>,
    /// The fingerprint fit's gain over the fair model, per election.
    gains: Vec<f64>,
}

/// The touched tables' share among the top `k` of a ranking.
fn precision(ranked: &[String], touched: &[String]) -> f64 {
    let k = touched.len();
    if k == 0 {
        return 0.0;
    }
    let set: std::collections::HashSet<&String> = touched.iter().collect();
    ranked.iter().take(k).filter(|t| set.contains(t)).count() as f64 / k as f64
}

pub fn simulate_all(args: CalibrationArgs) -> Result<()> {
    let sizes = Scenario::sizes(2026, args.tables);
    let opts = Options {
        replicates: args.replicates,
        ..Options::default()
    };
    let cases: Vec<Case> = cases()
        .into_iter()
        .filter(|c| args.only.as_deref().is_none_or(|o| c.name.contains(o)))
        .collect();
    let bar = indicatif::ProgressBar::new(args.trials * cases.len() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("  {msg:<48} [{bar:30}] {pos}/{len} ({eta})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let started = std::time::Instant::now();
    let mut rows = Vec::new();
    for case in &cases {
        bar.set_message(case.name);
        let mut row = Row {
            scenario: case.name.into(),
            ..Row::default()
        };
        let mut prec = Vec::new();
        for trial in 0..args.trials {
            let mut s = Scenario::clean(1_000_003 * (trial + 1), sizes.clone());
            (case.set)(&mut s);
            let (input, truth) = simulate(&s);
            let r = screen(&input, &opts)?;
            row.elections += 1;
            let mut any = false;
            for f in &r.findings {
                if f.flagged && Screen::STATISTICAL.contains(&f.screen) {
                    *row.flagged.entry(format!("{:?}", f.screen)).or_default() += 1;
                    any = true;
                }
            }
            *row.flagged.entry("Any".into()).or_default() += u64::from(any);
            let fp = r.fingerprint.as_ref().expect("ran");
            row.gains.push(fp.fit.fair_distance - fp.fit.distance);
            let n = input.tables.len() as f64;
            let di = fp.fit.stuffing.incremental - truth.incremental.len() as f64 / n;
            let de = fp.fit.stuffing.extreme - truth.extreme.len() as f64 / n;
            row.incremental_error.0 += di;
            row.incremental_error.1 += di.abs();
            row.extreme_error.0 += de;
            row.extreme_error.1 += de.abs();
            let touched: Vec<String> = (case.touched)(&truth)
                .into_iter()
                .map(|i| input.tables[i].id.clone())
                .collect();
            if !touched.is_empty() {
                // Stuffing: the fingerprint's ranking; other scenarios: the
                // tables their screen flags, in its order.
                let ranked: Vec<String> = if s.incremental + s.extreme > 0.0 {
                    fp.ranking
                        .iter()
                        .map(|&(i, _)| input.tables[i].id.clone())
                        .collect()
                } else {
                    // The burst screen's flags, most extreme first; the
                    // integer-peak screen names no tables.
                    if s.inflated > 0.0 {
                        bar.inc(1);
                        continue;
                    }
                    r.flags
                        .iter()
                        .filter(|f| f.screen == Screen::ClosingBurst)
                        .map(|f| f.table.clone())
                        .collect()
                };
                prec.push(precision(&ranked, &touched));
            }
            bar.inc(1);
        }
        let t = row.elections as f64;
        row.incremental_error = (row.incremental_error.0 / t, row.incremental_error.1 / t);
        row.extreme_error = (row.extreme_error.0 / t, row.extreme_error.1 / t);
        row.precision = (!prec.is_empty()).then(|| prec.iter().sum::<f64>() / prec.len() as f64);
        rows.push(row);
    }
    bar.finish_and_clear();

    println!(
        "Forensic screens: share of {} synthetic elections of {} tables flagged, per scenario (each screen held to α = {} per election; {} null replicates; {:.0} s)",
        args.trials,
        args.tables,
        opts.alpha,
        opts.replicates,
        started.elapsed().as_secs_f64()
    );
    println!();
    let short = [
        "fingerprint",
        "integer %",
        "last digit",
        "2BL",
        "0/5",
        "closing hour",
        "overrides",
        "any screen",
    ];
    println!(
        "| scenario | {} | fit f_i − true (mean, mean abs) | fit f_e − true | touched in top-k |",
        short.join(" | ")
    );
    println!("|---|{}---|---|---|", "---|".repeat(short.len()));
    for r in &rows {
        let cells: Vec<String> = Screen::STATISTICAL
            .iter()
            .map(|s| format!("{s:?}"))
            .chain(["Any".to_string()])
            .map(|s| {
                let k = r.flagged.get(&s).copied().unwrap_or(0);
                format!("{:.2}", k as f64 / r.elections as f64)
            })
            .collect();
        println!(
            "| {} | {} | {:+.3}, {:.3} | {:+.3}, {:.3} | {} |",
            r.scenario,
            cells.join(" | "),
            r.incremental_error.0,
            r.incremental_error.1,
            r.extreme_error.0,
            r.extreme_error.1,
            r.precision.map_or("—".into(), |p| format!("{:.2}", p))
        );
    }
    println!();
    println!(
        "Fingerprint fit's gain over the fair model (it flags at {}):",
        acta_forensics::fingerprint::FLAG_GAIN
    );
    for r in &mut rows {
        r.gains.sort_by(f64::total_cmp);
        let q = |p: f64| r.gains[((p * r.gains.len() as f64) as usize).min(r.gains.len() - 1)];
        println!(
            "  {:<72} median {:>6.1}  90 % {:>6.1}  99 % {:>6.1}  max {:>6.1}",
            r.scenario,
            q(0.5),
            q(0.9),
            q(0.99),
            r.gains.last().copied().unwrap_or(0.0)
        );
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    }
    Ok(())
}
