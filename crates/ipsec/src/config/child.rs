//! A connection's child: what a Child SA protects and how (swanctl.conf's
//! `connections.NAME.children.NAME`).

use std::time::Duration;

use ipsec_ikev2::{ChildProposal, Lifetimes, Mode};
use ipsec_isakmp::TrafficSelector;

use super::error::{ConfigError, ValueError};
use super::value::{parse_duration, parse_number, parse_traffic_selector};
use crate::proposal_string::{parse_ah_proposals, parse_esp_proposals};

/// What to do when the configuration is loaded (swanctl's `start_action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum StartAction {
    /// Nothing: the peer initiates, or a command does.
    #[default]
    None,
    /// Install a trap policy: the first packet that needs the Child SA starts it (the
    /// ACQUIRE of RFC 4301 §5.1).
    Trap,
    /// Initiate the Child SA at once.
    Start,
    /// Both: initiate at once, and re-initiate on traffic after it goes.
    TrapAndStart,
}

impl StartAction {
    /// Whether traffic that needs the Child SA starts it.
    pub fn traps(self) -> bool {
        matches!(self, Self::Trap | Self::TrapAndStart)
    }

    /// Whether it is initiated when loaded.
    pub fn starts(self) -> bool {
        matches!(self, Self::Start | Self::TrapAndStart)
    }
}

/// What to do when the peer closes the Child SA, or is found dead (swanctl's
/// `close_action` and `dpd_action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Action {
    /// Nothing (`none`, `clear`).
    #[default]
    None,
    /// Install a trap policy: traffic re-creates it (`trap`).
    Trap,
    /// Re-create it at once (`start`, `restart`).
    Start,
}

/// One child of a connection: the traffic a Child SA protects, with which proposals, in
/// which mode, for how long, and what to do around it. Build with [`Child::builder`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Child {
    /// Its name, unique in its connection.
    pub name: String,
    /// ESP proposals, most preferred first.
    pub esp_proposals: Vec<ChildProposal>,
    /// AH proposals (RFC 4302), most preferred first; offered before the ESP ones. With AH
    /// proposals and no ESP proposals set, only AH is offered.
    pub ah_proposals: Vec<ChildProposal>,
    /// Our side's traffic selectors.
    pub local_ts: Vec<TrafficSelector>,
    /// The peer's side's traffic selectors.
    pub remote_ts: Vec<TrafficSelector>,
    /// Tunnel or transport mode.
    pub mode: Mode,
    /// What to do when loaded.
    pub start_action: StartAction,
    /// What to do when the peer closes the Child SA.
    pub close_action: Action,
    /// What to do when the peer is found dead (RFC 7296 §1.4 liveness checks).
    pub dpd_action: Action,
    /// Time until the Child SA is rekeyed; zero: never on time.
    pub rekey_time: Duration,
    /// Time until the Child SA must go; zero: no limit.
    pub life_time: Duration,
    /// Up to this much, at random, is taken off `rekey_time` (RFC 7296 §2.8.1).
    pub rand_time: Duration,
    /// Bytes until a rekey; zero: no limit.
    pub rekey_bytes: u64,
    /// Bytes until the Child SA must go; zero: no limit.
    pub life_bytes: u64,
    /// Up to this many bytes, at random, are taken off `rekey_bytes`.
    pub rand_bytes: u64,
    /// Packets until a rekey; zero: no limit.
    pub rekey_packets: u64,
    /// Packets until the Child SA must go; zero: no limit.
    pub life_packets: u64,
    /// Up to this many packets, at random, are taken off `rekey_packets`.
    pub rand_packets: u64,
    /// The anti-replay window, in packets (RFC 4303 §3.4.3): a multiple of 32 (others are
    /// rounded up) from 32 to 2^20.
    pub replay_window: u32,
    /// Close the Child SA when no packet went either way for this long; zero: never.
    pub inactivity: Duration,
}

impl Child {
    /// A builder for the child `name`, with strongSwan's defaults: ESP `default`
    /// proposals, tunnel mode, rekeyed after 1 h (with up to 6 min of jitter), gone after
    /// 66 min, no volume limits, a 32-packet replay window, no actions.
    pub fn builder(name: &str) -> ChildBuilder {
        ChildBuilder {
            name: name.to_string(),
            esp_proposals: None,
            ah_proposals: None,
            local_ts: None,
            remote_ts: None,
            mode: Mode::Tunnel,
            start_action: StartAction::None,
            close_action: Action::None,
            dpd_action: Action::None,
            times: LimitSettings::default(),
            bytes: LimitSettings::default(),
            packets: LimitSettings::default(),
            replay_window: 32,
            inactivity: Duration::ZERO,
            error: None,
        }
    }

