use std::sync::OnceLock;

use acta_election::time;
use acta_paper::{acta, read_png, read_receipt_png, receipt, zero_report, Error, Width};
use acta_sheet::{Acta, ContestCount, Entry, ZeroReport};
use acta_synth::ceremony::{run, Ceremony};
use acta_synth::generate::Options;
use acta_synth::simulate::{run_table, TableDay};
use image::{GrayImage, Luma};

const WIDTHS: [Width; 2] = [Width::Mm58, Width::Mm80];

struct Fixture {
    g: Ceremony,
    days: Vec<TableDay>,
}

/// One synthetic election and a real station day at its first two tables.
fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let g = run(&Options { seed: 7, tables: 4 });
        let days = (0..2)
            .map(|i| {
                let (roll, codes) = g.roll(i);
                run_table(
                    &g.election,
                    i,
                    roll,
                    &codes,
                    g.machines[i].clone(),
                    40 + i as u64,
                )
                .unwrap()
                .1
            })
            .collect();
        Fixture { g, days }
    })
}

/// An acta of table 0 with these figures (held, as its contests are not
/// the package's, but authentic when signed by the table's machine).
fn acta_of(
    g: &Ceremony,
    authenticated: u32,
    contests: Vec<ContestCount>,
    records: [u8; 32],
) -> Acta {
    let e = &g.election;
    let t = &e.tables[0];
    Acta {
        election: e.id.clone(),
        table: t.id.clone(),
        machine: t.machine.clone(),
        opened: time::parse(&e.opens).unwrap(),
        closed: time::parse(&e.closes).unwrap(),
        registered: t.registered,
        authenticated,
        overrides: 0,
        ballots: 100,
        contests,
        records,
        journal: [9; 32],
        alarms: [0; 8],
    }
}

/// An authentic acta of table 0 far longer than any real one: 24 contests of
/// 12 choices (it does not fit the package, so it is held, but it opens).
fn big_acta(g: &Ceremony) -> String {
    let contests = (0..24)
        .map(|k| ContestCount {
            contest: format!("X{k:02}"),
            votes: (0..12)
                .map(|j| (format!("C{j:02}/P{j:02}"), 1000 + j))
                .collect(),
            blank: 3,
            null: 4,
        })
        .collect();
    acta_of(g, 100, contests, [7; 32]).sign(&g.machines[0])
}

fn load(png: &[u8]) -> GrayImage {
    image::load_from_memory(png).unwrap().to_luma8()
}

fn png(img: &GrayImage) -> Vec<u8> {
    acta_sheet::qr::png(img)
}

/// A QR code found in a printout: part number and bounding box (x0, y0, x1, y1).
type Code = (usize, (u32, u32, u32, u32));

/// Each QR code found in a printout: its part number (from the `ACTA-QR/1
/// i/n` header) and its bounding box (x0, y0, x1, y1), as the reader
/// `acta_sheet::qr::locate` finds them.
fn codes(img: &GrayImage) -> Vec<Code> {
    let mut found: Vec<Code> = acta_sheet::qr::locate(img)
        .expect("a printout's codes decode")
        .into_iter()
        .filter_map(|(content, [x0, y0, x1, y1])| {
            let header = String::from_utf8_lossy(&content);
            let (i, _) = header.split(' ').nth(1)?.split_once('/')?;
            Some((i.parse().ok()?, (x0, y0, x1, y1)))
        })
        .collect();
    found.sort();
    found
}

/// The contents of the SVG's `<text>` elements, trimmed.
fn texts(svg: &str) -> Vec<String> {
    svg.split("<text ")
        .skip(1)
        .map(|t| {
            let body = &t[t.find('>').unwrap() + 1..t.find("</text>").unwrap()];
            body.trim().to_string()
        })
        .collect()
}

/// Whether a text holds something shaped like a time of day `T..:..:..Z`.
fn has_time(text: &str) -> bool {
    let b = text.as_bytes();
    b.windows(10).any(|w| {
        w[0] == b'T'
            && w[3] == b':'
            && w[6] == b':'
            && w[9] == b'Z'
            && [1, 2, 4, 5, 7, 8].iter().all(|&i| w[i].is_ascii_digit())
    }) || b
        .windows(5)
        .any(|w| w[2] == b':' && [0, 1, 3, 4].iter().all(|&i| w[i].is_ascii_digit()))
}

