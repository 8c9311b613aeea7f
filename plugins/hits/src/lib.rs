//! Motif hits: where motifs sit in sequences.
//!
//! * [`logodds`]: a motif's log-odds scores against a background, scanned
//!   on both strands, each hit with the exact p-value of its score under
//!   the background (the score distribution by dynamic programming over
//!   the columns, on a fine integer grid), and Benjamini–Hochberg q-values
//!   over every position scanned, as MEME's FIMO reports them.
//! * [`cwm`]: hits of contribution weight matrices in attributions, as
//!   Fi-NeMo calls them: a non-negative sparse fit of each region's
//!   contributions by shifted, locally scaled CWMs (accelerated proximal
//!   gradient to a duality gap), hits being the nonzero coefficients whose
//!   window is similar enough to the motif.

pub mod cwm;
pub mod logodds;
