//! `logo`: one information-content logo per motif of a file, SVG or PNG,
//! each written atomically and named after its motif's id.

use std::path::PathBuf;

use motif_core::motif::read_motifs;
use motif_report::{LogoOptions, logo_png, logo_svg};
use serde::{Deserialize, Serialize};

use crate::{Event, Result, invalid};

/// Image format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// Scalable vector graphics.
    #[default]
    Svg,
    /// Portable network graphics.
    Png,
}

/// Settings of `logo` (the `logo` command's flags).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::Args))]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// Motifs (MEME, JASPAR, TRANSFAC or HOMER; gzip ok).
    #[cfg_attr(feature = "cli", arg(default_value = "", hide_default_value = true, required_unless_present = "config", value_parser = crate::cli::path_or_empty()))]
    pub motifs: PathBuf,
    /// Output folder (created); one file per motif, named after its id.
    #[cfg_attr(feature = "cli", arg(short = 'o', long = "out", default_value = "", hide_default_value = true, required_unless_present = "config", value_parser = crate::cli::path_or_empty()))]
    pub out: PathBuf,
    /// Draw reverse complements (file names end in `_rc`).
    #[cfg_attr(feature = "cli", arg(long))]
    pub rc: bool,
    /// Image format.
    #[cfg_attr(feature = "cli", arg(long, value_enum, default_value_t = Format::Svg))]
    pub format: Format,
    /// Pixels per column (4 to 500).
    #[cfg_attr(feature = "cli", arg(long, default_value_t = Config::default().col_width))]
    pub col_width: f32,
    /// Pixels for 2 bits (10 to 2000).
    #[cfg_attr(feature = "cli", arg(long, default_value_t = Config::default().height))]
    pub height: f32,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            motifs: PathBuf::new(),
            out: PathBuf::from("logos"),
            rc: false,
            format: Format::Svg,
            col_width: 24.0,
            height: 100.0,
        }
    }
}

/// Draws the logos; returns the files written, in motif order. A motif id
/// that two motifs share gets `_2`, `_3` … so no logo overwrites another.
///
/// # Errors
/// Sizes out of range, an unreadable or empty motif file, or a file that
/// cannot be written.
pub fn run(config: &Config, events: &mut dyn FnMut(Event)) -> Result<Vec<PathBuf>> {
    let c = config;
    if c.motifs.as_os_str().is_empty() || c.out.as_os_str().is_empty() {
        return Err(invalid("logo: give MOTIFS and -o DIR (or `motifs` and `out` in --config)"));
    }
    if !((4.0..=500.0).contains(&c.col_width) && (10.0..=2000.0).contains(&c.height)) {
        return Err(invalid("--col-width must be in 4..=500 and --height in 10..=2000 pixels"));
    }
    let set = read_motifs(&c.motifs)?;
    if set.motifs.is_empty() {
        return Err(invalid(format!("{}: no motifs", c.motifs.display())));
    }
    for w in &set.warnings {
        events(Event::Warning(w.clone()));
    }
    std::fs::create_dir_all(&c.out)
        .map_err(|e| invalid(format!("{}: cannot create the folder: {e}", c.out.display())))?;
    let o =
        LogoOptions { col_width: c.col_width, height: c.height, rc: c.rc, ..Default::default() };
    let mut seen = std::collections::HashMap::new();
    let mut files = Vec::new();
    events(Event::Stage { name: "logos", total: Some(set.motifs.len() as u64) });
    for m in &set.motifs {
        let mut stem = motif_report::file_stem(&m.id);
        let n = seen.entry(stem.clone()).or_insert(0usize);
        *n += 1;
        if *n > 1 {
            stem = format!("{stem}_{n}");
        }
        if c.rc {
            stem.push_str("_rc");
        }
        let (path, bytes) = match c.format {
            Format::Svg => (c.out.join(format!("{stem}.svg")), logo_svg(m, &o).into_bytes()),
            Format::Png => (
                c.out.join(format!("{stem}.png")),
                logo_png(m, &o).map_err(|e| invalid(format!("motif `{}`: {e}", m.id)))?,
            ),
        };
        motif_core::fsio::write_atomic(&path, &bytes)
            .map_err(|e| motif_core::Error::io(&path, e))?;
        files.push(path);
        events(Event::Advance(1));
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_logo_per_motif_and_shared_ids_do_not_overwrite() {
        let d = tempfile::tempdir().unwrap();
        let motifs = d.path().join("m.meme");
        let m = "MOTIF X\nletter-probability matrix: alength= 4 w= 2\n1 0 0 0\n0 1 0 0\n";
        std::fs::write(&motifs, format!("MEME version 4\n\nALPHABET= ACGT\n\n{m}\n{m}")).unwrap();
        let c = Config { motifs, out: d.path().join("logos"), ..Config::default() };
        let files = run(&c, &mut |_| {}).unwrap();
        let names: Vec<_> = files.iter().map(|p| p.file_name().unwrap().to_owned()).collect();
        assert_eq!(names, ["X.svg", "X_2.svg"]);
        assert!(std::fs::read_to_string(&files[0]).unwrap().starts_with("<svg"));
        let e = run(&Config { height: 5.0, ..c }, &mut |_| {}).unwrap_err().to_string();
        assert!(e.contains("--height"), "{e}");
    }
}
