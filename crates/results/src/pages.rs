//! The pages, server-rendered (maud); readable without script, a few lines
//! of script only to reload when the log grows.

use acta_election::{time, Contest, Election, Kind, Level};
use acta_sheet::{Acta, ALARMS};
use acta_verify::{PaperCheck, PaperStatus, Sums};
use axum::response::{Html, IntoResponse, Response};
use maud::{html, Markup, PreEscaped, DOCTYPE};
use serde::Deserialize;

use crate::Snapshot;

/// Spanish or English.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// Español.
    #[default]
    Es,
    /// English.
    En,
}

fn t(lang: Lang, key: &str) -> &'static str {
    let (es, en) = match key {
        "results" => ("Resultados", "Results"),
        "country" => ("Total nacional", "National total"),
        "reported" => ("mesas escrutadas", "tables reported"),
        "of" => ("de", "of"),
        "registered" => ("de los electores inscritos", "of registered voters"),
        "turnout" => ("Participación", "Turnout"),
        "blank" => ("En blanco", "Blank"),
        "null" => ("Nulos", "Null"),
        "seats" => ("escaños", "seats"),
        "winner" => ("Gana", "Winner"),
        "leading" => ("Encabeza (escrutinio parcial)", "Leading (partial count)"),
        "provisional" => ("provisional", "provisional"),
        "unavailable" => ("El registro tiene el acta de esta mesa, pero la copia de este sitio no coincide con el punto de control: no se muestra", "The log holds this table's acta, but this site's copy does not match the checkpoint: not shown"),
        "machine" => ("máquina", "machine"),
        "index" => ("índice", "index"),
        "hashes" => ("hashes", "hashes"),
        "no-proof" => ("prueba de inclusión no disponible", "inclusion proof unavailable"),
        "opened" => ("abierta", "opened"),
        "closed" => ("cerrada", "closed"),
        "required" => ("requeridos", "required"),
        "held" => (
            "Actas retenidas (auténticas, no sumadas)",
            "Held actas (authentic, not counted)",
        ),
        "conflicts" => ("Actas en conflicto", "Conflicting actas"),
        "below" => ("Por área", "By area"),
        "tables" => ("Mesas", "Tables"),
        "table" => ("Mesa", "Table"),
        "log" => ("Registro público", "Public log"),
        "check" => ("Verificar un acta en papel", "Check a paper acta"),
        "search" => ("Buscar mesa o centro", "Search a table or center"),
        "no-acta" => ("Sin acta en el registro", "No acta in the log"),
        "counted" => ("Sumada", "Counted"),
        "held-one" => ("Retenida: no se suma", "Held: not counted"),
        "signature" => (
            "Firmada por la máquina certificada",
            "Signed by the certified machine",
        ),
        "proof" => ("Incluida en el registro", "Included in the log"),
        "security" => ("Código de seguridad", "Security code"),
        "alarms" => ("Alarmas de la máquina", "Machine alarms"),
        "printed" => ("Acta impresa", "Printed acta"),
        "checkpoint" => ("Punto de control", "Checkpoint"),
        "witnesses" => ("Cosignado por los testigos", "Cosigned by the witnesses"),
        "announcements" => ("Anuncios", "Announcements"),
        "matches" => (
            "coincide con las actas del registro",
            "matches the actas in the log",
        ),
        "differs" => (
            "NO coincide con las actas del registro",
            "does NOT match the actas in the log",
        ),
        "paste" => (
            "Pegue el texto de los QR, o suba una foto del acta impresa",
            "Paste the QR text, or upload a photo of the printed acta",
        ),
        "verify" => ("Verificar", "Verify"),
        "in-log" => (
            "Está en el registro, sin alteración",
            "It is in the log, unaltered",
        ),
        "absent" => (
            "Auténtica pero AUSENTE del registro",
            "Authentic but ABSENT from the log",
        ),
        "altered" => (
            "NO auténtica: alterada o no firmada por la máquina de la mesa",
            "NOT authentic: altered or not signed by the table's machine",
        ),
        "conflict" => (
            "Auténtica, registrada como acta en conflicto",
            "Authentic, logged as a conflicting acta",
        ),
        "unreadable" => ("No se pudo leer", "Could not be read"),
        "other-lang" => ("English", "Español"),
        "none" => ("ninguno", "none"),
        "audit" => ("Auditoría", "Audit"),
        "forensics" => ("Forense", "Forensics"),
        "forensics-title" => ("Pruebas forenses: mesas a inspeccionar", "Forensic screens: tables to inspect"),
        "no-audit" => ("Ninguna auditoría en el registro", "No audit in the log"),
        "hand-count" => ("Conteo manual de los comprobantes", "Hand count of the receipts"),
        "receipts" => ("comprobantes", "receipts"),
        "acta-says" => ("Acta", "Acta"),
        "hand" => ("Conteo manual", "Hand count"),
        "difference" => ("Diferencia", "Difference"),
        "disputed" => ("Pasos de auditoría que el registro no respalda", "Audit steps the log does not bear out"),
        "risk" => ("Riesgo medido", "Measured risk"),
        "verdict" => ("Resultado", "Verdict"),
        "contest" => ("Contienda", "Contest"),
        "seed" => ("Semilla pública", "Public seed"),
        "awaiting" => ("Mesas sorteadas por contar", "Tables drawn, to be counted"),
        "record" => ("Registrar el conteo manual", "Record the hand count"),
        "token" => ("Clave de la junta auditora", "Audit board's token"),
        "recorded" => ("Conteo registrado en el registro público, entrada", "Count recorded in the public log, entry"),
        "rederived" => (
            "Cada paso (manifiesto, semilla, sorteo, conteos, riesgo) fue recalculado a partir del registro por este sitio",
            "Every step (manifest, seed, draws, counts, risk) was re-derived from the log by this site",
        ),
        _ => ("?", "?"),
    };
    match lang {
        Lang::Es => es,
        Lang::En => en,
    }
}