#[test]
fn an_acta_printout_reads_back_to_the_exact_signed_bytes_at_both_widths() {
    let f = fixture();
    let e = &f.g.election;
    let signed = f.days[0].acta.as_bytes();
    for w in WIDTHS {
        for pkg in [Some(e), None] {
            let p = acta(signed, pkg, w).unwrap();
            let back = read_png(&p.png).unwrap();
            assert_eq!(back, signed, "{w:?}");
            let opened = Acta::open(&back, e).unwrap();
            assert!(opened.counts(), "{:?}", opened.holds);
            assert!(matches!(
                Entry::open(&back, e).unwrap().content,
                acta_sheet::Content::Acta { .. }
            ));
            let code = acta_sheet::security_code(signed);
            assert!(p.svg.contains(&code), "security code on the paper");
            assert!(p.svg.contains("ACTA DE ESCRUTINIO"));
            for c in &opened.acta.contests {
                assert!(p.svg.contains(&c.contest));
                for (choice, _) in &c.votes {
                    assert!(p.svg.contains(choice.as_str()), "{choice}");
                }
            }
            // Long names wrap on narrow paper; the words are all there.
            let joined = texts(&p.svg).concat();
            for a in acta_sheet::ALARMS {
                assert!(joined.contains(a.name()), "{}", a.name());
            }
            // Names only with the package.
            assert_eq!(p.svg.contains("Ana Maria Rojas"), pkg.is_some());
        }
    }
}

#[test]
fn an_acta_of_many_qr_parts_reads_back_from_one_printout() {
    let f = fixture();
    let e = &f.g.election;
    let signed = big_acta(&f.g);
    let n = acta_sheet::qr::split(signed.as_bytes(), acta_sheet::qr::DEFAULT_CHUNK).len();
    assert!(n >= 5, "{n} parts");
    for w in WIDTHS {
        let p = acta(signed.as_bytes(), Some(e), w).unwrap();
        for i in 1..=n {
            assert!(p.svg.contains(&format!(">QR {i}/{n}<")), "label {i}/{n}");
        }
        assert_eq!(p.svg.matches("<path class=\"qr\"").count(), n);
        assert_eq!(codes(&load(&p.png)).len(), n);
        let back = read_png(&p.png).unwrap();
        assert_eq!(back, signed.as_bytes());
        let opened = Acta::open(&back, e).unwrap();
        assert!(
            !opened.counts(),
            "authentic but held: not the package's ballot"
        );
    }
}

#[test]
fn a_receipt_carries_the_ballot_record_and_nothing_that_orders_ballots() {
    let f = fixture();
    let e = &f.g.election;
    assert!(f.days[0].records.len() > 3);
    for record in f.days[0].records.iter().take(3) {
        for w in WIDTHS {
            for pkg in [Some(e), None] {
                let p = receipt(record, pkg, w).unwrap();
                assert_eq!(read_receipt_png(&p.png).unwrap(), *record);
                assert_eq!(
                    acta_sheet::qr::decode_png(&p.png).unwrap(),
                    vec![record.as_bytes().to_vec()]
                );
                for line in record.lines().skip(1) {
                    let (contest, marks) = line.split_once(' ').unwrap();
                    assert!(p.svg.contains(&format!(">{contest}<")), "{contest}");
                    for m in marks.split(',') {
                        let shown = match m {
                            "blank" => "BLANK".to_string(),
                            "null" => "NULL".to_string(),
                            c => c.to_string(),
                        };
                        assert!(p.svg.contains(&shown), "{line}: {shown}");
                    }
                }
                assert!(!has_time(&p.svg), "a time on the receipt");
                assert!(!p.svg.contains(&e.tables[0].id), "the table on the receipt");
                assert!(p.svg.contains("COMPROBANTE"));
            }
        }
    }
    // The detector does see a time where there is one.
    let acta_svg = acta(f.days[0].acta.as_bytes(), None, Width::Mm80)
        .unwrap()
        .svg;
    assert!(has_time(&acta_svg));
    // A record that carries a time, or anything but codes, is not printed.
    for bad in [
        "ballot/v1\nPRES 2026-12-06T10:00:00Z\n",
        "ballot/v1\nPRES C1/PDA\nseq 17\n",
        "ballot/v1\nPRES C1/PDA",
        "ballot/v2\nPRES C1/PDA\n",
        "ballot/v1\nPRES C1/PDA\nPRES C2/UPL\n",
    ] {
        assert!(
            matches!(receipt(bad, None, Width::Mm58), Err(Error::Record(_))),
            "{bad:?}"
        );
    }
    // With the package, only its contests and choices.
    assert!(matches!(
        receipt("ballot/v1\nPRES C9/PDA\n", Some(e), Width::Mm58),
        Err(Error::Record(_))
    ));
}

