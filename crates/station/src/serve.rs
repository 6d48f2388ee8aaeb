//! `acta station serve`: the table's machine with its two screens, served on
//! the machine itself (SYSTEM.md §3–§7).
//!
//! - `/` is the poll-worker screen: open the table (the zero report prints),
//!   authenticate each voter, see alarms as they are raised, close the
//!   table, print the actas, follow the transmission.
//! - `/vote` is the voter screen: the ballot, a review, a confirmation and
//!   the receipt. It shows nothing of any earlier voter, every page is sent
//!   `no-store`, and the receipt is the answer to the confirming POST, so
//!   nothing the voter saw can be fetched again from the poll-worker side.
//!
//! Pages are server-rendered HTML (maud) and work without script; about a
//! kilobyte of script keeps the poll-worker counters live and counts marks
//! in vote-for-N contests. Labels are in Spanish and English (`?lang=`).
//!
//! A ballot is unlocked for one voter by a one-time token carried through
//! the ballot, the review and the confirmation: a second click on "confirm"
//! is answered "already recorded" and never reaches the station, so it can
//! neither count twice nor raise the ballots-exceed-authenticated alarm,
//! which is kept for a real ballot without a voter.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use acta_election::{time, Contest, Election, Kind};
use acta_sheet::journal::{Report, Transmission};
use acta_sheet::ALARMS;
use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use maud::{html, Markup, PreEscaped, DOCTYPE};
use serde::Deserialize;

use crate::{Error, Mark, Phase, Station};

/// The machine's clock.
#[derive(Debug, Clone)]
pub enum Clock {
    /// The system clock; a jump of the wall clock against the monotonic
    /// clock by more than a minute raises the clock-jump alarm.
    System,
    /// A clock that starts at `start` and runs `speed` times as fast as the
    /// real one (demonstrations and tests of a whole day).
    Simulated {
        /// Machine time at the start of the process.
        start: u64,
        /// Machine seconds per real second.
        speed: u32,
    },
    /// A clock set by hand through the shared cell (rehearsals and tests
    /// that must put an event at an exact time, or turn the clock back).
    Manual(Arc<AtomicU64>),
}

struct Timer {
    clock: Clock,
    began: Instant,
    wall_at_start: u64,
}

/// How far the wall clock may drift from the monotonic clock before the
/// station calls it a jump.
pub const JUMP_SECONDS: u64 = 60;

fn wall() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Timer {
    /// The machine time now, and a jump if the wall clock moved away from
    /// the monotonic clock since the last reading.
    fn read(&mut self) -> (u64, Option<String>) {
        self.read_at(wall())
    }

    /// [`Timer::read`] with the wall clock reading `now_wall`.
    fn read_at(&mut self, now_wall: u64) -> (u64, Option<String>) {
        match &self.clock {
            Clock::Manual(cell) => (cell.load(Ordering::SeqCst), None),
            Clock::Simulated { start, speed } => (
                start + self.began.elapsed().as_secs() * u64::from((*speed).max(1)),
                None,
            ),
            Clock::System => {
                let now = now_wall;
                let expected = self.wall_at_start + self.began.elapsed().as_secs();
                let jump = (now.abs_diff(expected) > JUMP_SECONDS).then(|| {
                    format!(
                        "wall clock at {} where {} was expected",
                        time::format(now),
                        time::format(expected)
                    )
                });
                if jump.is_some() {
                    self.began = Instant::now();
                    self.wall_at_start = now;
                }
                (now, jump)
            }
        }
    }
}

