//! Speed of the Tomtom-equivalent matcher, in process, against the timings
//! of MEME tomtom 5.5.8 and memelite measured on this hardware class
//! (`shared/reference/tomtom/timings.tsv`).
//!
//! `cargo bench -p motif-tomtom -- [QUERIES] [DB] [--scale N]`; defaults
//! are the reference files under `../shared`. Times are the median of 5
//! runs after a warm-up, with all cores (rayon) unless `RAYON_NUM_THREADS`.
//! The memelite figures printed are the reference's whole-process time and
//! the in-process figure it is known by; `scripts/bench/tomtom_vs_memelite.sh`
//! measures memelite in process in the same run instead.

use std::path::PathBuf;
use std::time::Instant;

use motif_core::motif::{MotifSet, read_motifs};
use motif_tomtom::{Config, Database, Distance, MemeRng, compare_with};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference");
    let qpath = args.first().map_or(root.join("tomtom/queries.meme"), PathBuf::from);
    let dpath = args
        .get(1)
        .map_or(root.join("motifs/JASPAR2024_CORE_vertebrates_nonredundant.meme"), PathBuf::from);
    let scale: usize = args
        .iter()
        .position(|a| a == "--scale")
        .and_then(|i| args.get(i + 1))
        .map_or(0, |s| s.parse().expect("--scale N"));
    let (Ok(queries), Ok(db)) = (read_motifs(&qpath), read_motifs(&dpath)) else {
        eprintln!(
            "bench: reference files not found ({} / {}); skipped",
            qpath.display(),
            dpath.display()
        );
        return;
    };
    let threads = rayon::current_num_threads();
    println!("{} queries × {} targets, {threads} threads", queries.motifs.len(), db.motifs.len());
    for (dist, tomtom_s) in [(Distance::Pearson, 258.617), (Distance::Ed, 259.819)] {
        let cfg = Config { dist, min_overlap: 1, evalue: true, thresh: 1e9, ..Config::default() };
        let run = || {
            let t = Instant::now();
            let d = Database::new(&db, cfg.background_for(&queries), &cfg).unwrap();
            let r = compare_with(&d, &queries.motifs, &mut MemeRng::new()).unwrap();
            assert_eq!(r.len(), queries.motifs.len());
            t.elapsed().as_secs_f64()
        };
        run();
        let t = median((0..5).map(|_| run()).collect());
        println!(
            "all-pairs {:<8} {:.3} s  ({:.0}× MEME tomtom 5.5.8's {tomtom_s} s; memelite process, 1 thread, 2.64 s → {:.1}×; its in-process ~0.24 s → {:.2}×)",
            dist.name(),
            t,
            tomtom_s / t,
            2.641 / t,
            0.24 / t
        );
    }
    if scale > 0 {
        let mut big = MotifSet { background: queries.background, ..MotifSet::default() };
        for i in 0..scale {
            let mut m = queries.motifs[i % queries.motifs.len()].clone();
            m.id = format!("{}_{i}", m.id);
            big.motifs.push(m);
        }
        let cfg = Config { dist: Distance::Pearson, ..Config::default() };
        let d = Database::new(&db, cfg.background_for(&big), &cfg).unwrap();
        let t = Instant::now();
        let mut rng = MemeRng::new();
        let mut rows = 0usize;
        for chunk in big.motifs.chunks(256) {
            for r in compare_with(&d, chunk, &mut rng).unwrap() {
                rows += r.reported(&cfg).count();
            }
        }
        println!(
            "scale: {scale} queries × {} targets in {:.1} s ({rows} rows at q ≤ 0.5)",
            db.motifs.len(),
            t.elapsed().as_secs_f64()
        );
    }
}