#[test]
fn a_zero_report_printout_reads_back_to_the_exact_signed_bytes() {
    let f = fixture();
    let e = &f.g.election;
    let signed = f.days[0].zero.as_bytes();
    for w in WIDTHS {
        let p = zero_report(signed, w).unwrap();
        let back = read_png(&p.png).unwrap();
        assert_eq!(back, signed);
        let z = ZeroReport::open(&back, e).unwrap();
        assert!(p.svg.contains("ZERO REPORT"));
        assert!(p.svg.contains(&acta_sheet::security_code(signed)));
        for c in &z.contests {
            assert!(p.svg.contains(&format!(">{c}")), "{c}");
        }
    }
    // Each printout takes only its own kind of note.
    assert!(matches!(
        zero_report(f.days[0].acta.as_bytes(), Width::Mm58),
        Err(Error::Document {
            what: "zero report",
            ..
        })
    ));
    assert!(matches!(
        acta(signed, None, Width::Mm58),
        Err(Error::Document { what: "acta", .. })
    ));
    // With the package, an acta signed by another table's machine is not printed.
    let forged = Acta::parse(
        acta_note::Note::parse(f.days[0].acta.as_bytes())
            .unwrap()
            .text,
    )
    .unwrap()
    .sign(&f.g.machines[1]);
    assert!(matches!(
        acta(forged.as_bytes(), Some(e), Width::Mm58),
        Err(Error::Document { what: "acta", .. })
    ));
}

#[test]
fn printouts_are_as_wide_as_the_paper() {
    let f = fixture();
    let e = &f.g.election;
    for (w, dots, mm) in [(Width::Mm58, 384, "58mm"), (Width::Mm80, 576, "80mm")] {
        assert_eq!(w.dots(), dots);
        let printouts = [
            zero_report(f.days[0].zero.as_bytes(), w).unwrap(),
            receipt(&f.days[0].records[0], Some(e), w).unwrap(),
            acta(f.days[0].acta.as_bytes(), Some(e), w).unwrap(),
        ];
        for p in printouts {
            let img = load(&p.png);
            assert_eq!(img.width(), dots);
            assert!(img.height() > img.width(), "a strip of paper");
            assert!(
                img.pixels().all(|Luma([v])| *v == 0 || *v == 255),
                "black on white, like a thermal print"
            );
            assert!(p.svg.starts_with("<svg "));
            assert!(p.svg.trim_end().ends_with("</svg>"));
            assert!(p.svg.contains(&format!("width=\"{mm}\"")));
            assert!(p
                .svg
                .contains(&format!("viewBox=\"0 0 {dots} {}\"", img.height())));
            assert!(p.svg.contains("<path class=\"qr\""));
            assert_eq!(
                p.svg.matches("<text").count(),
                p.svg.matches("</text>").count()
            );
            assert_eq!(p.svg.matches('<').count(), p.svg.matches('>').count());
        }
    }
}

