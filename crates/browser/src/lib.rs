//! Test support for acta's pages and screens: a real headless Chromium
//! (Debian's `chromium`, which `scripts/test` installs) driven over the
//! Chrome DevTools Protocol — navigate, run a script, wait for the next
//! page, take a screenshot — and a plain HTTP/1.1 client for loopback
//! servers, with no client library between a test and the server it tests.
//! One page, one WebSocket, synchronous. Used by tests only.
#![forbid(unsafe_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{json, Value};

/// Where a test writes its screenshots: `target/screenshots/`.
pub fn screenshots() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots")
}

/// How many pixels of `img` are close to `rgb`.
pub fn near(img: &image::RgbImage, rgb: [u8; 3]) -> usize {
    img.pixels()
        .filter(|p| p.0.iter().zip(rgb).all(|(a, b)| a.abs_diff(b) < 30))
        .count()
}

/// The Chromium binary on PATH.
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

/// A headless Chromium with one page.
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
    /// Starts Chromium with its DevTools on a free port and attaches to its page.
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

    /// Opens `url` and waits until it has loaded.
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

    /// The visible text of the first element matching `selector`.
    pub fn text(&mut self, selector: &str) -> String {
        self.eval(&format!(
            "(document.querySelector({selector:?}) || {{innerText: ''}}).innerText"
        ))
        .as_str()
        .unwrap_or("")
        .to_string()
    }

    /// Makes the page a phone's: 390 × 844 CSS pixels, touch, mobile.
    pub fn phone(&mut self) {
        self.call(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": true }),
        );
        self.call(
            "Emulation.setTouchEmulationEnabled",
            json!({ "enabled": true }),
        );
    }

    /// Puts the file at `path` into the file input matching `selector`.
    pub fn upload(&mut self, selector: &str, path: &Path) {
        let doc = self.call("DOM.getDocument", json!({}));
        let root = doc["root"]["nodeId"].clone();
        let node = self.call(
            "DOM.querySelector",
            json!({ "nodeId": root, "selector": selector }),
        );
        self.call(
            "DOM.setFileInputFiles",
            json!({ "files": [path.display().to_string()], "nodeId": node["nodeId"] }),
        );
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

/// A GET on loopback, returning the status and the body bytes.
pub fn get(addr: &str, path: &str) -> (u16, Vec<u8>) {
    request(addr, "GET", path, "", "")
}

/// Posts a URL-encoded form; a redirect is returned as is, not followed.
pub fn post(addr: &str, path: &str, form: &str) -> (u16, String) {
    post_from(addr, path, form, None)
}

/// Posts a form as a page of `origin` would.
pub fn post_from(addr: &str, path: &str, form: &str, origin: Option<&str>) -> (u16, String) {
    let extra = origin.map_or(String::new(), |o| format!("Origin: {o}\r\n"));
    let (status, body) = request(addr, "POST", path, form, &extra);
    (status, String::from_utf8(body).unwrap())
}

/// One request (`Connection: close`); the body is read by
/// `Content-Length`, by chunks, or to the end.
fn request(addr: &str, method: &str, path: &str, form: &str, extra: &str) -> (u16, Vec<u8>) {
    request_as(
        addr,
        method,
        path,
        "application/x-www-form-urlencoded",
        form,
        extra,
    )
}

/// Posts a multipart form (`text` fields only), as a browser would.
pub fn post_multipart(addr: &str, path: &str, fields: &[(&str, &str)]) -> (u16, String) {
    let boundary = "acta-test-boundary-7MA4YWxkTrZu0gW";
    let mut body = String::new();
    for (name, value) in fields {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    let ty = format!("multipart/form-data; boundary={boundary}");
    let (status, b) = request_as(addr, "POST", path, &ty, &body, "");
    (status, String::from_utf8(b).unwrap())
}

fn request_as(
    addr: &str,
    method: &str,
    path: &str,
    content_type: &str,
    form: &str,
    extra: &str,
) -> (u16, Vec<u8>) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: {content_type}\r\n{extra}Content-Length: {}\r\n\r\n{form}",
        form.len()
    )
    .unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 65536];
    let at = loop {
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        let n = s.read(&mut chunk).unwrap();
        assert!(n > 0, "connection closed before the headers");
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..at]).to_ascii_lowercase();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let mut body = buf[at + 4..].to_vec();
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map(|v| v.trim().parse::<usize>().unwrap());
    match length {
        Some(len) => {
            while body.len() < len {
                let n = s.read(&mut chunk).unwrap();
                assert!(n > 0, "connection closed inside the body");
                body.extend_from_slice(&chunk[..n]);
            }
        }
        None => {
            s.read_to_end(&mut body).unwrap();
        }
    }
    if head.contains("transfer-encoding: chunked") {
        let mut out = Vec::new();
        let mut rest = &body[..];
        loop {
            let nl = rest.windows(2).position(|w| w == b"\r\n").unwrap();
            let n = usize::from_str_radix(std::str::from_utf8(&rest[..nl]).unwrap().trim(), 16)
                .unwrap();
            if n == 0 {
                break;
            }
            out.extend_from_slice(&rest[nl + 2..nl + 2 + n]);
            rest = &rest[nl + 2 + n + 2..];
        }
        body = out;
    }
    (status, body)
}

/// Percent-encodes a form value.
pub fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
