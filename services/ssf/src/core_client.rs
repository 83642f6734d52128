//! The transmitter's connection to the core: `RiskStream.Subscribe` from a cursor (the public API any
//! subscriber uses) and `DeviceService.GetDevice` for a device's owner, which events do not carry. The
//! token needs the core roles `subscriber` and `reader`.
//!
//! Owners are cached per device and looked up again after each report about the device, since a report
//! may change the owner.

use std::{collections::HashMap, sync::Arc};

use parking_lot::Mutex;
use riskgate_proto::{
    bearer::Authed,
    v1::{
        device_service_client::DeviceServiceClient, risk_stream_client::RiskStreamClient,
        EventKind, GetDeviceRequest, SubscribeRequest, SubscribeResponse, SubscriptionFilter,
    },
};
use riskgate_web_kit::core::CoreLink;
use tonic::{Code, Status, Streaming};

/// The core, as the transmitter sees it.
#[derive(Debug, Clone)]
pub struct Core {
    link: CoreLink,
    owners: Arc<Mutex<HashMap<String, Owner>>>,
}

#[derive(Debug, Clone)]
struct Owner {
    /// The position of the device's latest report when it was looked up.
    as_of: u64,
    user: Option<String>,
}

/// What the transmitter asks the core for: reports (risk-level-change), compliance changes and access
/// decision flips.
pub const KINDS: [EventKind; 3] = [
    EventKind::DeviceReported,
    EventKind::DeviceComplianceChange,
    EventKind::AccessDecisionChange,
];

impl Core {
    /// A client of the core over `link` (its channel and the transmitter's token).
    pub fn new(link: CoreLink) -> Core {
        Core {
            link,
            owners: Arc::default(),
        }
    }

    fn authed(&self) -> Authed {
        self.link.authed()
    }

    /// Subscribes after `cursor`, or from a snapshot without one.
    pub async fn subscribe(
        &self,
        cursor: Option<&str>,
    ) -> Result<Streaming<SubscribeResponse>, Status> {
        let request = SubscribeRequest {
            filter: Some(SubscriptionFilter {
                kinds: KINDS.iter().map(|kind| *kind as i32).collect(),
                ..SubscriptionFilter::default()
            }),
            cursor: cursor.unwrap_or_default().to_owned(),
            progress_interval_ms: 1000,
        };
        Ok(RiskStreamClient::new(self.authed())
            .subscribe(request)
            .await?
            .into_inner())
    }

    /// The core's head: the cursor and position a new stream starts after. It subscribes with a filter
    /// no device matches, so the snapshot is empty however large the fleet, and reads its end.
    pub async fn head(&self) -> Result<(u64, String), Status> {
        self.link.head().await
    }

    /// The owner of `device_id`, as of its report at `report_position` (0: any cached answer will do).
    pub async fn owner(
        &self,
        device_id: &str,
        report_position: u64,
    ) -> Result<Option<String>, Status> {
        if let Some(known) = self.owners.lock().get(device_id) {
            if known.as_of >= report_position {
                return Ok(known.user.clone());
            }
        }
        let reply = DeviceServiceClient::new(self.authed())
            .get_device(GetDeviceRequest {
                device_id: device_id.to_owned(),
            })
            .await;
        let (as_of, user) = match reply {
            Ok(reply) => {
                let device = reply.into_inner();
                let user = Some(device.owner_user_id).filter(|user| !user.is_empty());
                (device.position.max(report_position), user)
            }
            Err(status) if status.code() == Code::NotFound => (report_position, None),
            Err(status) => return Err(status),
        };
        self.remember(device_id, as_of, user.clone());
        Ok(user)
    }

    /// Records an owner learnt from a snapshot.
    pub fn remember(&self, device_id: &str, as_of: u64, user: Option<String>) {
        let mut owners = self.owners.lock();
        let entry = owners
            .entry(device_id.to_owned())
            .or_insert(Owner { as_of, user: None });
        if as_of >= entry.as_of {
            *entry = Owner { as_of, user };
        }
    }
}
