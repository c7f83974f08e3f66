//! The simulated registry on the network: an EPP server on tokio, over TLS with a certificate
//! made at start (rcgen), plain TCP only when asked for explicitly. Each connection gets the
//! greeting, then frames (RFC 5734) answered by [`Registry`]; an
//! unreadable frame gets 2001, a frame over the cap ends the connection.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use backorder_core::epp::command::ClientFrame;
use backorder_core::epp::frame::{self, FrameReader};
use backorder_core::epp::response::ServerFrame;
use backorder_core::epp::DEFAULT_MAX_FRAME;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

use super::rules::{syntax_error, Registry};
use crate::clock::Clock;

/// How the server listens.
#[derive(Clone, Debug)]
pub struct ServerOptions {
    /// Where to listen (port 0: any free port).
    pub listen: SocketAddr,
    /// TLS (the default) or plain TCP.
    pub tls: bool,
    /// The frame-size cap.
    pub max_frame: usize,
    /// A connection sending nothing this long is closed.
    pub idle: StdDuration,
    /// Require client certificates signed by this CA (DER), as some registries do.
    pub client_ca: Option<Vec<u8>>,
    /// Serve on a thread of its own that never sleeps waiting for the network: it polls,
    /// taking a core while it runs. On loopback the kernel wakes a sleeping server inside the
    /// client's write, a cost a registry on its own host never puts on the client, so latency
    /// benchmarks that time the client's write use this.
    pub polling: bool,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            tls: true,
            max_frame: DEFAULT_MAX_FRAME,
            idle: StdDuration::from_secs(600),
            client_ca: None,
            polling: false,
        }
    }
}

/// A running simulator.
pub struct Simulator {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its certificate (DER), for clients to trust; `None` over plain TCP. It names
    /// `localhost` and `127.0.0.1`.
    pub certificate: Option<Vec<u8>>,
    /// The registry, to set up names and read figures while it runs.
    pub registry: Arc<Mutex<Registry>>,
    stop: watch::Sender<bool>,
}

impl Simulator {
    /// Starts listening; connections are served on the current tokio runtime (with
    /// [`ServerOptions::polling`], on a thread and runtime of their own) until
    /// [`Simulator::stop`] or drop.
    pub async fn start(
        registry: Registry,
        clock: Arc<dyn Clock>,
        options: ServerOptions,
    ) -> std::io::Result<Simulator> {
        if !options.polling {
            return Simulator::listen(registry, clock, options).await;
        }
        let (started, result) = tokio::sync::oneshot::channel();
        std::thread::Builder::new()
            .name("registry-simulator".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(r) => r,
                    Err(e) => {
                        let _ = started.send(Err(e));
                        return;
                    }
                };
                runtime.block_on(async move {
                    let sim = match Simulator::listen(registry, clock, options).await {
                        Ok(sim) => sim,
                        Err(e) => {
                            let _ = started.send(Err(e));
                            return;
                        }
                    };
                    let stopped = sim.stop.subscribe();
                    if started.send(Ok(sim)).is_err() {
                        return;
                    }
                    // A task always ready: the runtime polls the network without ever waiting.
                    while !*stopped.borrow() {
                        tokio::task::yield_now().await;
                    }
                });
            })?;
        result
            .await
            .map_err(|_| std::io::Error::other("the simulator's thread ended before it started"))?
    }

    async fn listen(
        registry: Registry,
        clock: Arc<dyn Clock>,
        options: ServerOptions,
    ) -> std::io::Result<Simulator> {
        let listener = TcpListener::bind(options.listen).await?;
        let addr = listener.local_addr()?;
        let (acceptor, certificate) = if options.tls {
            let (acceptor, certificate) = tls_acceptor(options.client_ca.as_deref())?;
            (Some(acceptor), Some(certificate))
        } else {
            (None, None)
        };
        let registry = Arc::new(Mutex::new(registry));
        let (stop, stopped) = watch::channel(false);
        let shared = registry.clone();
        tokio::spawn(async move {
            let mut stopped = stopped;
            loop {
                let accepted = tokio::select! {
                    a = listener.accept() => a,
                    _ = stopped.changed() => return,
                };
                let Ok((tcp, _)) = accepted else { continue };
                let _ = tcp.set_nodelay(true);
                let registry = shared.clone();
                let clock = clock.clone();
                let acceptor = acceptor.clone();
                let options = options.clone();
                let mut stopped = stopped.clone();
                tokio::spawn(async move {
                    let served = async {
                        match acceptor {
                            // A failed handshake just ends the connection.
                            Some(acceptor) => {
                                if let Ok(tls) = acceptor.accept(tcp).await {
                                    serve(tls, &registry, &*clock, &options).await
                                }
                            }
                            None => serve(tcp, &registry, &*clock, &options).await,
                        }
                    };
                    tokio::select! {
                        _ = served => {}
                        _ = stopped.changed() => {}
                    }
                });
            }
        });
        Ok(Simulator {
            addr,
            certificate,
            registry,
            stop,
        })
    }

    /// Stops listening and closes every connection.
    pub fn stop(&self) {
        let _ = self.stop.send(true);
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        self.stop();
    }
}

