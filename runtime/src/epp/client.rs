//! One EPP session with a registry: TCP, TLS with the server's certificate verified (against the
//! system's usual roots or the ones given) and an optional client certificate, RFC 5734
//! framing, the greeting, login, then commands each answered within a timeout.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use backorder_core::epp::command::{ClientFrame, Command, Login};
use backorder_core::epp::frame::{self, FrameReader};
use backorder_core::epp::response::{Greeting, Response, ServerFrame};
use backorder_core::epp::{EppError, DEFAULT_MAX_FRAME};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use thiserror::Error;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::departure::TransmitStamps;

/// Why a session failed.
#[derive(Debug, Error)]
pub enum SessionError {
    /// The connection failed or broke.
    #[error("EPP connection: {0}")]
    Io(#[from] std::io::Error),
    /// TLS could not be set up (bad certificate, name mismatch, bad configuration).
    #[error("EPP TLS: {0}")]
    Tls(String),
    /// The registry did not answer in time.
    #[error("EPP: no answer within {0:?}")]
    Timeout(Duration),
    /// The registry sent something that is not EPP as this client reads it.
    #[error("EPP: {0}")]
    Protocol(#[from] EppError),
    /// The registry refused the login.
    #[error("EPP login refused: {code} {message}")]
    LoginRefused {
        /// The result code.
        code: u16,
        /// The message.
        message: String,
    },
    /// The registry closed the session (after logout or a rate-limit response).
    #[error("EPP session closed by the registry")]
    Closed,
}

impl From<SessionError> for backorder_core::Error {
    fn from(e: SessionError) -> Self {
        backorder_core::Error::Registry(e.to_string())
    }
}

/// How to reach the registry. `Debug` shows how many certificates there are, never the client's
/// private key.
#[derive(Clone)]
pub enum Transport {
    /// TLS, the server's certificate verified against `roots` (DER: the registry's CA or its
    /// certificate; at least one, there is no way to turn verification off). `client` is the
    /// certificate chain and PKCS#8 key (DER) to present, when the registry asks for one.
    Tls {
        /// Trusted certificates.
        roots: Vec<Vec<u8>>,
        /// Client certificate chain and key.
        client: Option<(Vec<Vec<u8>>, Vec<u8>)>,
    },
    /// Plain TCP: only for a simulator told to listen so, never for a registry.
    PlainTcp,
}

/// A registry endpoint and the registrar's credentials there.
#[derive(Clone, Debug)]
pub struct SessionConfig {
    /// `host:port`.
    pub address: String,
    /// The name the server's certificate must carry (a DNS name or an IP address).
    pub server_name: String,
    /// TLS or plain.
    pub transport: Transport,
    /// The login sent after the greeting.
    pub login: Login,
    /// How long to wait for the connection, the greeting and each answer.
    pub timeout: Duration,
    /// The frame-size cap for what the registry sends.
    pub max_frame: usize,
    /// Prefix of the client transaction ids (`<clTRID>`), e.g. the process's name.
    pub transaction_prefix: String,
}

impl SessionConfig {
    /// A TLS endpoint trusting `roots`, a 10 s timeout and a 1 MiB frame cap.
    pub fn tls(
        address: &str,
        server_name: &str,
        roots: Vec<Vec<u8>>,
        login: Login,
    ) -> SessionConfig {
        SessionConfig {
            address: address.into(),
            server_name: server_name.into(),
            transport: Transport::Tls {
                roots,
                client: None,
            },
            login,
            timeout: Duration::from_secs(10),
            max_frame: DEFAULT_MAX_FRAME,
            transaction_prefix: "BO".into(),
        }
    }
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Transport::Tls { roots, client } => f
                .debug_struct("Tls")
                .field("roots", &format_args!("{} certificates", roots.len()))
                .field(
                    "client",
                    &match client {
                        Some((chain, _key)) => {
                            format!("{} certificates and a private key (***)", chain.len())
                        }
                        None => "none".to_string(),
                    },
                )
                .finish(),
            Transport::PlainTcp => f.write_str("PlainTcp"),
        }
    }
}

trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// A logged-in session.
pub struct Session {
    stream: Box<dyn Stream>,
    reader: FrameReader,
    buffer: Vec<u8>,
    greeting: Greeting,
    timeout: Duration,
    prefix: String,
    transactions: u64,
    /// The kernel's transmit timestamps of the socket (Linux).
    stamps: Option<TransmitStamps>,
    /// See [`Session::last_departure`].
    last_departure: Option<Duration>,
}

/// How long before a timed write [`Session::write_prepared_at`] stops sleeping and spins.
pub const SPIN_AHEAD: Duration = Duration::from_micros(500);

/// Threads spinning toward an instant in this process, at most one fewer than the cores (one at
/// least): more would take the cores from each other, the registry simulator and the runtime.
static SPINNING: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// A permit to spin, given back when dropped.
struct Spinner;

impl Spinner {
    fn take() -> Option<Spinner> {
        use std::sync::atomic::Ordering;
        let most = std::thread::available_parallelism()
            .map_or(1, |n| n.get().saturating_sub(1))
            .max(1);
        SPINNING
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < most).then_some(n + 1)
            })
            .ok()
            .map(|_| Spinner)
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        SPINNING.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
    }
}

/// A command written to bytes ahead of time, to be sent at an instant
/// ([`Session::send_prepared`]): the encoding is off the critical path.
pub struct Prepared {
    bytes: Vec<u8>,
    transaction: String,
}

impl Prepared {
    /// The frame's bytes (header and document).
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

fn tls_error(e: impl std::fmt::Display) -> SessionError {
    SessionError::Tls(e.to_string())
}

fn connector(transport: &Transport) -> Result<Option<TlsConnector>, SessionError> {
    let Transport::Tls { roots, client } = transport else {
        return Ok(None);
    };
    let mut store = rustls::RootCertStore::empty();
    for der in roots {
        store
            .add(CertificateDer::from(der.clone()))
            .map_err(tls_error)?;
    }
    if store.is_empty() {
        return Err(SessionError::Tls(
            "no trusted certificates given: name the registry's CA".into(),
        ));
    }
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(tls_error)?
    .with_root_certificates(store);
    let config = match client {
        Some((chain, key)) => builder
            .with_client_auth_cert(
                chain
                    .iter()
                    .map(|c| CertificateDer::from(c.clone()))
                    .collect(),
                PrivateKeyDer::try_from(key.clone()).map_err(tls_error)?,
            )
            .map_err(tls_error)?,
        None => builder.with_no_client_auth(),
    };
    Ok(Some(TlsConnector::from(Arc::new(config))))
}

impl Session {
    /// Connects, reads the greeting and logs in.
    pub async fn connect(config: &SessionConfig) -> Result<Session, SessionError> {
        let limit = config.timeout;
        let tcp = tokio::time::timeout(limit, TcpStream::connect(&config.address))
            .await
            .map_err(|_| SessionError::Timeout(limit))??;
        tcp.set_nodelay(true)?;
        #[cfg(target_os = "linux")]
        let stamps = Some(TransmitStamps::new(std::os::fd::AsRawFd::as_raw_fd(&tcp)));
        #[cfg(not(target_os = "linux"))]
        let stamps = None;
        let stream: Box<dyn Stream> = match connector(&config.transport)? {
            Some(connector) => {
                let name = ServerName::try_from(config.server_name.clone()).map_err(tls_error)?;
                let tls = tokio::time::timeout(limit, connector.connect(name, tcp))
                    .await
                    .map_err(|_| SessionError::Timeout(limit))?
                    .map_err(|e| match e.kind() {
                        std::io::ErrorKind::InvalidData => tls_error(e),
                        _ => SessionError::Io(e),
                    })?;
                Box::new(tls)
            }
            None => Box::new(tcp),
        };
        let mut session = Session {
            stream,
            reader: FrameReader::new(config.max_frame),
            buffer: vec![0u8; 16 * 1024],
            greeting: Greeting {
                server_id: String::new(),
                server_date: chrono::DateTime::UNIX_EPOCH,
                objects: Vec::new(),
                extensions: Vec::new(),
            },
            timeout: limit,
            prefix: config.transaction_prefix.clone(),
            transactions: 0,
            stamps,
            last_departure: None,
        };
        session.greeting = match session.read_frame().await? {
            ServerFrame::Greeting(g) => g,
            ServerFrame::Response(_) => {
                return Err(
                    EppError::Unexpected("a response where the greeting was due".into()).into(),
                )
            }
        };
        let answer = session.send(Command::Login(config.login.clone())).await?;
        if !answer.succeeded() {
            let first = answer.results.first();
            return Err(SessionError::LoginRefused {
                code: answer.code(),
                message: first.map(|r| r.message.clone()).unwrap_or_default(),
            });
        }
        Ok(session)
    }

