//! The plugin registry: one trait per plugin kind, a registration record per
//! plugin collected at link time through [`inventory`], and lookup/listing.
//!
//! A plugin is a type implementing its kind's trait and [`Configured`], plus
//! one [`register_plugin!`](crate::register_plugin) call. Its config is a
//! strict serde struct (`deny_unknown_fields`, documented defaults), built
//! from TOML, JSON or `--set key=value` pairs through the same path.
//!
//! Plugin crates are linked into the binary only if something names them:
//! the `motiftool` CLI keeps one file of `use plugin_crate as _;` lines.

mod kinds;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};
pub use kinds::{
    AttributeInput, Attribution, AttributionModel, Attributor, Convergence, CriterionInput, Crm,
    DecoupleInput, ExtractInput, FILTER_MATCHES, Figure, Hit, Match, MatchPolicy, MatcherInput,
    MotifExtractor, MotifMatcher, NeuronDecoupler, NeuronNetwork, PreparedTargets,
    PruningCriterion, QueryMatches, Seqs, predict_substitutions,
};
pub use kinds::{
    CalledSeqlet, Contributions, DenseContributions, GraphClusterer, SeqletAffinity, SeqletCaller,
    SeqletCalls, SparseGraph, Table, split_rows,
};

/// The kinds of plugin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PluginKind {
    /// Deepprune kernel-importance criteria ([`PruningCriterion`]).
    Criterion,
    /// Filters → motifs ([`MotifExtractor`]).
    Extractor,
    /// Motif-vs-database comparison ([`MotifMatcher`]).
    Matcher,
    /// NeuronMotif-style decoupling of deeper neurons ([`NeuronDecoupler`]).
    Decoupler,
    /// Report figures ([`Figure`]).
    Figure,
    /// Per-base attribution of a model's prediction ([`Attributor`]).
    Attributor,
    /// Seqlets from attributions ([`SeqletCaller`]).
    SeqletCaller,
    /// Seqlet-to-seqlet similarity ([`SeqletAffinity`]).
    Affinity,
    /// Clusters of a sparse affinity graph ([`GraphClusterer`]).
    Clustering,
}

impl PluginKind {
    /// Every kind, in display order.
    pub const ALL: [PluginKind; 9] = [
        Self::Criterion,
        Self::Extractor,
        Self::Matcher,
        Self::Decoupler,
        Self::Figure,
        Self::Attributor,
        Self::SeqletCaller,
        Self::Affinity,
        Self::Clustering,
    ];

    /// The kind's name as users write it.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Criterion => "criterion",
            Self::Extractor => "extractor",
            Self::Matcher => "matcher",
            Self::Decoupler => "decoupler",
            Self::Figure => "figure",
            Self::Attributor => "attributor",
            Self::SeqletCaller => "seqlet-caller",
            Self::Affinity => "affinity",
            Self::Clustering => "clustering",
        }
    }

    /// What a plugin of this kind does.
    #[must_use]
    pub fn summary(self) -> &'static str {
        match self {
            Self::Criterion => "scores conv kernels for Deepprune (which to keep)",
            Self::Extractor => "turns conv filters into motifs (PWMs)",
            Self::Matcher => "compares motifs against a motif database",
            Self::Decoupler => "decouples deeper neurons into motifs and syntax",
            Self::Figure => "draws a figure for reports",
            Self::Attributor => "scores each base's contribution to a prediction",
            Self::SeqletCaller => "finds seqlets (high-contribution windows) in attributions",
            Self::Affinity => "scores how alike two seqlets are (motif discovery)",
            Self::Clustering => "clusters a sparse affinity graph (motif discovery)",
        }
    }

    /// Parses a kind name.
    ///
    /// # Errors
    /// If `s` names no kind.
    pub fn parse(s: &str) -> Result<Self> {
        Self::ALL.into_iter().find(|k| k.name() == s).ok_or_else(|| {
            let names: Vec<_> = Self::ALL.iter().map(|k| k.name()).collect();
            Error::Invalid(format!("unknown plugin kind `{s}` (one of: {})", names.join(", ")))
        })
    }
}

