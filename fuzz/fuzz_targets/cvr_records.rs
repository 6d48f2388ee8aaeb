//! The ballot-record parser behind the NIST CVR export must never panic, and
//! whatever it accepts must be canonical: written back, the very same bytes;
//! records it accepts always make a report. Records are separated by an
//! empty line.
#![no_main]
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

/// The table whose ballot the records are parsed against.
const TABLE: &str = "01.001.01.0001.01";

/// A small package: a vote-for-2 contest whose candidates stand on several
/// cards, a referendum, a party list, and a contest of another state that
/// is not on the table's ballot. Keys are placeholders: nothing is verified.
const PACKAGE: &str = r#"{"format":"election/v1","id":"FUZZ","name":"Fuzz","opens":"2026-12-06T10:00:00Z","closes":"2026-12-06T22:00:00Z","software":"0000000000000000000000000000000000000000000000000000000000000000","log_origin":"fuzz.example/log","center_key":"center+00000000+AA","override_alarm":8,"parties":[{"id":"AVZ","name":"A"},{"id":"PDA","name":"P"},{"id":"UPL","name":"U"}],"contests":[{"id":"AN","name":"List","scope":"","kind":"party-list","seats":5,"method":"d-hondt","candidates":[],"lists":["AVZ","PDA","UPL"]},{"id":"GOB-02","name":"Other state","scope":"02","kind":"plurality","seats":1,"method":null,"candidates":[{"id":"G1","name":"G","cards":["PDA"]}],"lists":[]},{"id":"PRES","name":"Two seats","scope":"","kind":"plurality","seats":2,"method":null,"candidates":[{"id":"C1","name":"One","cards":["AVZ","PDA"]},{"id":"C2","name":"Two","cards":["UPL"]},{"id":"C3","name":"Three","cards":["PDA","UPL"]}],"lists":[]},{"id":"REF","name":"Question","scope":"","kind":"referendum","seats":0,"method":null,"candidates":[],"lists":[]}],"areas":[{"code":"01","name":"S1"},{"code":"01.001","name":"M"},{"code":"01.001.01","name":"P"},{"code":"01.001.01.0001","name":"C"},{"code":"02","name":"S2"}],"tables":[{"id":"01.001.01.0001.01","registered":500,"roll":"0000000000000000000000000000000000000000000000000000000000000000","machine":"M1","key":"M1+00000000+AA"}]}"#;

fn election() -> &'static acta_election::Election {
    static E: OnceLock<acta_election::Election> = OnceLock::new();
    E.get_or_init(|| serde_json::from_str(PACKAGE).expect("the fuzz package is JSON"))
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let e = election();
    if let Ok(record) = acta_export::parse_record(e, TABLE, 0, text) {
        assert_eq!(record.to_text(), text);
    }
    let records: Vec<String> = text
        .split("\n\n")
        .map(|r| if r.ends_with('\n') { r.to_string() } else { format!("{r}\n") })
        .collect();
    let all_parse = records
        .iter()
        .all(|r| acta_export::parse_record(e, TABLE, 0, r).is_ok());
    match acta_export::cvr_report(e, TABLE, &records) {
        Ok(report) => {
            assert!(all_parse);
            assert_eq!(report.cvr.len(), records.len());
            let _ = report.to_json();
        }
        Err(_) => assert!(!all_parse),
    }
});
