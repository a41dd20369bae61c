//! Finding scenario files under the paths a user names.

use std::path::{Path, PathBuf};

/// A named path that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{}: {reason}", path.display())]
pub struct DiscoverError {
    /// The path.
    pub path: PathBuf,
    /// Why.
    pub reason: String,
}

/// The scenario files named by `paths`: files as given, directories searched recursively for `*.toml`
/// (sorted, so runs are in a stable order). Duplicates are dropped.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, DiscoverError> {
    let mut found = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|e| DiscoverError {
            path: path.clone(),
            reason: format!("cannot read: {e}"),
        })?;
        if meta.is_dir() {
            let mut files = Vec::new();
            walk(path, &mut files)?;
            files.sort();
            if files.is_empty() {
                return Err(DiscoverError {
                    path: path.clone(),
                    reason: "contains no .toml scenario files".into(),
                });
            }
            found.extend(files);
        } else {
            found.push(path.clone());
        }
    }
    let mut seen = std::collections::HashSet::new();
    found.retain(|p| seen.insert(p.clone()));
    Ok(found)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), DiscoverError> {
    let entries = std::fs::read_dir(dir).map_err(|e| DiscoverError {
        path: dir.to_owned(),
        reason: format!("cannot list: {e}"),
    })?;
    for entry in entries {
        let entry = entry.map_err(|e| DiscoverError {
            path: dir.to_owned(),
            reason: format!("cannot list: {e}"),
        })?;
        let path = entry.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else if path.extension().is_some_and(|ext| ext == "toml") {
            out.push(path);
        }
    }
    Ok(())
}