fn lang_code(lang: Lang) -> &'static str {
    match lang {
        Lang::Es => "es",
        Lang::En => "en",
    }
}

fn other(lang: Lang) -> &'static str {
    match lang {
        Lang::Es => "en",
        Lang::En => "es",
    }
}

const CSS: &str = r#"
body{font:17px/1.45 system-ui,sans-serif;margin:0;color:#111;background:#fafafa}
header{background:#123;color:#fff;padding:.6em 1em}header a{color:#fd0}
main{max-width:70em;margin:auto;padding:.5em 1em}
h1{font-size:1.5em;margin:.3em 0}h2{font-size:1.2em;margin:1em 0 .3em}
nav a{margin-right:1em}
.bar{background:#ddd;height:1.1em;position:relative;min-width:12em}
.bar span{display:block;height:100%;background:#2a6}
table{border-collapse:collapse;width:100%}td,th{padding:.25em .5em;border-bottom:1px solid #ccc;text-align:left;vertical-align:top}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.ok{background:#e3f6e3;border-left:6px solid #2a6;padding:.5em}
.bad{background:#fde2e2;border-left:6px solid #c22;padding:.5em}
.warn{background:#fff3d6;border-left:6px solid #d90;padding:.5em}
pre{background:#fff;border:1px solid #ccc;padding:.5em;overflow-x:auto;font-size:.85em}
@media (max-width:600px){body{font-size:15px}.bar{min-width:2.5em}td,th{padding:.2em .2em}
header form{display:block;margin:.4em 0 0 0!important}header input{width:100%;box-sizing:border-box}
nav a{display:inline-block;margin:.1em .6em .1em 0}pre{font-size:.7em}main{padding:.3em .5em}}
"#;

const LIVE: &str = r#"(()=>{let n=null;setInterval(async()=>{try{const s=await (await fetch('/size')).text();if(n!==null&&s!==n)location.reload();n=s;}catch(e){}},10000);})();"#;

fn layout(s: &Snapshot, lang: Lang, title: &str, here: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(lang_code(lang)) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " — " (s.election.name) }
                style { (PreEscaped(CSS)) }
            }
            body {
                header {
                    strong { (s.election.name) } " · "
                    nav style="display:inline" {
                        a href={ "/?lang=" (lang_code(lang)) } { (t(lang, "results")) }
                        a href={ "/log?lang=" (lang_code(lang)) } { (t(lang, "log")) }
                        a href={ "/audit?lang=" (lang_code(lang)) } { (t(lang, "audit")) }
                        a href={ "/forensics?lang=" (lang_code(lang)) } { (t(lang, "forensics")) }
                        a href={ "/check?lang=" (lang_code(lang)) } { (t(lang, "check")) }
                        a href="/export/err.json" title="NIST SP 1500-100" { "JSON" }
                        a href="/export/err.xml" title="NIST SP 1500-100" { "XML" }
                        a href="/export/tables.csv" { "CSV" }
                        a href={ (here) (if here.contains('?') { "&" } else { "?" }) "lang=" (other(lang)) } { (t(lang, "other-lang")) }
                    }
                    form action="/search" method="get" style="display:inline;margin-left:1em" {
                        input type="hidden" name="lang" value=(lang_code(lang));
                        input type="search" name="q" placeholder=(t(lang, "search")) aria-label=(t(lang, "search"));
                    }
                }
                main { (body) }
                script { (PreEscaped(LIVE)) }
            }
        }
    }
}

fn pct(n: u64, d: u64) -> String {
    if d == 0 {
        return "0.00 %".into();
    }
    format!("{:.2} %", n as f64 * 100.0 / d as f64)
}

fn party(e: &Election, id: &str) -> String {
    e.parties
        .iter()
        .find(|p| p.id == id)
        .map_or(id.to_string(), |p| p.name.clone())
}

/// The words for a choice code: candidate and card, option, or list.
pub(crate) fn label(e: &Election, c: &Contest, choice: &str) -> String {
    match c.kind {
        Kind::Plurality => {
            let (cand, card) = choice.split_once('/').unwrap_or((choice, ""));
            let name = c
                .candidates
                .iter()
                .find(|x| x.id == cand)
                .map_or(cand, |x| x.name.as_str());
            format!("{name} ({})", party(e, card))
        }
        Kind::PartyList => party(e, choice),
        _ => choice.to_string(),
    }
}

/// The tables of an area, and the registered voters there.
fn area_tables<'e>(e: &'e Election, code: &str) -> impl Iterator<Item = &'e acta_election::Table> {
    let code = code.to_string();
    e.tables
        .iter()
        .filter(move |t| acta_verify::ledger::in_area(&t.id, &code))
}

/// A row of a contest: the key its seats are under, its label, its votes,
/// and (a candidate's) the votes of each card beneath.
type Row = (String, String, u64, Vec<(String, u64)>);

/// One contest's figures. A plurality contest shows each candidate's total
/// (the sum of their cards, as the winners are decided) with the votes of
/// each card beneath; lists and options show one row each. Seats and
/// winners are derived with the package's method.
fn contest_block(s: &Snapshot, c: &Contest, sums: &Sums, code: &str, lang: Lang) -> Markup {
    // Seats and winners are a property of the contest's whole scope: shown
    // on that page only, and called final only once every table of the
    // scope has reported.
    let at_scope = c.scope == code;
    let in_scope = s
        .election
        .tables
        .iter()
        .filter(|t| c.applies_to(&t.id))
        .count() as u64;
    let complete = sums.tables >= in_scope;
    let empty = Default::default();
    let votes = sums.votes.get(&c.id).unwrap_or(&empty);
    let choices = c.choices();
    let of = |ch: &str| votes.get(ch).copied().unwrap_or(0);
    let valid: u64 = choices.iter().map(|ch| of(ch)).sum();
    let pairs: Vec<(String, u64)> = choices.iter().map(|ch| (ch.clone(), of(ch))).collect();
    let seats = acta_election::seats(c, &pairs);
    let mut rows: Vec<Row> = match c.kind {
        Kind::Plurality => c
            .candidates
            .iter()
            .map(|cand| {
                let cards: Vec<(String, u64)> = cand
                    .cards
                    .iter()
                    .map(|card| (party(&s.election, card), of(&format!("{}/{card}", cand.id))))
                    .collect();
                let total = cards.iter().map(|x| x.1).sum();
                (cand.id.clone(), cand.name.clone(), total, cards)
            })
            .collect(),
        _ => choices
            .iter()
            .map(|ch| (ch.clone(), label(&s.election, c, ch), of(ch), Vec::new()))
            .collect(),
    };
    rows.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
    let share = |n: u64| {
        if valid == 0 {
            0.0
        } else {
            n as f64 * 100.0 / valid as f64
        }
    };
    html! {
        section.contest {
            h2 { (c.name) }
            table {
                @for (key, name, n, cards) in &rows {
                    tr {
                        td { strong { (name) } }
                        td.n { (acta_verify::thousands(*n)) }
                        td.n { (pct(*n, valid)) }
                        td { div.bar { span style={ "width:" (share(*n)) "%" } {} } }
                        td {
                            @if at_scope {
                                @if let Some((_, k)) = seats.iter().find(|(x, k)| x == key && *k > 0) {
                                    @if c.kind == Kind::PartyList {
                                        (k) " " (t(lang, "seats")) @if !complete { " (" (t(lang, "provisional")) ")" }
                                    } @else if complete {
                                        strong.winner { (t(lang, "winner")) }
                                    } @else {
                                        em.leading { (t(lang, "leading")) }
                                    }
                                }
                            }
                        }
                    }
                    @if cards.len() > 1 {
                        @for (card, v) in cards {
                            tr.card { td style="padding-left:2em;color:#555" { (card) } td.n style="color:#555" { (acta_verify::thousands(*v)) } td {} td {} td {} }
                        }
                    }
                }
                tr { td { (t(lang, "blank")) } td.n { (acta_verify::thousands(of("(blank)"))) } td {} td {} td {} }
                tr { td { (t(lang, "null")) } td.n { (acta_verify::thousands(of("(null)"))) } td {} td {} td {} }
            }
        }
    }
}

/// The national page (`code` empty) or an area's: totals per contest, the
/// tables reported, held and conflicting actas, and the level below.
pub(crate) fn area(s: &Snapshot, code: &str, lang: Lang) -> Markup {
    let e = &s.election;
    let empty = Sums::default();
    let sums = s.sums.get(code).unwrap_or(&empty);
    let tables: Vec<_> = area_tables(e, code).collect();
    let registered: u64 = tables.iter().map(|t| u64::from(t.registered)).sum();
    let name = if code.is_empty() {
        t(lang, "country").to_string()
    } else {
        format!("{} ({code})", e.area_name(code).unwrap_or(code))
    };
    let held: Vec<_> = s
        .ledger
        .held
        .iter()
        .filter(|h| acta_verify::ledger::in_area(&h.table, code))
        .collect();
    let conflicts: Vec<&acta_election::Table> = tables
        .iter()
        .copied()
        .filter(|t| {
            acta_verify::ledger::table_index(e, &t.id).is_some_and(|i| !s.conflicts(i).is_empty())
        })
        .collect();
    let contests: Vec<&Contest> = e
        .contests
        .iter()
        .filter(|c| sums.votes.contains_key(&c.id))
        .collect();
    // The level below: areas whose parent is this one, or the tables.
    let children: Vec<&acta_election::Area> = e
        .areas
        .iter()
        .filter(|a| {
            let parent = a.code.rsplit_once('.').map_or("", |(p, _)| p);
            parent == code
        })
        .collect();
    let here = if code.is_empty() {
        "/".to_string()
    } else {
        format!("/area/{code}")
    };
    // The areas enclosing this one (a child code's ancestors, this one last).
    let probe = format!("{code}.x");
    let ancestors: Vec<&str> = if code.is_empty() {
        Vec::new()
    } else {
        Level::ancestors(&probe)
    };
    let body = html! {
        @if !code.is_empty() {
            p {
                a href={ "/?lang=" (lang_code(lang)) } { (t(lang, "country")) }
                @for a in &ancestors { @if *a != code { " › " a href={ "/area/" (a) "?lang=" (lang_code(lang)) } { (e.area_name(a).unwrap_or(a)) } } }
            }
        }
        h1 #title { (name) }
        p #reported {
            strong { (acta_verify::thousands(sums.tables)) " " (t(lang, "of")) " " (acta_verify::thousands(tables.len() as u64)) } " " (t(lang, "reported")) ", "
            (pct(sums.registered, registered)) " " (t(lang, "registered")) ". "
            (t(lang, "turnout")) ": " (pct(sums.ballots, sums.registered)) ". "
            (t(lang, "checkpoint")) " " (s.checkpoint.size) "."
        }
        @if !held.is_empty() {
            div.warn #held {
                strong { (t(lang, "held")) ": " (held.len()) }
                ul { @for h in held.iter().take(50) { li { a href={ "/table/" (h.table) "?lang=" (lang_code(lang)) } { (h.table) } " — " (h.reasons.join("; ")) } } }
            }
        }
        @if !conflicts.is_empty() {
            div.bad #conflicts {
                strong { (t(lang, "conflicts")) ": " (conflicts.len()) }
                ul { @for c in conflicts.iter().take(50) { li { a href={ "/table/" (c.id) "?lang=" (lang_code(lang)) } { (c.id) } } } }
            }
        }
        @for c in &contests { (contest_block(s, c, sums, code, lang)) }
        h2 { @if children.is_empty() { (t(lang, "tables")) } @else { (t(lang, "below")) } }
        table #below {
            @if children.is_empty() {
                @for tb in &tables {
                    @let i = acta_verify::ledger::table_index(e, &tb.id);
                    @let facts = i.map(|i| &s.ledger.tables[i]);
                    tr {
                        td { a href={ "/table/" (tb.id) "?lang=" (lang_code(lang)) } { (tb.id) } }
                        td.n { (tb.registered) }
                        td { @match facts.and_then(|f| f.acta.as_ref()) {
                            None => { (t(lang, "no-acta")) }
                            Some(a) if a.counted.is_some() => { (t(lang, "counted")) }
                            Some(_) => { strong { (t(lang, "held-one")) } }
                        } }
                    }
                }
            } @else {
                @for a in &children {
                    @let sa = s.sums.get(&a.code).unwrap_or(&empty);
                    @let n = area_tables(e, &a.code).count() as u64;
                    tr {
                        td { a href={ "/area/" (a.code) "?lang=" (lang_code(lang)) } { (a.name) } }
                        td.n { (acta_verify::thousands(sa.tables)) " / " (acta_verify::thousands(n)) }
                        td.n { (pct(sa.ballots, sa.registered)) }
                    }
                }
            }
        }
    };
    layout(s, lang, &name, &here, body)
}

