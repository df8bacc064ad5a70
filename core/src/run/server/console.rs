//! The console: the monitor always drains it (to the log, to stdout in the
//! foreground, to attached clients), and connects clients to a tty.

use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::io::unix::AsyncFd;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;
use tokio::sync::broadcast;

use super::fdio::{read_fd, write_fd};
use super::{reply, Shared};
use crate::run::protocol::Reply;

/// Always drains the console so init never blocks on it: to the log, to
/// stdout in the foreground, and to attached console clients.
pub(super) async fn pump_console(
    c: Arc<AsyncFd<OwnedFd>>,
    sh: Arc<Shared>,
    log: Option<PathBuf>,
    stdout: bool,
) {
    let mut log = log.and_then(|p| {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&p)
            .map_err(|e| {
                tracing::warn!("container `{}`: console log {}: {e}", sh.name, p.display())
            })
            .ok()
    });
    let mut buf = vec![0u8; 4096];
    loop {
        let n = match read_fd(&c, &mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let chunk = &buf[..n];
        if let Some(f) = log.as_mut() {
            use std::io::Write;
            let _ = f.write_all(chunk);
        }
        if stdout {
            use std::io::Write;
            let mut o = std::io::stdout().lock();
            let _ = o.write_all(chunk);
            let _ = o.flush();
        }
        let _ = sh.console_out.send(chunk.to_vec());
    }
}

pub(super) async fn console(mut conn: UnixStream, sh: &Shared, tty: u32) {
    if tty == 0 {
        let Some(master) = sh.console.clone() else {
            return reply(&mut conn, Reply::error("this container has no console pty (lxc.console.path = none, or started in the foreground)")).await;
        };
        reply(&mut conn, Reply::default()).await;
        let mut rx = sh.console_out.subscribe();
        let (mut rd, mut wr) = conn.into_split();
        let mut buf = vec![0u8; 1024];
        loop {
            tokio::select! {
                out = rx.recv() => match out {
                    Ok(chunk) => if wr.write_all(&chunk).await.is_err() { return },
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(_) => return,
                },
                n = rd.read(&mut buf) => match n {
                    Ok(0) | Err(_) => return,
                    Ok(n) => if write_fd(&master, &buf[..n]).await.is_err() { return },
                },
            }
        }
    }
    let idx = tty as usize - 1;
    let Some(master) = sh.tty_masters.get(idx).cloned() else {
        return reply(
            &mut conn,
            Reply::error(format!(
                "tty {tty} does not exist (lxc.tty.max = {})",
                sh.ttys
            )),
        )
        .await;
    };
    let taken = {
        let mut busy = sh.tty_busy.lock().unwrap_or_else(|p| p.into_inner());
        !std::mem::replace(&mut busy[idx], true)
    };
    if !taken {
        return reply(
            &mut conn,
            Reply::error(format!("tty {tty} is in use by another console")),
        )
        .await;
    }
    reply(&mut conn, Reply::default()).await;
    let (mut rd, mut wr) = conn.into_split();
    let (mut a, mut b) = (vec![0u8; 1024], vec![0u8; 1024]);
    loop {
        tokio::select! {
            n = read_fd(&master, &mut a) => match n {
                Ok(n) if n > 0 => if wr.write_all(&a[..n]).await.is_err() { break },
                _ => break,
            },
            n = rd.read(&mut b) => match n {
                Ok(n) if n > 0 => if write_fd(&master, &b[..n]).await.is_err() { break },
                _ => break,
            },
        }
    }
    sh.tty_busy.lock().unwrap_or_else(|p| p.into_inner())[idx] = false;
}
