//! Atomic file output, temp-file bookkeeping, and the check that an output
//! is not one of the inputs.
//!
//! Every temp file motiftool writes is named `.motiftool-<pid>-<rest>.tmp`
//! and sits beside its target until a rename moves it into place. Live
//! temp files are registered here, so a signal handler can remove them
//! ([`remove_live_temps`]); one left by a process that no longer runs (a
//! `kill -9`, a power cut) is removed by the next run writing into that
//! folder ([`clean_stale_temps`]).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Temp files of this process not yet renamed into place.
static LIVE: Mutex<BTreeSet<PathBuf>> = Mutex::new(BTreeSet::new());

/// The prefix of every temp file this process creates: its pid and this
/// machine's tag ([`host_tag`]), so that in a folder several machines share
/// (shards of one job on a cluster) only the machine that made a temp file
/// judges it by its pid.
#[must_use]
pub fn temp_prefix() -> String {
    format!(".motiftool-{}@{}-", std::process::id(), host_tag())
}

/// This machine's tag: 8 hex digits of an FNV-1a hash of its host name.
fn host_tag() -> &'static str {
    static TAG: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TAG.get_or_init(|| {
        let name = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .or_else(|| std::env::var("HOSTNAME").ok())
            .or_else(|| std::env::var("COMPUTERNAME").ok())
            .unwrap_or_default();
        let h = name
            .trim()
            .bytes()
            .fold(0x811c_9dc5_u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193));
        format!("{h:08x}")
    })
}

/// Records `path` as a live temp file (removed by [`remove_live_temps`]).
pub fn register_temp(path: &Path) {
    LIVE.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(path.to_path_buf());
}

/// Forgets `path` (it was renamed into place or removed).
pub fn unregister_temp(path: &Path) {
    LIVE.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(path);
}

/// Removes every live temp file of this process; for signal handlers.
pub fn remove_live_temps() {
    remove_live_temps_where(|_| true);
}

/// Removes the live temp files `pick` chooses (and forgets them).
fn remove_live_temps_where(pick: impl Fn(&Path) -> bool) {
    let mut live = LIVE.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let chosen: Vec<PathBuf> = live.iter().filter(|p| pick(p)).cloned().collect();
    for p in chosen {
        live.remove(&p);
        let _ = std::fs::remove_file(p);
    }
}

/// Removes temp files in `dir` left by motiftool processes of this machine
/// that no longer run (on Linux, where `/proc` tells), and any older than a
/// day (another machine's, or where `/proc` cannot tell).
pub fn clean_stale_temps(dir: &Path) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    let me = std::process::id();
    for e in rd.filter_map(Result::ok) {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(".motiftool-") else { continue };
        if !name.ends_with(".tmp") {
            continue;
        }
        // `pid@tag-…` (`pid-…` from older versions: this machine's).
        let owner = rest.split('-').next().unwrap_or("");
        let (pid, tag) = owner.split_once('@').map_or((owner, None), |(p, t)| (p, Some(t)));
        let ours = tag.is_none_or(|t| t == host_tag());
        let pid: Option<u32> = pid.parse().ok().filter(|_| ours);
        let stale = match pid {
            Some(p) if p == me => false,
            Some(p) if Path::new("/proc/self").exists() => {
                !Path::new(&format!("/proc/{p}")).exists()
            }
            _ => e
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age.as_secs() > 86_400),
        };
        if stale {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// The folder a file `path` lives in (`.` for a bare name).
#[must_use]
pub fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// Whether `a` and `b` are the same file (same device and inode on Unix,
/// same canonical path elsewhere); false when either does not exist.
#[must_use]
pub fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (std::fs::metadata(a), std::fs::metadata(b)) {
            (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        match (a.canonicalize(), b.canonicalize()) {
            (Ok(x), Ok(y)) => x == y,
            _ => false,
        }
    }
}

/// The first of `inputs` that `out` would overwrite (the same file, by
/// real path: links and `..` do not hide it).
#[must_use]
pub fn overwritten_input<'a>(out: &Path, inputs: &[&'a Path]) -> Option<&'a Path> {
    inputs.iter().copied().find(|i| same_file(out, i))
}

