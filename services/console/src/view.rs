//! Server-rendered HTML (maud): one module per page, the frame they share, and the words values read as.
//! Views take the API's messages and return markup; they call nothing.

pub mod catalog;
pub mod device;
pub mod devices;
pub mod layout;
pub mod overview;
pub mod words;
