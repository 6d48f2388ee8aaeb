use acta_forensics::{screen, Options};
use acta_synth::forensic::{simulate, Scenario};

#[test]
#[ignore]
fn explore() {
    let sizes = Scenario::sizes(1, 3000);
    let cases: [(&str, fn(&mut Scenario)); 6] = [
        ("clean", |_s| {}),
        ("inc10", |s| { s.incremental = 0.10; s.theta = 0.2; s.alpha = Some(1.0); }),
        ("ext3", |s| { s.extreme = 0.03; s.alpha = Some(1.0); }),
        ("both", |s| { s.incremental = 0.10; s.theta = 0.2; s.extreme = 0.03; s.alpha = Some(1.0); }),
        ("infl5", |s| { s.inflated = 0.05; }),
        ("burst2", |s| { s.bursts = 0.02; s.burst_size = 0.1; }),
    ];
    for (name, f) in cases {
        for seed in 1..=3 {
            let mut sc = Scenario::clean(seed, sizes.clone());
            f(&mut sc);
            let (input, truth) = simulate(&sc);
            let t0 = std::time::Instant::now();
            let r = screen(&input, &Options::default()).unwrap();
            let fp = r.fingerprint.as_ref().unwrap();
            let stuffed = truth.stuffed();
            let k = stuffed.len();
            let top: Vec<usize> = fp.ranking.iter().take(k).map(|x| x.0).collect();
            let hits = top.iter().filter(|i| stuffed.binary_search(i).is_ok()).count();
            println!("{name} seed {seed}: fit {:?} D {:.0} fair {:.0} base {:?} prec@{k} {hits} in {:?}", fp.fit.stuffing, fp.fit.distance, fp.fit.fair_distance, fp.fit.baseline, t0.elapsed());
        }
    }
}
