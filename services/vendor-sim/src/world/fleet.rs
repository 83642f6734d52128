//! The fleet's devices: added one by one or as a seeded random fleet, and their states changed.

use rand::{rngs::StdRng, Rng as _, SeedableRng as _};

use super::model::{Device, World};
use crate::{
    actions::{DeviceSpec, FleetSpec, InfectSpec, StateSpec, Vendor},
    time::now_ms,
    SimError,
};

impl World {
    /// Adds a device; a key already in use is refused.
    pub fn add_device(&mut self, spec: &DeviceSpec) -> Result<String, SimError> {
        if self.devices.iter().any(|d| d.key == spec.id) {
            return Err(SimError::Conflict(format!("device {:?} exists", spec.id)));
        }
        let platform = spec.platform.to_ascii_uppercase();
        if platform != "ANDROID" && platform != "IOS" {
            return Err(SimError::BadRequest(format!(
                "platform {:?}: must be ANDROID or IOS",
                spec.platform
            )));
        }
        let now = now_ms();
        let android = platform == "ANDROID";
        let oid = self.oid();
        let lookout_guid = self.uuid();
        let zimperium_id = self.uuid();
        let zdevice_id = self.uuid();
        let device = Device {
            key: spec.id.clone(),
            lookout_guid,
            oid,
            zimperium_id,
            zdevice_id,
            email: spec
                .email
                .clone()
                .unwrap_or_else(|| format!("{}@corp.example", spec.id)),
            manufacturer: spec
                .manufacturer
                .clone()
                .unwrap_or_else(|| if android { "samsung" } else { "apple" }.to_owned()),
            model: spec
                .model
                .clone()
                .unwrap_or_else(|| if android { "sm-a346b" } else { "iphone17,2" }.to_owned()),
            os_version: spec
                .os_version
                .clone()
                .unwrap_or_else(|| if android { "14" } else { "18.3.1" }.to_owned()),
            security_patch_level: if android {
                "2025-02-01".to_owned()
            } else {
                String::new()
            },
            platform,
            activation_status: spec
                .activation_status
                .clone()
                .unwrap_or_else(|| "ACTIVATED".to_owned()),
            protection_status: spec
                .protection_status
                .clone()
                .unwrap_or_else(|| "PROTECTED".to_owned()),
            security_override: None,
            created_ms: now,
            checkin_ms: now,
        };
        let key = device.key.clone();
        self.devices.push(device);
        let index = self.devices.len() - 1;
        let event = self.device_event(index, "CREATED", now);
        self.append_events(vec![event], now);
        Ok(key)
    }

    /// Adds `spec.count` devices with seeded random platforms, models and OS versions, and infects
    /// a seeded random share of them.
    pub fn add_fleet(&mut self, spec: &FleetSpec) -> Result<Vec<String>, SimError> {
        let mut rng = StdRng::seed_from_u64(spec.seed.unwrap_or(0));
        let platforms = if spec.platforms.is_empty() {
            vec!["ANDROID".to_owned(), "IOS".to_owned()]
        } else {
            spec.platforms.clone()
        };
        let start = self.devices.len();
        let mut keys = Vec::new();
        for n in 0..spec.count {
            let platform = platforms[rng.random_range(0..platforms.len())].clone();
            let android = platform.eq_ignore_ascii_case("ANDROID");
            let (manufacturer, model, os) = if android {
                let models = [
                    ("samsung", "sm-a346b"),
                    ("google", "pixel 8"),
                    ("motorola", "moto g54"),
                ];
                let (m, model) = models[rng.random_range(0..models.len())];
                (m, model, ["13", "14", "15"][rng.random_range(0..3)])
            } else {
                let models = ["iphone15,2", "iphone16,1", "iphone17,2"];
                (
                    "apple",
                    models[rng.random_range(0..models.len())],
                    ["17.6.1", "18.2", "18.3.1"][rng.random_range(0..3)],
                )
            };
            let spec_device = DeviceSpec {
                id: format!("{}{:05}", spec.prefix, start + n),
                platform,
                email: None,
                manufacturer: Some(manufacturer.to_owned()),
                model: Some(model.to_owned()),
                os_version: Some(os.to_owned()),
                activation_status: None,
                protection_status: None,
            };
            keys.push(self.add_device(&spec_device)?);
        }
        let severities = ["LOW", "MEDIUM", "HIGH", "ADVISORY"];
        for key in &keys {
            if rng.random_bool(spec.infected.clamp(0.0, 1.0)) {
                let severity = severities[rng.random_range(0..severities.len())];
                self.infect(&InfectSpec {
                    device: key.clone(),
                    vendor: Vendor::All,
                    severity: Some(severity.to_owned()),
                    ..InfectSpec::default()
                })?;
            }
        }
        Ok(keys)
    }

    /// Changes a device's activation or protection status or forces its security status.
    pub fn set_state(&mut self, spec: &StateSpec) -> Result<(), SimError> {
        let index = self.device_index(&spec.device)?;
        let now = now_ms();
        let device = &mut self.devices[index];
        if let Some(value) = &spec.activation_status {
            device.activation_status = value.to_ascii_uppercase();
        }
        if let Some(value) = &spec.protection_status {
            device.protection_status = value.to_ascii_uppercase();
        }
        if let Some(value) = &spec.security_status {
            device.security_override = (!value.is_empty()).then(|| value.to_ascii_uppercase());
        }
        device.checkin_ms = now;
        let event = self.device_event(index, "UPDATED", now);
        self.append_events(vec![event], now);
        Ok(())
    }
}
