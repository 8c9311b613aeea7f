//! A run's output folder, the one way workflows write results.
//!
//! [`RunDir`] owns what every long job needs from its folder:
//! - every file is written atomically (through [`crate::fsio::write_atomic`]),
//!   and a file that is one of the run's inputs is never overwritten;
//! - temp files left by dead runs are removed when the folder is opened;
//! - `run.json` is the typed [`Manifest`]: the workflow, the command line,
//!   the inputs with their SHA-256, engine and device, every plugin with its
//!   version and the config it ran with, the seed, the workflow's config,
//!   timings and motiftool's version;
//! - `summary.json` is the workflow's typed result, serialised by
//!   [`RunDir::finish`];
//! - a [`Journal`] records finished units of work (a prune step, a
//!   neuron's sampling, demixing and results) or the latest state (a
//!   training checkpoint, [`Journal::replace`]) under the fingerprint of the
//!   run's settings, so a rerun of the same command resumes after the last
//!   one and a run with other settings is refused, naming what differs.
//!
//! # Example
//! ```
//! # let dir = tempfile::tempdir().unwrap();
//! use motif_core::rundir::RunDir;
//! let mut run = RunDir::create(&dir.path().join("out"), "example")?;
//! run.set_seed(7);
//! let mut journal = run.journal("steps", "settings-v1")?;
//! for step in 0..3u32 {
//!     if journal.get::<f64>(&step.to_string()).is_some() {
//!         continue; // finished by an earlier, interrupted run
//!     }
//!     journal.record(&step.to_string(), &(f64::from(step) * 0.5))?;
//! }
//! run.write("table.tsv", b"step\tvalue\n")?;
//! let manifest = run.finish(&serde_json::json!({"steps": 3}))?;
//! assert_eq!(manifest.seed, Some(7));
//! # Ok::<(), motif_core::Error>(())
//! ```

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::fsio;

/// `run.json`: what ran, on what, with which settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The workflow (`analyze`, `prune`, `decouple` …).
    pub workflow: String,
    /// The command line.
    pub command: Vec<String>,
    /// motiftool's version.
    pub motiftool: String,
    /// Every file read, with its SHA-256.
    pub inputs: Vec<Input>,
    /// Inference engine (`tract`, `ort`), when a model ran.
    pub engine: Option<String>,
    /// Device (`cpu`, `cuda`), when a model ran.
    pub device: Option<String>,
    /// Random seed, when the workflow draws.
    pub seed: Option<u64>,
    /// Every plugin used, with the config it ran with.
    pub plugins: Vec<PluginUse>,
    /// The workflow's own config, as run.
    pub config: serde_json::Value,
    /// Seconds per stage, and `total`.
    pub timings_s: BTreeMap<String, f64>,
    /// When a database hit counts as a match, for workflows that name
    /// motifs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_policy: Option<serde_json::Value>,
}

/// One input file of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Input {
    /// What it is to the run (`model`, `sequences`, `database` …).
    pub role: String,
    /// Where it was read from (or the bundled file's name).
    pub path: String,
    /// SHA-256 of its bytes, hex.
    pub sha256: String,
}

/// A plugin a run used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginUse {
    /// Registered name.
    pub name: String,
    /// Plugin kind (`extractor`, `matcher` …).
    pub kind: String,
    /// Its version.
    pub version: String,
    /// The config it ran with (defaults filled in).
    pub config: serde_json::Value,
}

/// SHA-256 of `bytes`, lowercase hex.
#[must_use]
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    format!("{:x}", sha2::Sha256::digest(bytes))
}

/// SHA-256 of the file at `path`, lowercase hex.
///
/// # Errors
/// If the file cannot be read.
pub fn sha256_file(path: &Path) -> Result<String> {
    use sha2::Digest;
    // Streamed: a genome FASTA need not fit in memory.
    let mut f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut h = sha2::Sha256::new();
    std::io::copy(&mut f, &mut h).map_err(|e| Error::io(path, e))?;
    Ok(format!("{:x}", h.finalize()))
}

/// A run's output folder; see the module documentation.
#[derive(Debug)]
pub struct RunDir {
    root: PathBuf,
    manifest: Manifest,
    input_paths: Vec<PathBuf>,
    t0: Instant,
}