/// Labels in the two languages.
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
        "title" => ("Máquina de votación", "Voting machine"),
        "table" => ("Mesa", "Table"),
        "machine" => ("Máquina", "Machine"),
        "registered" => ("Electores inscritos", "Registered voters"),
        "authenticated" => ("Electores identificados", "Voters authenticated"),
        "overrides" => ("Con código de excepción", "With an override code"),
        "ballots" => ("Votos emitidos", "Ballots cast"),
        "alarms" => ("Alarmas", "Alarms"),
        "no-alarms" => ("Ninguna alarma", "No alarm"),
        "ready" => ("Mesa lista para abrir", "Table ready to open"),
        "open" => ("Mesa abierta", "Table open"),
        "closed" => ("Mesa cerrada", "Table closed"),
        "open-button" => (
            "Abrir la mesa e imprimir el acta de inicio",
            "Open the table and print the zero report",
        ),
        "voter-id" => ("Cédula del elector", "Voter id"),
        "reading" => (
            "Lectura biométrica (del captahuellas)",
            "Biometric reading (from the scanner)",
        ),
        "code" => (
            "Código de excepción (sólo si la huella no coincide)",
            "Override code (only if the fingerprint does not match)",
        ),
        "authenticate" => ("Identificar", "Authenticate"),
        "unlocked" => (
            "Voto desbloqueado: el elector puede votar en la pantalla de votación.",
            "Ballot unlocked: the voter may vote at the voter screen.",
        ),
        "left" => (
            "El elector se retiró sin votar",
            "The voter left without voting",
        ),
        "close-button" => (
            "Cerrar la mesa e imprimir las actas",
            "Close the table and print the actas",
        ),
        "close-confirm" => (
            "¿Cerrar la mesa? No se podrá votar más.",
            "Close the table? No one can vote after this.",
        ),
        "prints" => ("Impresos", "Printouts"),
        "zero" => ("Acta de inicio", "Zero report"),
        "acta" => ("Acta de escrutinio", "Tally sheet (acta)"),
        "journal" => ("Bitácora", "Journal"),
        "cvr" => ("Registros de votos (NIST CVR)", "Ballot records (NIST CVR)"),
        "transmission" => ("Transmisión", "Transmission"),
        "not-sent" => ("pendiente", "pending"),
        "attempt" => ("intento", "attempt"),
        "failed" => ("falló", "failed"),
        "logged" => ("registrada en el índice", "logged at index"),
        "no-center" => (
            "sin centro configurado: entregue el acta impresa (QR) a un testigo",
            "no center configured: hand the printed acta (QR) to a witness",
        ),
        "wait" => (
            "Espere a que el miembro de mesa lo identifique.",
            "Please wait for the poll worker to authenticate you.",
        ),
        "ballot" => ("Su boleta", "Your ballot"),
        "choose-one" => ("Elija una opción", "Choose one"),
        "choose-n" => ("Elija hasta", "Choose up to"),
        "blank" => ("En blanco (ninguna opción)", "Blank (no choice)"),
        "null" => (
            "Anular mi voto en esta elección",
            "Void my vote in this contest",
        ),
        "review" => ("Revisar mi voto", "Review my vote"),
        "summary" => ("Revise su voto", "Review your vote"),
        "change" => ("Cambiar", "Change"),
        "confirm" => ("Confirmar y votar", "Confirm and vote"),
        "blank-short" => ("En blanco", "Blank"),
        "null-short" => ("Nulo", "Void"),
        "recorded" => (
            "Su voto fue registrado. Tome su comprobante y deposítelo en la caja.",
            "Your vote is recorded. Take your receipt and put it in the box.",
        ),
        "already" => (
            "Este voto ya fue registrado.",
            "This ballot was already recorded.",
        ),
        "cancelled" => (
            "El miembro de mesa canceló esta boleta.",
            "The poll worker cancelled this ballot.",
        ),
        "marked" => ("marcadas", "marked"),
        "yes" => ("Sí", "Yes"),
        "no" => ("No", "No"),
        "other-lang" => ("English", "Español"),
        "in-progress" => (
            "La boleta ya está abierta en la pantalla de votación.",
            "The ballot is already open on the voter screen.",
        ),
        "expired" => (
            "Esta boleta ya no es válida: toque aquí para empezar de nuevo.",
            "This ballot is no longer valid: start again.",
        ),
        "voter-screen" => ("Pantalla del elector", "Voter screen"),
        "schedule" => ("Horario", "Schedule"),
        _ => ("?", "?"),
    };
    match lang {
        Lang::Es => es,
        Lang::En => en,
    }
}

fn other(lang: Lang) -> &'static str {
    match lang {
        Lang::Es => "en",
        Lang::En => "es",
    }
}

/// Why a poll-worker action was refused, in words, or that it succeeded.
#[derive(Debug, Clone)]
struct Flash {
    good: bool,
    text: String,
}

fn refusal(lang: Lang, e: &Error) -> String {
    match (lang, e) {
        (Lang::Es, Error::NotOnRoll(v)) => {
            format!("Rechazado: {v} no está en el registro de esta mesa.")
        }
        (Lang::Es, Error::AlreadyVoted(v)) => format!("Rechazado: {v} ya votó en esta mesa."),
        (Lang::Es, Error::BiometricMismatch(v)) => format!(
            "La huella no coincide con {v}: hace falta un código de excepción de un solo uso."
        ),
        (Lang::Es, Error::BadOverride) => {
            "Rechazado: el código de excepción no es válido o ya se usó.".into()
        }
        (Lang::Es, Error::OutsideSchedule { opens, closes }) => {
            format!("Rechazado: fuera del horario ({opens} a {closes}); queda en la bitácora.")
        }
        (Lang::Es, Error::Sequence(m)) if m.starts_with("the previous") => {
            "Rechazado: el elector anterior aún no ha votado.".into()
        }
        (Lang::Es, Error::Sequence(_)) => {
            "Rechazado: ningún elector identificado está esperando para votar.".into()
        }
        (Lang::Es, Error::Phase(p)) => format!(
            "Rechazado: la mesa está {}.",
            match *p {
                "closed" => "cerrada",
                "not open yet" => "sin abrir",
                _ => "en otro estado",
            }
        ),
        (_, e) => format!("Refused: {e}."),
    }
}

struct Inner {
    station: Station,
    election: Election,
    timer: Timer,
    flash: Option<Flash>,
    /// The token of the ballot unlocked for the waiting voter.
    token: Option<String>,
    /// The token was handed to a screen.
    handed: bool,
    used: HashSet<String>,
    cancelled: HashSet<String>,
}

/// The served station, shared by the screens and the outbox.
#[derive(Clone)]
pub struct App {
    inner: Arc<Mutex<Inner>>,
    center: Option<String>,
}

