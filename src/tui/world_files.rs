//! World files as a TUI source: read again when `r` (or any full read) finds one changed since
//! it was read, so editing a world and pressing `r` shows the edit. A file that no longer
//! parses keeps the last good world and says where it broke.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use crate::world::World;
use crate::world::parse::{Source, parse_world};

pub struct WorldFiles {
    paths: Vec<PathBuf>,
    /// The last world read and each file's modification time then.
    last: Mutex<(Arc<World>, Vec<Option<SystemTime>>)>,
}

fn modified(paths: &[PathBuf]) -> Vec<Option<SystemTime>> {
    paths
        .iter()
        .map(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok())
        .collect()
}

impl WorldFiles {
    /// `world` as already read from `paths` (the command line reads them first, so a bad file
    /// stops it before the screen opens). No paths: a world that never changes (embedded).
    pub fn new(world: World, paths: Vec<PathBuf>) -> WorldFiles {
        let times = modified(&paths);
        WorldFiles {
            paths,
            last: Mutex::new((Arc::new(world), times)),
        }
    }

    /// The world as the files are now: the last one when none changed, else read again.
    pub fn current(&self) -> Result<Arc<World>, String> {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        let now = modified(&self.paths);
        if now == last.1 {
            return Ok(Arc::clone(&last.0));
        }
        let texts = self
            .paths
            .iter()
            .map(|p| {
                std::fs::read_to_string(p)
                    .map_err(|e| format!("cannot read world file {}: {e}", p.display()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let names: Vec<String> = self.paths.iter().map(|p| p.display().to_string()).collect();
        let sources: Vec<Source<'_>> = names
            .iter()
            .zip(&texts)
            .map(|(name, text)| Source { name, text })
            .collect();
        let world = parse_world(&sources).map_err(|e| e.to_string())?;
        *last = (Arc::new(world), now);
        Ok(Arc::clone(&last.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_file_is_read_again_and_a_broken_one_keeps_the_last_world() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.yaml");
        let first = "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n";
        std::fs::write(&path, first).unwrap();
        let world = parse_world(&[Source {
            name: "w.yaml",
            text: first,
        }])
        .unwrap();
        let files = WorldFiles::new(world, vec![path.clone()]);
        assert_eq!(files.current().unwrap().kube.namespaces.len(), 1);
        // A later modification time, whatever the file system's resolution.
        let later = SystemTime::now() + std::time::Duration::from_secs(5);
        let second =
            format!("{first}---\napiVersion: v1\nkind: Namespace\nmetadata: {{name: b}}\n");
        std::fs::write(&path, second).unwrap();
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(later)
            .unwrap();
        assert_eq!(files.current().unwrap().kube.namespaces.len(), 2);
        std::fs::write(&path, "kind: Namespace\nmetadata: [").unwrap();
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(later + std::time::Duration::from_secs(5))
            .unwrap();
        let e = files.current().unwrap_err();
        assert!(e.contains("w.yaml"), "{e}");
        assert_eq!(files.last.lock().unwrap().0.kube.namespaces.len(), 2);
    }
}