/// One table: its acta as text and as printed, signature and proof, hold
/// reasons, conflicts and alarms.
pub(crate) fn table(s: &Snapshot, i: usize, lang: Lang) -> Markup {
    let e = &s.election;
    let tb = &e.tables[i];
    let facts = &s.ledger.tables[i];
    let here = format!("/table/{}", tb.id);
    // The entry the ledger names, shown only if it is this table's acta
    // with the body the ledger recorded.
    let acta = facts.acta.as_ref().and_then(|a| {
        let bytes = s.entry(a.index)?;
        let opened = Acta::open(&bytes, e).ok()?;
        (opened.acta.table == tb.id && acta_sheet::body_hash(&opened.acta.to_text()) == a.body)
            .then_some((a, bytes, opened))
    });
    let unavailable = acta.is_none() && facts.acta.is_some();
    let held = s.ledger.held.iter().find(|h| h.table == tb.id);
    let ancestors = Level::ancestors(&tb.id);
    let body = html! {
        p {
            a href={ "/?lang=" (lang_code(lang)) } { (t(lang, "country")) }
            @for a in &ancestors { " › " a href={ "/area/" (a) "?lang=" (lang_code(lang)) } { (e.area_name(a).unwrap_or(a)) } }
        }
        h1 #title { (t(lang, "table")) " " (tb.id) }
        p { (t(lang, "registered")) ": " (tb.registered) " · " (t(lang, "machine")) " " (tb.machine) }
        @match &acta {
            None if unavailable => { p.bad #status { (t(lang, "unavailable")) } }
            None => { p.warn #status { (t(lang, "no-acta")) } }
            Some((a, bytes, opened)) => {
                @if let Some(h) = held {
                    div.warn #status { strong { (t(lang, "held-one")) } ul { @for r in &h.reasons { li { (r) } } } }
                } @else {
                    p.ok #status { (t(lang, "counted")) }
                }
                ul {
                    li { (t(lang, "signature")) " ✔ (" (tb.key) ")" }
                    li #proof {
                        @match s.proof(a.index) {
                            Some(p) => { (t(lang, "proof")) " ✔ — " (t(lang, "index")) " " (a.index) ", " (t(lang, "checkpoint")) " " (s.checkpoint.size) ", " (p.len()) " " (t(lang, "hashes")) }
                            None => { strong { (t(lang, "no-proof")) } }
                        }
                    }
                    li { (t(lang, "security")) ": " strong #code { (acta_sheet::security_code(bytes)) } }
                }
                @let conflicting = s.conflicts(i);
                @if !conflicting.is_empty() {
                    div.bad #conflict {
                        strong { (t(lang, "conflicts")) ": " }
                        @for idx in &conflicting { (t(lang, "index")) " " (idx) " " }
                    }
                }
                h2 { (t(lang, "alarms")) }
                p #alarms {
                    @let raised: Vec<String> = ALARMS.iter().filter(|x| opened.acta.alarms[x.index()] > 0).map(|x| format!("{} ×{}", x.name(), opened.acta.alarms[x.index()])).collect();
                    @if raised.is_empty() { (t(lang, "none")) } @else { (raised.join(", ")) }
                }
                h2 { "Acta" }
                table {
                    @for cc in &opened.acta.contests {
                        @if let Some(c) = e.contest(&cc.contest) {
                            tr { th colspan="2" { (c.name) } }
                            @for (ch, n) in &cc.votes { tr { td { (label(e, c, ch)) } td.n { (n) } } }
                            tr { td { (t(lang, "blank")) } td.n { (cc.blank) } }
                            tr { td { (t(lang, "null")) } td.n { (cc.null) } }
                        }
                    }
                }
                @if let Some(counts) = s.hand_counts.get(&tb.id) {
                    @for h in counts {
                        h2 #hand-count { (t(lang, "hand-count")) " — " (t(lang, "audit")) " " (h.audit) " (" (h.receipts) " " (t(lang, "receipts")) ")" }
                        table.hand {
                            tr { th { } th { (t(lang, "acta-says")) } th { (t(lang, "hand")) } th { (t(lang, "difference")) } }
                            @for hc in &h.contests {
                                @if let (Some(c), Some(cc)) = (e.contest(&hc.contest), opened.acta.contests.iter().find(|x| x.contest == hc.contest)) {
                                    tr { th colspan="4" { (c.name) } }
                                    @for (ch, n) in &hc.votes {
                                        @let a = cc.votes.iter().find(|(k, _)| k == ch).map_or(0, |(_, v)| u64::from(*v));
                                        tr class=(if a == *n { "" } else { "bad" }) { td { (label(e, c, ch)) } td.n { (a) } td.n { (n) } td.n { (*n as i64 - a as i64) } }
                                    }
                                    tr { td { (t(lang, "blank")) } td.n { (cc.blank) } td.n { (hc.blank) } td.n { (hc.blank as i64 - i64::from(cc.blank)) } }
                                    tr { td { (t(lang, "null")) } td.n { (cc.null) } td.n { (hc.null) } td.n { (hc.null as i64 - i64::from(cc.null)) } }
                                }
                            }
                        }
                    }
                }
                pre #acta-text { (String::from_utf8_lossy(bytes)) }
                h2 { (t(lang, "printed")) }
                p { a href={ "/table/" (tb.id) "/acta.note" } { "acta.note" } }
                img #printed src={ "/table/" (tb.id) "/acta.png" } alt=(t(lang, "printed")) style="max-width:100%;border:1px solid #ccc";
                p { (t(lang, "opened")) " " (time::format(opened.acta.opened)) " · " (t(lang, "closed")) " " (time::format(opened.acta.closed)) }
            }
        }
    };
    layout(
        s,
        lang,
        &format!("{} {}", t(lang, "table"), tb.id),
        &here,
        body,
    )
}

