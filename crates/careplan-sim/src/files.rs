//! Finding the files a user names on the command line.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// The files named by `paths`: files as given, directories searched recursively for files whose
/// extension is `extension` (any case), sorted so runs are in a stable order. Duplicates are dropped;
/// a directory without such files is an error, so that a typo does not pass as "nothing to do".
pub(crate) fn discover(paths: &[PathBuf], extension: &str) -> Result<Vec<PathBuf>, String> {
    let mut found = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
        if meta.is_dir() {
            let mut files = Vec::new();
            walk(path, extension, &mut files)?;
            if files.is_empty() {
                return Err(format!("{}: contains no .{extension} files", path.display()));
            }
            files.sort();
            found.extend(files);
        } else {
            found.push(path.clone());
        }
    }
    let mut seen = HashSet::new();
    found.retain(|p| seen.insert(p.clone()));
    Ok(found)
}

fn walk(dir: &Path, extension: &str, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: cannot list: {e}", dir.display()))?;
    for entry in entries {
        let path = entry
            .map_err(|e| format!("{}: cannot list: {e}", dir.display()))?
            .path();
        if path.is_dir() {
            walk(&path, extension, out)?;
        } else if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case(extension))
        {
            out.push(path);
        }
    }
    Ok(())
}
