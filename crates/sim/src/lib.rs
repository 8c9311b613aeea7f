//! motif-sim: simulated data sets with known truth, and dinucleotide
//! shuffling for negatives.
//!
//! - [`shuffle::dinucleotide_shuffle`]: Altschul & Erickson's exact
//!   shuffle (a random Eulerian walk): same dinucleotide counts, same first
//!   and last letter, every such sequence equally likely.
//! - [`simulate`] with a [`Preset`]: Deepprune's simulated data sets 1–5
//!   (one motif instance per positive, i.i.d. uniform negatives) and Koo &
//!   Eddy's 12-TF multi-label set, built from any motif database with the
//!   positions and strands of every planted instance.
//!
//! Everything is deterministic given the seed.
#![deny(missing_docs)]

pub mod shuffle;
pub mod simulate;

pub use simulate::{Dataset, Instance, Preset, SimSeq, Split, simulate};

/// What can go wrong building a data set.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A motif the preset needs is not in the database.
    #[error("{db}: the preset needs motif {id} ({name}), which is not in this database")]
    MissingMotif {
        /// The database file.
        db: String,
        /// JASPAR ID (without version).
        id: String,
        /// Factor name.
        name: String,
    },
    /// The sizes asked for cannot be met.
    #[error("{0}")]
    Invalid(String),
}
