//! A whole configuration from TOML text laid out like swanctl.conf (the `serde` feature):
//! `[connections.NAME]` with its `local`, `remote` and `children.NAME` sections,
//! `[secrets.ike-NAME]`, and from strongswan.conf's `charon` section the ports and the
//! responder's defences (`cookie_threshold`, `block_threshold`, ...).
//!
//! The settings of connections and children go through [`ConnectionBuilder::set`] and
//! [`ChildBuilder::set`](super::ChildBuilder::set), so a file takes exactly the names the
//! builders take and its errors read the same. Only text is read here: the caller reads
//! the file (sans-IO).

use serde::Deserialize;
use toml::{Table, Value};

use super::connection::ConnectionBuilder;
use super::error::{ConfigError, ValueError};
use super::value::{parse_number, parse_remote_identity};
use super::{Child, Config, Connection, DosProtection, Secret};

/// The file's top level: nothing but these three sections.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Layout {
    #[serde(default)]
    charon: Charon,
    #[serde(default)]
    connections: Table,
    #[serde(default)]
    secrets: Table,
}

/// strongswan.conf's `charon` section, as far as this library has its settings: the
/// ports, and the responder's defences under strongSwan's names (`cookie_threshold`,
/// `cookie_threshold_ip`, `block_threshold`, `init_limit_half_open`) and ours for what
/// strongSwan lacks (RFC 8019 puzzles, a rate, a per-identity limit).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Charon {
    port: Option<Value>,
    port_nat_t: Option<Value>,
    cookie_threshold: Option<Value>,
    cookie_threshold_ip: Option<Value>,
    cookie_rate: Option<Value>,
    block_threshold: Option<Value>,
    init_limit_half_open: Option<Value>,
    ike_sas_per_identity: Option<Value>,
    /// `no` turns client puzzles off.
    puzzles: Option<Value>,
    puzzle_threshold: Option<Value>,
    puzzle_difficulty: Option<Value>,
    puzzle_max_difficulty: Option<Value>,
    auth_puzzle_failures: Option<Value>,
    /// The hardest puzzle solved as initiator.
    max_puzzle_difficulty: Option<Value>,
    queue_limit: Option<Value>,
}

impl Charon {
    /// The defences, from the defaults and what the file sets.
    fn dos(&self) -> Result<DosProtection, ConfigError> {
        let mut dos = DosProtection::default();
        let set = |setting: &str, value: &Option<Value>, field: &mut usize| {
            if let Some(n) = number(&format!("charon.{setting}"), value.as_ref(), u64::MAX)? {
                *field = usize::try_from(n).unwrap_or(usize::MAX);
            }
            Ok::<(), ConfigError>(())
        };
        set(
            "cookie_threshold",
            &self.cookie_threshold,
            &mut dos.cookie_threshold,
        )?;
        set(
            "cookie_threshold_ip",
            &self.cookie_threshold_ip,
            &mut dos.cookie_threshold_ip,
        )?;
        set(
            "block_threshold",
            &self.block_threshold,
            &mut dos.block_threshold,
        )?;
        set(
            "init_limit_half_open",
            &self.init_limit_half_open,
            &mut dos.init_limit_half_open,
        )?;
        set(
            "ike_sas_per_identity",
            &self.ike_sas_per_identity,
            &mut dos.ike_sas_per_identity,
        )?;
        if let Some(rate) = number(
            "charon.cookie_rate",
            self.cookie_rate.as_ref(),
            u32::MAX.into(),
        )? {
            dos.cookie_rate = u32::try_from(rate).unwrap_or(u32::MAX);
        }
        if let Some(value) = &self.puzzles {
            let text = text("charon.puzzles", value)?;
            match text.trim() {
                "yes" => {}
                "no" => dos.puzzles = None,
                _ => {
                    return Err(ConfigError::invalid(
                        "charon.puzzles",
                        &text,
                        ValueError::UnknownKeyword("yes, no"),
                    ));
                }
            }
        }
        if let Some(policy) = &mut dos.puzzles {
            let mut threshold = policy.threshold;
            set("puzzle_threshold", &self.puzzle_threshold, &mut threshold)?;
            policy.threshold = threshold;
            let bits = |setting: &str, value: &Option<Value>| {
                number(&format!("charon.{setting}"), value.as_ref(), u8::MAX.into())
                    .map(|n| n.and_then(|n| u8::try_from(n).ok()))
            };
            if let Some(d) = bits("puzzle_difficulty", &self.puzzle_difficulty)? {
                policy.difficulty = d;
            }
            if let Some(d) = bits("puzzle_max_difficulty", &self.puzzle_max_difficulty)? {
                policy.max_difficulty = d;
            }
            if let Some(n) = number(
                "charon.auth_puzzle_failures",
                self.auth_puzzle_failures.as_ref(),
                u32::MAX.into(),
            )? {
                policy.auth_failures = u32::try_from(n).unwrap_or(u32::MAX);
            }
        }
        Ok(dos)
    }
}