/// Maturity of a plugin (as ruff's rule status).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "status", content = "since", rename_all = "kebab-case")]
pub enum Status {
    /// May change without notice.
    Preview(&'static str),
    /// Config and output are stable.
    Stable(&'static str),
    /// Will be removed; use something else.
    Deprecated(&'static str),
}

/// Construction of a plugin from its config.
pub trait Configured {
    /// The config: `#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]`
    /// with `Default` holding the documented defaults.
    type Config: Serialize + DeserializeOwned + Default;

    /// Builds the plugin.
    ///
    /// # Errors
    /// If the config holds values the plugin cannot use.
    fn from_config(config: Self::Config) -> Result<Self>
    where
        Self: Sized;
}

/// The registration record of one plugin of kind `T`.
pub struct Registration<T: ?Sized + 'static> {
    /// Kebab-case name, unique across kinds.
    pub name: &'static str,
    /// One line.
    pub summary: &'static str,
    /// The plugin's README (Markdown).
    pub docs: &'static str,
    /// The plugin crate's version.
    pub version: &'static str,
    /// Maturity.
    pub status: Status,
    /// The default config as JSON.
    pub default_config: fn() -> serde_json::Value,
    /// Builds the plugin from a config.
    pub build: fn(&mut dyn erased_serde::Deserializer<'_>) -> Result<Box<T>>,
}

inventory::collect!(Registration<dyn PruningCriterion>);
inventory::collect!(Registration<dyn MotifExtractor>);
inventory::collect!(Registration<dyn MotifMatcher>);
inventory::collect!(Registration<dyn NeuronDecoupler>);
inventory::collect!(Registration<dyn Attributor>);
inventory::collect!(Registration<dyn Figure>);
inventory::collect!(Registration<dyn SeqletCaller>);
inventory::collect!(Registration<dyn SeqletAffinity>);
inventory::collect!(Registration<dyn GraphClusterer>);

/// Ties a plugin trait object type to its kind.
pub trait KindOf {
    /// The kind.
    const KIND: PluginKind;
}
impl KindOf for dyn PruningCriterion {
    const KIND: PluginKind = PluginKind::Criterion;
}
impl KindOf for dyn MotifExtractor {
    const KIND: PluginKind = PluginKind::Extractor;
}
impl KindOf for dyn MotifMatcher {
    const KIND: PluginKind = PluginKind::Matcher;
}
impl KindOf for dyn NeuronDecoupler {
    const KIND: PluginKind = PluginKind::Decoupler;
}
impl KindOf for dyn Attributor {
    const KIND: PluginKind = PluginKind::Attributor;
}
impl KindOf for dyn Figure {
    const KIND: PluginKind = PluginKind::Figure;
}
impl KindOf for dyn SeqletCaller {
    const KIND: PluginKind = PluginKind::SeqletCaller;
}
impl KindOf for dyn SeqletAffinity {
    const KIND: PluginKind = PluginKind::Affinity;
}
impl KindOf for dyn GraphClusterer {
    const KIND: PluginKind = PluginKind::Clustering;
}

/// Everything known about one registered plugin, for listing.
#[derive(Debug, Clone, Serialize)]
pub struct PluginInfo {
    /// Name.
    pub name: &'static str,
    /// Kind.
    pub kind: PluginKind,
    /// One line.
    pub summary: &'static str,
    /// README.
    #[serde(skip)]
    pub docs: &'static str,
    /// Version.
    pub version: &'static str,
    /// Maturity.
    #[serde(flatten)]
    pub status: Status,
    /// Default config.
    pub default_config: serde_json::Value,
}

fn infos<T: ?Sized + KindOf + 'static>() -> impl Iterator<Item = PluginInfo>
where
    Registration<T>: inventory::Collect,
{
    inventory::iter::<Registration<T>>.into_iter().map(|r| PluginInfo {
        name: r.name,
        kind: T::KIND,
        summary: r.summary,
        docs: r.docs,
        version: r.version,
        status: r.status,
        default_config: (r.default_config)(),
    })
}

/// All registered plugins, sorted by name.
///
/// # Errors
/// If two plugins share a name or a name is not kebab-case ASCII.
pub fn all() -> Result<Vec<PluginInfo>> {
    let mut v: Vec<PluginInfo> = infos::<dyn PruningCriterion>()
        .chain(infos::<dyn MotifExtractor>())
        .chain(infos::<dyn MotifMatcher>())
        .chain(infos::<dyn NeuronDecoupler>())
        .chain(infos::<dyn Attributor>())
        .chain(infos::<dyn Figure>())
        .chain(infos::<dyn SeqletCaller>())
        .chain(infos::<dyn SeqletAffinity>())
        .chain(infos::<dyn GraphClusterer>())
        .collect();
    v.sort_by(|a, b| a.name.cmp(b.name));
    for w in v.windows(2) {
        if w[0].name == w[1].name {
            return Err(Error::Invalid(format!("two plugins are registered as `{}`", w[0].name)));
        }
    }
    for p in &v {
        check_name(p.name)?;
    }
    Ok(v)
}

/// Checks that a plugin name is kebab-case ASCII (`[a-z0-9]+(-[a-z0-9]+)*`).
///
/// # Errors
/// Names the plugin and suggests a corrected spelling.
pub fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.split('-').all(|p| {
            !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        });
    if ok {
        return Ok(());
    }
    let suggestion: String = name
        .chars()
        .map(|c| if c == '_' || c == ' ' { '-' } else { c.to_ascii_lowercase() })
        .collect();
    Err(Error::Invalid(format!("plugin name `{name}` is not kebab-case; try `{suggestion}`")))
}

/// Looks a plugin up by name, whatever its kind.
///
/// # Errors
/// If none is registered under `name`.
pub fn find(name: &str) -> Result<PluginInfo> {
    all()?.into_iter().find(|p| p.name == name).ok_or_else(|| {
        Error::Invalid(format!("no plugin named `{name}` (see `motiftool plugins`)"))
    })
}

/// Builds the plugin of kind `T` named `name` from `config` (merged over
/// nothing: missing keys take the plugin's defaults).
///
/// # Errors
/// If no such plugin exists, or the config is rejected (unknown key, bad value).
pub fn build<T: ?Sized + KindOf + 'static>(name: &str, config: &serde_json::Value) -> Result<Box<T>>
where
    Registration<T>: inventory::Collect,
{
    let reg = inventory::iter::<Registration<T>>
        .into_iter()
        .find(|r| r.name == name)
        .ok_or_else(|| Error::UnknownPlugin { kind: T::KIND.name(), name: name.to_owned() })?;
    let mut de = <dyn erased_serde::Deserializer<'_>>::erase(config);
    (reg.build)(&mut de)
}

/// The config plugin `name` runs with given `overrides`: its defaults with
/// the overrides merged in (nested tables key by key), as run.json records it.
///
/// # Errors
/// If no plugin is registered under `name`.
pub fn effective_config(name: &str, overrides: &serde_json::Value) -> Result<serde_json::Value> {
    let mut cfg = find(name)?.default_config;
    merge_config(&mut cfg, overrides);
    Ok(cfg)
}

/// Lays `over` onto `base`: objects merge key by key, anything else replaces.
pub fn merge_config(base: &mut serde_json::Value, over: &serde_json::Value) {
    match (base, over) {
        (serde_json::Value::Object(b), serde_json::Value::Object(o)) => {
            for (k, v) in o {
                merge_config(b.entry(k.clone()).or_insert(serde_json::Value::Null), v);
            }
        }
        (b, o) => *b = o.clone(),
    }
}

/// Deserialises a plugin config, mapping serde's message into [`Error::Config`].
///
/// # Errors
/// If the config has unknown keys or bad values.
pub fn deserialize_config<C: DeserializeOwned>(
    plugin: &str,
    de: &mut dyn erased_serde::Deserializer<'_>,
) -> Result<C> {
    erased_serde::deserialize(de)
        .map_err(|e| Error::Config { plugin: plugin.to_owned(), msg: e.to_string() })
}

/// Applies `key=value` (dotted keys for nested tables; the value parsed as a
/// TOML value, else taken as a string) onto a JSON config.
///
/// # Errors
/// If `assignment` has no `=`.
pub fn apply_set(config: &mut serde_json::Value, assignment: &str) -> Result<()> {
    let Some((key, raw)) = assignment.split_once('=') else {
        return Err(Error::Invalid(format!("`--set {assignment}`: expected key=value")));
    };
    let value: serde_json::Value = toml::from_str::<toml::Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|t| t.get("v").cloned())
        .and_then(|v| serde_json::to_value(v).ok())
        .unwrap_or_else(|| serde_json::Value::String(raw.to_owned()));
    let mut cur = config;
    let parts: Vec<&str> = key.trim().split('.').collect();
    for (i, p) in parts.iter().enumerate() {
        if !cur.is_object() {
            *cur = serde_json::Value::Object(serde_json::Map::new());
        }
        let map = cur.as_object_mut().expect("object");
        if i + 1 == parts.len() {
            map.insert((*p).to_owned(), value);
            return Ok(());
        }
        cur = map
            .entry((*p).to_owned())
            .or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()));
    }
    Ok(())
}