impl RunDir {
    /// The run folder `root` for `workflow` (reopened, for a resumed run),
    /// with temp files left there by dead runs removed. The folder itself
    /// is made by the first write, so a run that fails before writing
    /// anything leaves nothing behind.
    ///
    /// # Errors
    /// If `root` is an existing file.
    pub fn create(root: &Path, workflow: &str) -> Result<Self> {
        if root.is_file() {
            return Err(Error::Invalid(format!(
                "{}: is a file; the output must be a folder",
                root.display()
            )));
        }
        if root.is_dir() {
            fsio::clean_stale_temps(root);
        }
        Ok(Self {
            root: root.to_path_buf(),
            manifest: Manifest {
                workflow: workflow.to_owned(),
                command: std::env::args().collect(),
                motiftool: env!("CARGO_PKG_VERSION").to_owned(),
                inputs: Vec::new(),
                engine: None,
                device: None,
                seed: None,
                plugins: Vec::new(),
                config: serde_json::Value::Null,
                timings_s: BTreeMap::new(),
                match_policy: None,
            },
            input_paths: Vec::new(),
            t0: Instant::now(),
        })
    }

    /// The run folder.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.root
    }

    /// `rel` inside the folder.
    #[must_use]
    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    /// Records the input file `path` as `role`, with its SHA-256, which it
    /// returns (read once, for settings that need it too); the run will
    /// refuse to write over the file.
    ///
    /// # Errors
    /// If the file cannot be read.
    pub fn input(&mut self, role: &str, path: &Path) -> Result<String> {
        let sha256 = sha256_file(path)?;
        self.manifest.inputs.push(Input {
            role: role.to_owned(),
            path: path.display().to_string(),
            sha256: sha256.clone(),
        });
        self.input_paths.push(path.to_path_buf());
        Ok(sha256)
    }

    /// Records an input that is not a file of the user's (a bundled model
    /// or database), by name and bytes.
    pub fn input_bytes(&mut self, role: &str, name: &str, bytes: &[u8]) {
        self.manifest.inputs.push(Input {
            role: role.to_owned(),
            path: name.to_owned(),
            sha256: sha256_hex(bytes),
        });
    }

    /// Records the engine and device a model ran on.
    pub fn set_engine(&mut self, engine: &str, device: &str) {
        self.manifest.engine = Some(engine.to_owned());
        self.manifest.device = Some(device.to_owned());
    }

    /// Records the seed.
    pub fn set_seed(&mut self, seed: u64) {
        self.manifest.seed = Some(seed);
    }

    /// Records the workflow's config, as it ran.
    ///
    /// # Errors
    /// If it does not serialise.
    pub fn set_config<T: Serialize>(&mut self, config: &T) -> Result<()> {
        self.manifest.config = to_value(config)?;
        Ok(())
    }

    /// Records the match policy the run called matches by, and its matcher
    /// plugin with the config the policy gives it.
    ///
    /// # Errors
    /// If the matcher is not registered.
    pub fn set_match_policy(&mut self, policy: &crate::plugin::MatchPolicy) -> Result<()> {
        use crate::plugin::{self, MatchPolicy};
        self.manifest.match_policy = Some(to_value(policy)?);
        let config = plugin::effective_config(MatchPolicy::MATCHER, &policy.matcher_config())?;
        let version = plugin::find(MatchPolicy::MATCHER)?.version;
        self.plugin("matcher", MatchPolicy::MATCHER, version, &config)
    }

    /// Records a plugin with the config it ran with.
    ///
    /// # Errors
    /// If the config does not serialise.
    pub fn plugin<T: Serialize>(
        &mut self,
        kind: &str,
        name: &str,
        version: &str,
        config: &T,
    ) -> Result<()> {
        self.manifest.plugins.push(PluginUse {
            name: name.to_owned(),
            kind: kind.to_owned(),
            version: version.to_owned(),
            config: to_value(config)?,
        });
        Ok(())
    }

    /// Adds `seconds` to stage `stage`'s time.
    pub fn time(&mut self, stage: &str, seconds: f64) {
        *self.manifest.timings_s.entry(stage.to_owned()).or_default() += seconds;
    }

    /// Writes `bytes` to `rel` atomically.
    ///
    /// # Errors
    /// If `rel` is one of the run's inputs, or on I/O failure.
    pub fn write(&self, rel: &str, bytes: &[u8]) -> Result<()> {
        self.check_writable(rel)?;
        let p = self.path(rel);
        fsio::write_atomic(&p, bytes).map_err(|e| Error::io(&p, e))
    }

    /// Refuses now, before any work, an output `rel` that is one of the
    /// run's inputs recorded so far.
    ///
    /// # Errors
    /// If it is.
    pub fn check_writable(&self, rel: &str) -> Result<()> {
        let p = self.path(rel);
        let inputs: Vec<&Path> = self.input_paths.iter().map(PathBuf::as_path).collect();
        match fsio::overwritten_input(&p, &inputs) {
            Some(i) => Err(Error::Invalid(format!(
                "{}: is an input of this run; refusing to overwrite it",
                i.display()
            ))),
            None => Ok(()),
        }
    }

    /// Writes `value` as pretty JSON to `rel` atomically.
    ///
    /// # Errors
    /// As [`RunDir::write`], or if it does not serialise.
    pub fn write_json<T: Serialize>(&self, rel: &str, value: &T) -> Result<()> {
        let mut text = serde_json::to_string_pretty(value)
            .map_err(|e| Error::Invalid(format!("{rel}: {e}")))?;
        text.push('\n');
        self.write(rel, text.as_bytes())
    }

    /// Opens the resume journal `name` (`<name>.journal` in the folder) for
    /// a run whose settings give `fingerprint`.
    ///
    /// # Errors
    /// If an existing journal belongs to a run with other settings, or
    /// cannot be read.
    pub fn journal<F: Serialize + ?Sized>(&self, name: &str, fingerprint: &F) -> Result<Journal> {
        std::fs::create_dir_all(&self.root).map_err(|e| Error::io(&self.root, e))?;
        Journal::open(&self.path(&format!("{name}.journal")), fingerprint)
    }

    /// Writes `summary.json` (the typed result) and `run.json` (with the
    /// total time), and returns the manifest.
    ///
    /// # Errors
    /// As [`RunDir::write_json`].
    pub fn finish<T: Serialize>(mut self, summary: &T) -> Result<Manifest> {
        self.write_json("summary.json", summary)?;
        self.manifest.timings_s.insert("total".into(), self.t0.elapsed().as_secs_f64());
        self.write_json("run.json", &self.manifest)?;
        Ok(self.manifest)
    }
}

