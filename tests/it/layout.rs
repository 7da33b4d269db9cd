//! The house keeps its plan: the gateway never imports the devkit or the
//! commands, the handlers never import the listener, path validation never
//! imports CRL validation, no error code is compared as a string, and the
//! Layout section of `src/lib.rs` names every folder. Read from the source
//! files themselves; `#[cfg(test)]` items are left out, since the gateway's
//! unit tests may use the devkit's generated PKI.

use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `dir`, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// `text` without its `#[cfg(test)]` items: a one-line item (`mod x;`), or
/// a block that ends at the first line closing it at the same indentation.
fn without_test_items(text: &str) -> String {
    let mut out = String::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.trim() != "#[cfg(test)]" {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        let Some(item) = lines.next() else { break };
        if item.trim_end().ends_with(';') {
            continue;
        }
        let closing = format!("{}}}", " ".repeat(indent));
        for rest in lines.by_ref() {
            if rest.trim_end() == closing {
                break;
            }
        }
    }
    out
}

/// Files a parent declares only under `#[cfg(test)]` (`#[cfg(test)] mod x;`).
fn test_only_files(files: &[PathBuf]) -> Vec<PathBuf> {
    let mut test_only = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(file).unwrap();
        let dir = if file
            .file_name()
            .is_some_and(|n| n == "mod.rs" || n == "lib.rs")
        {
            file.parent().unwrap().to_owned()
        } else {
            file.with_extension("")
        };
        let mut lines = text.lines();
        while let Some(line) = lines.next() {
            if line.trim() == "#[cfg(test)]"
                && let Some(item) = lines.next()
                && let Some(name) = item
                    .trim()
                    .strip_prefix("mod ")
                    .and_then(|m| m.strip_suffix(';'))
            {
                test_only.push(dir.join(format!("{name}.rs")));
                test_only.push(dir.join(name).join("mod.rs"));
            }
        }
    }
    test_only
}

/// The gateway's production source, file by file, as (path under src/, text).
fn gateway_sources() -> Vec<(String, String)> {
    let files = rust_files(&src().join("gateway"));
    let test_only = test_only_files(&files);
    files
        .iter()
        .filter(|f| !test_only.contains(f))
        .map(|f| {
            let name = f.strip_prefix(src()).unwrap().display().to_string();
            (
                name,
                without_test_items(&std::fs::read_to_string(f).unwrap()),
            )
        })
        .collect()
}

/// The lines of `sources` that contain `needle`, as `file: line`.
fn lines_with(sources: &[(String, String)], needle: &str, except: &[&str]) -> Vec<String> {
    sources
        .iter()
        .filter(|(name, _)| !except.contains(&name.as_str()))
        .flat_map(|(name, text)| {
            text.lines()
                .filter(|l| l.contains(needle) && !l.trim_start().starts_with("//"))
                .map(move |l| format!("{name}: {}", l.trim()))
        })
        .collect()
}

#[test]
fn the_test_item_filter_drops_exactly_the_test_items() {
    let text = "use a;\n#[cfg(test)]\nmod t;\nfn f() {}\n#[cfg(test)]\nmod tests {\n    use crate::devkit;\n    fn g() {\n    }\n}\nfn h() {}\n";
    assert_eq!(without_test_items(text), "use a;\nfn f() {}\nfn h() {}\n");
}

#[test]
fn the_gateway_never_imports_the_devkit_nor_the_commands() {
    let sources = gateway_sources();
    assert!(
        sources.len() > 30,
        "read too few gateway files: {}",
        sources.len()
    );
    let devkit = lines_with(&sources, "devkit::", &[]);
    assert!(
        devkit.is_empty(),
        "gateway code using the devkit: {devkit:#?}"
    );
    let commands = lines_with(&sources, "crate::cmd", &[]);
    assert!(
        commands.is_empty(),
        "gateway code using the commands: {commands:#?}"
    );
}

#[test]
fn the_handlers_never_import_the_listener_and_only_the_listener_imports_the_routes() {
    let sources = gateway_sources();
    let listener = lines_with(&sources, "gateway::server", &["gateway/server.rs"]);
    assert!(
        listener.is_empty(),
        "imports of the listener: {listener:#?}"
    );
    let routes = lines_with(
        &sources,
        "gateway::routes",
        &["gateway/server.rs", "gateway/routes.rs"],
    );
    assert!(routes.is_empty(), "imports of the route table: {routes:#?}");
    // The shared state depends on no handler.
    let state: Vec<_> = sources
        .iter()
        .filter(|(name, _)| name.starts_with("gateway/state/"))
        .cloned()
        .collect();
    for handlers in [
        "gateway::copier",
        "gateway::admin",
        "gateway::ops",
        "gateway::public",
    ] {
        let found = lines_with(&state, handlers, &[]);
        assert!(found.is_empty(), "the state imports a handler: {found:#?}");
    }
}

#[test]
fn path_validation_never_imports_crl_validation() {
    let sources = gateway_sources();
    let path: Vec<_> = sources
        .iter()
        .filter(|(name, _)| name == "gateway/pki/path.rs")
        .cloned()
        .collect();
    assert_eq!(path.len(), 1);
    let found = lines_with(&path, "crl::", &[]);
    assert!(found.is_empty(), "path.rs uses crl.rs: {found:#?}");
}

#[test]
fn no_error_code_is_compared_as_a_string() {
    use kofu::gateway::admin::error::AdminError;
    use kofu::gateway::copier::error::CopierError;
    use kofu::gateway::error::RequestError;
    let sources = gateway_sources();
    // `e.code() == Some(&SqlState::…)` compares typed SQLSTATEs: allowed.
    let mut found = Vec::new();
    for needle in ["code() == \"", "code() != \"", ".code {", "code == \""] {
        found.extend(lines_with(&sources, needle, &[]));
    }
    // Nor is any API code a match pattern (`"card_expired" => …`).
    let codes = RequestError::ALL
        .iter()
        .map(|e| e.code())
        .chain(CopierError::ALL.iter().map(|e| e.code()))
        .chain(AdminError::ALL.iter().map(|e| e.code()));
    // The one exception: the register's status column, parsed into a type
    // in one place, shares three words with the refusal codes.
    let register_words = ["gateway/registry/status.rs"];
    for code in codes {
        found.extend(lines_with(
            &sources,
            &format!("\"{code}\" =>"),
            &register_words,
        ));
        found.extend(lines_with(
            &sources,
            &format!("\"{code}\" |"),
            &register_words,
        ));
    }
    assert!(found.is_empty(), "codes compared as strings: {found:#?}");
}

#[test]
fn the_layout_names_every_folder_of_src() {
    let lib = std::fs::read_to_string(src().join("lib.rs")).unwrap();
    let layout = lib
        .split("# Layout")
        .nth(1)
        .and_then(|l| l.split("#![").next())
        .expect("lib.rs has a Layout section");
    let mut folders = Vec::new();
    let mut stack = vec![src()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path.strip_prefix(src()).unwrap().display().to_string());
                stack.push(path);
            }
        }
    }
    assert!(folders.len() >= 12, "{folders:?}");
    for folder in folders {
        // A folder is named by its path (`gateway/pki/`), or for a wing by
        // its module (`[`gateway`]`), or inside its parent's line
        // (`revocation/`).
        let last = folder.rsplit('/').next().unwrap();
        assert!(
            layout.contains(&format!("`{folder}/`"))
                || layout.contains(&format!("[`{folder}`]"))
                || layout.contains(&format!("`{folder}`"))
                || layout.contains(&format!("`{last}/`")),
            "the Layout section of src/lib.rs does not name src/{folder}/"
        );
    }
}