/// Writes `bytes` to `path` through a temporary file in the same folder and
/// a rename, creating the folder, so a reader never sees a half-written file.
///
/// # Errors
/// The underlying I/O error.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomic_with(path, |f| std::io::Write::write_all(f, bytes))
}

/// [`write_atomic`] with the contents streamed by `fill` into the
/// temporary file (a large output need not be held in memory whole).
///
/// # Errors
/// The underlying I/O error, or `fill`'s.
pub fn write_atomic_with(
    path: &Path,
    fill: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let dir = parent_dir(path);
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(
        "{}{}.tmp",
        temp_prefix(),
        path.file_name().map_or("out".into(), |n| n.to_string_lossy())
    ));
    register_temp(&tmp);
    let r = std::fs::File::create(&tmp)
        .and_then(|mut f| fill(&mut f))
        .and_then(|()| std::fs::rename(&tmp, path));
    if r.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    unregister_temp(&tmp);
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A dead process's temp file of this machine goes; another machine's
    /// recent one stays whatever its pid (its maker may still be writing
    /// it); a live process's stays.
    #[test]
    fn stale_temps_are_this_machines_dead_ones() {
        let dir = tempfile::tempdir().unwrap();
        let name = |s: &str| dir.path().join(s);
        let dead_here = name(&format!(".motiftool-4294967295@{}-a.tmp", host_tag()));
        let dead_old_style = name(".motiftool-4294967295-b.tmp");
        let elsewhere = name(".motiftool-4294967295@00000000-c.tmp");
        let mine = name(&format!("{}d.tmp", temp_prefix()));
        for p in [&dead_here, &dead_old_style, &elsewhere, &mine] {
            std::fs::write(p, b"x").unwrap();
        }
        clean_stale_temps(dir.path());
        assert!(!dead_here.exists() && !dead_old_style.exists());
        assert!(mine.exists());
        assert_eq!(elsewhere.exists(), host_tag() != "00000000");
    }

    #[test]
    fn writes_whole_files_and_creates_folders() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a/b.txt");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(dir.path().join("a")).unwrap().count(), 1);
    }

    #[test]
    fn stale_temps_of_dead_processes_are_removed_live_ones_kept() {
        if !Path::new("/proc/self").exists() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        // A pid far above any pid_max, so never running.
        let dead = dir.path().join(".motiftool-4294967295-x.tsv.tmp");
        let mine = dir.path().join(format!("{}y.tmp", temp_prefix()));
        let other = dir.path().join("keep.tmp");
        for p in [&dead, &mine, &other] {
            std::fs::write(p, b"x").unwrap();
        }
        clean_stale_temps(dir.path());
        assert!(!dead.exists());
        assert!(mine.exists() && other.exists());
        register_temp(&mine);
        // Only this test's folder: other tests' live temps stay.
        remove_live_temps_where(|p| p.starts_with(dir.path()));
        assert!(!mine.exists());
    }

    #[test]
    fn outputs_equal_to_an_input_are_found_through_links() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.fa");
        std::fs::write(&a, b">s\nACGT\n").unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let dotted = dir.path().join("sub/../a.fa");
        let fresh = dir.path().join("b.fa");
        assert_eq!(overwritten_input(&dotted, &[&fresh, &a]), Some(a.as_path()));
        assert_eq!(overwritten_input(&fresh, &[&a]), None);
        #[cfg(unix)]
        {
            let link = dir.path().join("link.fa");
            std::os::unix::fs::symlink(&a, &link).unwrap();
            assert_eq!(overwritten_input(&link, &[&a]), Some(a.as_path()));
        }
    }
}
