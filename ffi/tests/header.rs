//! `include/backorder.h` is what cbindgen makes of the code, and its version macros are
//! Cargo.toml's. `BO_BLESS=1 cargo test -p backorder-ffi --test header` rewrites the header.

use std::path::PathBuf;

fn header_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../include/backorder.h")
}

fn generated() -> String {
    let dir = env!("CARGO_MANIFEST_DIR");
    let config = cbindgen::Config::from_file(format!("{dir}/cbindgen.toml")).unwrap();
    let mut out = Vec::new();
    cbindgen::Builder::new()
        .with_crate(dir)
        .with_config(config)
        .generate()
        .expect("cbindgen reads the crate")
        .write(&mut out);
    String::from_utf8(out).unwrap()
}

#[test]
fn the_committed_header_is_what_the_code_generates() {
    let fresh = generated();
    let path = header_path();
    if std::env::var_os("BO_BLESS").is_some() {
        std::fs::write(&path, &fresh).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "include/backorder.h differs from what the code generates: the C ABI changed. \
         Regenerate it with `BO_BLESS=1 cargo test -p backorder-ffi --test header` and commit it."
    );
}

#[test]
fn the_version_macros_are_cargo_tomls() {
    let header = std::fs::read_to_string(header_path()).unwrap();
    for (name, value) in [
        ("BO_VERSION_MAJOR", env!("CARGO_PKG_VERSION_MAJOR")),
        ("BO_VERSION_MINOR", env!("CARGO_PKG_VERSION_MINOR")),
        ("BO_VERSION_PATCH", env!("CARGO_PKG_VERSION_PATCH")),
    ] {
        let line = format!("#define {name} {value}\n");
        assert!(header.contains(&line), "the header lacks `{}`", line.trim());
    }
}
