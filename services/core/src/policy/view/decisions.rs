//! A device's last decisions, keyed by resource or app-protection policy name.
//!
//! A boxed slice sorted by name rather than a `BTreeMap`: a device has a handful of entries, and the
//! smallest `BTreeMap` node holds room for eleven, hundreds of bytes per device that a million devices
//! cannot afford (issue #9: 1M devices in under 1 GiB).

use std::collections::BTreeMap;

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

    /// As the map stored in a compliance memo.
    pub fn to_map(&self) -> BTreeMap<String, T> {
        self.iter()
            .map(|(name, decision)| (name.to_owned(), decision))
            .collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_entry_whatever_the_insertion_order_and_round_trips_through_a_map() {
        let decisions: Decisions<bool> = [("mail", true), ("crm", false), ("wiki", true)]
            .into_iter()
            .map(|(name, allow)| (name.to_owned(), allow))
            .collect();
        assert_eq!(decisions.get("crm"), Some(false));
        assert_eq!(decisions.get("mail"), Some(true));
        assert_eq!(decisions.get("wiki"), Some(true));
        assert_eq!(decisions.get("hr"), None);
        let map = decisions.to_map();
        assert_eq!(
            map.keys().map(String::as_str).collect::<Vec<_>>(),
            ["crm", "mail", "wiki"]
        );
        assert_eq!(map.into_iter().collect::<Decisions<bool>>(), decisions);
        assert_eq!(Decisions::<bool>::default().get("mail"), None);
    }
}