/// What `acta station serve` is given.
#[derive(Debug, Clone)]
pub struct Config {
    /// The station directory (made by `acta station init`).
    pub dir: PathBuf,
    /// The center to transmit to, if any.
    pub center: Option<String>,
    /// The machine's clock.
    pub clock: Clock,
}

fn token() -> String {
    let mut b = [0u8; 16];
    getrandom::getrandom(&mut b).expect("operating system RNG");
    hex::encode(b)
}

impl App {
    /// Loads the station directory (raising the restart alarm after an
    /// unclean stop) and prepares the screens.
    pub fn load(config: &Config) -> Result<App, Error> {
        let mut timer = Timer {
            clock: config.clock.clone(),
            began: Instant::now(),
            wall_at_start: wall(),
        };
        let (now, _) = timer.read();
        let station = Station::load(&config.dir, now)?;
        let read = |n: &str| {
            std::fs::read(config.dir.join(n)).map_err(|e| crate::store::io(&config.dir.join(n), e))
        };
        let trust = acta_election::Trust::parse(&String::from_utf8_lossy(&read("trust.txt")?))
            .map_err(|e| Error::Provision(e.to_string()))?;
        let election = Election::open(&read("package.note")?, &trust)
            .map_err(|e| Error::Provision(e.to_string()))?;
        Ok(App {
            inner: Arc::new(Mutex::new(Inner {
                station,
                election,
                timer,
                flash: None,
                token: None,
                handed: false,
                used: HashSet::new(),
                cancelled: HashSet::new(),
            })),
            center: config.center.clone(),
        })
    }

    /// Runs `f` on the station with the machine time, after journaling a
    /// clock jump if the wall clock jumped.
    fn with<R>(&self, f: impl FnOnce(&mut Inner, u64) -> R) -> R {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let (now, jump) = g.timer.read();
        if let Some(j) = jump {
            let _ = g.station.clock_jumped(now, &j);
        }
        f(&mut g, now)
    }

    /// Runs `f` on the station with the machine time.
    pub fn station<R>(&self, f: impl FnOnce(&mut Station, u64) -> R) -> R {
        self.with(|i, now| f(&mut i.station, now))
    }

    /// The package the station runs.
    pub fn election(&self) -> Election {
        self.with(|i, _| i.election.clone())
    }

    /// The center, if transmission is configured.
    pub fn center(&self) -> Option<&str> {
        self.center.as_deref()
    }

    /// Stops cleanly.
    pub fn stop(self) -> Result<(), Error> {
        match Arc::try_unwrap(self.inner) {
            Ok(m) => m
                .into_inner()
                .unwrap_or_else(|p| p.into_inner())
                .station
                .stop(),
            Err(_) => Err(Error::Io("the station is still in use".into())),
        }
    }
}

/// The most a form may carry: a ballot is a few hundred bytes.
pub const MAX_FORM_BYTES: usize = 64 * 1024;

/// The poll-worker screen's router.
pub fn poll_worker_router(app: App) -> Router {
    Router::new()
        .route("/", get(poll_worker))
        .route("/open", post(open))
        .route("/authenticate", post(authenticate))
        .route("/leave", post(leave))
        .route("/close", post(close))
        .route("/status.json", get(status))
        .route("/print/{what}", get(print))
        .layer(axum::middleware::from_fn(same_origin))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_FORM_BYTES))
        .with_state(app)
}

/// The voter screen's router, served on a listener of its own so that the
/// poll-worker side has no route to it.
pub fn voter_router(app: App) -> Router {
    Router::new()
        .route("/vote", get(vote).post(vote_again))
        .route("/vote/review", post(review))
        .route("/vote/confirm", post(confirm))
        .layer(axum::middleware::from_fn(same_origin))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_FORM_BYTES))
        .with_state(app)
}

/// A form posted from another site (a page in the poll worker's browser,
/// DNS rebinding) is refused: its `Origin` must name this host.
async fn same_origin(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    if req.method() == axum::http::Method::POST {
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|v| v.to_str().ok());
        let origin = req
            .headers()
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok());
        if let Some(origin) = origin {
            let origin_host = origin.split("://").nth(1).unwrap_or("");
            if Some(origin_host) != host {
                return (StatusCode::FORBIDDEN, "cross-origin form refused").into_response();
            }
        }
    }
    next.run(req).await
}

#[derive(Deserialize, Default)]
struct LangQ {
    #[serde(default)]
    lang: Lang,
}

fn page(lang: Lang, title: &str, body: Markup) -> Response {
    let html = html! {
        (DOCTYPE)
        html lang=(match lang { Lang::Es => "es", Lang::En => "en" }) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                style { (PreEscaped(CSS)) }
            }
            body { (body) }
        }
    };
    let mut r = axum::response::Html(html.into_string()).into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

