//! Processes with bounded waits, a cleanup registry for every exit path, a small JSON reader
//! for the peer's event lines, and hex helpers.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------------
// Logging

/// Seconds since the harness started, for log lines.
pub(crate) fn elapsed() -> f64 {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_secs_f64()
}

thread_local! {
    /// The case this thread runs, for `say!` (cases run in parallel).
    static CASE_LABEL: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

/// Sets the label `say!` puts on this thread's lines ("" for none).
pub(crate) fn set_case_label(label: &str) {
    CASE_LABEL.with(|l| *l.borrow_mut() = label.to_string());
}

/// `"[label] "`, or "" outside a labelled case.
pub(crate) fn case_prefix() -> String {
    CASE_LABEL.with(|l| {
        let l = l.borrow();
        if l.is_empty() {
            String::new()
        } else {
            format!("[{l}] ")
        }
    })
}

/// One progress line on stderr, prefixed with the time since start (and the case's label
/// when cases run in parallel).
macro_rules! say {
    ($($arg:tt)*) => {
        eprintln!(
            "[{:7.2}] {}{}",
            $crate::util::elapsed(),
            $crate::util::case_prefix(),
            format!($($arg)*)
        )
    };
}
pub(crate) use say;

// ---------------------------------------------------------------------------------------------
// Cleanup registry: every process and namespace we create is listed here until we have reaped
// or deleted it, so that the guard in `main` can remove whatever is left on any exit path.

struct Registry {
    pids: BTreeSet<u32>,
    netns: BTreeSet<String>,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    pids: BTreeSet::new(),
    netns: BTreeSet::new(),
});

fn registry() -> std::sync::MutexGuard<'static, Registry> {
    match REGISTRY.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}

pub(crate) fn register_pid(pid: u32) {
    registry().pids.insert(pid);
}
pub(crate) fn unregister_pid(pid: u32) {
    registry().pids.remove(&pid);
}
pub(crate) fn register_netns(name: &str) {
    registry().netns.insert(name.to_string());
}
pub(crate) fn unregister_netns(name: &str) {
    registry().netns.remove(name);
}

/// Sends a signal by PID through the shell's `kill` builtin (std has no kill(2) for TERM).
pub(crate) fn signal(pid: u32, sig: &str) {
    let _ = Command::new("sh")
        .arg("-c")
        .arg(format!("kill -{sig} {pid} 2>/dev/null"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Dropped at the end of `main` (also while unwinding from a panic): TERMs, then KILLs every
/// process still registered, then deletes every namespace still registered.
pub(crate) struct CleanupGuard;

impl Drop for CleanupGuard {
    fn drop(&mut self) {
        cleanup_all();
    }
}

pub(crate) fn cleanup_all() {
    let (pids, netns) = {
        let r = registry();
        (r.pids.clone(), r.netns.clone())
    };
    if !pids.is_empty() {
        say!("cleanup: stopping leftover processes {pids:?}");
        for pid in &pids {
            signal(*pid, "TERM");
        }
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline && pids.iter().any(|p| pid_alive(*p)) {
            thread::sleep(Duration::from_millis(50));
        }
        for pid in &pids {
            if pid_alive(*pid) {
                signal(*pid, "KILL");
            }
        }
    }
    for ns in &netns {
        say!("cleanup: deleting namespace {ns}");
        delete_netns(ns);
    }
    let mut r = registry();
    r.pids.clear();
    r.netns.clear();
}

/// Deletes a namespace after killing anything still running inside it (only namespaces that
/// this harness created reach here).
pub(crate) fn delete_netns(ns: &str) {
    if let Ok(out) = run(
        Command::new("ip").args(["netns", "pids", ns]),
        Duration::from_secs(5),
    ) {
        let pids: Vec<u32> = String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .filter_map(|p| p.parse().ok())
            .collect();
        for pid in &pids {
            signal(*pid, "TERM");
        }
        if !pids.is_empty() {
            thread::sleep(Duration::from_millis(300));
            for pid in &pids {
                if pid_alive(*pid) {
                    signal(*pid, "KILL");
                }
            }
        }
    }
    let _ = run(
        Command::new("ip").args(["netns", "del", ns]),
        Duration::from_secs(10),
    );
    unregister_netns(ns);
}

/// True if /proc/PID exists and is not a zombie.
pub(crate) fn pid_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            // state is the first field after the parenthesised command name
            let state = stat.rsplit_once(") ").map(|(_, rest)| rest.chars().next());
            !matches!(state, Some(Some('Z')) | Some(Some('X')))
        }
        Err(_) => false,
    }
}

