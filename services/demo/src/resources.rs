//! The conditional-access resources the demo creates (`setup`), decides on (`scenario`, `live`) and
//! shows (`board`, `view`).

/// The conditional-access resources, in the table's column order.
pub(crate) const RESOURCES: [&str; 2] = ["exchange", "sharepoint"];
