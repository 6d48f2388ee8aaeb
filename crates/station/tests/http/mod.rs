//! A plain HTTP/1.1 client for loopback tests: enough to read pages and
//! post forms, with no client library between the test and the server.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// A GET on loopback, returning the status and the body bytes.
pub fn get(addr: &str, path: &str) -> (u16, Vec<u8>) {
    request(addr, "GET", path, "", "")
}

/// Posts a URL-encoded form; a redirect is returned as is, not followed.
#[allow(dead_code)]
pub fn post(addr: &str, path: &str, form: &str) -> (u16, String) {
    post_from(addr, path, form, None)
}

/// Posts a form as a page of `origin` would.
#[allow(dead_code)]
pub fn post_from(addr: &str, path: &str, form: &str, origin: Option<&str>) -> (u16, String) {
    let extra = origin.map_or(String::new(), |o| format!("Origin: {o}\r\n"));
    let (status, body) = request(addr, "POST", path, form, &extra);
    (status, String::from_utf8(body).unwrap())
}

/// One request (`Connection: close`); the body is read by
/// `Content-Length`, by chunks, or to the end.
fn request(addr: &str, method: &str, path: &str, form: &str, extra: &str) -> (u16, Vec<u8>) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\n{extra}Content-Length: {}\r\n\r\n{form}",
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
#[allow(dead_code)]
pub fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