// ---------------------------------------------------------------------------------------------
// Processes

/// A long-running child: registered for cleanup, stopped TERM-then-KILL on `stop` or drop.
pub(crate) struct Proc {
    pub(crate) name: String,
    child: Child,
    status: Option<ExitStatus>,
}

impl Proc {
    pub(crate) fn spawn(name: &str, cmd: &mut Command) -> Result<Proc, String> {
        let child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {name}: {e}"))?;
        register_pid(child.id());
        Ok(Proc {
            name: name.to_string(),
            child,
            status: None,
        })
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    pub(crate) fn child_mut(&mut self) -> &mut Child {
        &mut self.child
    }

    /// The exit status if it has exited (reaps it).
    pub(crate) fn try_status(&mut self) -> Option<ExitStatus> {
        if self.status.is_none()
            && let Ok(Some(st)) = self.child.try_wait()
        {
            self.status = Some(st);
            unregister_pid(self.child.id());
        }
        self.status
    }

    pub(crate) fn wait_timeout(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(st) = self.try_status() {
                return Some(st);
            }
            if Instant::now() >= deadline {
                return None;
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGTERM, wait up to `grace`, then SIGKILL. Returns the exit status and whether it took
    /// a KILL.
    pub(crate) fn stop(&mut self, grace: Duration) -> (Option<ExitStatus>, bool) {
        if let Some(st) = self.try_status() {
            return (Some(st), false);
        }
        signal(self.child.id(), "TERM");
        if let Some(st) = self.wait_timeout(grace) {
            return (Some(st), false);
        }
        say!(
            "{} (pid {}) ignored SIGTERM for {:?}; killing it",
            self.name,
            self.pid(),
            grace
        );
        let _ = self.child.kill();
        (self.wait_timeout(Duration::from_secs(5)), true)
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if self.try_status().is_none() {
            let _ = self.stop(Duration::from_secs(3));
        }
    }
}

/// Runs a command to completion with a timeout, collecting its output. On timeout it is
/// killed and an error returned.
pub(crate) fn run(cmd: &mut Command, timeout: Duration) -> Result<Output, String> {
    let desc = describe(cmd);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot run `{desc}`: {e}"))?;
    register_pid(child.id());
    let out_reader = child.stdout.take().map(|mut s| {
        thread::spawn(move || {
            let mut v = Vec::new();
            let _ = s.read_to_end(&mut v);
            v
        })
    });
    let err_reader = child.stderr.take().map(|mut s| {
        thread::spawn(move || {
            let mut v = Vec::new();
            let _ = s.read_to_end(&mut v);
            v
        })
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(st)) => break Some(st),
            Ok(None) => {}
            Err(_) => break None,
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        thread::sleep(Duration::from_millis(10));
    };
    unregister_pid(child.id());
    let stdout = out_reader.and_then(|h| h.join().ok()).unwrap_or_default();
    let stderr = err_reader.and_then(|h| h.join().ok()).unwrap_or_default();
    match status {
        Some(status) => Ok(Output {
            status,
            stdout,
            stderr,
        }),
        None => Err(format!(
            "`{desc}` did not finish within {timeout:?}; stdout: {} stderr: {}",
            String::from_utf8_lossy(&stdout).trim(),
            String::from_utf8_lossy(&stderr).trim()
        )),
    }
}

/// Like `run`, but a non-zero exit is an error too; returns stdout as text.
pub(crate) fn run_ok(cmd: &mut Command, timeout: Duration) -> Result<String, String> {
    let desc = describe(cmd);
    let out = run(cmd, timeout)?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "`{desc}` failed ({}): {} {}",
            out.status,
            String::from_utf8_lossy(&out.stdout).trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

pub(crate) fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// Output files for a long-running child.
pub(crate) fn log_files(stdout: &Path, stderr: &Path) -> Result<(Stdio, Stdio), String> {
    let o = File::create(stdout).map_err(|e| format!("{}: {e}", stdout.display()))?;
    let e = File::create(stderr).map_err(|e| format!("{}: {e}", stderr.display()))?;
    Ok((Stdio::from(o), Stdio::from(e)))
}

/// Polls `f` every `every` until it returns Some or `timeout` passes.
pub(crate) fn poll<T>(
    timeout: Duration,
    every: Duration,
    mut f: impl FnMut() -> Option<T>,
) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
        thread::sleep(every);
    }
}

// ---------------------------------------------------------------------------------------------
// Hex

pub(crate) fn norm_hex(s: &str) -> String {
    s.trim()
        .trim_start_matches("0x")
        .trim_start_matches("0X")
        .to_ascii_lowercase()
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

// ---------------------------------------------------------------------------------------------
// A small JSON reader, enough for the peer's one-object-per-line events.

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Json {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Arr(Vec<Json>),
    Obj(BTreeMap<String, Json>),
}

impl Json {
    pub(crate) fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Obj(m) => m.get(key),
            _ => None,
        }
    }
    /// A member as text: strings as they are, numbers and booleans printed.
    pub(crate) fn str_of(&self, key: &str) -> Option<String> {
        match self.get(key)? {
            Json::Str(s) => Some(s.clone()),
            Json::Num(n) => Some(if n.fract() == 0.0 {
                format!("{}", *n as i64)
            } else {
                n.to_string()
            }),
            Json::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
    pub(crate) fn bool_of(&self, key: &str) -> Option<bool> {
        match self.get(key)? {
            Json::Bool(b) => Some(*b),
            _ => None,
        }
    }
    pub(crate) fn event(&self) -> &str {
        match self.get("event") {
            Some(Json::Str(s)) => s,
            _ => "",
        }
    }
    pub(crate) fn obj(pairs: &[(&str, Json)]) -> Json {
        Json::Obj(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }
    pub(crate) fn s(v: impl Into<String>) -> Json {
        Json::Str(v.into())
    }

    pub(crate) fn parse(text: &str) -> Result<Json, String> {
        let mut p = JsonParser {
            b: text.as_bytes(),
            i: 0,
        };
        let v = p.value()?;
        p.ws();
        if p.i != p.b.len() {
            return Err(format!("trailing characters at {}", p.i));
        }
        Ok(v)
    }
}

impl std::fmt::Display for Json {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Json::Null => write!(f, "null"),
            Json::Bool(b) => write!(f, "{b}"),
            Json::Num(n) => write!(f, "{n}"),
            Json::Str(s) => write!(f, "{s:?}"),
            Json::Arr(a) => {
                write!(f, "[")?;
                for (i, v) in a.iter().enumerate() {
                    if i > 0 {
                        write!(f, ",")?;
                    }
                    write!(f, "{v}")?;
                }
                write!(f, "]")
            }
            Json::Obj(m) => {
                write!(f, "{{")?;
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 {
                        write!(f, ",")?;
                    }
                    write!(f, "{k:?}:{v}")?;
                }
                write!(f, "}}")
            }
        }
    }
}

struct JsonParser<'a> {
    b: &'a [u8],
    i: usize,
}

