//! The configs as command-line flags (feature `cli`): each config derives
//! `clap::Args`, so a setting's flag, help text and default are declared
//! once, beside its TOML key. [`overlay`] lays the flags a user typed over
//! a `--config` file's settings.

use clap::parser::ValueSource;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{Result, invalid};

/// A count flag that must be at least 1 (`--epochs 0`, `--batch-size 0` …
/// are refused by name rather than dividing by zero later).
///
/// # Errors
/// If `s` is not a whole number of at least 1.
pub fn at_least_one(s: &str) -> std::result::Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(v) => Ok(v),
        Err(e) => Err(e.to_string()),
    }
}

/// A count from 1 to 1000 (`shuffle --copies`).
///
/// # Errors
/// As [`at_least_one`], or above 1000.
pub fn one_to_thousand(s: &str) -> std::result::Result<usize, String> {
    match at_least_one(s)? {
        v if v > 1000 => Err(format!("{v}; at most 1000")),
        v => Ok(v),
    }
}

/// Like [`at_least_one`], for `u32` flags.
///
/// # Errors
/// As [`at_least_one`], or above `u32::MAX`.
pub fn at_least_one_u32(s: &str) -> std::result::Result<u32, String> {
    at_least_one(s).and_then(|v| u32::try_from(v).map_err(|e| e.to_string()))
}

/// A path flag that may be left empty (given in `--config` instead; the
/// workflow names what is missing): clap's own path parser refuses "".
#[must_use]
pub fn path_or_empty() -> impl clap::builder::TypedValueParser<Value = std::path::PathBuf> {
    use clap::builder::TypedValueParser as _;
    clap::builder::OsStringValueParser::new().map(std::path::PathBuf::from)
}

/// Whether the flag with id `id` was typed on the command line (not left to
/// its default; false for an id the command does not have).
#[must_use]
pub fn typed(matches: &clap::ArgMatches, id: &str) -> bool {
    matches.try_contains_id(id).unwrap_or(false)
        && matches.value_source(id) == Some(ValueSource::CommandLine)
}

/// The settings of a `--config` file, or the defaults without one.
///
/// # Errors
/// An unreadable or invalid config file.
pub fn config_file<C: DeserializeOwned + Default>(file: Option<&std::path::Path>) -> Result<C> {
    file.map_or_else(|| Ok(C::default()), crate::load_config)
}

/// Before [`overlay`]: a sequence source typed on the command line (the
/// command's `seqs` or `--bed`) replaces a config file's whole source, so
/// the file's is dropped from `base`.
pub fn drop_source_if_typed(base: &mut crate::input::SeqInput, matches: &clap::ArgMatches) {
    if typed(matches, "seqs") || typed(matches, "bed") {
        (base.seqs, base.bed, base.genome, base.width) = (None, None, None, None);
    }
}

/// A command's settings: its `--config` file's (or the defaults) with the
/// flags typed laid over them.
///
/// # Errors
/// An unreadable or invalid config file.
pub fn settings<C: Serialize + DeserializeOwned + Default>(
    file: Option<&std::path::Path>,
    flags: &C,
    matches: &clap::ArgMatches,
) -> Result<C> {
    overlay(&config_file::<C>(file)?, flags, matches)
}

/// Like [`settings`], for a command with its own sequence-file flag: `seqs`, the command's own sequence-file
/// flag, goes into the settings' sequence input (`input`), and a source
/// typed on the command line replaces the file's.
///
/// # Errors
/// An unreadable or invalid config file.
pub fn settings_with_input<C: Serialize + DeserializeOwned + Default>(
    file: Option<&std::path::Path>,
    mut flags: C,
    seqs: Option<&std::path::Path>,
    input: fn(&mut C) -> &mut crate::input::SeqInput,
    matches: &clap::ArgMatches,
) -> Result<C> {
    let mut base: C = config_file(file)?;
    input(&mut flags).seqs = seqs.map(std::path::Path::to_path_buf);
    drop_source_if_typed(input(&mut base), matches);
    overlay(&base, &flags, matches)
}

/// `base` (a `--config` file's settings, or the defaults) with each
/// setting whose flag was typed on the command line taken from `flags`;
/// settings left to their defaults on the command line keep `base`'s.
/// A flag's id is its field's name, the TOML key with `_` for `-`, matched
/// at any depth: a config whose nested tables share a key name that is a
/// flag (`fit.batch-size` and `engine.batch-size`) must be overlaid table
/// by table, as train and prune overlay `fit`.
///
/// # Errors
/// If a config does not round-trip through JSON (a bug, not bad input).
pub fn overlay<C: Serialize + DeserializeOwned>(
    base: &C,
    flags: &C,
    matches: &clap::ArgMatches,
) -> Result<C> {
    // The typed flags' ids as their keys (`batch_size` → `batch-size`).
    let given: Vec<String> = matches
        .ids()
        .filter(|id| matches.value_source(id.as_str()) == Some(ValueSource::CommandLine))
        .map(|id| id.as_str().replace('_', "-"))
        .collect();
    let mut out = serde_json::to_value(base).map_err(|e| invalid(e.to_string()))?;
    let flags = serde_json::to_value(flags).map_err(|e| invalid(e.to_string()))?;
    lay(&mut out, &flags, &given);
    serde_json::from_value(out).map_err(|e| invalid(e.to_string()))
}

/// Copies each key of `flags` listed in `given` into `out`, at any depth.
fn lay(out: &mut serde_json::Value, flags: &serde_json::Value, given: &[String]) {
    let (Some(out), Some(flags)) = (out.as_object_mut(), flags.as_object()) else { return };
    for (k, v) in flags {
        if given.contains(k) {
            out.insert(k.clone(), v.clone());
        } else if v.is_object()
            && let Some(o) = out.get_mut(k)
        {
            lay(o, v, given);
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::{Args, FromArgMatches};
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Args)]
    #[serde(rename_all = "kebab-case")]
    struct Inner {
        #[arg(long, default_value_t = 3)]
        min_overlap: usize,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Args)]
    #[serde(rename_all = "kebab-case")]
    struct Outer {
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        inner: Inner,
    }

    fn parse(args: &[&str]) -> (Outer, clap::ArgMatches) {
        let cmd = Outer::augment_args(clap::Command::new("t"));
        let m = cmd.try_get_matches_from(args).unwrap();
        (Outer::from_arg_matches(&m).unwrap(), m)
    }

    /// Typed flags win at any depth; defaults on the command line do not.
    #[test]
    fn only_typed_flags_override_the_file() {
        let file = Outer { seed: 9, name: Some("f".into()), inner: Inner { min_overlap: 7 } };
        let (flags, m) = parse(&["t", "--min-overlap", "5"]);
        let got = overlay(&file, &flags, &m).unwrap();
        assert_eq!(got, Outer { inner: Inner { min_overlap: 5 }, ..file.clone() });
        let (flags, m) = parse(&["t", "--seed", "2", "--name", "x"]);
        let got = overlay(&file, &flags, &m).unwrap();
        assert_eq!(got, Outer { seed: 2, name: Some("x".into()), ..file.clone() });
        let (flags, m) = parse(&["t"]);
        assert_eq!(overlay(&file, &flags, &m).unwrap(), file);
    }
}
