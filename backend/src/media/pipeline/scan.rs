//! A clamd client for the one command the pipeline needs: `INSTREAM`, which sends the
//! file's bytes over the socket (clamd need not see Heirloom's disk). The protocol:
//! `zINSTREAM\0`, then chunks each prefixed by its length as a 4-byte big-endian number,
//! then a zero length; clamd answers `stream: OK`, `stream: <name> FOUND` or an error,
//! ending with `\0`.
//!
//! (The `clamav-client` crate speaks the same protocol but judges a reply "clean" when it
//! contains "OK" and no "FOUND", so clamd's `INSTREAM size limit exceeded. ERROR` would
//! read as infected, and it cannot read the reply once clamd stops reading a too-large
//! stream. Thirty lines here say exactly what each reply means.)

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Where clamd listens: `tcp://host:port` or `unix:/path/to/clamd.ctl`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClamdAddress {
    Tcp(String),
    Unix(PathBuf),
}

impl ClamdAddress {
    pub fn parse(address: &str) -> Option<ClamdAddress> {
        let address = address.trim();
        if let Some(host) = address.strip_prefix("tcp://") {
            let host = host.trim_end_matches('/');
            (!host.is_empty()).then(|| ClamdAddress::Tcp(host.to_string()))
        } else {
            let path = address.strip_prefix("unix://").or_else(|| address.strip_prefix("unix:"))?;
            (!path.is_empty()).then(|| ClamdAddress::Unix(PathBuf::from(path)))
        }
    }
}

impl std::fmt::Display for ClamdAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClamdAddress::Tcp(host) => write!(f, "tcp://{host}"),
            ClamdAddress::Unix(path) => write!(f, "unix:{}", path.display()),
        }
    }
}

/// clamd's verdict on a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Clean,
    /// The signature's name, as clamd reported it.
    Infected(String),
    /// Larger than clamd's `StreamMaxLength`: it was not scanned.
    TooLarge,
}

const CHUNK: usize = 256 * 1024;

/// Streams the file at `path` to clamd. `Err` means no verdict (clamd unreachable, it
/// answered something unexpected, or it took longer than `timeout`): try again later.
pub async fn scan_file(address: &ClamdAddress, path: &Path, timeout: Duration) -> Result<Verdict, String> {
    let work = async {
        let file = tokio::fs::File::open(path).await.map_err(|e| format!("cannot open the file to scan: {e}"))?;
        match address {
            ClamdAddress::Tcp(host) => {
                let stream = tokio::net::TcpStream::connect(host.as_str())
                    .await
                    .map_err(|e| format!("clamd at {address} is unreachable: {e}"))?;
                instream(stream, file).await
            }
            ClamdAddress::Unix(socket) => {
                let stream = tokio::net::UnixStream::connect(socket)
                    .await
                    .map_err(|e| format!("clamd at {address} is unreachable: {e}"))?;
                instream(stream, file).await
            }
        }
    };
    tokio::time::timeout(timeout, work)
        .await
        .map_err(|_| format!("clamd at {address} did not answer within {} s", timeout.as_secs()))?
}

async fn instream<S, R>(mut stream: S, mut input: R) -> Result<Verdict, String>
where
    S: AsyncRead + AsyncWrite + Unpin,
    R: AsyncRead + Unpin,
{
    let mut buffer = vec![0u8; CHUNK];
    let sent = async {
        stream.write_all(b"zINSTREAM\0").await?;
        loop {
            let n = input.read(&mut buffer).await?;
            stream.write_all(&(n as u32).to_be_bytes()).await?;
            if n == 0 {
                break;
            }
            stream.write_all(&buffer[..n]).await?;
        }
        stream.flush().await
    }
    .await;
    // Even when sending failed, clamd may have said why before it closed (a size limit).
    let mut reply = Vec::new();
    let read = stream.read_to_end(&mut reply).await;
    if reply.is_empty() {
        let cause = sent.err().or(read.err()).map_or_else(|| "no answer".to_string(), |e| e.to_string());
        return Err(format!("clamd closed the connection without a verdict: {cause}"));
    }
    parse_reply(&reply)
}

/// Reads clamd's answer to `zINSTREAM`.
pub fn parse_reply(reply: &[u8]) -> Result<Verdict, String> {
    let text = String::from_utf8_lossy(reply);
    let text = text.trim_matches(|c: char| c == '\0' || c.is_whitespace());
    let body = text.strip_prefix("stream:").map(str::trim).unwrap_or(text);
    if body == "OK" {
        Ok(Verdict::Clean)
    } else if let Some(name) = body.strip_suffix(" FOUND") {
        Ok(Verdict::Infected(name.trim().to_string()))
    } else if body.contains("size limit exceeded") {
        Ok(Verdict::TooLarge)
    } else {
        Err(format!("clamd answered: {}", text.chars().take(200).collect::<String>()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_name_a_socket_or_a_host() {
        assert_eq!(ClamdAddress::parse("tcp://127.0.0.1:3310"), Some(ClamdAddress::Tcp("127.0.0.1:3310".into())));
        assert_eq!(
            ClamdAddress::parse("unix:/run/clamav/clamd.ctl"),
            Some(ClamdAddress::Unix("/run/clamav/clamd.ctl".into()))
        );
        assert_eq!(ClamdAddress::parse("unix:///run/c.ctl"), Some(ClamdAddress::Unix("/run/c.ctl".into())));
        assert_eq!(ClamdAddress::parse("clamd:3310"), None);
        assert_eq!(ClamdAddress::parse("tcp://"), None);
    }

    #[test]
    fn replies_mean_what_they_say() {
        assert_eq!(parse_reply(b"stream: OK\0"), Ok(Verdict::Clean));
        assert_eq!(
            parse_reply(b"stream: Eicar-Test-Signature FOUND\0"),
            Ok(Verdict::Infected("Eicar-Test-Signature".into()))
        );
        assert_eq!(parse_reply(b"INSTREAM size limit exceeded. ERROR\0"), Ok(Verdict::TooLarge));
        // Not a verdict: must not read as clean (nor as infected).
        assert!(parse_reply(b"stream: Can't allocate memory ERROR\0").is_err());
        assert!(parse_reply(b"UNKNOWN COMMAND\0").is_err());
    }

    #[tokio::test]
    async fn the_stream_is_framed_in_chunks_and_terminated() {
        let (client, mut server) = tokio::io::duplex(1 << 20);
        let input = vec![7u8; CHUNK + 10];
        let expected_len = input.len();
        let fake_clamd = tokio::spawn(async move {
            let mut command = [0u8; 10];
            server.read_exact(&mut command).await.unwrap();
            assert_eq!(&command, b"zINSTREAM\0");
            let mut total = 0;
            loop {
                let mut len = [0u8; 4];
                server.read_exact(&mut len).await.unwrap();
                let len = u32::from_be_bytes(len) as usize;
                if len == 0 {
                    break;
                }
                let mut chunk = vec![0u8; len];
                server.read_exact(&mut chunk).await.unwrap();
                total += len;
            }
            server.write_all(b"stream: OK\0").await.unwrap();
            total
        });
        assert_eq!(instream(client, &input[..]).await, Ok(Verdict::Clean));
        assert_eq!(fake_clamd.await.unwrap(), expected_len);
    }
}
