//! A published journal read for the forensic screens: whatever the bytes,
//! reading never panics, and a day is drawn only from a journal that
//! closes on its acta — then it holds exactly the acta's ballots.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let acta = acta_sheet::Acta {
        election: "E".into(),
        table: "01.001.01.0001.01".into(),
        machine: "M000001".into(),
        opened: 1_796_205_600,
        closed: 1_796_248_800,
        registered: 700,
        authenticated: 2,
        overrides: 0,
        ballots: 2,
        contests: Vec::new(),
        records: [0; 32],
        journal: [0; 32],
        alarms: [0; 8],
    };
    if let Ok(day) = acta_forensics::Day::from_journal(text, &acta) {
        assert_eq!(day.ballots, acta.ballots);
        assert_eq!(day.hourly.iter().sum::<u32>(), day.ballots);
    }
});
