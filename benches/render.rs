//! Render-time benchmark for the residence certificate (住民票の写し).
//! `cargo bench --bench render` prints one JSON line per case: median and p90
//! over repeated renders on one thread, and the PDF size.

use std::time::{Duration, Instant};

use kofu::render::Renderer;
use kofu::render::model::{
    DocumentIdentity, MunicipalityHeader, ResidenceCertificate, ResidentRecord, Sex,
};
use time::macros::date;

fn certificate(members: usize) -> ResidenceCertificate {
    ResidenceCertificate {
        municipality: MunicipalityHeader {
            code: "139991".into(),
            name: "ひなた市".into(),
            mayor_title: "ひなた市長".into(),
            mayor_name: "日向　陽一".into(),
            seal_text: "ひなた市長之印".into(),
        },
        document: DocumentIdentity {
            order_id: uuid::Uuid::nil(),
            ticket: 42,
            document_number: "KF-139991-000000042".into(),
        },
        issued_on: date!(2026 - 11 - 22),
        address: "東京都ひなた市日向町一丁目2番3号".into(),
        householder: Some("日向　太郎".into()),
        whole_household: members > 1,
        members: (0..members)
            .map(|i| ResidentRecord {
                name: format!(
                    "日向　{}",
                    ["太郎", "花子", "一郎", "二郎", "三郎", "四郎", "五郎"][i % 7]
                ),
                name_kana: "ひなた　たろう".into(),
                birth_date: date!(1980 - 04 - 01),
                sex: if i % 2 == 0 { Sex::Male } else { Sex::Female },
                relationship: Some("子".into()),
                became_resident_on: date!(2010 - 06 - 15),
                domicile: None,
                my_number: None,
            })
            .collect(),
    }
}

fn main() {
    let start = Instant::now();
    let renderer = Renderer::global();
    let font_parse = start.elapsed();
    println!(
        "{}",
        serde_json::json!({"bench": "font_parse_once", "ms": font_parse.as_secs_f64() * 1e3})
    );
    for (members, runs) in [(1usize, 200usize), (3, 200), (7, 100)] {
        let cert = certificate(members);
        let warm = renderer.residence_certificate(&cert).expect("renders");
        let mut times: Vec<Duration> = (0..runs)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(renderer.residence_certificate(&cert).expect("renders"));
                t.elapsed()
            })
            .collect();
        times.sort();
        println!(
            "{}",
            serde_json::json!({
                "bench": "render_residence_certificate",
                "members": members,
                "pages": warm.page_count,
                "pdf_bytes": warm.pdf.len(),
                "runs": runs,
                "median_ms": times[runs / 2].as_secs_f64() * 1e3,
                "p90_ms": times[runs * 9 / 10].as_secs_f64() * 1e3,
            })
        );
    }
}
