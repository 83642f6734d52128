//! Scenario files (TOML or JSON): settings, a fleet, named devices and a timeline of actions.
//!
//! ```toml
//! seed = 7
//! [settings]
//! heartbeat_ms = 1000
//! [fleet]
//! count = 50
//! infected = 0.1
//! [[devices]]
//! id = "ceo-phone"
//! platform = "IOS"
//! [[timeline]]
//! at = "5s"
//! action = "infect"
//! device = "ceo-phone"
//! severity = "HIGH"
//! [[timeline]]
//! at = "20s"
//! action = "remediate"
//! device = "ceo-phone"
//! ```

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::{
    actions::{DeviceSpec, FleetSpec, TimedAction},
    world::Settings,
    SimError,
};

/// A scenario.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Seed of generated ids and of the fleet (overridden by `--seed`).
    #[serde(default)]
    pub seed: Option<u64>,
    /// Settings (keys, token lifetimes, heartbeat).
    #[serde(default)]
    pub settings: Option<Settings>,
    /// A random fleet, added first.
    #[serde(default)]
    pub fleet: Option<FleetSpec>,
    /// Named devices, added after the fleet.
    #[serde(default)]
    pub devices: Vec<DeviceSpec>,
    /// Actions to run at offsets from the load.
    #[serde(default)]
    pub timeline: Vec<TimedAction>,
}

impl Scenario {
    /// Reads a scenario file: JSON if it starts with `{`, TOML otherwise.
    pub fn load(path: &Path) -> Result<Scenario, SimError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| SimError::BadRequest(format!("{}: {e}", path.display())))?;
        Scenario::parse(&text).map_err(|e| SimError::BadRequest(format!("{}: {e}", path.display())))
    }

    /// Parses scenario text: JSON if it starts with `{`, TOML otherwise; every timeline offset is checked.
    pub fn parse(text: &str) -> Result<Scenario, SimError> {
        let scenario: Scenario = if text.trim_start().starts_with('{') {
            serde_json::from_str(text).map_err(|e| SimError::BadRequest(e.to_string()))?
        } else {
            toml::from_str(text).map_err(|e| SimError::BadRequest(e.to_string()))?
        };
        for (index, entry) in scenario.timeline.iter().enumerate() {
            entry
                .offset()
                .map_err(|e| SimError::BadRequest(format!("timeline[{index}].at: {e}")))?;
        }
        Ok(scenario)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actions::Action;

    #[test]
    fn toml_and_json_scenarios_parse_to_the_same_actions() {
        let toml = r#"
            seed = 3
            [fleet]
            count = 4
            [[devices]]
            id = "a"
            platform = "IOS"
            [[timeline]]
            at = "2s"
            action = "infect"
            device = "a"
            severity = "HIGH"
            [[timeline]]
            at = "1m"
            action = "remediate"
            device = "a"
        "#;
        let json = r#"{"seed":3,"fleet":{"count":4},"devices":[{"id":"a","platform":"IOS"}],
            "timeline":[{"at":"2s","action":"infect","device":"a","severity":"HIGH"},
                        {"at":"1m","action":"remediate","device":"a"}]}"#;
        for text in [toml, json] {
            let scenario = Scenario::parse(text).unwrap();
            assert_eq!(scenario.seed, Some(3));
            assert_eq!(scenario.fleet.as_ref().unwrap().count, 4);
            assert!(matches!(&scenario.timeline[0].action, Action::Infect(i) if i.device == "a"));
            assert_eq!(scenario.timeline[1].offset().unwrap().as_secs(), 60);
        }
        assert!(Scenario::parse("[[timeline]]\nat = \"soon\"\naction = \"end\"").is_err());
    }
}
