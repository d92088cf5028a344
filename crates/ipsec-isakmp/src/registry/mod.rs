//! IANA registries of the IKEv2 parameters (RFC 7296 §3 and the IANA "Internet Key Exchange
//! Version 2 (IKEv2) Parameters" registry).
//!
//! Each registry is an enum with a named arm per assigned codepoint and an `Unknown(n)` arm,
//! so that a codepoint assigned after this crate was written never breaks parsing. Equality,
//! ordering and hashing go by the numeric value: `Unknown(20)` equals the arm named for 20.

macro_rules! registry {
    (
        $(#[$meta:meta])*
        pub enum $name:ident: $repr:ty {
            $( $(#[$vmeta:meta])* $variant:ident = $value:literal => $iana:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy)]
        #[non_exhaustive]
        pub enum $name {
            $(
                #[doc = concat!("`", $iana, "` (", stringify!($value), ")")]
                $(#[$vmeta])*
                $variant,
            )*
            /// A codepoint without a name here.
            Unknown($repr),
        }

        impl $name {
            /// The numeric codepoint.
            pub const fn value(self) -> $repr {
                match self {
                    $( Self::$variant => $value, )*
                    Self::Unknown(value) => value,
                }
            }

            /// The codepoint's arm: a named one where the registry has it.
            pub const fn from_value(value: $repr) -> Self {
                match value {
                    $( $value => Self::$variant, )*
                    other => Self::Unknown(other),
                }
            }

            /// The IANA name, if the codepoint has one here.
            pub const fn iana_name(self) -> Option<&'static str> {
                match Self::from_value(self.value()) {
                    $( Self::$variant => Some($iana), )*
                    Self::Unknown(_) => None,
                }
            }
        }

        impl From<$repr> for $name {
            fn from(value: $repr) -> Self {
                Self::from_value(value)
            }
        }

        impl From<$name> for $repr {
            fn from(value: $name) -> Self {
                value.value()
            }
        }

        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                self.value() == other.value()
            }
        }

        impl Eq for $name {}

        impl PartialOrd for $name {
            fn partial_cmp(&self, other: &Self) -> Option<core::cmp::Ordering> {
                Some(self.cmp(other))
            }
        }

        impl Ord for $name {
            fn cmp(&self, other: &Self) -> core::cmp::Ordering {
                self.value().cmp(&other.value())
            }
        }

        impl core::hash::Hash for $name {
            fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
                self.value().hash(state);
            }
        }

        impl core::fmt::Display for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                match self.iana_name() {
                    Some(name) => f.write_str(name),
                    None => write!(f, "{}({})", stringify!($name), self.value()),
                }
            }
        }
    };
}

mod auth;
mod config;
mod exchange;
mod identification;
mod notify;
mod payload_type;
mod protocol;
mod traffic_selector;
mod transform;

pub use auth::{AuthMethod, CertEncoding};
pub use config::{CfgAttributeType, CfgType};
pub use exchange::ExchangeType;
pub use identification::IdType;
pub use notify::NotifyType;
pub use payload_type::PayloadType;
pub use protocol::ProtocolId;
pub use traffic_selector::TsType;
pub use transform::{
    DhGroup, EncrId, EsnId, IntegId, PrfId, TransformAttributeType, TransformType,
};
