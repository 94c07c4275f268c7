//! A real etcd for tests and demos: started on free loopback ports in a
//! temporary data directory, stopped (killed) when dropped.
//!
//! The binary is `$KREPIS_ETCD` if set, else `etcd` on the `PATH` (Debian's
//! `etcd-server` package).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running etcd.
pub struct EtcdProcess {
    child: Option<Child>,
    dir: tempfile::TempDir,
    client_port: u16,
    peer_port: u16,
}

fn free_port() -> Result<u16, String> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}"))?;
    l.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}

fn binary() -> PathBuf {
    std::env::var_os("KREPIS_ETCD").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("etcd"))
}

impl EtcdProcess {
    /// Starts etcd and waits (up to 20 s) until it reports itself healthy.
    pub fn start() -> Result<Self, String> {
        let mut dir = tempfile::tempdir().map_err(|e| format!("no temporary directory: {e}"))?;
        let mut last = String::new();
        // Free ports can be taken between choosing and binding: try a few.
        for _ in 0..3 {
            let mut p = EtcdProcess { child: None, dir, client_port: free_port()?, peer_port: free_port()? };
            match p.launch() {
                Ok(()) => return Ok(p),
                Err(e) => {
                    last = e;
                    p.stop();
                    dir = tempfile::tempdir().map_err(|e| format!("no temporary directory: {e}"))?;
                }
            }
        }
        Err(last)
    }

    fn launch(&mut self) -> Result<(), String> {
        let client = format!("http://127.0.0.1:{}", self.client_port);
        let peer = format!("http://127.0.0.1:{}", self.peer_port);
        let log = std::fs::File::create(self.dir.path().join("etcd.log")).map_err(|e| e.to_string())?;
        let err = log.try_clone().map_err(|e| e.to_string())?;
        let child = Command::new(binary())
            .arg("--name=krepis")
            .arg(format!("--data-dir={}", self.dir.path().join("data").display()))
            .arg(format!("--listen-client-urls={client}"))
            .arg(format!("--advertise-client-urls={client}"))
            .arg(format!("--listen-peer-urls={peer}"))
            .arg(format!("--initial-advertise-peer-urls={peer}"))
            .arg(format!("--initial-cluster=krepis={peer}"))
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err)
            .spawn()
            .map_err(|e| {
                format!(
                    "cannot start {}: {e} (install Debian's etcd-server, or set KREPIS_ETCD to an etcd binary)",
                    binary().display()
                )
            })?;
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().ok().flatten()) {
                return Err(format!("etcd exited at start ({status}): {}", self.log_tail()));
            }
            if self.healthy() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(format!("etcd did not become healthy within 20 s: {}", self.log_tail()))
    }

    fn healthy(&self) -> bool {
        let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.client_port)) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
        if s.write_all(b"GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").is_err() {
            return false;
        }
        let mut body = String::new();
        let _ = s.read_to_string(&mut body);
        body.contains("\"health\":\"true\"")
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.dir.path().join("etcd.log")).unwrap_or_default();
        log.lines().rev().take(3).collect::<Vec<_>>().join(" | ")
    }

    /// The client URL, `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.client_port)
    }

    /// Kills etcd (its data stays, for [`Self::restart`]).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts etcd again on the same ports and data.
    pub fn restart(&mut self) -> Result<(), String> {
        self.stop();
        self.launch()
    }
}

impl Drop for EtcdProcess {
    fn drop(&mut self) {
        self.stop();
    }
}
