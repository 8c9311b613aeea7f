//! Expected values from MEME tomtom 5.5.8 (fixture made by
//! `data/tomtom/make_fixture.py` from the reference runs): seven queries
//! against the bundled JASPAR 2024 database, every printed field compared.

use std::collections::HashMap;
use std::path::PathBuf;

use motif_core::motif::read_motifs;
use motif_tomtom::{Config, Database, Distance, MemeRng, finish, format_g, tsv_rows};

fn data(p: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data").join(p)
}

/// (original query index, the 10 tomtom columns) per expected row.
fn expected(name: &str) -> Vec<(usize, Vec<String>)> {
    std::fs::read_to_string(data(&format!("tomtom/{name}")))
        .unwrap()
        .lines()
        .map(|l| {
            let mut f = l.split('\t');
            let i = f.next().unwrap().parse().unwrap();
            (i, f.map(str::to_owned).collect())
        })
        .collect()
}

/// Our rows for each fixture query, each scored with MEME's random stream
/// advanced to where that query stood in the 220-query reference run.
fn run(cfg: &Config) -> HashMap<String, Vec<Vec<String>>> {
    let queries = read_motifs(&data("tomtom/reference_queries.meme")).unwrap();
    let targets =
        read_motifs(&data("motifs/JASPAR2024_CORE_vertebrates_nonredundant.meme")).unwrap();
    let db = Database::new(&targets, cfg.background_for(&queries), cfg).unwrap();
    let index: HashMap<&str, usize> = [
        ("Q000", 0),
        ("Q001", 1),
        ("Q002", 2),
        ("Q003", 3),
        ("Q141", 141),
        ("Q218", 218),
        ("Q219", 219),
    ]
    .into();
    let mut out = HashMap::new();
    for q in &queries.motifs {
        let i = index[&q.id[..4]];
        let mut rng = MemeRng::new();
        rng.skip_draws(100_000 * i);
        let r = finish(&db, db.score_query(q).unwrap(), &mut rng);
        let rows = tsv_rows(&db, &r, cfg)
            .lines()
            .map(|l| l.split('\t').map(str::to_owned).collect())
            .collect();
        out.insert(q.id.clone(), rows);
    }
    out
}

#[test]
fn pearson_typical_rows_are_tomtoms() {
    let cfg = Config {
        dist: Distance::Pearson,
        min_overlap: 5,
        evalue: true,
        thresh: 10.0,
        ..Config::default()
    };
    let ours = run(&cfg);
    let want = expected("expected_pearson_typical.tsv");
    let mut by_query: HashMap<&str, Vec<&Vec<String>>> = HashMap::new();
    for (_, r) in &want {
        by_query.entry(r[0].as_str()).or_default().push(r);
    }
    assert_eq!(by_query.len(), 7);
    for (q, rows) in by_query {
        let got = &ours[q];
        assert_eq!(got.len(), rows.len(), "{q}: number of rows");
        for (g, w) in got.iter().zip(rows) {
            assert_eq!(g, w, "{q}");
        }
    }
}

#[test]
fn ed_best_rows_are_tomtoms() {
    let cfg = Config { dist: Distance::Ed, evalue: true, thresh: 1e9, ..Config::default() };
    let ours = run(&cfg);
    let want = expected("expected_ed_top.tsv");
    assert_eq!(want.len(), 56);
    for (_, w) in &want {
        let g = ours[&w[0]].iter().find(|g| g[1] == w[1]).unwrap();
        assert_eq!(g, w);
    }
}

#[test]
fn e_value_is_p_times_targets() {
    for (_, w) in expected("expected_pearson_typical.tsv") {
        let (p, e): (f64, f64) = (w[3].parse().unwrap(), w[4].parse().unwrap());
        assert!((e / p / 879.0 - 1.0).abs() < 1e-5, "{w:?}");
        // and our formatter reprints tomtom's numbers unchanged
        assert_eq!(format_g(f64::from(p as f32)), w[3]);
    }
}