/// The log: the checkpoint with its cosignatures, and every announcement
/// held against the log.
pub(crate) fn log(s: &Snapshot, lang: Lang) -> Markup {
    let body = html! {
        h1 { (t(lang, "log")) }
        h2 { (t(lang, "checkpoint")) }
        pre #checkpoint { (s.checkpoint_note) }
        p #cosigners { (t(lang, "witnesses")) ": "
            @if s.cosigners.is_empty() { (t(lang, "none")) } @else { (s.cosigners.join(", ")) }
            " (" (s.election.witness_quorum) " " (t(lang, "required")) ")" }
        h2 { (t(lang, "announcements")) }
        @if s.announcements.is_empty() { p { (t(lang, "none")) } }
        @for a in &s.announcements {
            @if a.differences.is_empty() {
                div.ok.announcement { (t(lang, "index")) " " (a.index) ": " (t(lang, "matches")) }
            } @else {
                div.bad.announcement { (t(lang, "index")) " " (a.index) ": " strong { (t(lang, "differs")) }
                    ul { @for d in &a.differences { li { (d) } } } }
            }
            pre { (a.note) }
        }
    };
    layout(s, lang, t(lang, "log"), "/log", body)
}

/// The audits in the log, each re-derived from it: status, per-contest
/// risk, the public seed, and every step the log does not bear out.
pub(crate) fn audit(s: &Snapshot, lang: Lang, desk: bool) -> Markup {
    let body = html! {
        h1 { (t(lang, "audit")) }
        @if !s.audit_disputes.is_empty() {
            div.bad #disputes { strong { (t(lang, "disputed")) } ul { @for d in &s.audit_disputes { li { (d) } } } }
        }
        @if s.audits.is_empty() { p #no-audit { (t(lang, "no-audit")) } }
        @for a in &s.audits {
            h2 { (t(lang, "audit")) " " (a.audit) }
            @let confirmed = a.status.starts_with("outcome confirmed");
            @let ended = confirmed || a.status.starts_with("full hand count");
            div class={ (if confirmed { "ok" } else if ended { "bad" } else { "warn" }) " audit-status" } { strong { (a.status) } }
            p {
                (t(lang, "checkpoint")) " " (a.checkpoint) " · " (t(lang, "index")) " " (a.manifest_index)
                " · α = " (a.risk_limit)
                " · " (t(lang, "seed")) ": " code { (a.seed.as_deref().unwrap_or("—")) }
                " · " (a.rounds) " × · " (a.tables_counted) "/" (a.tables_drawn) " " (t(lang, "tables"))
            }
            table {
                tr { th { (t(lang, "contest")) } th { (t(lang, "risk")) } th { (t(lang, "verdict")) } }
                @for c in &a.contests {
                    tr { td { (s.election.contest(&c.contest).map_or(c.contest.as_str(), |k| k.name.as_str())) } td.n { (c.risk) } td { (c.verdict) } }
                }
            }
            p { small { (t(lang, "rederived")) "." } }
            @if desk {
                @if let Some((_, tables)) = s.awaiting.iter().find(|(n, _)| *n == a.audit) {
                    h2 { (t(lang, "awaiting")) }
                    ul #awaiting {
                        @for tb in tables {
                            li { a href={ "/audit/record?audit=" (a.audit) "&table=" (tb) "&lang=" (lang_code(lang)) } { (tb) } }
                        }
                    }
                }
            }
            p {
                @for (table, hs) in &s.hand_counts {
                    @if hs.iter().any(|h| h.audit == a.audit) {
                        a href={ "/table/" (table) "?lang=" (lang_code(lang)) "#hand-count" } { (table) } " "
                    }
                }
            }
        }
    };
    layout(s, lang, t(lang, "audit"), "/audit", body)
}

