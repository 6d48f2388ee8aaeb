//! The observer's HTML report in a real headless Chromium: the page of a
//! clean election and of a lie are rendered to screenshots, and the
//! screenshots must show what the page says — the verdict's colour at the
//! top, and a page that is not blank. The screenshots are kept under
//! `target/screenshots/` for a person to look at.

use std::path::{Path, PathBuf};
use std::process::Command;

fn chromium() -> PathBuf {
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        if let Ok(o) = Command::new("which").arg(name).output() {
            if o.status.success() {
                return PathBuf::from(String::from_utf8_lossy(&o.stdout).trim());
            }
        }
    }
    panic!("no headless Chromium on PATH: run the tests through scripts/test, which installs it");
}

fn demo(out: &Path, extra: &[&str]) {
    let o = Command::new(env!("CARGO_BIN_EXE_acta"))
        .args(["demo", "--tables", "20", "--out"])
        .arg(out)
        .args(extra)
        .output()
        .unwrap();
    assert!(
        o.status.code().is_some_and(|c| c <= 1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Renders `page` to a PNG in `target/screenshots/<name>.png`.
fn screenshot(page: &Path, name: &str) -> image::RgbImage {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    let png = dir.join(format!("{name}.png"));
    let _ = std::fs::remove_file(&png);
    let profile = tempfile::tempdir().unwrap();
    let o = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg("--window-size=1280,900")
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    assert!(
        png.exists(),
        "no screenshot: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    image::open(&png).unwrap().to_rgb8()
}

/// How many pixels of the top band are close to `rgb`.
fn near(img: &image::RgbImage, rgb: [u8; 3], rows: u32) -> usize {
    img.rows()
        .take(rows as usize)
        .flatten()
        .filter(|p| p.0.iter().zip(rgb).all(|(a, b)| a.abs_diff(b) < 40))
        .count()
}

#[test]
fn the_report_page_shows_its_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let (clean, lie) = (dir.path().join("clean"), dir.path().join("lie"));
    demo(&clean, &[]);
    demo(&lie, &["--tamper", "inflate-turnout=1000"]);

    let ok = screenshot(
        &clean.join("observer-report.html"),
        "observer-report-consistent",
    );
    let bad = screenshot(
        &lie.join("observer-report.html"),
        "observer-report-discrepancies",
    );
    for img in [&ok, &bad] {
        assert_eq!((img.width(), img.height()), (1280, 900));
        let white = near(img, [255, 255, 255], 900);
        assert!(white < (1280 * 900) as usize, "the page is not blank");
    }
    // The heading: green for consistent (#0a5c2b), red for discrepancies (#aa0000).
    let (green, red) = ([0x0a, 0x5c, 0x2b], [0xaa, 0x00, 0x00]);
    assert!(
        near(&ok, green, 120) > 200,
        "the consistent page shows its green heading"
    );
    assert_eq!(near(&ok, red, 120), 0, "and no red");
    assert!(
        near(&bad, red, 120) > 200,
        "the discrepancies page shows its red heading"
    );
    assert_eq!(near(&bad, green, 120), 0, "and no green");
    let html = std::fs::read_to_string(lie.join("observer-report.html")).unwrap();
    assert!(
        html.contains("the announcement counts 1,000 more voters"),
        "headline first"
    );
}
