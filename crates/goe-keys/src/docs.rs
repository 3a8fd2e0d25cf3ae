//! Generates `docs/KEYS.md` from the key table, so the docs cannot drift.
//!
//! A test compares the committed file with [`keys_markdown`]; run
//! `UPDATE_DOCS=1 cargo test -p goe-keys` to rewrite it after changing the table.

use crate::def::KeyDef;
use crate::table::KEYS;
use std::fmt::Write as _;

/// The whole `docs/KEYS.md` text.
pub fn keys_markdown() -> String {
    let mut md = String::new();
    md.push_str("# API keys of the virtual go-eCharger\n\n");
    md.push_str(
        "Generated from `crates/goe-keys/src/table.rs` by `goe_keys::docs::keys_markdown`; \
         do not edit by hand (`UPDATE_DOCS=1 cargo test -p goe-keys` rewrites it).\n\n",
    );
    let seed = KEYS.iter().filter(|k| k.in_seed).count();
    let _ = writeln!(
        md,
        "{} keys: {} from the 2021 seed table, {} from newer firmware (marked *newer*). \
         Listed in table order, which is the print order of the 2021 profile `051.4`; \
         the newer profiles print in the order of `crates/goe-keys/profiles/<version>.keys`. \
         *Persisted* keys survive restarts. `W` keys never appear in any output; \
         secrets are shown only as `true`/`false` (\"is set\").\n",
        KEYS.len(),
        seed,
        KEYS.len() - seed
    );
    md.push_str(
        "The *firmware* column says in which firmware versions a key exists \
         (`≥ 055.2`: from 055.2 on; `< 056.0`: before 056.0); a key whose type, \
         access or default changed has one row per definition. The *MQTT* column \
         says in which versions (within the firmware range) a unit publishes the key \
         over MQTT (`all`, `none`, or a range), as real MQTT captures show it. The profiles \
         (`goe-charger --firmware`) are ",
    );
    let versions: Vec<String> = crate::profile::profiles()
        .iter()
        .map(|p| format!("`{}`", p.firmware))
        .collect();
    md.push_str(&versions.join(", "));
    md.push_str(".\n\n");
    md.push_str(
        "| key | firmware | MQTT | access | type | category | unit | default | description |\n",
    );
    md.push_str("|---|---|---|---|---|---|---|---|---|\n");
    for key in KEYS {
        for def in key.definitions() {
            row(&mut md, def);
        }
    }
    md
}

fn row(md: &mut String, def: &KeyDef) {
    let mut desc = escape(def.description);
    if !def.enums.is_empty() {
        let names: Vec<String> = def.enums.iter().map(|(v, n)| format!("{v}={n}")).collect();
        let _ = write!(desc, "<br>values: {}", names.join(", "));
    }
    let mut notes = Vec::new();
    if def.persisted() {
        notes.push("persisted");
    }
    if !def.in_seed {
        notes.push("newer");
    }
    if !matches!(def.secret, crate::def::Secret::No) {
        notes.push("secret shown as is-set");
    }
    if !notes.is_empty() {
        let _ = write!(desc, "<br>*{}*", notes.join(", "));
    }
    let default = if def.access.readable() {
        let value = crate::value::Value::from_json(
            &serde_json::from_str(def.default).unwrap_or(serde_json::Value::Null),
        );
        let shown = crate::render::shown(def, &value);
        if shown.len() > 40 {
            "(see table.rs)".to_owned()
        } else {
            format!("`{}`", escape(&shown))
        }
    } else {
        String::new()
    };
    let _ = writeln!(
        md,
        "| `{}` | {} | {} | {} | {} | {} | {} | {} | {} |",
        def.name,
        def.fw,
        if def.access.readable() {
            def.mqtt
        } else {
            crate::firmware::FwRange::NONE
        },
        def.access.as_str(),
        escape(&def.ty.to_string()),
        def.category.as_str(),
        def.unit.unwrap_or(""),
        default,
        desc
    );
}

fn escape(s: &str) -> String {
    s.replace('|', "\\|")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
