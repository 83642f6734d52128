//! The devices of the story, as both vendor clouds know them. The board has a row per device and
//! the scenario enrols and infects them.

use crate::vendor::Vendor;

/// A device of the story.
#[derive(Debug)]
pub(crate) struct DemoDevice {
    /// The MDM device id, which both vendors report.
    pub(crate) id: &'static str,
    /// `IOS` or `ANDROID`, in the simulator's vocabulary.
    pub(crate) platform: &'static str,
    /// The vendor whose data counts for the device's platform.
    pub(crate) vendor: Vendor,
    pub(crate) manufacturer: &'static str,
    pub(crate) model: &'static str,
    pub(crate) os_version: &'static str,
}

/// The devices: Lookout protects the iPhones, Zimperium the Android phones (see `setup`).
pub(crate) const DEVICES: [DemoDevice; 4] = [
    DemoDevice {
        id: "alice-iphone",
        platform: "IOS",
        vendor: Vendor::Lookout,
        manufacturer: "Apple",
        model: "iPhone 15",
        os_version: "17.4",
    },
    DemoDevice {
        id: "bob-iphone",
        platform: "IOS",
        vendor: Vendor::Lookout,
        manufacturer: "Apple",
        model: "iPhone 13",
        os_version: "16.1",
    },
    DemoDevice {
        id: "carol-pixel",
        platform: "ANDROID",
        vendor: Vendor::Zimperium,
        manufacturer: "Google",
        model: "Pixel 8",
        os_version: "14",
    },
    DemoDevice {
        id: "dave-galaxy",
        platform: "ANDROID",
        vendor: Vendor::Zimperium,
        manufacturer: "Samsung",
        model: "Galaxy S23",
        os_version: "14",
    },
];