impl Config {
    /// A whole configuration from TOML text that uses swanctl.conf's names and nesting
    /// (the `serde` feature). The caller reads the file; nothing here does I/O.
    ///
    /// ```toml
    /// [charon]                      # optional; strongswan.conf's names
    /// port = 500
    /// port_nat_t = 4500
    /// cookie_threshold = 64         # the responder's defences (see DosProtection);
    /// block_threshold = 32          # also cookie_threshold_ip, init_limit_half_open,
    /// puzzles = "yes"               # cookie_rate, ike_sas_per_identity, puzzle_threshold,
    ///                               # puzzle_difficulty, puzzle_max_difficulty,
    ///                               # auth_puzzle_failures, max_puzzle_difficulty,
    ///                               # queue_limit
    ///
    /// [connections.rw]
    /// local_addrs = "192.0.2.1"     # a string (a comma list) or an array of strings
    /// remote_addrs = "%any"
    /// proposals = "aes256gcm16-prfsha256-x25519"
    /// dpd_delay = "30s"
    /// keyingtries = 0               # numbers as TOML integers or strings
    /// encap = true                  # booleans as TOML booleans or yes/no
    /// psk = "a key"                 # shorthand (not swanctl's): a key for the two ids
    ///
    /// [connections.rw.local]
    /// auth = "psk"
    /// id = "gw.example"
    ///
    /// [connections.rw.remote]
    /// auth = "psk"
    /// id = "*.users.example"
    ///
    /// [connections.rw.children.net]
    /// local_ts = "10.1.0.0/16"
    /// remote_ts = ["10.99.0.0/16"]
    /// start_action = "trap"
    ///
    /// [secrets.ike-users]           # id, id-1, id-2, ... own the key
    /// id = "gw.example"
    /// id-1 = "*.users.example"
    /// secret = "group key"          # or 0x followed by hex
    /// ```
    ///
    /// The connections keep the file's order. A connection's and a child's settings are
    /// those [`ConnectionBuilder::set`] and [`ChildBuilder::set`](super::ChildBuilder::set)
    /// take; a value may be a string, a whole number, a boolean (`yes`/`no`) or an array
    /// (a comma-separated list). The result is checked as a whole ([`Config::validate`]);
    /// the provider, key log and timers are the defaults of [`Config::builder`], and the
    /// caller may change them on the result.
    ///
    /// Errors: TOML syntax and unknown sections as [`ConfigError::File`] with line and
    /// column; unknown settings as [`ConfigError::File`] naming them; wrong values with
    /// their setting's path (`connections.rw.children.net.local_ts`).
    pub fn from_toml(text: &str) -> Result<Config, ConfigError> {
        let layout: Layout = toml::from_str(text).map_err(|e| syntax_error(text, &e))?;
        let mut builder = Config::builder();
        if layout.charon.port.is_some() || layout.charon.port_nat_t.is_some() {
            let defaults = Config::default();
            let ike = port("charon.port", layout.charon.port.as_ref())?;
            let nat_t = port("charon.port_nat_t", layout.charon.port_nat_t.as_ref())?;
            builder = builder.ports(
                ike.unwrap_or(defaults.ike_port),
                nat_t.unwrap_or(defaults.nat_t_port),
            );
        }
        builder = builder.dos(layout.charon.dos()?);
        let charon = &layout.charon;
        if let Some(d) = number(
            "charon.max_puzzle_difficulty",
            charon.max_puzzle_difficulty.as_ref(),
            u8::MAX.into(),
        )? {
            builder = builder.max_puzzle_difficulty(u8::try_from(d).unwrap_or(u8::MAX));
        }
        if let Some(n) = number("charon.queue_limit", charon.queue_limit.as_ref(), u64::MAX)? {
            builder = builder.queue_limit(usize::try_from(n).unwrap_or(usize::MAX));
        }
        for (name, value) in &layout.connections {
            builder = builder.connection(connection(name, value))?;
        }
        for (name, value) in &layout.secrets {
            builder = builder.secret(secret(name, value)?);
        }
        builder.build()
    }
}

