//! What is wrong with a configuration: the setting, in swanctl.conf's names
//! (`connections.rw.children.net.remote_ts`), the value given, and the problem.

use crate::proposal_string::ProposalError;

/// Why a configuration is refused. Every variant names the setting at fault the way
/// swanctl.conf nests it, so the message points an administrator at the line to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A value is not understood.
    #[error("{setting} = \"{value}\": {problem}")]
    InvalidValue {
        /// The setting, e.g. `connections.rw.children.net.local_ts`.
        setting: String,
        /// The value as given.
        value: String,
        /// What is wrong with it.
        problem: ValueError,
    },
    /// A setting the configuration needs is missing.
    #[error("{setting}: {problem}")]
    Missing {
        /// The setting.
        setting: String,
        /// Why it is needed.
        problem: &'static str,
    },
    /// Two entries of a list share a name.
    #[error("{setting}: `{name}` is defined twice")]
    Duplicate {
        /// The list, e.g. `connections` or `connections.rw.children`.
        setting: String,
        /// The name.
        name: String,
    },
    /// Settings that do not agree with each other.
    #[error("{setting}: {problem}")]
    Inconsistent {
        /// The setting at fault.
        setting: String,
        /// What does not agree.
        problem: String,
    },
    /// A configuration file is not valid TOML, or has a setting this library does not
    /// know.
    #[error("configuration file: {0}")]
    File(String),
    /// The random source failed while the endpoint was made.
    #[error("random source failed")]
    Random,
}

impl ConfigError {
    /// The error with `prefix` put in front of its setting's name, as an entry's errors
    /// are placed into the list that holds it (`net.local_ts` into
    /// `connections.rw.children.net.local_ts`).
    pub(crate) fn within(self, prefix: &str) -> Self {
        // An error about an entry's name names the list already (`connections = "a.b"`).
        let join = |setting: String| {
            if setting == prefix {
                setting
            } else {
                format!("{prefix}.{setting}")
            }
        };
        match self {
            Self::InvalidValue {
                setting,
                value,
                problem,
            } => Self::InvalidValue {
                setting: join(setting),
                value,
                problem,
            },
            Self::Missing { setting, problem } => Self::Missing {
                setting: join(setting),
                problem,
            },
            Self::Duplicate { setting, name } => Self::Duplicate {
                setting: join(setting),
                name,
            },
            Self::Inconsistent { setting, problem } => Self::Inconsistent {
                setting: join(setting),
                problem,
            },
            other => other,
        }
    }

    pub(crate) fn invalid(setting: &str, value: &str, problem: ValueError) -> Self {
        Self::InvalidValue {
            setting: setting.to_string(),
            value: value.to_string(),
            problem,
        }
    }

    pub(crate) fn inconsistent(setting: &str, problem: impl Into<String>) -> Self {
        Self::Inconsistent {
            setting: setting.to_string(),
            problem: problem.into(),
        }
    }
}

/// What is wrong with one value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ValueError {
    /// The value is empty.
    #[error("empty")]
    Empty,
    /// Not an IP address.
    #[error("`{0}` is not an IP address")]
    NotAnAddress(String),
    /// A host name where an address is needed: this library resolves no names (it does no
    /// I/O); give the address.
    #[error("`{0}` is a host name; give an IP address (names are not resolved)")]
    HostName(String),
    /// A prefix length beyond the address's bits.
    #[error("prefix {len} is longer than {max}")]
    PrefixTooLong {
        /// The prefix length given.
        len: u16,
        /// The address's bits: 32 or 128.
        max: u8,
    },
    /// A prefix length that is not a number.
    #[error("`{0}` is not a prefix length")]
    BadPrefix(String),
    /// A range whose ends are of different families or in the wrong order.
    #[error("range ends are of different families or in the wrong order")]
    BadRange,
    /// A port beyond 65535, or not a number.
    #[error("port `{0}` out of range")]
    PortOutOfRange(String),
    /// An IP protocol this library does not know by name, or a number beyond 255.
    #[error("unknown protocol `{0}`")]
    UnknownProtocol(String),
    /// A traffic selector not of the form `ADDRESS[/PREFIX][[PROTOCOL[/PORT]]]`.
    #[error("not a traffic selector: {0}")]
    BadSelector(&'static str),
    /// An identity this library cannot use.
    #[error("{0}")]
    BadIdentity(&'static str),
    /// A duration not of the form `NUMBER[s|m|h|d]`.
    #[error("`{0}` is not a duration (NUMBER with s, m, h or d)")]
    BadDuration(String),
    /// Not a whole number, or out of range.
    #[error("`{0}` is not a number in range")]
    BadNumber(String),
    /// A keyword this setting does not take.
    #[error("unknown value; expected one of: {0}")]
    UnknownKeyword(&'static str),
    /// A proposal string is wrong.
    #[error(transparent)]
    Proposal(#[from] ProposalError),
}