#[test]
fn an_altered_printout_is_refused() {
    let f = fixture();
    let e = &f.g.election;
    let a = acta(f.days[0].acta.as_bytes(), Some(e), Width::Mm58).unwrap();
    let b = acta(f.days[1].acta.as_bytes(), Some(e), Width::Mm58).unwrap();
    let (ia, ib) = (load(&a.png), load(&b.png));
    let (ca, cb) = (codes(&ia), codes(&ib));
    let n = ca.len();
    assert!(n >= 2, "a day's acta takes several parts");
    assert_eq!(cb.len(), n);

    // Flip the dots in the middle quarter of the first code: it no longer
    // decodes (level M corrects about 15 %).
    let mut blotted = ia.clone();
    let (x0, y0, x1, y1) = ca[0].1;
    let (w, h) = (x1 - x0, y1 - y0);
    for y in y0 + h / 4..y0 + h * 3 / 4 {
        for x in x0 + w / 4..x0 + w * 3 / 4 {
            let Luma([v]) = *blotted.get_pixel(x, y);
            blotted.put_pixel(x, y, Luma([255 - v]));
        }
    }
    let err = read_png(&png(&blotted)).unwrap_err();
    assert!(matches!(err, Error::Read(_)), "{err}");
    assert!(err.to_string().contains("QR"), "{err}");

    // The first part of one acta above the other parts of another.
    let cut = |c: &[Code]| (c[0].1 .3 + c[1].1 .1) / 2;
    let (sa, sb) = (cut(&ca), cut(&cb));
    let mut pasted = GrayImage::from_pixel(ia.width(), sa + ib.height() - sb, Luma([255]));
    image::imageops::overlay(
        &mut pasted,
        &*image::imageops::crop_imm(&ia, 0, 0, ia.width(), sa),
        0,
        0,
    );
    image::imageops::overlay(
        &mut pasted,
        &*image::imageops::crop_imm(&ib, 0, sb, ib.width(), ib.height() - sb),
        0,
        sa as i64,
    );
    let err = read_png(&png(&pasted)).unwrap_err();
    assert!(err.to_string().contains("different actas"), "{err}");

    // One part alone.
    let first = image::imageops::crop_imm(&ia, 0, 0, ia.width(), sa).to_image();
    let err = read_png(&png(&first)).unwrap_err();
    assert!(
        err.to_string().contains(&format!("missing part(s) 2/{n}")),
        "{err}"
    );

    // Both printouts side by side: two different first parts.
    let mut both = GrayImage::from_pixel(ia.width() * 2, ia.height().max(ib.height()), Luma([255]));
    image::imageops::overlay(&mut both, &ia, 0, 0);
    image::imageops::overlay(&mut both, &ib, ia.width() as i64, 0);
    let err = read_png(&png(&both)).unwrap_err();
    assert!(err.to_string().contains("two different scans"), "{err}");

    // Not an image at all.
    assert!(matches!(read_png(b"not a png"), Err(Error::Read(_))));
    // A receipt is not an acta.
    let r = receipt(&f.days[0].records[0], None, Width::Mm58).unwrap();
    assert!(matches!(read_png(&r.png), Err(Error::Read(_))));

    // And the untouched printouts still read.
    assert_eq!(read_png(&a.png).unwrap(), f.days[0].acta.as_bytes());
    assert_eq!(read_png(&b.png).unwrap(), f.days[1].acta.as_bytes());
}

/// Every printed acta reads back, whatever its bytes: the same day's acta
/// with forty different journal heads (so forty different codes), at both
/// paper widths. (A fresh-clone run once found one of these eighty that the
/// detector could not read at any scale; codes are now checked as they are
/// rendered. Run with 256 variants, three times, in release: no failure.)
#[test]
fn every_printout_reads_back_whatever_its_bytes() {
    let f = fixture();
    let e = &f.g.election;
    let base = Acta::parse(
        acta_note::Note::parse(f.days[0].acta.as_bytes())
            .unwrap()
            .text,
    )
    .unwrap();
    for k in 0..40u8 {
        let mut a = base.clone();
        a.journal = [k; 32];
        a.records = [k.wrapping_mul(37); 32];
        let signed = a.sign(&f.g.machines[0]);
        for width in [Width::Mm58, Width::Mm80] {
            let p = acta(signed.as_bytes(), Some(e), width).unwrap();
            assert_eq!(
                read_png(&p.png).unwrap_or_else(|e| panic!("variant {k}, {width:?}: {e}")),
                signed.as_bytes(),
                "variant {k}, {width:?}"
            );
        }
    }
}

/// An acta of two QR parts with table 0's key, its figures varied by `k`.
fn varied_acta(g: &Ceremony, key: &acta_note::Signer, k: u32) -> String {
    let contests = (0..3)
        .map(|c| ContestCount {
            contest: format!("X{c:02}"),
            votes: (0..8)
                .map(|j| (format!("C{j:02}/P{j:02}"), (k * 7 + j * 13 + c) % 300))
                .collect(),
            blank: 3,
            null: 4,
        })
        .collect();
    acta_of(g, 100 + k, contests, [(k % 251) as u8; 32]).sign(key)
}

#[test]
fn printouts_whose_codes_need_different_scales_read_back() {
    // Printouts of these actas are ones the detector reads only in part at
    // the printout's own scale: the second code is found only scaled up,
    // and the reader must merge the readings. Found by printing 3,000 of
    // this series (about one printout in 700 failed before the reader
    // merged, as the station's screen test once did in CI).
    let f = fixture();
    let key = acta_note::Signer::from_seed(&f.g.election.tables[0].machine, [7; 32]).unwrap();
    for k in [1195, 1640, 2065, 2074] {
        let signed = varied_acta(&f.g, &key, k);
        assert_eq!(
            acta_sheet::qr::split(signed.as_bytes(), acta_sheet::qr::DEFAULT_CHUNK).len(),
            2
        );
        let p = acta(signed.as_bytes(), None, Width::Mm80).unwrap();
        assert_eq!(read_png(&p.png).unwrap(), signed.as_bytes(), "acta {k}");
    }
}
