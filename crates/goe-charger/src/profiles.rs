//! Car profiles: the engine's built-ins plus custom ones from a TOML file
//! (`goe-charger --cars FILE`) or a scenario's `[[cars]]` tables.
//!
//! File format: one `[[car]]` table per profile with the fields of
//! [`CarProfile`] (`name`, `capacity_wh`, `phases`, `max_current_a`,
//! `taper_soc`, optional `full_current_a`, `pf_curve`, `resumes_after_pause`,
//! `efficiency`). Every profile is validated; names must be unique and must
//! not shadow a built-in.

use goe_engine::{CarProfile, DEFAULT_PROFILE};
use serde::Deserialize;
use std::path::Path;

/// The profiles a charger or a scenario can plug in.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Profiles {
    custom: Vec<CarProfile>,
}

/// The `--cars` file's top level.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CarsFile {
    #[serde(default, alias = "cars")]
    car: Vec<CarProfile>,
}

impl Profiles {
    /// Only the built-in profiles.
    pub fn builtin() -> Profiles {
        Profiles::default()
    }

    /// The built-ins plus `custom`, each validated.
    pub fn with_custom(custom: Vec<CarProfile>) -> Result<Profiles, String> {
        let mut profiles = Profiles::default();
        for profile in custom {
            profiles.add(profile)?;
        }
        Ok(profiles)
    }

    /// Adds one custom profile after validating it.
    pub fn add(&mut self, profile: CarProfile) -> Result<(), String> {
        profile.validate()?;
        if CarProfile::BUILTIN.contains(&profile.name.as_str()) {
            return Err(format!(
                "car {:?} has the name of a built-in profile; choose another name",
                profile.name
            ));
        }
        if self.custom.iter().any(|p| p.name == profile.name) {
            return Err(format!("car {:?} is defined twice", profile.name));
        }
        self.custom.push(profile);
        Ok(())
    }

    /// Parses the text of a cars file (`[[car]]` tables).
    pub fn parse(text: &str) -> Result<Profiles, String> {
        let file: CarsFile = toml::from_str(text).map_err(|e| e.to_string().trim().to_owned())?;
        Profiles::with_custom(file.car)
    }

    /// Loads a cars file; the error names the file and the problem.
    pub fn load(path: &Path) -> Result<Profiles, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read car profiles {}: {e}", path.display()))?;
        Profiles::parse(&text).map_err(|e| format!("bad car profiles in {}: {e}", path.display()))
    }

    /// The profile called `name`, or an error listing the known names.
    pub fn get(&self, name: &str) -> Result<CarProfile, String> {
        if let Some(p) = self.custom.iter().find(|p| p.name == name) {
            return Ok(p.clone());
        }
        CarProfile::builtin(name).ok_or_else(|| {
            format!(
                "unknown car profile {name:?}; known profiles: {}",
                self.names().join(", ")
            )
        })
    }

    /// Every profile name: built-ins first, then custom ones in file order.
    pub fn names(&self) -> Vec<String> {
        CarProfile::BUILTIN
            .iter()
            .map(|n| (*n).to_owned())
            .chain(self.custom.iter().map(|p| p.name.clone()))
            .collect()
    }

    /// The custom profiles.
    pub fn custom(&self) -> &[CarProfile] {
        &self.custom
    }

    /// `GET /sim/cars`: the default name and every profile with its source.
    pub fn to_json(&self) -> serde_json::Value {
        let entry = |p: &CarProfile, source: &str| {
            let mut v = serde_json::to_value(p).unwrap_or(serde_json::Value::Null);
            if let Some(obj) = v.as_object_mut() {
                obj.insert("source".into(), source.into());
            }
            v
        };
        let cars: Vec<serde_json::Value> = CarProfile::BUILTIN
            .iter()
            .filter_map(|n| CarProfile::builtin(n))
            .map(|p| entry(&p, "builtin"))
            .chain(self.custom.iter().map(|p| entry(p, "custom")))
            .collect();
        serde_json::json!({ "default": DEFAULT_PROFILE, "cars": cars })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_validates_and_lists() {
        let p = Profiles::parse(
            "[[car]]\nname = \"van\"\ncapacity_wh = 60000\nphases = 2\nmax_current_a = 16\ntaper_soc = 90\n",
        )
        .unwrap();
        assert_eq!(p.get("van").unwrap().phases, 2);
        assert!(p.get(DEFAULT_PROFILE).is_ok());
        assert!(p.names().contains(&"van".to_owned()));
        let e = p.get("nope").unwrap_err();
        assert!(e.contains("van") && e.contains(DEFAULT_PROFILE), "{e}");
        let json = p.to_json();
        assert_eq!(json["default"], DEFAULT_PROFILE);
        assert_eq!(
            json["cars"].as_array().unwrap().last().unwrap()["source"],
            "custom"
        );
    }

    #[test]
    fn rejects_bad_profiles() {
        let bad_phases = "[[car]]\nname = \"x\"\ncapacity_wh = 1\nphases = 4\nmax_current_a = 16\ntaper_soc = 90\n";
        assert!(Profiles::parse(bad_phases).unwrap_err().contains("phases"));
        let shadow = "[[car]]\nname = \"ev-1p-16a\"\ncapacity_wh = 1\nphases = 1\nmax_current_a = 16\ntaper_soc = 90\n";
        assert!(Profiles::parse(shadow).unwrap_err().contains("built-in"));
        assert!(Profiles::parse("[[car]]\nname = \"x\"\n").is_err());
        assert!(Profiles::parse("[[vehicle]]\n").is_err());
    }
}