    /// Every proposal offered: AH first, then ESP.
    pub fn proposals(&self) -> Vec<ChildProposal> {
        self.ah_proposals
            .iter()
            .chain(&self.esp_proposals)
            .cloned()
            .collect()
    }

    /// The lifetimes the IKE layer hands to the data plane.
    pub(crate) fn lifetimes(&self) -> Lifetimes {
        let some = |d: Duration| (!d.is_zero()).then_some(d);
        let count = |n: u64| (n != 0).then_some(n);
        Lifetimes {
            soft_time: some(self.rekey_time),
            hard_time: some(self.life_time),
            soft_bytes: count(self.rekey_bytes),
            hard_bytes: count(self.life_bytes),
            soft_packets: count(self.rekey_packets),
            hard_packets: count(self.life_packets),
            jitter: Some(self.rand_time),
            byte_jitter: count(self.rand_bytes),
            packet_jitter: count(self.rand_packets),
        }
    }
}

/// A rekey, life and random value as set, before strongSwan's rules fill in the others.
#[derive(Debug, Clone, Copy, Default)]
struct LimitSettings<T> {
    rekey: Option<T>,
    life: Option<T>,
    rand: Option<T>,
}

/// strongSwan's rules for limits not set (`check_lifetimes` in its vici plugin): no rekey
/// set takes `life / 1.1` if life is set, else `default`; no life set takes `rekey * 1.1`;
/// no random part set takes `life - rekey`.
fn derive_limits(set: LimitSettings<u64>, default: u64) -> (u64, u64, u64) {
    let rekey = match (set.rekey, set.life) {
        (Some(rekey), _) => rekey,
        (None, Some(life)) => life / 11 * 10 + life % 11 * 10 / 11,
        (None, None) => default,
    };
    let life = set.life.unwrap_or_else(|| rekey.saturating_add(rekey / 10));
    let rand = set
        .rand
        .unwrap_or_else(|| life.saturating_sub(rekey.min(life)));
    (rekey, life, rand)
}

/// Builds a [`Child`] from values as swanctl.conf writes them; [`ChildBuilder::build`]
/// reports the first value that was wrong, and fills in the limits not set as strongSwan
/// does.
#[derive(Debug, Clone)]
#[must_use]
pub struct ChildBuilder {
    name: String,
    esp_proposals: Option<Vec<ChildProposal>>,
    ah_proposals: Option<Vec<ChildProposal>>,
    local_ts: Option<Vec<TrafficSelector>>,
    remote_ts: Option<Vec<TrafficSelector>>,
    mode: Mode,
    start_action: StartAction,
    close_action: Action,
    dpd_action: Action,
    times: LimitSettings<u64>,
    bytes: LimitSettings<u64>,
    packets: LimitSettings<u64>,
    replay_window: u32,
    inactivity: Duration,
    error: Option<ConfigError>,
}

impl ChildBuilder {
    fn fail(&mut self, setting: &str, value: &str, problem: ValueError) {
        if self.error.is_none() {
            self.error = Some(ConfigError::invalid(setting, value, problem));
        }
    }

    fn selectors(&mut self, setting: &str, list: &str) -> Option<Vec<TrafficSelector>> {
        let mut out = Vec::new();
        for item in list.split(',').filter(|i| !i.trim().is_empty()) {
            match parse_traffic_selector(item) {
                Ok(ts) => out.push(ts),
                Err(problem) => {
                    self.fail(setting, item.trim(), problem);
                    return None;
                }
            }
        }
        if out.is_empty() {
            self.fail(setting, list, ValueError::Empty);
            return None;
        }
        Some(out)
    }

    /// Our side's traffic selectors, comma-separated (`10.1.0.0/16, 10.3.0.0/16[tcp]`).
    pub fn local_ts(mut self, list: &str) -> Self {
        self.local_ts = self.selectors("local_ts", list);
        self
    }