    /// The greeting the registry sent.
    pub fn greeting(&self) -> &Greeting {
        &self.greeting
    }

    async fn read_frame(&mut self) -> Result<ServerFrame, SessionError> {
        let limit = self.timeout;
        let document = loop {
            if let Some(d) = self.reader.next_frame()? {
                break d;
            }
            let want = self.reader.wanted().min(self.buffer.len());
            let n = tokio::time::timeout(limit, self.stream.read(&mut self.buffer[..want]))
                .await
                .map_err(|_| SessionError::Timeout(limit))??;
            if n == 0 {
                return Err(SessionError::Closed);
            }
            self.reader.push(&self.buffer[..n]);
        };
        Ok(ServerFrame::from_xml(&document)?)
    }

    /// Writes `command` ahead of time, with its transaction id.
    pub fn prepare(&mut self, command: Command) -> Prepared {
        self.transactions += 1;
        let transaction = format!("{}-{:08}", self.prefix, self.transactions);
        let xml = ClientFrame::command(command, &transaction).to_xml();
        Prepared {
            bytes: frame::encode(xml.as_bytes()),
            transaction,
        }
    }

    /// Sends a prepared command and reads its answer.
    pub async fn send_prepared(&mut self, prepared: &Prepared) -> Result<Response, SessionError> {
        self.write_prepared(prepared).await?;
        self.read_response(prepared).await
    }

    /// Writes a prepared command (the instant it leaves is this call's return).
    pub async fn write_prepared(&mut self, prepared: &Prepared) -> Result<(), SessionError> {
        self.write_bytes(&prepared.bytes).await
    }

    /// Writes a prepared command at the instant `at`, not before, and says how late the write
    /// finished (the frame's last byte handed to the kernel's socket).
    ///
    /// tokio's timer fires a millisecond or two late, so on a multi-threaded runtime the task's
    /// thread sleeps (the system's timer, precise to tens of microseconds) until [`SPIN_AHEAD`]
    /// before; on a current-thread runtime, where it may not block, tokio sleeps until 3 ms
    /// before. Then the frame goes out **all but its last byte**, and the thread spins to the
    /// instant and writes that byte (when enough threads of the process spin already, it sleeps
    /// to the instant on the system's timer instead). The registry cannot act on a frame before
    /// its last byte (RFC 5734 frames carry their length), so nothing reaches it early; but the
    /// socket's path through the kernel is warm at the instant: a write after the thread slept
    /// took 65-80 µs on loopback, the same write on a warm path about 20 µs.
    pub async fn write_prepared_at(
        &mut self,
        prepared: &Prepared,
        at: Instant,
    ) -> Result<Duration, SessionError> {
        let spin = || {
            while Instant::now() < at {
                std::hint::spin_loop();
            }
        };
        self.last_departure = None;
        let bytes = &prepared.bytes[..];
        let multi_thread = tokio::runtime::Handle::try_current()
            .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
        let armed = if multi_thread {
            let runtime = tokio::runtime::Handle::current();
            tokio::task::block_in_place(|| {
                let ahead = at
                    .checked_sub(SPIN_AHEAD)
                    .and_then(|t| t.checked_duration_since(Instant::now()));
                let Some(wait) = ahead else {
                    // Too close to split: the whole frame at the instant.
                    let armed = self.arm_stamps(at);
                    spin();
                    return runtime.block_on(self.write_bytes(bytes)).map(|()| armed);
                };
                std::thread::sleep(wait);
                let (head, tail) = bytes.split_at(bytes.len().saturating_sub(1));
                runtime.block_on(self.write_bytes(head))?;
                let armed = self.arm_stamps(at);
                match Spinner::take() {
                    Some(_spinning) => spin(),
                    // Enough threads spin already: this one sleeps the rest on the system's
                    // timer (tens of microseconds late) rather than take their cores.
                    None => {
                        if let Some(rest) = at.checked_duration_since(Instant::now()) {
                            std::thread::sleep(rest);
                        }
                    }
                }
                runtime.block_on(self.write_bytes(tail)).map(|()| armed)
            })?
        } else {
            match at.checked_sub(Duration::from_millis(3)) {
                Some(early) if early > Instant::now() => {
                    tokio::time::sleep_until(early.into()).await;
                    let (head, tail) = bytes.split_at(bytes.len().saturating_sub(1));
                    self.write_bytes(head).await?;
                    let armed = self.arm_stamps(at);
                    spin();
                    self.write_bytes(tail).await?;
                    armed
                }
                _ => {
                    let armed = self.arm_stamps(at);
                    spin();
                    self.write_bytes(bytes).await?;
                    armed
                }
            }
        };
        let late = Instant::now().saturating_duration_since(at);
        if let (Some(wall_at), Some(stamps)) = (armed, &self.stamps) {
            self.last_departure = stamps
                .take()
                .map(|left| left.duration_since(wall_at).unwrap_or(Duration::ZERO));
        }
        Ok(late)
    }

