//! Draws a contribution track to stdout as SVG: a 40 bp sequence whose
//! planted GATA site carries positive scores and a flanking base a negative
//! one, as an attribution method would score it.
//!
//! `cargo run -p motif-report --example contribution_track > track.svg`

fn main() {
    let seq = b"CTGACCTTAGCAGATAAGGCTTACGTTAGCCATTGACCAT";
    let scores: Vec<f64> = (0..seq.len())
        .map(|i| match i {
            12..=17 => 0.6 + 0.1 * (i % 3) as f64,
            20 => -0.4,
            _ => 0.04 * ((i * 7 % 5) as f64 - 2.0),
        })
        .collect();
    let o = motif_report::TrackOptions { col_width: 14.0, height: 100.0 };
    match motif_report::contribution_svg("planted GATA site", seq, &scores, &o) {
        Ok(svg) => println!("{svg}"),
        Err(e) => eprintln!("{e}"),
    }
}