    /// The peer's side's traffic selectors, comma-separated.
    pub fn remote_ts(mut self, list: &str) -> Self {
        self.remote_ts = self.selectors("remote_ts", list);
        self
    }

    /// ESP proposals (`aes256gcm16-x25519, aes128-sha256`; `default` for the defaults).
    pub fn esp_proposals(mut self, list: &str) -> Self {
        match parse_esp_proposals(list) {
            Ok(p) => self.esp_proposals = Some(p),
            Err(e) => self.fail("esp_proposals", list, e.into()),
        }
        self
    }

    /// AH proposals (`sha256-sha512`), RFC 4302.
    pub fn ah_proposals(mut self, list: &str) -> Self {
        match parse_ah_proposals(list) {
            Ok(p) => self.ah_proposals = Some(p),
            Err(e) => self.fail("ah_proposals", list, e.into()),
        }
        self
    }

    /// Tunnel or transport mode.
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// What to do when loaded.
    pub fn start_action(mut self, action: StartAction) -> Self {
        self.start_action = action;
        self
    }

    /// What to do when the peer closes the Child SA.
    pub fn close_action(mut self, action: Action) -> Self {
        self.close_action = action;
        self
    }

    /// What to do when the peer is found dead.
    pub fn dpd_action(mut self, action: Action) -> Self {
        self.dpd_action = action;
        self
    }

    /// Time until a rekey (zero: never on time).
    pub fn rekey_time(mut self, time: Duration) -> Self {
        self.times.rekey = Some(saturating_secs(time));
        self
    }

    /// Time until the Child SA must go.
    pub fn life_time(mut self, time: Duration) -> Self {
        self.times.life = Some(saturating_secs(time));
        self
    }

    /// The random part taken off `rekey_time`.
    pub fn rand_time(mut self, time: Duration) -> Self {
        self.times.rand = Some(saturating_secs(time));
        self
    }

    /// Bytes until a rekey.
    pub fn rekey_bytes(mut self, bytes: u64) -> Self {
        self.bytes.rekey = Some(bytes);
        self
    }

    /// Bytes until the Child SA must go.
    pub fn life_bytes(mut self, bytes: u64) -> Self {
        self.bytes.life = Some(bytes);
        self
    }

    /// The random part taken off `rekey_bytes`.
    pub fn rand_bytes(mut self, bytes: u64) -> Self {
        self.bytes.rand = Some(bytes);
        self
    }

    /// Packets until a rekey.
    pub fn rekey_packets(mut self, packets: u64) -> Self {
        self.packets.rekey = Some(packets);
        self
    }

    /// Packets until the Child SA must go.
    pub fn life_packets(mut self, packets: u64) -> Self {
        self.packets.life = Some(packets);
        self
    }

    /// The random part taken off `rekey_packets`.
    pub fn rand_packets(mut self, packets: u64) -> Self {
        self.packets.rand = Some(packets);
        self
    }

    /// The anti-replay window in packets, rounded up to a multiple of 32.
    pub fn replay_window(mut self, packets: u32) -> Self {
        self.replay_window = packets;
        self
    }

    /// Close the Child SA after this long without traffic (zero: never).
    pub fn inactivity(mut self, time: Duration) -> Self {
        self.inactivity = time;
        self
    }