/// A TOML error as `line L, column C: message`, on one line.
fn syntax_error(text: &str, error: &toml::de::Error) -> ConfigError {
    let message = error
        .message()
        .trim()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ");
    match error.span().and_then(|span| text.get(..span.start)) {
        Some(before) => {
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            ConfigError::File(format!("line {line}, column {column}: {message}"))
        }
        None => ConfigError::File(message),
    }
}

/// A value as the text a builder's `set` takes: strings as they are, numbers in decimal,
/// booleans as `yes`/`no`, arrays as comma-separated lists.
fn text(setting: &str, value: &Value) -> Result<String, ConfigError> {
    let scalar = |value: &Value| match value {
        Value::String(s) => Some(s.clone()),
        Value::Integer(n) => Some(n.to_string()),
        Value::Boolean(b) => Some(if *b { "yes" } else { "no" }.to_string()),
        _ => None,
    };
    let wrong = || {
        ConfigError::File(format!(
            "{setting}: expected a string, a whole number, a boolean or an array of those"
        ))
    };
    match value {
        Value::Array(items) => items
            .iter()
            .map(|item| scalar(item).ok_or_else(wrong))
            .collect::<Result<Vec<_>, _>>()
            .map(|items| items.join(", ")),
        other => scalar(other).ok_or_else(wrong),
    }
}

/// A whole number up to `max`.
fn number(setting: &str, value: Option<&Value>, max: u64) -> Result<Option<u64>, ConfigError> {
    let Some(value) = value else {
        return Ok(None);
    };
    let text = text(setting, value)?;
    let n = parse_number(&text).map_err(|problem| ConfigError::invalid(setting, &text, problem))?;
    if n > max {
        return Err(ConfigError::invalid(
            setting,
            &text,
            ValueError::BadNumber(text.trim().to_string()),
        ));
    }
    Ok(Some(n))
}

/// A port: a whole number up to 65535.
fn port(setting: &str, value: Option<&Value>) -> Result<Option<u16>, ConfigError> {
    let Some(value) = value else {
        return Ok(None);
    };
    let text = text(setting, value)?;
    match parse_number(&text).map(u16::try_from) {
        Ok(Ok(port)) => Ok(Some(port)),
        _ => Err(ConfigError::invalid(
            setting,
            &text,
            ValueError::PortOutOfRange(text.trim().to_string()),
        )),
    }
}