/// What differs between two fingerprints, for a refusal: `key: was X, now
/// Y` for each top-level key of two objects, else both values.
#[must_use]
pub fn differences(old: &serde_json::Value, new: &serde_json::Value) -> String {
    let (Some(o), Some(n)) = (old.as_object(), new.as_object()) else {
        return format!("was {old}, now {new}");
    };
    let keys: std::collections::BTreeSet<&String> = o.keys().chain(n.keys()).collect();
    let null = serde_json::Value::Null;
    keys.into_iter()
        .filter(|k| o.get(*k) != n.get(*k))
        .map(|k| {
            format!("{k}: was {}, now {}", o.get(k).unwrap_or(&null), n.get(k).unwrap_or(&null))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn to_value<T: Serialize + ?Sized>(v: &T) -> Result<serde_json::Value> {
    serde_json::to_value(v).map_err(|e| Error::Invalid(format!("config: {e}")))
}

/// Finished units of work of a run, one JSON line each, so that an
/// interrupted run resumes after the last one. The first line holds the
/// fingerprint of the run's settings: a journal of other settings is an
/// error, never silently mixed in. A line cut short by a crash is ignored.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    fingerprint: serde_json::Value,
    done: BTreeMap<String, serde_json::Value>,
}

#[derive(Serialize, Deserialize)]
struct Line {
    key: String,
    value: serde_json::Value,
}

impl Journal {
    /// Opens (or starts) the journal at `path` for a run whose settings
    /// are `fingerprint` (any serialisable value: the settings themselves,
    /// so that a refusal can name what differs). Shards of one run may open
    /// the same journal at once: it is created exclusively and appended to
    /// one whole line at a time.
    ///
    /// # Errors
    /// If the journal holds another fingerprint (the message names the
    /// settings that differ), or on I/O failure.
    pub fn open<F: Serialize + ?Sized>(path: &Path, fingerprint: &F) -> Result<Self> {
        let ours = to_value(fingerprint)?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let head = serde_json::to_string(&Line { key: "fingerprint".into(), value: ours.clone() })
            .map_err(|e| Error::Invalid(e.to_string()))?;
        match std::fs::OpenOptions::new().write(true).create_new(true).open(path) {
            Ok(mut f) => {
                f.write_all(format!("{head}\n").as_bytes())
                    .and_then(|()| f.sync_data())
                    .map_err(|e| Error::io(path, e))?;
                return Ok(Self {
                    path: path.to_path_buf(),
                    fingerprint: ours,
                    done: BTreeMap::new(),
                });
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(Error::io(path, e)),
        }
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let mut lines = text.lines();
        let theirs: Option<serde_json::Value> = lines
            .next()
            .and_then(|h| serde_json::from_str::<Line>(h).ok())
            .filter(|l| l.key == "fingerprint")
            .map(|l| l.value);
        if theirs.as_ref() != Some(&ours) {
            let what = match &theirs {
                Some(t) => differences(t, &ours),
                None => "not a journal".into(),
            };
            return Err(Error::Invalid(format!(
                "{}: the journal of a run with other settings or inputs ({what}); resume with the same settings, remove it to start afresh, or choose another output folder",
                path.display()
            )));
        }
        let mut done = BTreeMap::new();
        for l in lines {
            // A torn last line (the process died mid-write) is skipped.
            if let Ok(Line { key, value }) = serde_json::from_str(l) {
                done.insert(key, value);
            }
        }
        Ok(Self { path: path.to_path_buf(), fingerprint: ours, done })
    }

    /// The value recorded for `key`, if that unit finished.
    #[must_use]
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        self.done.get(key).and_then(|v| serde_json::from_value(v.clone()).ok())
    }

    /// How many units finished.
    #[must_use]
    pub fn len(&self) -> usize {
        self.done.len()
    }

    /// Whether none finished.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.done.is_empty()
    }

    /// Records that `key` finished with `value`; on disk (flushed and
    /// synced) before this returns.
    ///
    /// # Errors
    /// On I/O failure or if `value` does not serialise.
    pub fn record<T: Serialize>(&mut self, key: &str, value: &T) -> Result<()> {
        let value = to_value(value)?;
        let line = serde_json::to_string(&Line { key: key.to_owned(), value: value.clone() })
            .map_err(|e| Error::Invalid(e.to_string()))?;
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&self.path)
            .map_err(|e| Error::io(&self.path, e))?;
        // A torn line from a crash would glue onto this one: start afresh.
        f.write_all(format!("\n{line}\n").as_bytes())
            .and_then(|()| f.sync_data())
            .map_err(|e| Error::io(&self.path, e))?;
        self.done.insert(key.to_owned(), value);
        Ok(())
    }

    /// Records `key` with `value` in place of its earlier value and
    /// rewrites the journal without superseded lines, atomically: for a
    /// state that replaces the previous one (a training checkpoint after
    /// each epoch), so the file does not grow.
    ///
    /// # Errors
    /// On I/O failure or if `value` does not serialise.
    pub fn replace<T: Serialize>(&mut self, key: &str, value: &T) -> Result<()> {
        self.done.insert(key.to_owned(), to_value(value)?);
        let mut text = String::new();
        let head = Line { key: "fingerprint".into(), value: self.fingerprint.clone() };
        for l in std::iter::once(head)
            .chain(self.done.iter().map(|(k, v)| Line { key: k.clone(), value: v.clone() }))
        {
            text.push_str(&serde_json::to_string(&l).map_err(|e| Error::Invalid(e.to_string()))?);
            text.push('\n');
        }
        fsio::write_atomic(&self.path, text.as_bytes()).map_err(|e| Error::io(&self.path, e))
    }

    /// Removes the journal (the run finished).
    ///
    /// # Errors
    /// On I/O failure.
    pub fn remove(self) -> Result<()> {
        match std::fs::remove_file(&self.path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::io(&self.path, e)),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_and_summary_are_typed_and_round_trip() {
        let d = tempfile::tempdir().unwrap();
        let model = d.path().join("m.onnx");
        std::fs::write(&model, b"abc").unwrap();
        let mut run = RunDir::create(&d.path().join("out"), "analyze").unwrap();
        run.input("model", &model).unwrap();
        run.set_engine("tract", "cpu");
        run.set_seed(3);
        run.plugin("matcher", "tomtom", "0.1.0", &serde_json::json!({"dist": "pearson"})).unwrap();
        run.time("inference", 0.5);
        run.time("inference", 0.25);
        let m = run.finish(&serde_json::json!({"filters": 8})).unwrap();
        // SHA-256("abc"), FIPS 180-2's example.
        assert_eq!(
            m.inputs[0].sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(sha256_hex(b"abc"), m.inputs[0].sha256);
        assert!((m.timings_s["inference"] - 0.75).abs() < 1e-12);
        assert!(m.timings_s.contains_key("total"));
        let back: Manifest =
            serde_json::from_str(&std::fs::read_to_string(d.path().join("out/run.json")).unwrap())
                .unwrap();
        assert_eq!(back, m);
        let s = std::fs::read_to_string(d.path().join("out/summary.json")).unwrap();
        assert_eq!(serde_json::from_str::<serde_json::Value>(&s).unwrap()["filters"], 8);
    }

    #[test]
    fn inputs_are_never_overwritten_and_stale_temps_go() {
        let d = tempfile::tempdir().unwrap();
        let out = d.path().join("out");
        std::fs::create_dir(&out).unwrap();
        let seqs = out.join("seqs.fa");
        std::fs::write(&seqs, b">a\nACGT\n").unwrap();
        let stale = out.join(".motiftool-4294967295-x.tmp");
        std::fs::write(&stale, b"x").unwrap();
        let mut run = RunDir::create(&out, "w").unwrap();
        if Path::new("/proc/self").exists() {
            assert!(!stale.exists());
        }
        run.input("sequences", &seqs).unwrap();
        let e = run.write("seqs.fa", b"gone").unwrap_err().to_string();
        assert!(e.contains("seqs.fa") && e.contains("input"), "{e}");
        assert_eq!(std::fs::read(&seqs).unwrap(), b">a\nACGT\n");
        run.write("other.tsv", b"x").unwrap();
        // A file where the folder should be.
        let e = RunDir::create(&seqs, "w").unwrap_err().to_string();
        assert!(e.contains("is a file"), "{e}");
    }

    #[test]
    fn journal_resumes_refuses_other_settings_and_survives_a_torn_line() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("steps.journal");
        let mut j = Journal::open(&p, "fp1").unwrap();
        assert!(j.is_empty());
        j.record("0", &1.5f64).unwrap();
        j.record("1", &vec![1u32, 2]).unwrap();
        // A crash mid-write leaves half a line.
        std::fs::OpenOptions::new()
            .append(true)
            .open(&p)
            .unwrap()
            .write_all(b"{\"key\":\"2\",\"val")
            .unwrap();
        let mut j = Journal::open(&p, "fp1").unwrap();
        assert_eq!(j.len(), 2);
        assert_eq!(j.get::<f64>("0"), Some(1.5));
        assert_eq!(j.get::<Vec<u32>>("1"), Some(vec![1, 2]));
        assert_eq!(j.get::<f64>("2"), None);
        j.record("2", &2.5f64).unwrap();
        let j = Journal::open(&p, "fp1").unwrap();
        assert_eq!(j.get::<f64>("2"), Some(2.5));
        let e = Journal::open(&p, "fp2").unwrap_err().to_string();
        assert!(e.contains("steps.journal") && e.contains("other"), "{e}");
        assert!(e.contains(r#"was "fp1", now "fp2""#), "{e}");
        j.remove().unwrap();
        assert!(!p.exists());
    }

    #[test]
    fn a_replaced_state_keeps_one_line_and_resumes() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("train.journal");
        let mut j = Journal::open(&p, &7u64).unwrap();
        j.record("unit", &"done").unwrap();
        for epoch in 1..=5u32 {
            j.replace("state", &vec![epoch; 3]).unwrap();
        }
        let text = std::fs::read_to_string(&p).unwrap();
        assert_eq!(text.lines().count(), 3, "{text}");
        let j = Journal::open(&p, &7u64).unwrap();
        assert_eq!(j.get::<Vec<u32>>("state"), Some(vec![5, 5, 5]));
        assert_eq!(j.get::<String>("unit").as_deref(), Some("done"));
        assert!(Journal::open(&p, &8u64).is_err());
    }

    #[test]
    fn a_refused_journal_names_the_settings_that_differ() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("n.journal");
        let a = serde_json::json!({"layer": 1, "seed": 3, "window": 12});
        Journal::open(&p, &a).unwrap().record("x", &1).unwrap();
        // The same settings again, as a second shard would open it.
        assert_eq!(Journal::open(&p, &a).unwrap().get::<i32>("x"), Some(1));
        let b = serde_json::json!({"layer": 1, "seed": 4, "window": 12, "extra": true});
        let e = Journal::open(&p, &b).unwrap_err().to_string();
        assert!(e.contains("seed: was 3, now 4") && e.contains("extra: was null, now true"), "{e}");
        assert!(!e.contains("layer") && !e.contains("window"), "{e}");
        std::fs::write(&p, b"garbage\n").unwrap();
        let e = Journal::open(&p, &a).unwrap_err().to_string();
        assert!(e.contains("not a journal"), "{e}");
    }
}
