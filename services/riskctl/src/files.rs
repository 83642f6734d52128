//! Reading TOML and YAML input files with errors at `path:line:col`, and replacing a file atomically.

use std::{
    io::Write as _,
    path::{Path, PathBuf},
};

use serde::de::DeserializeOwned;

use crate::error::{CliError, CliResult};

/// The formats an input file may be in, chosen by its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Toml,
    Yaml,
}

/// Reads and parses a `.toml`, `.yaml` or `.yml` file into `T`. Every syntax error and every bad
/// value (unknown field, unknown level, bad duration) is reported as `path:line:col: reason`.
pub(crate) fn load<T: DeserializeOwned>(path: &Path) -> CliResult<T> {
    let format = match path.extension().and_then(|e| e.to_str()) {
        Some("toml") => Format::Toml,
        Some("yaml" | "yml") => Format::Yaml,
        _ => {
            return Err(CliError::file(
                path,
                "unknown file type: the name must end in .toml, .yaml or .yml",
            ))
        }
    };
    let text = std::fs::read_to_string(path).map_err(|err| CliError::file(path, err))?;
    parse(path, &text, format)
}

fn parse<T: DeserializeOwned>(path: &Path, text: &str, format: Format) -> CliResult<T> {
    match format {
        Format::Toml => toml::from_str(text).map_err(|err| {
            let (line, column) = err
                .span()
                .map_or((1, 1), |span| line_and_column(text, span.start));
            CliError::file_at(path, line, column, &reason_text(err.message()))
        }),
        Format::Yaml => serde_yaml_ng::from_str(text).map_err(|err| {
            let (line, column) = err.location().map_or((1, 1), |at| (at.line(), at.column()));
            let message = err.to_string();
            // The message repeats the position ("... at line 3 column 5"); it is already in front.
            let reason = message
                .find(" at line ")
                .map_or(message.as_str(), |end| &message[..end]);
            CliError::file_at(path, line, column, &reason_text(reason))
        }),
    }
}

/// One line, without a trailing period.
fn reason_text(message: &str) -> String {
    crate::error::one_line(message)
        .trim_end_matches('.')
        .to_owned()
}

/// The 1-based line and column (in characters) of byte `offset` in `text`.
fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// Replaces `path` with `contents` atomically: writes a temporary file beside it, syncs it, and
/// renames it over `path`, so a crash leaves either the old or the new contents, never a mix.
pub(crate) fn replace_atomically(path: &Path, contents: &str) -> std::io::Result<()> {
    let mut temp_name = path.file_name().unwrap_or_default().to_os_string();
    temp_name.push(format!(".tmp-{}", std::process::id()));
    let temp = path.with_file_name(temp_name);
    let result = (|| {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(contents.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

/// The directory that holds `path` (for messages and sync), `.` for a bare file name.
pub(crate) fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Sample {
        name: String,
        count: u32,
    }

    #[test]
    fn toml_errors_carry_the_line_and_column() {
        let err = parse::<Sample>(
            Path::new("p.toml"),
            "name = \"a\"\ncount = \"x\"\n",
            Format::Toml,
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("invalid file p.toml:2:9: "), "{text}");
    }

    #[test]
    fn yaml_errors_carry_the_line_and_column() {
        let err = parse::<Sample>(
            Path::new("p.yaml"),
            "name: a\ncount: 1\nextra: 2\n",
            Format::Yaml,
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("invalid file p.yaml:3:1: "), "{text}");
        assert!(text.contains("unknown field `extra`"), "{text}");
        assert!(!text.contains(" at line "), "{text}");
    }

    #[test]
    fn replacing_leaves_only_the_new_contents() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cursor");
        replace_atomically(&path, "one").unwrap();
        replace_atomically(&path, "two").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "two");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