/// A key as strongSwan reads one: `0x` and hex digits, else the text's bytes. The value
/// never appears in an error.
fn key_bytes(setting: &str, value: &Value) -> Result<Vec<u8>, ConfigError> {
    let Value::String(key) = value else {
        return Err(ConfigError::File(format!("{setting}: expected a string")));
    };
    if let Some(digits) = key.strip_prefix("0x").or_else(|| key.strip_prefix("0X")) {
        return hex::decode(digits).map_err(|_| {
            ConfigError::File(format!("{setting}: what follows `0x` is not hex digits"))
        });
    }
    if key.starts_with("0s") || key.starts_with("0S") {
        return Err(ConfigError::File(format!(
            "{setting}: base64 keys (`0s...`) are not supported; give the key as text or \
             as 0x and hex digits"
        )));
    }
    Ok(key.as_bytes().to_vec())
}

/// The table of the section `path`, or an error saying it must be one.
fn table<'a>(path: &str, value: &'a Value) -> Result<&'a Table, ConfigError> {
    match value {
        Value::Table(table) => Ok(table),
        _ => Err(ConfigError::File(format!(
            "{path}: expected a section (a table)"
        ))),
    }
}

/// The error for a section (a table) where a value or nothing belongs, worded as the
/// builders word an unknown setting.
fn unknown_section(path: &str, name: &str) -> ConfigError {
    ConfigError::File(format!("{path}: unknown section `{name}`"))
}

/// The unknown-setting error, worded as the builders word it.
fn unknown(path: &str, setting: &str) -> ConfigError {
    ConfigError::File(format!("{path}: unknown setting `{setting}`"))
}

/// The connection `connections.NAME`; its errors are relative to `connections` (as
/// [`ConnectionBuilder::build`] gives them), but for file errors, which name the whole
/// path.
fn connection(name: &str, value: &Value) -> Result<Connection, ConfigError> {
    let path = format!("connections.{name}");
    let settings = table(&path, value)?;
    let mut builder: ConnectionBuilder = Connection::builder(name);
    for (key, value) in settings {
        let setting = format!("{path}.{key}");
        builder = match key.as_str() {
            "local" | "remote" => {
                let mut builder = builder;
                for (inner, value) in table(&setting, value)? {
                    if let Value::Table(_) = value {
                        return Err(unknown_section(&path, &format!("{key}.{inner}")));
                    }
                    let value = text(&format!("{setting}.{inner}"), value)?;
                    builder = builder.set(&format!("{key}.{inner}"), &value);
                }
                builder
            }
            "children" => {
                let mut builder = builder;
                for (child_name, value) in table(&setting, value)? {
                    builder = builder.child(child(child_name, value));
                }
                builder
            }
            "psk" => builder.psk(&key_bytes(&setting, value)?),
            _ if value.is_table() => return Err(unknown_section(&path, key)),
            _ => builder.set(key, &text(&setting, value)?),
        };
    }
    builder.build()
}

/// A connection's child `NAME`; its errors are relative to the child, as
/// [`ChildBuilder::build`](super::ChildBuilder::build) gives them, and file errors relative
/// to the connection (`children.NAME...`), which [`ConnectionBuilder::build`] completes.
fn child(name: &str, value: &Value) -> Result<Child, ConfigError> {
    let path = format!("children.{name}");
    let settings = table(&path, value)?;
    let mut builder = Child::builder(name);
    for (key, value) in settings {
        if value.is_table() {
            return Err(unknown_section(&path, key));
        }
        builder = builder.set(key, &text(&format!("{path}.{key}"), value)?);
    }
    builder.build()
}

