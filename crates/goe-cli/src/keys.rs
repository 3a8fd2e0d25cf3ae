//! `goe keys`: the key documentation, straight from the key table.

use crate::output::{Cell, Paint, short_description, table};
use goe_client::input::friendly_words;
use goe_keys::{Access, KeyDef};

/// The keys matching `pattern`: an exact name gives that key alone; a pattern
/// with `*`/`?` matches names; other words are searched in names and descriptions.
pub fn matching(pattern: Option<&str>) -> Vec<&'static KeyDef> {
    let Some(pattern) = pattern.map(str::trim).filter(|p| !p.is_empty()) else {
        return goe_keys::KEYS.iter().collect();
    };
    if let Some(def) = goe_keys::key(pattern) {
        return vec![def];
    }
    let lower = pattern.to_ascii_lowercase();
    let exact: Vec<_> = goe_keys::KEYS
        .iter()
        .filter(|d| d.name.eq_ignore_ascii_case(pattern))
        .collect();
    if !exact.is_empty() {
        return exact;
    }
    if pattern.contains(['*', '?']) {
        return goe_keys::KEYS
            .iter()
            .filter(|d| glob(&lower, &d.name.to_ascii_lowercase()))
            .collect();
    }
    goe_keys::KEYS
        .iter()
        .filter(|d| {
            d.name.to_ascii_lowercase().contains(&lower)
                || d.description.to_ascii_lowercase().contains(&lower)
        })
        .collect()
}

/// `*` = any run of characters, `?` = one character.
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

fn access_words(access: Access) -> &'static str {
    match access {
        Access::Read => "read-only",
        Access::ReadWrite => "read and write",
        Access::Write => "write-only, never shown in a status",
    }
}

/// What `goe set KEY=…` takes, as a placeholder.
fn value_placeholder(def: &KeyDef) -> String {
    use goe_keys::Base;
    let words = friendly_words(def);
    let base = if !words.is_empty() {
        let list: Vec<String> = words.into_iter().map(|(w, _)| w.to_lowercase()).collect();
        list.join("|")
    } else {
        match def.base() {
            Base::Bool => "on|off".to_owned(),
            Base::Str => "TEXT".to_owned(),
            Base::Float | Base::Double => "NUMBER".to_owned(),
            Base::Array => "'[JSON array]'".to_owned(),
            Base::Object => "'{JSON object}'".to_owned(),
            _ => "INTEGER".to_owned(),
        }
    };
    if def.ty.optional {
        format!("{base}|null")
    } else {
        base
    }
}

fn enums_text(def: &KeyDef) -> String {
    def.enums
        .iter()
        .map(|(v, n)| format!("{v} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One key in detail.
pub fn detail(def: &KeyDef, paint: Paint) -> String {
    let mut rows: Vec<(&str, String)> = vec![
        (
            "access",
            format!("{}: {}", def.access.as_str(), access_words(def.access)),
        ),
        ("type", def.ty.to_string()),
        (
            "category",
            if def.persisted() {
                format!("{}, persisted", def.category.as_str())
            } else {
                def.category.as_str().to_owned()
            },
        ),
    ];
    if let Some(unit) = def.unit {
        rows.push(("unit", unit.to_owned()));
    }
    if def.access.readable() && !def.default.is_empty() {
        let default = if def.default.chars().count() > 60 {
            "(long; see docs/KEYS.md)".to_owned()
        } else {
            def.default.to_owned()
        };
        rows.push(("default", default));
    }
    if !def.enums.is_empty() {
        rows.push(("values", enums_text(def)));
    }
    if def.access.writable() {
        rows.push((
            "set with",
            format!("goe set {}={}", def.name, value_placeholder(def)),
        ));
    }
    if !def.in_seed {
        rows.push((
            "source",
            "newer firmware (not in the 2021 key table)".to_owned(),
        ));
    }
    let mut out = format!("{} — {}\n", paint.bold(def.name), def.description);
    for (label, text) in rows {
        out.push_str(&format!("  {label:<10}{text}\n"));
    }
    out
}

/// Many keys as a table.
pub fn list(defs: &[&KeyDef], paint: Paint) -> String {
    let rows = defs
        .iter()
        .map(|d| {
            vec![
                Cell::plain(d.name),
                Cell::plain(d.access.as_str()),
                Cell::plain(d.ty.to_string()),
                Cell::plain(d.unit.unwrap_or("")),
                Cell::plain(short_description(d, 70)),
            ]
        })
        .collect();
    table(
        &["KEY", "ACCESS", "TYPE", "UNIT", "DESCRIPTION"],
        rows,
        paint,
    )
}

/// One key as JSON.
pub fn json(def: &KeyDef) -> serde_json::Value {
    let enums: serde_json::Map<String, serde_json::Value> = def
        .enums
        .iter()
        .map(|(v, n)| (v.to_string(), serde_json::Value::String((*n).to_owned())))
        .collect();
    serde_json::json!({
        "key": def.name,
        "access": def.access.as_str(),
        "type": def.ty.to_string(),
        "category": def.category.as_str(),
        "unit": def.unit,
        "enums": enums,
        "persisted": def.persisted(),
        "description": def.description,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(p: &str) -> Vec<&'static str> {
        matching(Some(p)).iter().map(|d| d.name).collect()
    }

    #[test]
    fn patterns() {
        assert_eq!(names("frc"), ["frc"]);
        assert_eq!(names("MODELSTATUS"), ["modelStatus"]);
        assert_eq!(names("sch_*"), ["sch_week", "sch_satur", "sch_sund"]);
        assert!(names("current").contains(&"amp"));
        assert!(names("zzzzzz").is_empty());
        assert_eq!(matching(None).len(), goe_keys::KEYS.len());
        assert!(glob("a?p", "amp") && glob("*", "") && !glob("a*x", "amp"));
    }
}
