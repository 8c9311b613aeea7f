//! Output files written atomically: a temp file in the target's folder,
//! renamed over the target only when everything was written.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use motif_core::fsio;

/// Where results go: a file (atomically) or stdout.
pub enum Sink {
    /// Standard output.
    Stdout(BufWriter<std::io::Stdout>),
    /// A temp file that becomes `target` on [`Sink::finish`].
    File { tmp: BufWriter<tempfile::NamedTempFile>, target: PathBuf },
}

impl Sink {
    /// `None` or `-` is stdout. A file that is one of `inputs` (by real
    /// path) is refused before anything is written.
    pub fn open(path: Option<&Path>, inputs: &[&Path]) -> Result<Self> {
        match path.filter(|p| p.as_os_str() != "-") {
            None => Ok(Sink::Stdout(BufWriter::new(std::io::stdout()))),
            Some(p) => {
                refuse_overwrite(p, inputs)?;
                let dir = fsio::parent_dir(p);
                fsio::clean_stale_temps(dir);
                let tmp = tempfile::Builder::new()
                    .prefix(&fsio::temp_prefix())
                    .suffix(".tmp")
                    .tempfile_in(dir)
                    .with_context(|| {
                        format!("{}: cannot create a file in {}", p.display(), dir.display())
                    })?;
                fsio::register_temp(tmp.path());
                Ok(Sink::File { tmp: BufWriter::new(tmp), target: p.to_path_buf() })
            }
        }
    }

    /// Moves the finished file into place (or flushes stdout).
    pub fn finish(self) -> Result<()> {
        match self {
            Sink::Stdout(mut w) => Ok(w.flush()?),
            Sink::File { tmp, target } => {
                let tmp = tmp.into_inner().map_err(std::io::IntoInnerError::into_error)?;
                tmp.as_file().sync_all().ok();
                // temp files are created 0600; results are ordinary files
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    let _ = tmp.as_file().set_permissions(std::fs::Permissions::from_mode(0o644));
                }
                let path = tmp.path().to_path_buf();
                let r = tmp.persist(&target);
                fsio::unregister_temp(&path);
                r.map_err(|e| e.error).with_context(|| format!("writing {}", target.display()))?;
                Ok(())
            }
        }
    }
}

/// Refuses an output path that is one of the inputs (same real file).
pub fn refuse_overwrite(out: &Path, inputs: &[&Path]) -> Result<()> {
    if let Some(i) = fsio::overwritten_input(out, inputs) {
        anyhow::bail!(
            "-o {}: that is the input {}; refusing to overwrite an input (choose another output)",
            out.display(),
            i.display()
        );
    }
    Ok(())
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Sink::Stdout(w) => w.write(buf),
            Sink::File { tmp, .. } => tmp.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Sink::Stdout(w) => w.flush(),
            Sink::File { tmp, .. } => tmp.flush(),
        }
    }
}