    /// Sets a setting from its swanctl.conf name and text value (`"rekey_time"`, `"1h"`),
    /// as a configuration file gives it.
    pub fn set(mut self, setting: &str, value: &str) -> Self {
        let duration = |b: &mut Self| match parse_duration(value) {
            Ok(d) => Some(d),
            Err(e) => {
                b.fail(setting, value, e);
                None
            }
        };
        let number = |b: &mut Self| match parse_number(value) {
            Ok(n) => Some(n),
            Err(e) => {
                b.fail(setting, value, e);
                None
            }
        };
        match setting {
            "local_ts" => return self.local_ts(value),
            "remote_ts" => return self.remote_ts(value),
            "esp_proposals" => return self.esp_proposals(value),
            "ah_proposals" => return self.ah_proposals(value),
            "mode" => match value.trim() {
                "tunnel" => self.mode = Mode::Tunnel,
                "transport" => self.mode = Mode::Transport,
                _ => self.fail(
                    setting,
                    value,
                    ValueError::UnknownKeyword("tunnel, transport"),
                ),
            },
            "start_action" => match value.trim() {
                "none" => self.start_action = StartAction::None,
                "trap" | "route" => self.start_action = StartAction::Trap,
                "start" => self.start_action = StartAction::Start,
                "trap|start" | "start|trap" => self.start_action = StartAction::TrapAndStart,
                _ => self.fail(
                    setting,
                    value,
                    ValueError::UnknownKeyword("none, trap, start, trap|start"),
                ),
            },
            "close_action" | "dpd_action" => {
                let action = match value.trim() {
                    "none" | "clear" => Some(Action::None),
                    "trap" | "route" => Some(Action::Trap),
                    "start" | "restart" => Some(Action::Start),
                    _ => None,
                };
                match (action, setting) {
                    (Some(a), "close_action") => self.close_action = a,
                    (Some(a), _) => self.dpd_action = a,
                    (None, _) => self.fail(
                        setting,
                        value,
                        ValueError::UnknownKeyword("none, clear, trap, start, restart"),
                    ),
                }
            }
            "rekey_time" | "life_time" | "rand_time" | "inactivity" => {
                if let Some(d) = duration(&mut self) {
                    match setting {
                        "rekey_time" => self.times.rekey = Some(saturating_secs(d)),
                        "life_time" => self.times.life = Some(saturating_secs(d)),
                        "rand_time" => self.times.rand = Some(saturating_secs(d)),
                        _ => self.inactivity = d,
                    }
                }
            }
            "rekey_bytes" | "life_bytes" | "rand_bytes" | "rekey_packets" | "life_packets"
            | "rand_packets" => {
                if let Some(n) = number(&mut self) {
                    let (limits, which) = match setting.split_once('_') {
                        Some((which, "bytes")) => (&mut self.bytes, which),
                        Some((which, _)) => (&mut self.packets, which),
                        None => return self,
                    };
                    match which {
                        "rekey" => limits.rekey = Some(n),
                        "life" => limits.life = Some(n),
                        _ => limits.rand = Some(n),
                    }
                }
            }
            "replay_window" => {
                if let Some(n) = number(&mut self) {
                    match u32::try_from(n) {
                        Ok(n) => self.replay_window = n,
                        Err(_) => self.fail(setting, value, ValueError::BadNumber(value.into())),
                    }
                }
            }
            _ => {
                if self.error.is_none() {
                    self.error = Some(ConfigError::File(format!(
                        "children.{}: unknown setting `{setting}`",
                        self.name
                    )));
                }
            }
        }
        self
    }

    /// The child, or the first problem found (its setting named relative to the child:
    /// `NAME.local_ts`).
    pub fn build(self) -> Result<Child, ConfigError> {
        let name = self.name.clone();
        let inside = |e: ConfigError| e.within(&name);
        if let Some(error) = self.error {
            return Err(inside(error));
        }
        if name.is_empty() || name.contains(['.', ' ']) {
            return Err(ConfigError::invalid(
                "children",
                &name,
                ValueError::BadIdentity("a child's name is not empty and holds no `.` or space"),
            ));
        }
        let local_ts = self.local_ts.ok_or_else(|| {
            inside(ConfigError::Missing {
                setting: "local_ts".into(),
                problem: "the traffic selectors are needed (swanctl's `dynamic` is not supported)",
            })
        })?;
        let remote_ts = self.remote_ts.ok_or_else(|| {
            inside(ConfigError::Missing {
                setting: "remote_ts".into(),
                problem: "the traffic selectors are needed (swanctl's `dynamic` is not supported)",
            })
        })?;
        let ah_proposals = self.ah_proposals.unwrap_or_default();
        let esp_proposals = match self.esp_proposals {
            Some(esp) => esp,
            None if !ah_proposals.is_empty() => Vec::new(),
            None => parse_esp_proposals("default")
                .map_err(|e| inside(ConfigError::invalid("esp_proposals", "default", e.into())))?,
        };
        let (rekey, life, rand) = derive_limits(self.times, 3600);
        if life != 0 && rekey > life {
            return Err(inside(ConfigError::inconsistent(
                "rekey_time",
                format!("{rekey}s is after life_time ({life}s)"),
            )));
        }
        // RFC 4303 §3.4.3: the window is a multiple of 32 packets here; a size in between
        // is rounded up, which only tolerates more reordering.
        let replay_window = match self.replay_window {
            0 => {
                return Err(inside(ConfigError::invalid(
                    "replay_window",
                    "0",
                    ValueError::BadNumber("0: replay protection cannot be turned off".into()),
                )));
            }
            n if n > ipsec_replay::MAX_WINDOW => {
                return Err(inside(ConfigError::invalid(
                    "replay_window",
                    &n.to_string(),
                    ValueError::BadNumber(format!("{n}: at most {}", ipsec_replay::MAX_WINDOW)),
                )));
            }
            n => n.div_ceil(32) * 32,
        };
        let (rekey_bytes, life_bytes, rand_bytes) = derive_limits(self.bytes, 0);
        let (rekey_packets, life_packets, rand_packets) = derive_limits(self.packets, 0);
        Ok(Child {
            name,
            esp_proposals,
            ah_proposals,
            local_ts,
            remote_ts,
            mode: self.mode,
            start_action: self.start_action,
            close_action: self.close_action,
            dpd_action: self.dpd_action,
            rekey_time: Duration::from_secs(rekey),
            life_time: Duration::from_secs(life),
            rand_time: Duration::from_secs(rand),
            rekey_bytes,
            life_bytes,
            rand_bytes,
            rekey_packets,
            life_packets,
            rand_packets,
            replay_window,
            inactivity: self.inactivity,
        })
    }
}