const CSS: &str = r#"
body{font:22px/1.4 system-ui,sans-serif;background:#000;color:#fff;margin:0;padding:1em}
main{max-width:60em;margin:auto}
h1{font-size:1.6em;margin:.2em 0}h2{font-size:1.25em;margin:.8em 0 .3em}
a{color:#ffd200}
.bar{display:flex;gap:1em;flex-wrap:wrap;align-items:baseline}
.phase{padding:.2em .6em;border:3px solid #fff;font-weight:bold}
.good{background:#063;border:3px solid #6f6;padding:.5em}
.bad{background:#600;border:3px solid #f66;padding:.5em}
.alarm{color:#f66;font-weight:bold}
table{border-collapse:collapse}td,th{border:2px solid #888;padding:.2em .6em;text-align:left}
label{display:block;margin:.3em 0}
input[type=text]{font:inherit;width:100%;max-width:30em;padding:.3em;background:#111;color:#fff;border:3px solid #fff}
button{font:inherit;font-weight:bold;padding:.5em 1em;margin:.4em 0;background:#ffd200;color:#000;border:3px solid #fff;min-height:2.5em}
button:focus,input:focus,.choice:focus-within{outline:5px solid #0af;outline-offset:2px}
fieldset{border:3px solid #888;margin:.8em 0;padding:.5em}
legend{font-weight:bold;font-size:1.15em}
.choice{display:flex;align-items:center;gap:.6em;border:2px solid #666;padding:.4em;margin:.3em 0;cursor:pointer}
.choice input{width:1.6em;height:1.6em}
.initials{display:inline-block;width:2.4em;height:2.4em;line-height:2.4em;text-align:center;border-radius:50%;background:#fff;color:#000;font-weight:bold}
.card{color:#ccc}
.receipt{background:#fff;padding:.5em;display:inline-block}
"#;

fn initials(name: &str) -> String {
    name.split_whitespace()
        .filter_map(|w| w.chars().next())
        .take(3)
        .collect::<String>()
        .to_uppercase()
}

fn party_name<'e>(e: &'e Election, id: &'e str) -> &'e str {
    e.parties
        .iter()
        .find(|p| p.id == id)
        .map_or(id, |p| p.name.as_str())
}

/// The words a voter sees for a choice code.
fn choice_label(lang: Lang, e: &Election, c: &Contest, code: &str) -> (String, String) {
    match c.kind {
        Kind::Plurality => {
            let (cand, card) = code.split_once('/').unwrap_or((code, ""));
            let name = c
                .candidates
                .iter()
                .find(|x| x.id == cand)
                .map_or(cand, |x| x.name.as_str());
            (name.to_string(), party_name(e, card).to_string())
        }
        Kind::Referendum => (
            match code {
                "YES" => t(lang, "yes"),
                "NO" => t(lang, "no"),
                o => o,
            }
            .to_string(),
            String::new(),
        ),
        _ => (party_name(e, code).to_string(), String::new()),
    }
}

async fn poll_worker(State(app): State<App>, Query(q): Query<LangQ>) -> Response {
    let lang = q.lang;
    app.with(|i, now| {
        let s = &i.station;
        let (auth, overrides) = s.authenticated();
        let flash = i.flash.take();
        let phase = s.phase();
        let (opens, closes) = s.schedule();
        let body = html! {
            main {
                div.bar {
                    h1 { (t(lang, "title")) " — " (t(lang, "table")) " " (s.table().id) }
                    span.phase #phase { (t(lang, match phase { Phase::Ready => "ready", Phase::Open => "open", Phase::Closed => "closed" })) }
                    a href={ "/?lang=" (other(lang)) } { (t(lang, "other-lang")) }
                }
                p { (t(lang, "machine")) " " (s.table().machine) " · " (s.election_id()) " · "
                    (t(lang, "schedule")) " " (time::format(opens)) " – " (time::format(closes))
                    " · " span #clock { (time::format(now)) } }
                @if let Some(f) = flash {
                    p #flash class=(if f.good { "good" } else { "bad" }) role="status" { (f.text) }
                }
                table {
                    tr { th { (t(lang, "registered")) } td { (s.table().registered) } }
                    tr { th { (t(lang, "authenticated")) } td #authenticated { (auth) } }
                    tr { th { (t(lang, "overrides")) } td #overrides { (overrides) } }
                    tr { th { (t(lang, "ballots")) } td #ballots { (s.ballots()) } }
                }
                h2 { (t(lang, "alarms")) }
                p #alarms { (alarm_text(lang, s.alarms())) }
                @match phase {
                    Phase::Ready => {
                        form method="post" action={ "/open?lang=" (lang_code(lang)) } {
                            button #open type="submit" { (t(lang, "open-button")) }
                        }
                    }
                    Phase::Open => {
                        @if s.voter_waiting() {
                            p.good #unlocked { (t(lang, "unlocked")) }
                            form method="post" action={ "/leave?lang=" (lang_code(lang)) } {
                                button #leave type="submit" { (t(lang, "left")) }
                            }
                        } @else {
                            form #auth method="post" action={ "/authenticate?lang=" (lang_code(lang)) } {
                                label { (t(lang, "voter-id")) input #voter type="text" name="voter" autocomplete="off" required autofocus; }
                                label { (t(lang, "reading")) input #reading type="text" name="reading" autocomplete="off" required; }
                                label { (t(lang, "code")) input #code type="text" name="code" autocomplete="off"; }
                                button #authenticate type="submit" { (t(lang, "authenticate")) }
                            }
                        }
                        form method="post" action={ "/close?lang=" (lang_code(lang)) }
                            onsubmit={ "return confirm('" (t(lang, "close-confirm")) "')" } {
                            button #close type="submit" { (t(lang, "close-button")) }
                        }
                    }
                    Phase::Closed => {}
                }
                @if phase != Phase::Ready {
                    h2 { (t(lang, "prints")) }
                    ul {
                        li { (t(lang, "zero")) ": " a #zero-png href="/print/zero.png" { "PNG" } " · " a href="/print/zero.svg" { "SVG" } }
                        @if phase == Phase::Closed {
                            li { (t(lang, "acta")) ": " a #acta-png href="/print/acta.png" { "PNG 80 mm" } " · "
                                a href="/print/acta.png?width=58" { "PNG 58 mm" } " · "
                                a #acta-svg href="/print/acta.svg" { "SVG" } " · " a href="/print/acta.note" { "acta.note" } }
                            li { a #journal href="/print/journal.log" { (t(lang, "journal")) } }
                            li { a #cvr href="/print/cvr.json" { (t(lang, "cvr")) } }
                        }
                    }
                    h2 { (t(lang, "transmission")) }
                    p #transmission { (transmission_text(lang, s, app.center.is_some())) }
                }
            }
            script { (PreEscaped(LIVE)) }
        };
        page(lang, t(lang, "title"), body)
    })
}

/// Keeps the poll-worker counters live without reloading the forms.
const LIVE: &str = r#"setInterval(async()=>{try{const r=await fetch('/status.json'+location.search);const s=await r.json();
for(const k of ['authenticated','overrides','ballots','alarms','transmission']){const e=document.getElementById(k);if(e&&e.textContent!==String(s[k]))e.textContent=s[k];}
const u=document.getElementById('unlocked');if(u&&!s.waiting)location.reload();}catch(e){}},2000);"#;

fn lang_code(lang: Lang) -> &'static str {
    match lang {
        Lang::Es => "es",
        Lang::En => "en",
    }
}

fn alarm_text(lang: Lang, alarms: [u32; 8]) -> String {
    let raised: Vec<String> = ALARMS
        .iter()
        .filter(|a| alarms[a.index()] > 0)
        .map(|a| format!("{} ×{}", a.name(), alarms[a.index()]))
        .collect();
    if raised.is_empty() {
        t(lang, "no-alarms").to_string()
    } else {
        raised.join(", ")
    }
}

fn transmission_text(lang: Lang, s: &Station, center: bool) -> String {
    if !center {
        return t(lang, "no-center").to_string();
    }
    [Report::Zero, Report::Acta]
        .iter()
        .filter(|r| matches!(r, Report::Zero) || s.phase() == Phase::Closed)
        .map(|r| {
            let name = t(lang, r.as_str());
            match s.transmission(*r) {
                None => format!("{name}: {}", t(lang, "not-sent")),
                Some(Transmission::Attempt(n)) => format!("{name}: {} {n}", t(lang, "attempt")),
                Some(Transmission::Failed(d)) => format!("{name}: {} ({d})", t(lang, "failed")),
                Some(Transmission::Logged(i)) => format!("{name}: {} {i}", t(lang, "logged")),
                Some(_) => name.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

fn back(lang: Lang) -> Redirect {
    Redirect::to(&format!("/?lang={}", lang_code(lang)))
}

async fn open(State(app): State<App>, Query(q): Query<LangQ>) -> Redirect {
    app.with(|i, now| {
        i.flash = Some(match i.station.open(now) {
            Ok(_) => Flash {
                good: true,
                text: match q.lang {
                    Lang::Es => "Mesa abierta; el acta de inicio está lista para imprimir.".into(),
                    Lang::En => "Table open; the zero report is ready to print.".into(),
                },
            },
            Err(e) => Flash {
                good: false,
                text: refusal(q.lang, &e),
            },
        });
    });
    back(q.lang)
}

#[derive(Deserialize)]
struct AuthForm {
    voter: String,
    reading: String,
    #[serde(default)]
    code: String,
}

async fn authenticate(
    State(app): State<App>,
    Query(q): Query<LangQ>,
    Form(f): Form<AuthForm>,
) -> Redirect {
    let lang = q.lang;
    app.with(|i, now| {
        let voter = f.voter.trim();
        let template = hex::decode(f.reading.trim())
            .ok()
            .and_then(|v| <[u8; 32]>::try_from(v).ok());
        let Some(template) = template else {
            i.flash = Some(Flash {
                good: false,
                text: match lang {
                    Lang::Es => "La lectura biométrica no es válida: léala de nuevo.".into(),
                    Lang::En => "The biometric reading is not valid: read it again.".into(),
                },
            });
            return;
        };
        let code = Some(f.code.trim()).filter(|c| !c.is_empty());
        i.flash = Some(match i.station.authenticate(now, voter, template, code) {
            Ok(()) => {
                i.token = Some(token());
                i.handed = false;
                Flash {
                    good: true,
                    text: match (lang, code.is_some()) {
                        (Lang::Es, false) => {
                            format!("{voter}: huella coincide. Voto desbloqueado.")
                        }
                        (Lang::Es, true) => format!(
                            "{voter}: identificado con código de excepción. Voto desbloqueado."
                        ),
                        (Lang::En, false) => {
                            format!("{voter}: fingerprint matches. Ballot unlocked.")
                        }
                        (Lang::En, true) => format!(
                            "{voter}: authenticated with an override code. Ballot unlocked."
                        ),
                    },
                }
            }
            Err(e) => Flash {
                good: false,
                text: refusal(lang, &e),
            },
        });
    });
    back(lang)
}

async fn leave(State(app): State<App>, Query(q): Query<LangQ>) -> Redirect {
    app.with(|i, now| {
        if i.station.abandon(now).is_ok() {
            if let Some(t) = i.token.take() {
                i.cancelled.insert(t);
            }
        }
    });
    back(q.lang)
}

async fn close(State(app): State<App>, Query(q): Query<LangQ>) -> Redirect {
    app.with(|i, now| {
        if let Some(t) = i.token.take() {
            i.cancelled.insert(t);
        }
        i.flash = Some(match i.station.close(now) {
            Ok(acta) => Flash {
                good: true,
                text: format!(
                    "{} · {}",
                    match q.lang {
                        Lang::Es => "Mesa cerrada; las actas están listas para imprimir",
                        Lang::En => "Table closed; the actas are ready to print",
                    },
                    acta_sheet::security_code(acta.as_bytes())
                ),
            },
            Err(e) => Flash {
                good: false,
                text: refusal(q.lang, &e),
            },
        });
    });
    back(q.lang)
}

async fn status(State(app): State<App>, Query(q): Query<LangQ>) -> Response {
    let center = app.center.is_some();
    app.with(|i, now| {
        let s = &i.station;
        let (auth, overrides) = s.authenticated();
        axum::Json(serde_json::json!({
            "now": time::format(now),
            "phase": s.phase(),
            "waiting": s.voter_waiting(),
            "authenticated": auth,
            "overrides": overrides,
            "ballots": s.ballots(),
            "alarms": alarm_text(q.lang, s.alarms()),
            "transmission": transmission_text(q.lang, s, center),
        }))
        .into_response()
    })
}

#[derive(Deserialize, Default)]
struct PrintQ {
    width: Option<u32>,
}

async fn print(
    State(app): State<App>,
    axum::extract::Path(what): axum::extract::Path<String>,
    Query(q): Query<PrintQ>,
) -> Response {
    let width = if q.width == Some(58) {
        acta_paper::Width::Mm58
    } else {
        acta_paper::Width::Mm80
    };
    app.with(|i, _| {
        let s = &i.station;
        let closed = s.phase() == Phase::Closed;
        let not_yet = || (StatusCode::NOT_FOUND, "not printed yet").into_response();
        let png = |b: Vec<u8>| ([(header::CONTENT_TYPE, "image/png")], b).into_response();
        let svg = |b: String| ([(header::CONTENT_TYPE, "image/svg+xml")], b).into_response();
        let text =
            |b: String| ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], b).into_response();
        let failed = |e: String| (StatusCode::INTERNAL_SERVER_ERROR, e).into_response();
        match what.as_str() {
            "zero.png" | "zero.svg" | "zero.note" => {
                let Some(z) = s.zero_report() else {
                    return not_yet();
                };
                if what == "zero.note" {
                    return text(z);
                }
                match acta_paper::zero_report(z.as_bytes(), width) {
                    Ok(p) if what == "zero.png" => png(p.png),
                    Ok(p) => svg(p.svg),
                    Err(e) => failed(e.to_string()),
                }
            }
            "acta.png" | "acta.svg" | "acta.note" if closed => {
                let a = s.signed_acta().expect("closed");
                if what == "acta.note" {
                    return text(a);
                }
                match acta_paper::acta(a.as_bytes(), Some(&i.election), width) {
                    Ok(p) if what == "acta.png" => png(p.png),
                    Ok(p) => svg(p.svg),
                    Err(e) => failed(e.to_string()),
                }
            }
            "journal.log" if closed => text(s.journal_text()),
            "cvr.json" if closed => {
                match acta_export::cvr::cvr_report(&i.election, &s.table().id, s.records()) {
                    Ok(v) => axum::Json(v).into_response(),
                    Err(e) => failed(e.to_string()),
                }
            }
            _ => not_yet(),
        }
    })
}

/// The voter's choices as the forms carry them: `c:<contest>` once per
/// marked choice, `null:<contest>` to void a contest.
fn marks_of(ballot: &[Contest], form: &[(String, String)]) -> Vec<Mark> {
    ballot
        .iter()
        .map(|c| {
            if form
                .iter()
                .any(|(k, v)| k == &format!("null:{}", c.id) && v == "1")
            {
                return Mark::Null;
            }
            let chosen: Vec<String> = form
                .iter()
                .filter(|(k, v)| k == &format!("c:{}", c.id) && !v.is_empty())
                .map(|(_, v)| v.clone())
                .collect();
            if chosen.is_empty() {
                Mark::Blank
            } else {
                Mark::Choices(chosen)
            }
        })
        .collect()
}

fn field<'f>(form: &'f [(String, String)], key: &str) -> Option<&'f str> {
    form.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

fn ballot_form(
    lang: Lang,
    e: &Election,
    ballot: &[Contest],
    marks: &[Mark],
    tok: &str,
    error: Option<String>,
) -> Markup {
    html! {
        main {
            div.bar { h1 { (t(lang, "ballot")) } a href={ "/vote?lang=" (other(lang)) } { (t(lang, "other-lang")) } }
            @if let Some(err) = error { p.bad role="alert" { (err) } }
            form #ballot method="post" action={ "/vote/review?lang=" (lang_code(lang)) } {
                input type="hidden" name="token" value=(tok);
                @for (c, m) in ballot.iter().zip(marks) {
                    fieldset data-max=(c.max_marks()) {
                        legend { (c.name) " — "
                            @if c.max_marks() == 1 { (t(lang, "choose-one")) } @else { (t(lang, "choose-n")) " " (c.max_marks()) " · " span.count { "0" } " " (t(lang, "marked")) } }
                        @let picked = |code: &str| matches!(m, Mark::Choices(v) if v.iter().any(|x| x == code));
                        @if c.max_marks() == 1 {
                            label.choice { input type="radio" name={ "c:" (c.id) } value="" checked[matches!(m, Mark::Blank)]; (t(lang, "blank")) }
                        }
                        @for code in c.choices() {
                            @let (name, card) = choice_label(lang, e, c, &code);
                            label.choice {
                                input type=(if c.max_marks() == 1 { "radio" } else { "checkbox" }) name={ "c:" (c.id) } value=(code) checked[picked(&code)];
                                span.initials aria-hidden="true" { (initials(&name)) }
                                span { strong { (name) } @if !card.is_empty() { " " span.card { "(" (card) ")" } } }
                            }
                        }
                        label.choice { input type="checkbox" name={ "null:" (c.id) } value="1" checked[matches!(m, Mark::Null)]; (t(lang, "null")) }
                    }
                }
                button #review type="submit" { (t(lang, "review")) }
            }
        }
        script { (PreEscaped(COUNTER)) }
    }
}

/// Counts marks in vote-for-N contests and stops a mark beyond N.
const COUNTER: &str = r#"for(const f of document.querySelectorAll('fieldset[data-max]')){const max=+f.dataset.max;if(max<2)continue;
const boxes=[...f.querySelectorAll('input[type=checkbox][name^="c:"]')];const upd=()=>{const n=boxes.filter(b=>b.checked).length;f.querySelector('.count').textContent=n;for(const b of boxes)b.disabled=!b.checked&&n>=max;};
boxes.forEach(b=>b.addEventListener('change',upd));upd();}"#;

fn wait_page(lang: Lang, msg: &str) -> Response {
    let body = html! {
        main {
            div.bar { h1 { (t(lang, "voter-screen")) } a href={ "/vote?lang=" (other(lang)) } { (t(lang, "other-lang")) } }
            p #wait { (msg) }
        }
        meta http-equiv="refresh" content="3";
    };
    page(lang, t(lang, "voter-screen"), body)
}

async fn vote(State(app): State<App>, Query(q): Query<LangQ>) -> Response {
    show_ballot(&app, q.lang, &[])
}

async fn vote_again(
    State(app): State<App>,
    Query(q): Query<LangQ>,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    show_ballot(&app, q.lang, &f)
}

/// The ballot, to whoever asks first after an authentication (the voter
/// screen): the token is handed out once. "Change" on the review page must
/// carry it back.
fn show_ballot(app: &App, lang: Lang, form: &[(String, String)]) -> Response {
    app.with(|i, _| {
        if !i.station.voter_waiting() || i.station.phase() != Phase::Open {
            return wait_page(lang, t(lang, "wait"));
        }
        let tok = match (&i.token, field(form, "token")) {
            (Some(t), Some(sent)) if t == sent => t.clone(),
            (Some(_), _) if i.handed => return wait_page(lang, t(lang, "in-progress")),
            _ => {
                i.handed = true;
                i.token.get_or_insert_with(token).clone()
            }
        };
        let marks = marks_of(i.station.ballot(), form);
        let body = ballot_form(lang, &i.election, i.station.ballot(), &marks, &tok, None);
        page(lang, t(lang, "ballot"), body)
    })
}

async fn review(
    State(app): State<App>,
    Query(q): Query<LangQ>,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let lang = q.lang;
    app.with(|i, _| {
        let tok = field(&f, "token").unwrap_or("");
        if !i.station.voter_waiting() || i.token.as_deref() != Some(tok) {
            return wait_page(lang, t(lang, "wait"));
        }
        let marks = marks_of(i.station.ballot(), &f);
        if let Err(e) = i.station.record(&marks) {
            let body = ballot_form(lang, &i.election, i.station.ballot(), &marks, tok, Some(e.to_string()));
            return page(lang, t(lang, "ballot"), body);
        }
        let hidden: Vec<(String, String)> = f.iter().filter(|(k, _)| k != "token").cloned().collect();
        let body = html! {
            main {
                h1 { (t(lang, "summary")) }
                table #summary {
                    @for (c, m) in i.station.ballot().iter().zip(&marks) {
                        tr { th { (c.name) } td {
                            @match m {
                                Mark::Blank => { (t(lang, "blank-short")) }
                                Mark::Null => { (t(lang, "null-short")) }
                                Mark::Choices(v) => {
                                    @for (n, code) in v.iter().enumerate() {
                                        @let (name, card) = choice_label(lang, &i.election, c, code);
                                        @if n > 0 { br; }
                                        (name) @if !card.is_empty() { " (" (card) ")" }
                                    }
                                }
                            }
                        } }
                    }
                }
                div.bar {
                    form method="post" action={ "/vote?lang=" (lang_code(lang)) } {
                        input type="hidden" name="token" value=(tok);
                        @for (k, v) in &hidden { input type="hidden" name=(k) value=(v); }
                        button #change type="submit" { (t(lang, "change")) }
                    }
                    form method="post" action={ "/vote/confirm?lang=" (lang_code(lang)) } {
                        input type="hidden" name="token" value=(tok);
                        @for (k, v) in &hidden { input type="hidden" name=(k) value=(v); }
                        button #confirm type="submit" { (t(lang, "confirm")) }
                    }
                }
            }
        };
        page(lang, t(lang, "summary"), body)
    })
}

async fn confirm(
    State(app): State<App>,
    Query(q): Query<LangQ>,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let lang = q.lang;
    app.with(|i, now| {
        let tok = field(&f, "token").unwrap_or("").to_string();
        if i.used.contains(&tok) {
            return wait_page(lang, t(lang, "already"));
        }
        if i.cancelled.contains(&tok) {
            return wait_page(lang, t(lang, "cancelled"));
        }
        if i.station.voter_waiting() && i.token.as_deref() != Some(tok.as_str()) {
            // A ballot from before a restart, or a token never handed out:
            // counts nothing, and hands out nothing.
            return wait_page(lang, t(lang, "expired"));
        }
        // Either the waiting voter's ballot, or a ballot with no voter: the
        // station counts the first and raises its alarm for the second.
        let marks = marks_of(i.station.ballot(), &f);
        match i.station.cast(now, &marks) {
            Ok(record) => {
                i.token = None;
                i.used.insert(tok);
                let receipt =
                    acta_paper::receipt(&record, Some(&i.election), acta_paper::Width::Mm80)
                        .map(|p| p.svg)
                        .unwrap_or_default();
                let body = html! {
                    main {
                        h1 #recorded { (t(lang, "recorded")) }
                        div.receipt { (PreEscaped(receipt)) }
                    }
                    meta http-equiv="refresh" content={ "20;url=/vote?lang=" (lang_code(lang)) };
                };
                page(lang, t(lang, "recorded"), body)
            }
            Err(e) => {
                let body = html! { main { p.bad role="alert" { (refusal(lang, &e)) } } };
                let mut r = page(lang, t(lang, "ballot"), body);
                *r.status_mut() = StatusCode::CONFLICT;
                r
            }
        }
    })
}

/// Serves the poll-worker screen on `poll_worker` and the voter screen on
/// `voter` until `shutdown` resolves, with the outbox transmitting to the
/// center if one is configured.
pub async fn serve(
    app: App,
    poll_worker: tokio::net::TcpListener,
    voter: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let outbox = app
        .center
        .clone()
        .map(|c| tokio::spawn(crate::outbox::run(app.clone(), c)));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut s1 = stopped.clone();
    let mut s2 = stopped;
    let a = axum::serve(poll_worker, poll_worker_router(app.clone())).with_graceful_shutdown(
        async move {
            let _ = s1.wait_for(|v| *v).await;
        },
    );
    let b = axum::serve(voter, voter_router(app.clone())).with_graceful_shutdown(async move {
        let _ = s2.wait_for(|v| *v).await;
    });
    let trigger = async move {
        shutdown.await;
        let _ = stop.send(true);
    };
    let (r1, r2, ()) = tokio::join!(
        std::future::IntoFuture::into_future(a),
        std::future::IntoFuture::into_future(b),
        trigger
    );
    if let Some(o) = outbox {
        o.abort();
        let _ = o.await;
    }
    r1.and(r2)
}

/// How long the outbox waits before attempt `n` (1-based): exponential from
/// one second to a minute, each wait drawn between half and all of its cap.
pub fn backoff(n: u32) -> Duration {
    let cap = 1000u64 << n.saturating_sub(1).min(6);
    let cap = cap.min(60_000);
    let mut b = [0u8; 8];
    getrandom::getrandom(&mut b).expect("operating system RNG");
    Duration::from_millis(cap / 2 + u64::from_le_bytes(b) % (cap / 2 + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The wall clock set forward or back by more than a minute against the
    /// monotonic clock is a jump; a second later it is not again.
    #[test]
    fn a_wall_clock_jump_is_seen() {
        let start = 1_796_000_000;
        let mut t = Timer {
            clock: Clock::System,
            began: Instant::now(),
            wall_at_start: start,
        };
        assert_eq!(t.read_at(start + 1), (start + 1, None));
        let (now, jump) = t.read_at(start + 3600);
        assert_eq!(now, start + 3600);
        assert!(jump.unwrap().contains("was expected"));
        assert_eq!(t.read_at(start + 3601).1, None, "the new baseline holds");
        assert!(t.read_at(start - 600).1.is_some(), "a jump back too");
    }
}
