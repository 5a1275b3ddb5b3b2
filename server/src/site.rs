//! Where the compiled site (WASM, JS, CSS, public files) lives and which address to
//! serve on, taken from cargo-leptos' standard `LEPTOS_*` environment like any Leptos app.

use std::net::SocketAddr;

use backend::Error;
use leptos::config::LeptosOptions;

/// The bundle name set in Cargo.toml's `[[workspace.metadata.leptos]]`.
const OUTPUT_NAME: &str = "heirloom";

pub fn leptos_options() -> Result<LeptosOptions, Error> {
    // Checked here first so a typo names the variable rather than a parser.
    if let Ok(addr) = std::env::var("LEPTOS_SITE_ADDR") {
        addr.parse::<SocketAddr>().map_err(|err| Error::Config {
            key: "LEPTOS_SITE_ADDR".into(),
            message: format!("`{addr}` is not an address like 127.0.0.1:3000 ({err})"),
        })?;
    }
    let mut options = leptos::config::get_configuration(None)
        .map_err(|err| Error::Config { key: "LEPTOS_*".into(), message: err.to_string() })?
        .leptos_options;
    if options.output_name.is_empty() {
        options.output_name = OUTPUT_NAME.into();
    }
    Ok(options)
}
