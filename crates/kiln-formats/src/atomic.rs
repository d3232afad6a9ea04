//! Crash-safe file replacement: write a temporary file in the target's directory, flush
//! and sync it, then rename it over the target. Readers never see a partial file, and a
//! failed write leaves no temporary file behind.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use super::error::FormatError;

/// Writes `path` atomically: `body` fills a buffered temporary file in the same
/// directory (named `.<name>.<random>.kiln-tmp`, removed if anything fails), which is
/// synced and then replaces `path` by rename.
pub fn write_atomically(
    path: &Path,
    body: impl FnOnce(&mut BufWriter<File>) -> std::io::Result<()>,
) -> Result<(), FormatError> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".to_string());
    let result = (|| {
        let (file, tmp) = shared_file_builder()
            .prefix(&format!(".{name}."))
            .suffix(".kiln-tmp")
            .tempfile_in(dir)?
            .into_parts();
        let mut w = BufWriter::with_capacity(1 << 20, file);
        body(&mut w)?;
        w.flush()?;
        let file = w.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        drop(file);
        // `tmp` removes the temporary file when dropped on an earlier error.
        tmp.persist(path).map_err(|e| e.error)
    })();
    result.map_err(|e| FormatError::io(path, "cannot write", e))
}

/// A temporary-file builder whose files get the mode any new file would (`0o666` less the
/// umask), not tempfile's owner-only default: outputs are read by other tools and users.
pub fn shared_file_builder<'a, 'b>() -> tempfile::Builder<'a, 'b> {
    let mut b = tempfile::Builder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        b.permissions(std::fs::Permissions::from_mode(0o666));
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_file_and_leaves_nothing_on_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.json");
        std::fs::write(&p, b"old").unwrap();
        write_atomically(&p, |w| w.write_all(b"new")).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"new");
        // The mode a new file gets from the umask, not an owner-only one.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let fresh = dir.path().join("fresh");
            std::fs::write(&fresh, b"").unwrap();
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&p), mode(&fresh));
            std::fs::remove_file(&fresh).unwrap();
        }
        let e = write_atomically(&p, |w| {
            w.write_all(b"partial")?;
            Err(std::io::Error::other("disk on fire"))
        })
        .unwrap_err()
        .to_string();
        assert!(e.contains("out.json: cannot write: disk on fire"), "{e}");
        assert_eq!(std::fs::read(&p).unwrap(), b"new");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1);
        let e = write_atomically(&dir.path().join("no/such/dir/x"), |_| Ok(())).unwrap_err();
        assert!(matches!(e, FormatError::Io { .. }));
    }
}
