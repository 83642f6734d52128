//! The frame of every page: header with navigation and the signed-in user, the live-update status, and
//! the attributes the live script reads (`data-after`, the log position the page shows; `data-device`).

use maud::{html, Markup, DOCTYPE};

use crate::session::Session;

/// Which section a page belongs to, for the navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// The overview.
    Overview,
    /// Devices.
    Devices,
    /// Connectors.
    Connectors,
    /// Policies.
    Policies,
    /// Resources.
    Resources,
}

/// What the frame needs besides the page's content.
#[derive(Debug)]
pub struct Frame<'a> {
    /// The page's title.
    pub title: &'a str,
    /// The navigation entry to mark.
    pub section: Option<Section>,
    /// The signed-in user, if any.
    pub session: Option<&'a Session>,
    /// The log position the page shows, for live updates; `None` turns them off for the page.
    pub live_after: Option<u64>,
    /// The device a device page shows.
    pub device: Option<&'a str>,
    /// A message above the content (an action's outcome).
    pub flash: Option<String>,
}

/// A whole page.
pub fn page(frame: &Frame<'_>, content: Markup) -> Markup {
    let nav = [
        (Section::Overview, "/", "Overview"),
        (Section::Devices, "/devices", "Devices"),
        (Section::Connectors, "/connectors", "Connectors"),
        (Section::Policies, "/policies", "Policies"),
        (Section::Resources, "/resources", "Resources"),
    ];
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (frame.title) " · riskgate" }
                link rel="stylesheet" href="/static/console.css";
            }
            body data-after=[frame.live_after] data-device=[frame.device] {
                header {
                    a href="/" { strong { "riskgate" } }
                    @if let Some(session) = frame.session {
                        nav aria-label="Sections" {
                            @for (section, href, name) in nav {
                                @if frame.section == Some(section) {
                                    a href=(href) aria-current="page" { (name) }
                                } @else {
                                    a href=(href) { (name) }
                                }
                            }
                        }
                        div class="who" {
                            @if frame.live_after.is_some() {
                                span id="live-status" class="live-status" { "reload for the latest" }
                            }
                            span { (session.name) " (" (session.role.name()) ")" }
                            form method="post" action="/signout" {
                                input type="hidden" name="csrf" value=(session.csrf);
                                button type="submit" { "Sign out" }
                            }
                        }
                    }
                }
                @if let Some(flash) = &frame.flash {
                    div class="flash" role="status" { p { (flash) } }
                }
                (content)
                @if frame.live_after.is_some() {
                    script src="/static/live.js" {}
                }
            }
        }
    }
}