fn invalid(e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidInput, e.to_string())
}

/// A TLS acceptor with a fresh self-signed certificate for `localhost` and `127.0.0.1`.
fn tls_acceptor(client_ca: Option<&[u8]>) -> std::io::Result<(TlsAcceptor, Vec<u8>)> {
    let made = rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
        .map_err(invalid)?;
    let certificate = made.cert.der().to_vec();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(made.signing_key.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(invalid)?;
    let builder = match client_ca {
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            roots
                .add(CertificateDer::from(ca.to_vec()))
                .map_err(invalid)?;
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            )
            .build()
            .map_err(invalid)?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let config = builder
        .with_single_cert(vec![CertificateDer::from(certificate.clone())], key)
        .map_err(invalid)?;
    Ok((TlsAcceptor::from(Arc::new(config)), certificate))
}

async fn write_frame<S: AsyncWrite + Unpin>(
    stream: &mut S,
    frame: &ServerFrame,
) -> std::io::Result<()> {
    let xml = frame.to_xml();
    let mut bytes = Vec::with_capacity(frame::HEADER + xml.len());
    frame::write_header(&mut bytes, xml.len());
    bytes.extend_from_slice(xml.as_bytes());
    stream.write_all(&bytes).await?;
    stream.flush().await
}

/// Serves one connection until it closes, logs out, goes over its rate or idles too long.
async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    registry: &Mutex<Registry>,
    clock: &dyn Clock,
    options: &ServerOptions,
) {
    let (session, greeting) = {
        let mut r = registry.lock().expect("the registry lock");
        (r.open_session(), r.greeting(clock.now()))
    };
    let _ = serve_session(&mut stream, registry, clock, options, session, greeting).await;
    registry
        .lock()
        .expect("the registry lock")
        .close_session(session);
    let _ = stream.shutdown().await;
}

async fn serve_session<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    registry: &Mutex<Registry>,
    clock: &dyn Clock,
    options: &ServerOptions,
    session: u64,
    greeting: backorder_core::epp::response::Greeting,
) -> std::io::Result<()> {
    write_frame(stream, &ServerFrame::Greeting(greeting)).await?;
    let mut reader = FrameReader::new(options.max_frame);
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        let document = loop {
            match reader.next_frame() {
                Ok(Some(d)) => break d,
                Ok(None) => {}
                Err(e) => {
                    write_frame(stream, &ServerFrame::Response(syntax_error(&e.to_string())))
                        .await?;
                    return Ok(());
                }
            }
            let want = reader.wanted().min(buffer.len());
            let n = tokio::time::timeout(options.idle, stream.read(&mut buffer[..want]))
                .await
                .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))??;
            if n == 0 {
                return Ok(());
            }
            reader.push(&buffer[..n]);
        };
        let (frame, close) = match ClientFrame::from_xml(&document) {
            Ok(ClientFrame::Hello) => {
                let greeting = registry
                    .lock()
                    .expect("the registry lock")
                    .greeting(clock.now());
                (ServerFrame::Greeting(greeting), false)
            }
            Ok(ClientFrame::Command {
                command,
                transaction,
            }) => {
                let answer = registry.lock().expect("the registry lock").handle(
                    session,
                    &command,
                    transaction.as_deref(),
                    clock.now(),
                );
                (ServerFrame::Response(answer.response), answer.close)
            }
            Err(e) => (ServerFrame::Response(syntax_error(&e.to_string())), false),
        };
        write_frame(stream, &frame).await?;
        if close {
            return Ok(());
        }
    }
}