/// The contests and choice codes of a table's counted acta, as its hand
/// count must give them.
pub(crate) fn count_shape(s: &Snapshot, table: &str) -> Option<Vec<(String, Vec<String>)>> {
    let i = acta_verify::ledger::table_index(&s.election, table)?;
    let fig = s.ledger.tables[i].acta.as_ref()?.counted.as_ref()?;
    Some(
        fig.votes_map(&s.election, table)
            .into_iter()
            .map(|(c, v)| (c, v.into_keys().filter(|k| !k.starts_with('(')).collect()))
            .collect(),
    )
}

/// The hand-count form of a drawn table (the site of the authority's audit
/// desk only): the receipts in the box, then per contest of its acta every
/// choice, blank and null.
pub(crate) fn record_form(
    s: &Snapshot,
    audit: &str,
    table: &str,
    lang: Lang,
    error: Option<String>,
) -> Option<Markup> {
    let shape = count_shape(s, table)?;
    let e = &s.election;
    let body = html! {
        h1 { (t(lang, "record")) }
        p { (t(lang, "audit")) " " strong #audit { (audit) } " · " (t(lang, "table")) " " a href={ "/table/" (table) } { strong #table { (table) } } }
        @if let Some(err) = &error { p.bad #error { (err) } }
        form method="post" action={ "/audit/record?lang=" (lang_code(lang)) } {
            input type="hidden" name="audit" value=(audit);
            input type="hidden" name="table" value=(table);
            table {
                tr { td { label for="receipts" { (t(lang, "receipts")) } } td { input #receipts type="number" min="0" name="receipts" required; } }
                @for (contest, choices) in &shape {
                    @if let Some(c) = e.contest(contest) {
                        tr { th colspan="2" { (c.name) } }
                        @for ch in choices {
                            tr { td { (label(e, c, ch)) } td { input type="number" min="0" required name={ "v|" (contest) "|" (ch) }; } }
                        }
                        tr { td { (t(lang, "blank")) } td { input type="number" min="0" required name={ "b|" (contest) }; } }
                        tr { td { (t(lang, "null")) } td { input type="number" min="0" required name={ "n|" (contest) }; } }
                    }
                }
                tr { td { label for="token" { (t(lang, "token")) } } td { input #token type="password" name="token" required autocomplete="off"; } }
            }
            button #record type="submit" { (t(lang, "record")) }
        }
    };
    Some(layout(s, lang, t(lang, "record"), "/audit", body))
}

/// The answer once the desk logged a count.
pub(crate) fn recorded(s: &Snapshot, audit: &str, table: &str, index: u64, lang: Lang) -> Markup {
    let body = html! {
        h1 { (t(lang, "record")) }
        p.ok #recorded { (t(lang, "audit")) " " (audit) " · " (t(lang, "table")) " " (table) ": " (t(lang, "recorded")) " " (index) }
        p { a href={ "/audit?lang=" (lang_code(lang)) } { (t(lang, "audit")) } }
    };
    layout(s, lang, t(lang, "record"), "/audit", body)
}

/// Search by table id or area / voting-center name.
pub(crate) fn search(s: &Snapshot, q: &str, lang: Lang) -> Response {
    let q = q.trim();
    let needle = q.to_lowercase();
    let tables: Vec<&str> = if q.is_empty() {
        Vec::new()
    } else {
        s.election
            .tables
            .iter()
            .filter(|t| t.id.starts_with(q))
            .take(50)
            .map(|t| t.id.as_str())
            .collect()
    };
    let areas: Vec<&acta_election::Area> = if needle.len() < 2 {
        Vec::new()
    } else {
        s.election
            .areas
            .iter()
            .filter(|a| a.name.to_lowercase().contains(&needle) || a.code == q)
            .take(50)
            .collect()
    };
    let body = html! {
        h1 { (t(lang, "search")) ": " (q) }
        ul #found {
            @for a in &areas { li { a href={ "/area/" (a.code) "?lang=" (lang_code(lang)) } { (a.name) " (" (a.code) ")" } } }
            @for id in &tables { li { a href={ "/table/" (id) "?lang=" (lang_code(lang)) } { (id) } } }
        }
    };
    Html(layout(s, lang, t(lang, "search"), "/search", body).into_string()).into_response()
}

/// The paper check form, and its answer.
pub(crate) fn check(outcome: Option<Result<PaperCheck, String>>, lang: Lang) -> Response {
    let body = html! {
        (DOCTYPE)
        html lang=(lang_code(lang)) {
            head { meta charset="utf-8"; meta name="viewport" content="width=device-width, initial-scale=1"; title { (t(lang, "check")) } style { (PreEscaped(CSS)) } }
            body { main {
                p { a href={ "/?lang=" (lang_code(lang)) } { (t(lang, "results")) } }
                h1 { (t(lang, "check")) }
                @if let Some(o) = &outcome {
                    @match o {
                        Ok(c) => {
                            @let (class, what) = match c.status {
                                PaperStatus::InLog => ("ok", t(lang, "in-log")),
                                PaperStatus::Conflict => ("warn", t(lang, "conflict")),
                                PaperStatus::Absent => ("bad", t(lang, "absent")),
                                _ => ("bad", t(lang, "altered")),
                            };
                            div class=(class) #verdict { strong { (what) } @if !c.table.is_empty() { " — " (t(lang, "table")) " " a href={ "/table/" (c.table) "?lang=" (lang_code(lang)) } { (c.table) } } p { (c.detail) } }
                        }
                        Err(e) => { div.bad #verdict { strong { (t(lang, "unreadable")) } p { (e) } } }
                    }
                }
                form method="post" enctype="multipart/form-data" action={ "/check?lang=" (lang_code(lang)) } {
                    p { (t(lang, "paste")) }
                    textarea name="text" rows="8" style="width:100%" {}
                    p { input type="file" name="photo" accept="image/png"; }
                    button #verify type="submit" { (t(lang, "verify")) }
                }
            } }
        }
    };
    Html(body.into_string()).into_response()
}

/// The forensic screens over the verified actas (and the journals, when
/// the site has them): the report's section with its charts, each flagged
/// table linked to its page; while they are being computed, a page that
/// says so and reloads itself.
pub(crate) fn forensics(s: &Snapshot, lang: Lang, view: crate::ScreensView) -> Markup {
    use crate::ScreensView;
    let code = lang_code(lang);
    let body = html! {
        h1 { (t(lang, "forensics-title")) }
        @match &view {
            ScreensView::Ready(size, r, stale) => {
                @if *stale {
                    p.note { "These screens are of the log at " (size) " entries; those of the checkpoint shown are being computed." }
                    meta http-equiv="refresh" content="10";
                }
                style { (PreEscaped(FORENSICS_CSS)) }
                (acta_forensics::chart::section(r, &|id| Some(format!("/table/{id}?lang={code}"))))
            }
            ScreensView::Failed(e) => {
                p { (e) }
            }
            ScreensView::Computing => {
                meta http-equiv="refresh" content="3";
                p id="computing" { "The screens are being computed for this checkpoint; this page reloads by itself." }
            }
        }
    };
    layout(s, lang, t(lang, "forensics"), "/forensics", body)
}

const FORENSICS_CSS: &str = ".forensics table{border-collapse:collapse;margin:1em 0}.forensics td,.forensics th{border:1px solid #ccc;padding:.3em .5em;text-align:left;vertical-align:top;font-size:.85em}.forensics tr.flagged td{background:#fff1e0}.forensics .charts{display:flex;flex-wrap:wrap;gap:1em}.forensics figure{margin:0}.forensics .caveat{font-style:italic}";
