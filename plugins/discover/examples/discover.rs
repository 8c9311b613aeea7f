//! Runs the whole discovery on modisco inputs and writes a modisco results
//! file, for comparing with `modisco motifs` (`scripts/discover_compare.py`).
//!
//! `cargo run --release -p motif-discover --example discover -- OHE.npz SHAP.npz WINDOW MAX_SEQLETS RUNS OUT.h5`

use motif_discover::modisco_h5::{PatternRecord, write};
use motif_discover::pattern::Tracks;
use motif_discover::pipeline::{Plugins, Settings, discover};
use motif_discover::plugins::SeqletConfig;
use ndarray::Ix3;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a: Vec<String> = std::env::args().collect();
    let [_, x, h, w, n, runs, out] = a.as_slice() else {
        return Err("usage: discover OHE.npz SHAP.npz WINDOW MAX_SEQLETS RUNS OUT.h5".into());
    };
    let x = motif_core::npz::read(std::path::Path::new(x))?.into_dimensionality::<Ix3>()?;
    let h = motif_core::npz::read(std::path::Path::new(h))?.into_dimensionality::<Ix3>()?;
    let tracks = Tracks::from_modisco(x, h, w.parse()?)?;
    let s = Settings { max_seqlets_per_metacluster: n.parse()?, ..Settings::default() };
    let t = std::time::Instant::now();
    let rss = || {
        std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM")).map(str::to_owned))
            .unwrap_or_default()
    };
    let plugins = Plugins::modisco(SeqletConfig::default(), runs.parse()?, 0)?;
    let d = discover(&tracks, &s, &plugins, &mut |stage| {
        eprintln!("{:8.2}s {} {stage:?}", t.elapsed().as_secs_f64(), rss());
    })?;
    let records = |set: &Option<Vec<motif_discover::pipeline::Found>>| {
        set.as_ref().map(|v| {
            v.iter()
                .map(|f| PatternRecord::of(&f.pattern, &f.subpatterns, &tracks))
                .collect::<Vec<_>>()
        })
    };
    let (pos, neg) = (records(&d.positive), records(&d.negative));
    write(std::path::Path::new(out), w.parse()?, pos.as_deref(), neg.as_deref())?;
    for (name, set) in [("pos", &d.positive), ("neg", &d.negative)] {
        for (i, f) in set.iter().flatten().enumerate() {
            println!("{name}\tpattern_{i}\t{}\t{}", f.pattern.seqlets.len(), f.subpatterns.len());
        }
    }
    Ok(())
}