/// Registers a plugin type with the registry.
///
/// ```ignore
/// motif_core::register_plugin!(PruningCriterion, WeightCriterion,
///     name: "weight", summary: "L1 norm of each kernel's dense weights",
///     status: motif_core::plugin::Status::Stable("0.1.0"));
/// ```
/// The plugin's docs are its own file, `docs/<name>.md` in its crate (so
/// `motiftool plugins show weight` shows the weight criterion, not its
/// crate's README); its version is the crate's version.
#[macro_export]
macro_rules! register_plugin {
    ($kind:ident, $ty:ty, name: $name:literal, summary: $summary:literal, status: $status:expr) => {
        $crate::inventory::submit! {
            $crate::plugin::Registration::<dyn $crate::plugin::$kind> {
                name: $name,
                summary: $summary,
                docs: include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/", $name, ".md")),
                version: env!("CARGO_PKG_VERSION"),
                status: $status,
                default_config: || {
                    $crate::serde_json::to_value(
                        <<$ty as $crate::plugin::Configured>::Config as ::core::default::Default>::default(),
                    )
                    .expect("a plugin config serialises to JSON")
                },
                build: |de| {
                    let cfg = $crate::plugin::deserialize_config::<
                        <$ty as $crate::plugin::Configured>::Config,
                    >($name, de)?;
                    Ok(::std::boxed::Box::new(<$ty as $crate::plugin::Configured>::from_config(cfg)?))
                },
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_must_be_kebab_case() {
        assert!(check_name("score-weight").is_ok());
        assert!(check_name("tomtom2").is_ok());
        let e = check_name("Score_Weight").unwrap_err().to_string();
        assert!(e.contains("try `score-weight`"), "{e}");
        assert!(check_name("a--b").is_err());
        assert!(check_name("").is_err());
    }

    #[test]
    fn kinds_parse() {
        assert_eq!(PluginKind::parse("matcher").unwrap(), PluginKind::Matcher);
        assert!(PluginKind::parse("matchers").unwrap_err().to_string().contains("one of"));
    }

    #[test]
    fn set_parses_values_and_nests() {
        let mut c = serde_json::json!({"a": 1});
        apply_set(&mut c, "a=2.5").unwrap();
        apply_set(&mut c, "b.c=true").unwrap();
        apply_set(&mut c, "name=hello").unwrap();
        apply_set(&mut c, "list=[1, 2]").unwrap();
        assert_eq!(
            c,
            serde_json::json!({"a": 2.5, "b": {"c": true}, "name": "hello", "list": [1, 2]})
        );
        assert!(apply_set(&mut c, "novalue").is_err());
    }
}
