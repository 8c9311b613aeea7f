//! The motif database a workflow matches against: a file, or the bundled
//! JASPAR 2024 CORE vertebrates non-redundant set.

use std::path::Path;

use motif_core::motif::{MotifSet, parse_meme, read_motifs};

use crate::Result;

/// The bundled database's file name.
pub const BUNDLED_NAME: &str = "JASPAR2024_CORE_vertebrates_nonredundant.meme";

/// The bundled database (879 motifs; jaspar.elixir.no, CC BY 4.0).
pub const BUNDLED: &str =
    include_str!("../../../data/motifs/JASPAR2024_CORE_vertebrates_nonredundant.meme");

/// The bundled database, parsed.
///
/// # Errors
/// Never in a released build (the file is tested); kept as a `Result` so a
/// broken bundle is a message, not a panic.
pub fn bundled() -> Result<MotifSet> {
    Ok(parse_meme(BUNDLED, Path::new(BUNDLED_NAME))?)
}

/// The database at `path`, or the bundled one, with the name messages,
/// reports and manifests give it.
///
/// # Errors
/// If the file cannot be read as motifs (the message names it).
pub fn load(path: Option<&Path>) -> Result<(MotifSet, String)> {
    Ok(match path {
        Some(p) => (read_motifs(p)?, p.display().to_string()),
        None => (bundled()?, format!("bundled {BUNDLED_NAME}")),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn bundled_database_parses() {
        let db = super::bundled().unwrap();
        assert_eq!(db.motifs.len(), 879);
        assert!(db.warnings.is_empty(), "{:?}", db.warnings);
    }
}
