//! Finding ONNX Runtime's shared library.

use std::path::{Path, PathBuf};

/// Where ONNX Runtime's library is, in order of preference:
/// 1. `ORT_DYLIB_PATH`;
/// 2. a `.ort/` folder (made by `pip install --no-deps --target .ort
///    onnxruntime==1.31.1`) in the working directory or a parent of the
///    executable;
/// 3. the `onnxruntime` (or `onnxruntime-gpu`) package of `python3`.
///
/// # Errors
/// A message listing where it looked.
pub fn find_ort_library() -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os("ORT_DYLIB_PATH") {
        let p = PathBuf::from(p);
        return if p.is_file() {
            Ok(p)
        } else {
            Err(format!("ORT_DYLIB_PATH={} is not a file", p.display()))
        };
    }
    let mut roots: Vec<PathBuf> = Vec::new();
    if let Ok(cwd) = std::env::current_dir() {
        roots.push(cwd.join(".ort"));
    }
    if let Ok(exe) = std::env::current_exe() {
        for dir in exe.ancestors().skip(1).take(5) {
            roots.push(dir.join(".ort"));
        }
    }
    for r in &roots {
        if let Some(lib) = lib_in_package(&r.join("onnxruntime")) {
            return Ok(lib);
        }
    }
    if let Some(dir) = python_package_dir()
        && let Some(lib) = lib_in_package(&dir)
    {
        return Ok(lib);
    }
    Err("ONNX Runtime library not found: set ORT_DYLIB_PATH, or run \
         `pip install --no-deps --target .ort onnxruntime==1.31.1`, or `pip install onnxruntime==1.31.1`"
        .into())
}

/// `…/onnxruntime/capi/libonnxruntime.so*` (the versioned file preferred).
fn lib_in_package(pkg: &Path) -> Option<PathBuf> {
    let capi = pkg.join("capi");
    let mut found: Vec<PathBuf> = std::fs::read_dir(&capi)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                n.starts_with("libonnxruntime.so")
                    || n.starts_with("libonnxruntime.") && n.ends_with(".dylib")
                    || n == "onnxruntime.dll"
            })
        })
        .collect();
    found.sort_by_key(|p| std::cmp::Reverse(p.as_os_str().len()));
    found.into_iter().next()
}

fn python_package_dir() -> Option<PathBuf> {
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import importlib.util as u, os\ns = u.find_spec('onnxruntime')\nprint(os.path.dirname(s.origin) if s and s.origin else '')",
        ])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let s = String::from_utf8(out.stdout).ok()?;
    let s = s.trim();
    (!s.is_empty()).then(|| PathBuf::from(s))
}
