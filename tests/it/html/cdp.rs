//! A minimal Chrome DevTools protocol client: one headless Chromium for all pages,
//! a page opened per file, its console errors and uncaught exceptions collected,
//! values read with `Runtime.evaluate`, screenshots taken.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tungstenite::{Message, WebSocket};

/// The Chromium binary: `TRAFFICDOC_CHROMIUM`, else `chromium` or `chromium-browser`
/// on the PATH.
pub fn find() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("TRAFFICDOC_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser", "google-chrome"] {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

pub struct Browser {
    child: Child,
    ws: WebSocket<TcpStream>,
    next_id: u64,
    /// Events received while waiting for answers, not yet looked at.
    events: Vec<Value>,
    _profile: tempfile::TempDir,
}

/// An open page (a target attached in flat mode).
pub struct Page {
    session: String,
    target: String,
}

/// What loading a page produced.
pub struct Load {
    /// Console errors, failed loads and uncaught exceptions, as text.
    pub errors: Vec<String>,
    /// Milliseconds from navigation to the load event.
    pub load_ms: u128,
}

impl Browser {
    pub fn launch(bin: &Path) -> Browser {
        let profile = tempfile::tempdir().unwrap();
        let mut child = Command::new(bin)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--no-first-run",
                "--remote-debugging-port=0",
                "--window-size=1280,1000",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let url = loop {
            match lines.next() {
                Some(Ok(l)) => {
                    if let Some(u) = l.split("DevTools listening on ").nth(1) {
                        break u.trim().to_string();
                    }
                }
                _ => panic!("{} exited before listening for DevTools", bin.display()),
            }
        };
        // Keep draining stderr so the browser never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        let hostport = url
            .trim_start_matches("ws://")
            .split('/')
            .next()
            .unwrap()
            .to_string();
        let stream = TcpStream::connect(&hostport).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        let (ws, _) = tungstenite::client(url.as_str(), stream).unwrap();
        Browser {
            child,
            ws,
            next_id: 1,
            events: Vec::new(),
            _profile: profile,
        }
    }

    /// Sends `method` (to `session`, or the browser) and waits for its answer.
    fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let mut msg = json!({"id": id, "method": method, "params": params});
        if let Some(s) = session {
            msg["sessionId"] = json!(s);
        }
        self.ws.send(Message::text(msg.to_string())).unwrap();
        loop {
            let v = self.read();
            if v["id"].as_u64() == Some(id) {
                if let Some(e) = v.get("error") {
                    panic!("{method}: {e}");
                }
                return v["result"].clone();
            }
            self.events.push(v);
        }
    }

    fn read(&mut self) -> Value {
        loop {
            match self.ws.read().unwrap() {
                Message::Text(t) => return serde_json::from_str(t.as_str()).unwrap(),
                Message::Close(_) => panic!("DevTools connection closed"),
                _ => continue,
            }
        }
    }

    pub fn open(&mut self, width: u32, height: u32) -> Page {
        let t = self.call(None, "Target.createTarget", json!({"url": "about:blank"}));
        let target = t["targetId"].as_str().unwrap().to_string();
        let a = self.call(
            None,
            "Target.attachToTarget",
            json!({"targetId": target, "flatten": true}),
        );
        let session = a["sessionId"].as_str().unwrap().to_string();
        for m in ["Page.enable", "Runtime.enable", "Log.enable"] {
            self.call(Some(&session), m, json!({}));
        }
        self.call(
            Some(&session),
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false}),
        );
        Page { session, target }
    }

    /// Loads `file` in `page` and waits for its load event.
    pub fn load(&mut self, page: &Page, file: &Path) -> Load {
        self.events.clear();
        let url = format!("file://{}", file.display());
        let start = Instant::now();
        self.call(Some(&page.session), "Page.navigate", json!({"url": url}));
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut loaded = self
            .events
            .iter()
            .any(|e| e["method"] == "Page.loadEventFired" && e["sessionId"] == *page.session);
        while !loaded {
            assert!(Instant::now() < deadline, "{url}: no load event in 60 s");
            let v = self.read();
            loaded = v["method"] == "Page.loadEventFired" && v["sessionId"] == *page.session;
            self.events.push(v);
        }
        let load_ms = start.elapsed().as_millis();
        // Whatever the page's script logs right after load arrives with this answer.
        self.eval(page, "1");
        let errors = self
            .events
            .iter()
            .filter(|e| e["sessionId"] == *page.session)
            .filter_map(error_text)
            .collect();
        Load { errors, load_ms }
    }

    /// The value of JavaScript `expr` in `page`.
    pub fn eval(&mut self, page: &Page, expr: &str) -> Value {
        let r = self.call(
            Some(&page.session),
            "Runtime.evaluate",
            json!({"expression": expr, "returnByValue": true, "awaitPromise": true}),
        );
        if let Some(e) = r.get("exceptionDetails") {
            panic!("{expr}: {e}");
        }
        r["result"]["value"].clone()
    }

    /// A PNG of the whole page.
    pub fn screenshot(&mut self, page: &Page, to: &Path) {
        let r = self.call(
            Some(&page.session),
            "Page.captureScreenshot",
            json!({"format": "png", "captureBeyondViewport": true}),
        );
        use base64::Engine;
        let png = base64::engine::general_purpose::STANDARD
            .decode(r["data"].as_str().unwrap())
            .unwrap();
        std::fs::write(to, png).unwrap();
    }

    pub fn close(&mut self, page: Page) {
        self.call(None, "Target.closeTarget", json!({"targetId": page.target}));
    }
}

/// The text of a console error, a failed load or an uncaught exception.
fn error_text(e: &Value) -> Option<String> {
    let p = &e["params"];
    match e["method"].as_str()? {
        "Runtime.exceptionThrown" => Some(format!("exception: {}", p["exceptionDetails"])),
        "Runtime.consoleAPICalled" if matches!(p["type"].as_str(), Some("error" | "assert")) => {
            Some(format!("console.{}: {}", p["type"], p["args"]))
        }
        "Log.entryAdded" if p["entry"]["level"] == "error" => {
            Some(format!("log: {}", p["entry"]["text"]))
        }
        _ => None,
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.ws.close(None);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
