//! Inline code (`InlineCode`, `Code.ZipFile`) written out as the package CloudFormation makes of
//! it: one file, `index.py` or `index.js`, in a directory the function's user in the container
//! can read and another local user cannot find. The directory lives as long as the function
//! that holds it, and is removed with it.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::artifact::Unzipped;
use std::sync::Arc;

/// The file CloudFormation writes inline code to, by runtime; `None` for the runtimes whose
/// inline code it does not take.
pub fn file_for(runtime: &str) -> Option<&'static str> {
    if runtime.starts_with("python") {
        Some("index.py")
    } else if runtime.starts_with("nodejs") {
        Some("index.js")
    } else {
        None
    }
}

/// The written-out code: its directory, removed when the last holder drops it.
#[derive(Debug)]
pub struct Written(Unzipped);

impl Written {
    pub fn path(&self) -> &Path {
        self.0.path()
    }
}

/// Writes `text` as `file` in a fresh directory, made as zips' unpacked trees are.
pub fn write(file: &str, text: &str) -> std::io::Result<Arc<Written>> {
    let tree = Unzipped::of("inline")?;
    let path = tree.path().join(file);
    std::fs::write(&path, text)?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644))?;
    Ok(Arc::new(Written(tree)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_code_is_written_readable_and_removed_with_its_last_holder() {
        let written = write("index.py", "def handler(e, c):\n    return 1\n").unwrap();
        let file = written.path().join("index.py");
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o644);
        let outer = written.path().parent().unwrap().to_path_buf();
        let held = written.clone();
        drop(written);
        assert!(file.exists());
        drop(held);
        assert!(!outer.exists());
        assert_eq!(file_for("nodejs22.x"), Some("index.js"));
        assert_eq!(file_for("java21"), None);
    }
}