/// The secret `secrets.NAME`: swanctl's `ike-NAME` with `id`, `id-1`, ... and `secret`.
fn secret(name: &str, value: &Value) -> Result<Secret, ConfigError> {
    let path = format!("secrets.{name}");
    if !name.starts_with("ike") {
        return Err(ConfigError::File(format!(
            "{path}: only IKE pre-shared keys are supported (sections named ike-NAME)"
        )));
    }
    let mut ids: Vec<&str> = Vec::new();
    let mut key = None;
    for (setting, value) in table(&path, value)? {
        let at = format!("{path}.{setting}");
        if setting == "secret" {
            key = Some(key_bytes(&at, value)?);
        } else if setting.starts_with("id") {
            let Value::String(id) = value else {
                return Err(ConfigError::File(format!("{at}: expected a string")));
            };
            parse_remote_identity(id).map_err(|e| ConfigError::invalid(&at, id, e))?;
            ids.push(id);
        } else {
            return Err(unknown(&path, setting));
        }
    }
    let setting = format!("{path}.secret");
    let key = key.ok_or_else(|| ConfigError::Missing {
        setting: setting.clone(),
        problem: "the pre-shared key is needed",
    })?;
    if key.is_empty() {
        return Err(ConfigError::invalid(&setting, "", ValueError::Empty));
    }
    Secret::new(&ids, &key)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use std::time::Duration;

    use ipsec_ikev2::{Credentials, UniquePolicy};
    use ipsec_isakmp::Identification;
    use ipsec_sad::IdMatcher;

    use super::*;
    use crate::config::{Action, StartAction};

    const GATEWAY: &str = r#"
[charon]
port = 500
port_nat_t = 4500

[connections.rw]
local_addrs = "192.0.2.1"
remote_addrs = "%any"
proposals = "aes256gcm16-prfsha256-x25519"
unique = "replace"
dpd_delay = "30s"
keyingtries = 0
encap = true

[connections.rw.local]
auth = "psk"
id = "gw.example"

[connections.rw.remote]
auth = "psk"
id = "*.users.example"

[connections.rw.children.net]
local_ts = "10.1.0.0/16"
remote_ts = ["10.99.0.0/16", "10.98.0.0/16"]
esp_proposals = "aes256gcm16"
start_action = "trap"
dpd_action = "clear"
rekey_time = "1h"
rekey_bytes = 1000000

[connections.site]
remote_addrs = "198.51.100.1"
local.id = "gw.example"
remote.id = "gw-b.example"
psk = "site key"

[connections.site.children.lan]
local_ts = "10.1.0.0/16"
remote_ts = "10.2.0.0/16"

[secrets.ike-users]
id = "gw.example"
id-1 = "*.users.example"
secret = "group key"
"#;

    fn error(text: &str) -> String {
        Config::from_toml(text).unwrap_err().to_string()
    }

    #[test]
    fn a_gateway_file_loads() {
        let config = Config::from_toml(GATEWAY).unwrap();
        config.validate().unwrap();
        assert_eq!((config.ike_port, config.nat_t_port), (500, 4500));
        let names: Vec<_> = config.connections.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["rw", "site"], "the file's order");
        let rw = config.connection("rw").unwrap();
        assert_eq!(rw.local_id, Identification::fqdn("gw.example"));
        assert_eq!(rw.remote_id, IdMatcher::FqdnSuffix("users.example".into()));
        assert_eq!(rw.unique, UniquePolicy::Replace);
        assert_eq!(rw.dpd_delay, Duration::from_secs(30));
        assert_eq!(rw.keyingtries, 0);
        assert!(rw.encap);
        assert_eq!(rw.initiation_target(), None);
        let net = rw.child("net").unwrap();
        assert_eq!(net.remote_ts.len(), 2);
        assert_eq!(net.start_action, StartAction::Trap);
        assert_eq!(net.dpd_action, Action::None);
        assert_eq!(net.rekey_time, Duration::from_secs(3600));
        assert_eq!(net.rekey_bytes, 1_000_000);
        let site = config.connection("site").unwrap();
        assert_eq!(site.psk.as_ref().unwrap().expose(), b"site key");
        assert_eq!(
            site.initiation_target(),
            Some("198.51.100.1:500".parse().unwrap())
        );
        assert_eq!(config.secrets.len(), 1);
        assert_eq!(config.secrets[0].ids.len(), 2);
        assert_eq!(config.secrets[0].secret.expose(), b"group key");
    }

    #[test]
    fn the_defences_under_strongswan_names() {
        let text = "[charon]\ncookie_threshold = 10\ncookie_threshold_ip = 2\n\
                    block_threshold = 5\ninit_limit_half_open = \"1000\"\n\
                    ike_sas_per_identity = 3\ncookie_rate = 50\npuzzle_threshold = 100\n\
                    puzzle_difficulty = 12\npuzzle_max_difficulty = 18\n\
                    auth_puzzle_failures = 4\nmax_puzzle_difficulty = 14\nqueue_limit = 512\n";
        let config = Config::from_toml(text).unwrap();
        let dos = config.dos;
        assert_eq!(
            (
                dos.cookie_threshold,
                dos.cookie_threshold_ip,
                dos.block_threshold
            ),
            (10, 2, 5)
        );
        assert_eq!(
            (
                dos.init_limit_half_open,
                dos.ike_sas_per_identity,
                dos.cookie_rate
            ),
            (1000, 3, 50)
        );
        let puzzles = dos.puzzles.unwrap();
        assert_eq!(
            (
                puzzles.threshold,
                puzzles.difficulty,
                puzzles.max_difficulty
            ),
            (100, 12, 18)
        );
        assert_eq!(puzzles.auth_failures, 4);
        assert_eq!(
            (config.max_puzzle_difficulty, config.queue_limit),
            (14, 512)
        );
        let off = Config::from_toml("[charon]\npuzzles = false\n").unwrap();
        assert_eq!(off.dos.puzzles, None);
        let error = Config::from_toml("[charon]\npuzzle_difficulty = 30\n").unwrap_err();
        assert!(error.to_string().contains("puzzles"), "{error}");
    }

    #[test]
    fn keys_from_the_shorthand_and_from_secrets() {
        let shorthand = r#"
[charon]
port = "4500"
port_nat_t = 4501

[connections.home]
remote_addrs = "198.51.100.1"
local_addrs = ["192.0.2.7"]
psk = "0x6b6579"
[connections.home.local]
id = "client.example"
[connections.home.remote]
id = "gw.example"
[connections.home.children.net]
local_ts = "10.99.0.7/32"
remote_ts = "10.1.0.0/16"
start_action = "start"
"#;
        let config = Config::from_toml(shorthand).unwrap();
        config.validate().unwrap();
        assert_eq!((config.ike_port, config.nat_t_port), (4500, 4501));
        let home = config.connection("home").unwrap();
        assert_eq!(home.psk.as_ref().unwrap().expose(), b"key", "0x is hex");
        let secrets = r#"
[connections.rw.local]
id = "gw.example"
[connections.rw.remote]
id = "*.users.example"
[connections.rw.children.net]
local_ts = "10.1.0.0/16"
remote_ts = "10.99.0.0/16"
[secrets.ike-users]
id = "gw.example"
id-1 = "*.users.example"
secret = "group key"
"#;
        let config = Config::from_toml(secrets).unwrap();
        config.validate().unwrap();
        let keys = config.shared_keys();
        let key = keys
            .shared_key(
                &Identification::fqdn("gw.example"),
                Some(&Identification::fqdn("alice.users.example")),
            )
            .unwrap();
        assert_eq!(key.expose(), b"group key");
        // Without the secret, no key for the connection's identities.
        let without = secrets.split("[secrets").next().unwrap();
        assert_eq!(
            error(without),
            "connections.rw.psk: no pre-shared key for the connection's identities (set \
             psk, or add a secret for them)"
        );
        assert!(Config::from_toml("").unwrap().connections.is_empty());
    }

    #[test]
    fn errors_name_the_setting() {
        let child = |setting: &str| {
            format!(
                "[connections.rw]\nlocal.id = \"gw\"\npsk = \"k\"\n\
                 [connections.rw.children.net]\nremote_ts = \"10.2.0.0/16\"\n{setting}\n"
            )
        };
        assert_eq!(
            error(&child("local_ts = \"10.0.0.0/40\"")),
            "connections.rw.children.net.local_ts = \"10.0.0.0/40\": prefix 40 is longer \
             than 32"
        );
        assert_eq!(
            error(&child("local_ts = \"10.0.0.0/8\"\nlifetime = \"1h\"")),
            "configuration file: connections.rw.children.net: unknown setting `lifetime`"
        );
        assert_eq!(
            error(&child("local_ts = \"10.0.0.0/8\"\nrekey_time = 1.5")),
            "configuration file: connections.rw.children.net.rekey_time: expected a string, \
             a whole number, a boolean or an array of those"
        );
        assert_eq!(
            error("[connections.rw]\nlocal.id = \"gw\"\ndpd_dealy = \"30s\"\n"),
            "configuration file: connections.rw: unknown setting `dpd_dealy`"
        );
        assert_eq!(
            error("[connections.rw]\nlocal.id = \"gw\"\nremote.auth = \"pubkey\"\n"),
            "connections.rw.remote.auth = \"pubkey\": unknown value; expected one of: psk \
             (pubkey and eap are not supported yet)"
        );
        assert_eq!(
            error("[connections.rw]\nlocal.idd = \"gw\"\n"),
            "configuration file: connections.rw: unknown setting `local.idd`"
        );
        assert_eq!(
            error("[connections.rw]\nlocal.id = \"gw\"\n[connections.rw.childs.net]\n"),
            "configuration file: connections.rw: unknown section `childs`"
        );
        assert_eq!(
            error("[connections.rw]\nlocal.id = \"gw\"\nlocal_addrs = { a = 1 }\n"),
            "configuration file: connections.rw: unknown section `local_addrs`"
        );
        assert_eq!(
            error("[connections.\"a.b\"]\nlocal.id = \"gw\"\n"),
            "connections = \"a.b\": a connection's name is not empty and holds no `.` or space"
        );
        assert_eq!(
            error(&child("local_ts = \"10.0.0.0/8\"").replace(".net]", ".\"n t\"]")),
            "connections.rw.children = \"n t\": a child's name is not empty and holds no `.` \
             or space"
        );
        assert_eq!(
            error("[charon]\nport = 70000\n"),
            "charon.port = \"70000\": port `70000` out of range"
        );
    }

    #[test]
    fn toml_errors_give_line_and_column() {
        assert_eq!(
            error("[connections.rw]\nlocal_addrs = \"192.0.2.1\n"),
            "configuration file: line 2, column 25: invalid basic string, expected `\"`"
        );
        assert_eq!(
            error("[connection.rw]\n"),
            "configuration file: line 1, column 2: unknown field `connection`, expected one \
             of `charon`, `connections`, `secrets`"
        );
        assert_eq!(
            error("[charon]\nport = 500\nport = 501\n"),
            "configuration file: line 3, column 1: duplicate key"
        );
    }

    #[test]
    fn secrets_need_a_key() {
        let missing = "[secrets.ike-users]\nid = \"gw.example\"\n";
        assert_eq!(
            error(missing),
            "secrets.ike-users.secret: the pre-shared key is needed"
        );
        assert_eq!(
            error("[secrets.ike-users]\nsecret = \"\"\n"),
            "secrets.ike-users.secret = \"\": empty"
        );
        assert_eq!(
            error("[secrets.ike-users]\nsecret = \"0xzz\"\n"),
            "configuration file: secrets.ike-users.secret: what follows `0x` is not hex digits"
        );
        assert_eq!(
            error("[secrets.ike-users]\nid-1 = \"*.\"\nsecret = \"k\"\n"),
            "secrets.ike-users.id-1 = \"*.\": wildcards are *.DOMAIN, *@DOMAIN or *@*.DOMAIN"
        );
        assert_eq!(
            error("[secrets.ike-users]\nsecret = \"k\"\nkey = \"x\"\n"),
            "configuration file: secrets.ike-users: unknown setting `key`"
        );
        assert_eq!(
            error("[secrets.eap-alice]\nsecret = \"k\"\n"),
            "configuration file: secrets.eap-alice: only IKE pre-shared keys are supported \
             (sections named ike-NAME)"
        );
        let anyone = Config::from_toml("[secrets.ike]\nsecret = \"k\"\n").unwrap();
        assert!(anyone.secrets[0].ids.is_empty());
        assert!(
            !error("[secrets.ike-x]\nsecret = \"0s0s0s\"\n").contains("0s0s0s"),
            "keys stay out of messages"
        );
    }

    #[test]
    fn the_example_gateway_loads() {
        let config = Config::from_toml(include_str!("../../../../examples/gateway.toml")).unwrap();
        config.validate().unwrap();
        let rw = config.connection("rw").unwrap();
        assert_eq!(rw.initiation_target(), None, "remote_addrs = %any");
        assert_eq!(
            rw.remote_id,
            IdMatcher::FqdnSuffix("clients.example".into())
        );
        let net = rw.child("net").unwrap();
        assert_eq!(
            net.remote_ts,
            [crate::parse_traffic_selector("10.99.0.0/16").unwrap()]
        );
    }

    #[test]
    fn junk_never_panics() {
        let junk = [
            "",
            "\0",
            "=",
            "[",
            "]]",
            "[[connections]]",
            "connections = 1",
            "connections = []",
            "connections = \"rw\"",
            "[connections]\nrw = 5",
            "[connections.rw]\nlocal = 5",
            "[connections.rw]\nremote = []",
            "[connections.rw]\nchildren = \"net\"",
            "[connections.rw.children]\nnet = 1",
            "[connections.rw.children.net.deeper]\nx = 1",
            "[connections.rw.local.deeper]\nx = 1",
            "[connections.\"\"]\nlocal.id = \"x\"",
            "[connections.\"a.b\"]\nlocal.id = \"x\"",
            "[connections.\"a b\".children.\"c d\"]\nlocal_ts = \"0.0.0.0/0\"",
            "[connections.rw]\nlocal_addrs = [[1]]",
            "[connections.rw]\nlocal_addrs = {a = 1}",
            "[connections.rw]\nkeyingtries = -1",
            "[connections.rw]\nkeyingtries = 99999999999999999999",
            "[connections.rw]\nrekey_time = 1979-05-27T07:32:00Z",
            "[connections.rw]\nremote_port = 65536",
            "[connections.rw]\npsk = 7",
            "[connections.rw]\npsk = \"\"",
            "[connections.rw]\nproposals = \"---\"",
            "[connections.rw.children.net]\nlocal_ts = \"10.0.0.0/8[\"",
            "[connections.rw.children.net]\nreplay_window = 99999999999",
            "[connections.rw.children.net]\nlocal_ts = []",
            "[charon]\nport = -1",
            "[charon]\nport = \"x\"",
            "[charon]\nport = 0",
            "[charon]\nport = 500\nport_nat_t = 500",
            "[charon]\nlisten = 1",
            "[charon]\ncookie_threshold = -1",
            "[charon]\npuzzle_difficulty = 300",
            "[charon]\npuzzles = \"maybe\"",
            "[charon]\npuzzle_difficulty = 30\npuzzle_max_difficulty = 20",
            "[secrets]\nike = 1",
            "[secrets.ike]\nid = 5\nsecret = \"k\"",
            "[secrets.ike]\nsecret = [\"a\"]",
            "[secrets.ike]\nsecret = \"0x\"",
            "[secrets.ike]\nsecret = \"0x1\"",
            "\u{feff}[connections.rw]",
            "[connections.rw]\nlocal.id = \"\u{1F980}\"",
            "a = \"\\uD800\"",
        ];
        for text in junk {
            let _ = Config::from_toml(text);
        }
        // Every prefix of a good file, cut anywhere.
        for (at, _) in GATEWAY.char_indices() {
            let _ = Config::from_toml(&GATEWAY[..at]);
        }
    }
}
