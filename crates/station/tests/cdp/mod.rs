//! Just enough of the Chrome DevTools Protocol to drive a real headless
//! Chromium through pages: navigate, run a script, wait for the next page,
//! take a screenshot. One page, one WebSocket, synchronous.

use std::io::{BufRead, BufReader, Read};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;

use crate::http::get;
use serde_json::{json, Value};

pub fn chromium() -> PathBuf {
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        if let Ok(o) = Command::new("which").arg(name).output() {
            if o.status.success() {
                return PathBuf::from(String::from_utf8_lossy(&o.stdout).trim());
            }
        }
    }
    panic!("no headless Chromium on PATH: run the tests through scripts/test, which installs it");
}

pub struct Browser {
    child: Child,
    ws: tungstenite::WebSocket<TcpStream>,
    next: u64,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Browser {
    pub fn launch() -> Browser {
        let profile = tempfile::tempdir().unwrap();
        let mut child = Command::new(chromium())
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--no-first-run",
                "--remote-debugging-port=0",
                "--window-size=1100,1400",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let mut err = BufReader::new(child.stderr.take().unwrap());
        let mut port = None;
        let mut line = String::new();
        while err.read_line(&mut line).unwrap() > 0 {
            if let Some(at) = line.find("ws://127.0.0.1:") {
                let rest = &line[at + "ws://127.0.0.1:".len()..];
                port = Some(rest[..rest.find('/').unwrap()].to_string());
                break;
            }
            line.clear();
        }
        // Keep draining Chromium's stderr so it never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut sink = Vec::new();
            let _ = err.read_to_end(&mut sink);
        });
        let addr = format!("127.0.0.1:{}", port.expect("Chromium's DevTools address"));
        let (_, list) = get(&addr, "/json/list");
        let targets: Value = serde_json::from_slice(&list).unwrap();
        let url = targets
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["type"] == "page")
            .unwrap()["webSocketDebuggerUrl"]
            .as_str()
            .unwrap()
            .to_string();
        let stream = TcpStream::connect(&addr).unwrap();
        let (ws, _) = tungstenite::client(url.as_str(), stream).unwrap();
        Browser {
            child,
            ws,
            next: 1,
            _profile: profile,
        }
    }

    fn try_call(&mut self, method: &str, params: Value) -> Result<Value, Value> {
        let id = self.next;
        self.next += 1;
        let msg = json!({ "id": id, "method": method, "params": params }).to_string();
        self.ws.send(tungstenite::Message::text(msg)).unwrap();
        loop {
            let m = self.ws.read().unwrap();
            let tungstenite::Message::Text(t) = m else {
                continue;
            };
            let v: Value = serde_json::from_str(t.as_str()).unwrap();
            if v["id"] == id {
                return match v.get("error") {
                    Some(e) => Err(e.clone()),
                    None => Ok(v["result"].clone()),
                };
            }
        }
    }

    fn call(&mut self, method: &str, params: Value) -> Value {
        self.try_call(method, params)
            .unwrap_or_else(|e| panic!("{method}: {e}"))
    }

    /// Runs `js` in the page and returns its value; `None` if the page
    /// navigated away while it ran.
    fn try_eval(&mut self, js: &str) -> Option<Value> {
        let r = self
            .try_call(
                "Runtime.evaluate",
                json!({ "expression": js, "returnByValue": true, "awaitPromise": true }),
            )
            .ok()?;
        assert!(r.get("exceptionDetails").is_none(), "{js}: {r}");
        Some(r["result"]["value"].clone())
    }

    /// Runs `js` in the page and returns its value.
    pub fn eval(&mut self, js: &str) -> Value {
        self.try_eval(js)
            .unwrap_or_else(|| panic!("the page navigated while running {js}"))
    }

    fn wait_loaded(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let v =
                self.try_eval("window.__stale === undefined && document.readyState === 'complete'");
            if v == Some(json!(true)) {
                return;
            }
            assert!(Instant::now() < deadline, "the page never loaded");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn goto(&mut self, url: &str) {
        self.eval("window.__stale = true");
        self.call("Page.navigate", json!({ "url": url }));
        self.wait_loaded();
    }

    /// Runs `js` that submits a form or follows a link, and waits for the
    /// next page.
    pub fn submit(&mut self, js: &str) {
        // The click may navigate before the evaluation answers.
        let _ = self.try_eval(&format!("window.__stale = true; {js}"));
        self.wait_loaded();
    }

    pub fn text(&mut self, selector: &str) -> String {
        self.eval(&format!(
            "(document.querySelector({selector:?}) || {{innerText: ''}}).innerText"
        ))
        .as_str()
        .unwrap_or("")
        .to_string()
    }

    /// Saves a PNG screenshot of the page and returns its pixels.
    pub fn screenshot(&mut self, dir: &Path, name: &str) -> image::RgbImage {
        let r = self.call(
            "Page.captureScreenshot",
            json!({ "format": "png", "captureBeyondViewport": true }),
        );
        let png = base64::engine::general_purpose::STANDARD
            .decode(r["data"].as_str().unwrap())
            .unwrap();
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), &png).unwrap();
        image::load_from_memory(&png).unwrap().to_rgb8()
    }
}