/// Whole seconds of a duration.
fn saturating_secs(time: Duration) -> u64 {
    time.as_secs()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn strongswan_defaults_and_derived_limits() {
        let child = Child::builder("net")
            .local_ts("10.1.0.0/16")
            .remote_ts("10.2.0.0/16")
            .build()
            .unwrap();
        assert_eq!(child.rekey_time, Duration::from_secs(3600));
        assert_eq!(child.life_time, Duration::from_secs(3960));
        assert_eq!(child.rand_time, Duration::from_secs(360));
        assert_eq!((child.rekey_bytes, child.life_bytes), (0, 0));
        assert_eq!(child.replay_window, 32);
        assert_eq!(child.esp_proposals.len(), 2);
        let lifetimes = child.lifetimes();
        assert_eq!(lifetimes.soft_time, Some(Duration::from_secs(3600)));
        assert_eq!(lifetimes.hard_bytes, None);

        let only_life = Child::builder("x")
            .local_ts("10.1.0.0/16")
            .remote_ts("10.2.0.0/16")
            .life_time(Duration::from_secs(1100))
            .rekey_bytes(1_000_000)
            .build()
            .unwrap();
        assert_eq!(only_life.rekey_time, Duration::from_secs(1000));
        assert_eq!(only_life.rand_time, Duration::from_secs(100));
        assert_eq!(only_life.life_bytes, 1_100_000);
        assert_eq!(only_life.rand_bytes, 100_000);

        let ah = Child::builder("ah")
            .local_ts("10.1.0.0/16")
            .remote_ts("10.2.0.0/16")
            .ah_proposals("sha256")
            .build()
            .unwrap();
        assert!(ah.esp_proposals.is_empty());
        assert_eq!(ah.proposals().len(), 1);
    }

    #[test]
    fn errors_name_the_setting() {
        let error = Child::builder("net")
            .local_ts("10.0.0.0/40")
            .remote_ts("10.2.0.0/16")
            .build()
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "net.local_ts = \"10.0.0.0/40\": prefix 40 is longer than 32"
        );
        let error = Child::builder("net")
            .local_ts("10.1.0.0/16")
            .remote_ts("0.0.0.0/0[udp/99999]")
            .build()
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "net.remote_ts = \"0.0.0.0/0[udp/99999]\": port `99999` out of range"
        );
        assert!(
            Child::builder("net")
                .local_ts("10.1.0.0/16")
                .build()
                .unwrap_err()
                .to_string()
                .starts_with("net.remote_ts: ")
        );
        let error = Child::builder("net")
            .local_ts("10.1.0.0/16")
            .remote_ts("10.2.0.0/16")
            .set("start_action", "sometimes")
            .build()
            .unwrap_err();
        assert!(error.to_string().contains("net.start_action"));
        let error = Child::builder("net")
            .local_ts("10.1.0.0/16")
            .remote_ts("10.2.0.0/16")
            .rekey_time(Duration::from_secs(100))
            .life_time(Duration::from_secs(50))
            .build()
            .unwrap_err();
        assert!(error.to_string().contains("life_time"));
    }
}