    /// How late the frame of the last [`Session::write_prepared_at`] left this host, by the
    /// kernel's clock: from the instant to the software transmit timestamp the kernel took as
    /// the segment with the frame's last byte went to the network device (Linux
    /// `SO_TIMESTAMPING`; `None` elsewhere, or when the kernel gave none).
    ///
    /// The write call's own return, which `write_prepared_at` answers, comes later by whatever
    /// the kernel does after the device: on loopback that is the receiving side too (the
    /// segment is delivered and the registry's reader woken inside the writer's system call),
    /// a cost a registry on its own host never puts on the writer.
    pub fn last_departure(&self) -> Option<Duration> {
        self.last_departure
    }

    /// Turns on transmit timestamps for the timed write ahead (a system call, made before the
    /// spin so as to cost the instant nothing); the instant on the system's clock when on.
    fn arm_stamps(&self, at: Instant) -> Option<SystemTime> {
        let stamps = self.stamps.as_ref()?;
        if !stamps.arm() {
            return None;
        }
        let (now, wall) = (Instant::now(), SystemTime::now());
        Some(match at.checked_duration_since(now) {
            Some(ahead) => wall + ahead,
            None => wall - now.duration_since(at),
        })
    }

    async fn write_bytes(&mut self, bytes: &[u8]) -> Result<(), SessionError> {
        self.stream.write_all(bytes).await?;
        self.stream.flush().await?;
        Ok(())
    }

    /// Reads the answer to a written command.
    pub async fn read_response(&mut self, prepared: &Prepared) -> Result<Response, SessionError> {
        match self.read_frame().await? {
            ServerFrame::Response(r) => {
                if r.client_transaction.as_deref() != Some(prepared.transaction.as_str()) {
                    return Err(EppError::Unexpected(format!(
                        "answer to transaction {:?} where {} was due",
                        r.client_transaction, prepared.transaction
                    ))
                    .into());
                }
                Ok(r)
            }
            ServerFrame::Greeting(_) => {
                Err(EppError::Unexpected("a greeting where a response was due".into()).into())
            }
        }
    }

    /// Sends a command and reads its answer.
    pub async fn send(&mut self, command: Command) -> Result<Response, SessionError> {
        let prepared = self.prepare(command);
        self.send_prepared(&prepared).await
    }

    /// `<hello>`: keeps the session alive; the fresh greeting.
    pub async fn hello(&mut self) -> Result<Greeting, SessionError> {
        let xml = ClientFrame::Hello.to_xml();
        self.stream
            .write_all(&frame::encode(xml.as_bytes()))
            .await?;
        self.stream.flush().await?;
        match self.read_frame().await? {
            ServerFrame::Greeting(g) => {
                self.greeting = g.clone();
                Ok(g)
            }
            ServerFrame::Response(_) => {
                Err(EppError::Unexpected("a response where a greeting was due".into()).into())
            }
        }
    }

    /// Logs out and closes.
    pub async fn logout(mut self) -> Result<Response, SessionError> {
        let answer = self.send(Command::Logout).await?;
        let _ = self.stream.shutdown().await;
        Ok(answer)
    }
}
