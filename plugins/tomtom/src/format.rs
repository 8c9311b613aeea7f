//! MEME tomtom's `-text` TSV: header, one row per reported match with p, E
//! and q printed from single precision with `%g`, and the comment footer.

use std::fmt::Write as _;

use crate::{Config, Database, QueryResult};

/// The header line (with its newline).
pub const TSV_HEADER: &str = "Query_ID\tTarget_ID\tOptimal_offset\tp-value\tE-value\tq-value\tOverlap\tQuery_consensus\tTarget_consensus\tOrientation\n";

/// C's `printf("%g", x)`: 6 significant digits, scientific below 1e-4 or
/// from 1e6, trailing zeros removed, exponent of at least two digits.
#[must_use]
pub fn format_g(x: f64) -> String {
    if x == 0.0 {
        return if x.is_sign_negative() { "-0".into() } else { "0".into() };
    }
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x < 0.0 { "-inf".into() } else { "inf".into() };
    }
    let e = format!("{x:.5e}");
    let (mant, exp) = e.split_once('e').expect("`{:e}` has an exponent");
    let exp: i32 = exp.parse().expect("exponent is an integer");
    let trim = |s: &str| -> String {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_owned()
        } else {
            s.to_owned()
        }
    };
    if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{}e{sign}{:02}", trim(mant), exp.abs())
    } else {
        let prec = (5 - exp) as usize;
        trim(&format!("{x:.prec$}"))
    }
}

/// `%g` of a value after conversion to `float`, as tomtom prints p, E, q.
fn g32(x: f64) -> String {
    format_g(f64::from(x as f32))
}

/// The rows tomtom prints for one query (no header).
#[must_use]
pub fn tsv_rows(db: &Database, result: &QueryResult, cfg: &Config) -> String {
    let mut out = String::new();
    let s = &result.scored;
    for h in result.reported(cfg) {
        let t = &db.targets[h.target];
        let _ = writeln!(
            out,
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            s.id,
            t.id,
            h.offset,
            g32(h.p_value),
            g32(h.e_value),
            g32(h.q_value),
            h.overlap,
            s.consensus,
            db.target_consensus(h),
            if h.reverse { '-' } else { '+' }
        );
    }
    out
}

/// The footer: a blank line and three comment lines (program, format
/// documentation, command line), as tomtom writes them.
#[must_use]
pub fn tsv_footer(command_line: &str) -> String {
    format!(
        "\n# motiftool match (Tomtom-equivalent, MEME 5.5.8 statistics): Version {}\n# The format of this file is described at https://meme-suite.org/meme/doc/tomtom-output-format.html.\n# {command_line}\n",
        env!("CARGO_PKG_VERSION")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values and their `printf("%g")` output (checked with C's printf).
    #[test]
    fn formats_like_printf_g() {
        let cases: [(f64, &str); 14] = [
            (0.000243475, "0.000243475"),
            (0.214015, "0.214015"),
            (874.127, "874.127"),
            (1.0, "1"),
            (0.5, "0.5"),
            (1e-5, "1e-05"),
            (1.65e-13, "1.65e-13"),
            (0.0001, "0.0001"),
            (123456.0, "123456"),
            (1234567.0, "1.23457e+06"),
            (9.999996e-5, "0.0001"),
            (2.5e-300, "2.5e-300"),
            (0.0, "0"),
            (100.0, "100"),
        ];
        for (x, want) in cases {
            assert_eq!(format_g(x), want, "{x}");
        }
        // through float, as tomtom prints
        assert_eq!(g32(0.000243475), "0.000243475");
        assert_eq!(g32(1.0f32 as f64 / 3.0), "0.333333");
    }
}
