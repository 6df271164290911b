//! Bodies that never change: version, widget configuration, expected
//! parameters, ICE servers and the agents' profile photo. They are
//! serialised once at start and shared by every response.

use bytes::Bytes;
use serde_json::json;

use crate::api::bodies::{
    Availability, IceServer, IceServers, ParameterSpec, Parameters, ServiceState, Version,
};
use crate::api::lenient::Seconds;

/// The agents' avatar: a small SVG, so no image encoder is needed.
pub(crate) const PHOTO: &[u8] =
    br##"<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64">
<circle cx="32" cy="32" r="32" fill="#4a7bd0"/>
<circle cx="32" cy="25" r="12" fill="#fff"/>
<ellipse cx="32" cy="54" rx="19" ry="13" fill="#fff"/>
</svg>
"##;

/// Content type of [`PHOTO`].
pub(crate) const PHOTO_TYPE: &str = "image/svg+xml";

/// The serialised fixed bodies.
#[derive(Debug, Clone)]
pub(crate) struct FixedBodies {
    /// Check Availability while agents have free seats, the common case.
    pub open_now: Bytes,
    /// Check Availability with `--closed`.
    pub closed: Bytes,
    pub version: Bytes,
    pub configuration: Bytes,
    pub parameters: Bytes,
    pub ice_servers: Bytes,
}

impl FixedBodies {
    /// Serialises every body once.
    pub fn new() -> FixedBodies {
        let open = Availability {
            chat: ServiceState::Available,
            ewt: Some(Seconds(0)),
        };
        let closed = Availability {
            chat: ServiceState::NotAvailable,
            ewt: None,
        };
        FixedBodies {
            open_now: to_bytes(&open),
            closed: to_bytes(&closed),
            version: to_bytes(&version()),
            configuration: to_bytes(&configuration()),
            parameters: to_bytes(&parameters()),
            ice_servers: to_bytes(&ice_servers()),
        }
    }
}

fn to_bytes(value: &impl serde::Serialize) -> Bytes {
    // Our own plain structs and json! values always serialise.
    serde_json::to_vec(value)
        .map(Bytes::from)
        .unwrap_or_default()
}

fn version() -> Version {
    let server_version = format!("5.8.0 (chatload mock {})", env!("CARGO_PKG_VERSION"));
    Version { server_version }
}

fn parameters() -> Parameters {
    let field = |name: &str, kind: &str| ParameterSpec {
        name: name.into(),
        kind: kind.into(),
    };
    Parameters {
        parameters: vec![
            field("first_name", "FIRST_NAME"),
            field("last_name", "LAST_NAME"),
            field("email", "EMAIL"),
            field("phone", "PHONE"),
        ],
    }
}

fn ice_servers() -> IceServers {
    IceServers {
        servers: vec![IceServer {
            url: "stun:stun.chatload.invalid:3478".into(),
            username: None,
            credential: None,
        }],
    }
}

/// A trimmed widget definition with the documented keys and neutral values.
fn configuration() -> serde_json::Value {
    let font = json!({"family": "sans-serif", "size": "14px", "style": "normal",
        "weight": "normal"});
    json!({"widgets": [{
        "name": "chatload",
        "urls": [],
        "definition": {"contact_tab": {
            "enabled": true,
            "location": "right_bottom",
            "color": "#ffffff",
            "bg_color": "#4a7bd0",
            "font": font,
            "agents_available_msg": "Chat with us",
            "agents_not_available_msg": "Leave us a message",
            "out_of_hours_msg": "We are closed",
            "show_ewt_out_of_hours": false
        }},
        "styles": {"style1": {
            "agentMessage": {"background-color": "#eef2fa"},
            "systemMessage": {"background-color": "#f5f5f5"},
            "widgetBorder": {"border": "1px solid #4a7bd0", "border-radius": "6px"}
        }}
    }]})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_bodies_parse_back_as_api_types() {
        let bodies = FixedBodies::new();
        let version: Version = serde_json::from_slice(&bodies.version).unwrap();
        assert!(version.server_version.contains("chatload"));
        let params: Parameters = serde_json::from_slice(&bodies.parameters).unwrap();
        assert_eq!(params.parameters[0].kind, "FIRST_NAME");
        let ice: IceServers = serde_json::from_slice(&bodies.ice_servers).unwrap();
        assert!(ice.servers[0].url.starts_with("stun:"));
        let open: Availability = serde_json::from_slice(&bodies.open_now).unwrap();
        assert_eq!(
            (open.chat, open.ewt),
            (ServiceState::Available, Some(Seconds(0)))
        );
        let closed: Availability = serde_json::from_slice(&bodies.closed).unwrap();
        assert_eq!(closed.chat, ServiceState::NotAvailable);
        let config: serde_json::Value = serde_json::from_slice(&bodies.configuration).unwrap();
        assert_eq!(
            config["widgets"][0]["definition"]["contact_tab"]["enabled"],
            true
        );
    }
}