impl JsonParser<'_> {
    fn ws(&mut self) {
        while self.i < self.b.len() && matches!(self.b[self.i], b' ' | b'\t' | b'\r' | b'\n') {
            self.i += 1;
        }
    }
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }
    fn expect(&mut self, c: u8) -> Result<(), String> {
        self.ws();
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(format!("expected '{}' at {}", c as char, self.i))
        }
    }
    fn lit(&mut self, word: &str, v: Json) -> Result<Json, String> {
        if self.b[self.i..].starts_with(word.as_bytes()) {
            self.i += word.len();
            Ok(v)
        } else {
            Err(format!("bad literal at {}", self.i))
        }
    }
    fn value(&mut self) -> Result<Json, String> {
        self.ws();
        match self.peek() {
            Some(b'{') => {
                self.i += 1;
                let mut m = BTreeMap::new();
                self.ws();
                if self.peek() == Some(b'}') {
                    self.i += 1;
                    return Ok(Json::Obj(m));
                }
                loop {
                    self.ws();
                    let k = self.string()?;
                    self.expect(b':')?;
                    let v = self.value()?;
                    m.insert(k, v);
                    self.ws();
                    match self.peek() {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {
                            self.i += 1;
                            return Ok(Json::Obj(m));
                        }
                        _ => return Err(format!("expected ',' or '}}' at {}", self.i)),
                    }
                }
            }
            Some(b'[') => {
                self.i += 1;
                let mut a = Vec::new();
                self.ws();
                if self.peek() == Some(b']') {
                    self.i += 1;
                    return Ok(Json::Arr(a));
                }
                loop {
                    a.push(self.value()?);
                    self.ws();
                    match self.peek() {
                        Some(b',') => self.i += 1,
                        Some(b']') => {
                            self.i += 1;
                            return Ok(Json::Arr(a));
                        }
                        _ => return Err(format!("expected ',' or ']' at {}", self.i)),
                    }
                }
            }
            Some(b'"') => Ok(Json::Str(self.string()?)),
            Some(b't') => self.lit("true", Json::Bool(true)),
            Some(b'f') => self.lit("false", Json::Bool(false)),
            Some(b'n') => self.lit("null", Json::Null),
            Some(c) if c == b'-' || c.is_ascii_digit() => {
                let start = self.i;
                while self.peek().is_some_and(|c| {
                    c.is_ascii_digit() || matches!(c, b'-' | b'+' | b'.' | b'e' | b'E')
                }) {
                    self.i += 1;
                }
                let t = std::str::from_utf8(&self.b[start..self.i]).map_err(|e| e.to_string())?;
                t.parse::<f64>()
                    .map(Json::Num)
                    .map_err(|e| format!("bad number {t}: {e}"))
            }
            _ => Err(format!("unexpected input at {}", self.i)),
        }
    }
    fn string(&mut self) -> Result<String, String> {
        if self.peek() != Some(b'"') {
            return Err(format!("expected string at {}", self.i));
        }
        self.i += 1;
        let mut out: Vec<u8> = Vec::new();
        loop {
            let c = self.peek().ok_or("unterminated string")?;
            self.i += 1;
            match c {
                b'"' => return String::from_utf8(out).map_err(|e| e.to_string()),
                b'\\' => {
                    let e = self.peek().ok_or("unterminated escape")?;
                    self.i += 1;
                    match e {
                        b'"' => out.push(b'"'),
                        b'\\' => out.push(b'\\'),
                        b'/' => out.push(b'/'),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'u' => {
                            let h = self.b.get(self.i..self.i + 4).ok_or("short \\u escape")?;
                            let h = std::str::from_utf8(h).map_err(|e| e.to_string())?;
                            let cp = u32::from_str_radix(h, 16).map_err(|e| e.to_string())?;
                            self.i += 4;
                            let ch = char::from_u32(cp).unwrap_or('\u{fffd}');
                            let mut buf = [0u8; 4];
                            out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                        }
                        _ => return Err(format!("bad escape at {}", self.i)),
                    }
                }
                _ => out.push(c),
            }
        }
    }
}
