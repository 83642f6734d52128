//! A device's last decisions, keyed by resource or app-protection policy name.
//!
//! A boxed slice sorted by name rather than a `BTreeMap`: a device has a handful of entries, and the
//! smallest `BTreeMap` node holds room for eleven, hundreds of bytes per device that a million devices
//! cannot afford (issue #9: 1M devices in under 1 GiB).

use std::{fmt, marker::PhantomData};

use serde::{
    de::{MapAccess, Visitor},
    Deserialize, Deserializer, Serialize, Serializer,
};

/// Decisions sorted by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decisions<T>(Box<[(Box<str>, T)]>);

impl<T> Default for Decisions<T> {
    fn default() -> Self {
        Self(Box::default())
    }
}

impl<T: Copy> Decisions<T> {
    /// The decision for `name`.
    pub fn get(&self, name: &str) -> Option<T> {
        self.0
            .binary_search_by(|(key, _)| (**key).cmp(name))
            .ok()
            .map(|index| self.0[index].1)
    }

    /// Every decision, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, T)> {
        self.0.iter().map(|(name, decision)| (&**name, *decision))
    }
}

impl<T> FromIterator<(String, T)> for Decisions<T> {
    fn from_iter<I: IntoIterator<Item = (String, T)>>(entries: I) -> Self {
        let mut entries: Vec<(Box<str>, T)> = entries
            .into_iter()
            .map(|(name, decision)| (name.into_boxed_str(), decision))
            .collect();
        entries.sort_by(|(a, _), (b, _)| a.cmp(b));
        entries.dedup_by(|(a, _), (b, _)| a == b);
        Self(entries.into_boxed_slice())
    }
}

/// Serialised as a map, exactly as the `BTreeMap` it replaced in stored compliance memos, so memos written
/// before keep decoding and no format version changes.
impl<T: Serialize> Serialize for Decisions<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(name, decision)| (&**name, decision)))
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Decisions<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MapVisitor<T>(PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for MapVisitor<T> {
            type Value = Decisions<T>;

            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("a map of names to decisions")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0).min(64));
                while let Some(entry) = map.next_entry::<String, T>()? {
                    entries.push(entry);
                }
                Ok(entries.into_iter().collect())
            }
        }

        deserializer.deserialize_map(MapVisitor(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn encodes_exactly_as_the_map_it_replaced() {
        let map: BTreeMap<String, bool> =
            [("crm".to_owned(), false), ("mail".to_owned(), true)].into();
        let decisions: Decisions<bool> = map.clone().into_iter().collect();
        let from_map = postcard::to_stdvec(&map).unwrap();
        assert_eq!(postcard::to_stdvec(&decisions).unwrap(), from_map);
        assert_eq!(
            postcard::from_bytes::<Decisions<bool>>(&from_map).unwrap(),
            decisions
        );
    }

    #[test]
    fn finds_every_entry_whatever_the_insertion_order() {
        let decisions: Decisions<bool> = [("mail", true), ("crm", false), ("wiki", true)]
            .into_iter()
            .map(|(name, allow)| (name.to_owned(), allow))
            .collect();
        assert_eq!(decisions.get("crm"), Some(false));
        assert_eq!(decisions.get("mail"), Some(true));
        assert_eq!(decisions.get("wiki"), Some(true));
        assert_eq!(decisions.get("hr"), None);
        assert_eq!(
            decisions.iter().collect::<Vec<_>>(),
            [("crm", false), ("mail", true), ("wiki", true)]
        );
        assert_eq!(Decisions::<bool>::default().get("mail"), None);
    }
}
