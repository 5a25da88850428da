//! TLS for the local world (CONTRACT §8): a certificate authority generated
//! for each run, server certificates it issues for the loopback endpoints,
//! and a terminator that puts TLS in front of a plain-text server (moto,
//! wiremock, ArcadeDB's Bolt port), the way a load balancer fronts a service.
//!
//! The function under test trusts the CA the way an operator trusts a
//! private CA in Lambda: `SSL_CERT_FILE` names a PEM file holding it.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
};
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use time::OffsetDateTime;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

/// The names every local server answers to: loopback, the host as a
/// container under `sam local invoke` reaches it, and the hosts
/// `make browser` maps to loopback in Chromium: the API, the web app on the
/// API's site and on another site, and a foreign page.
const LOCAL_NAMES: [&str; 8] = [
    "localhost",
    "127.0.0.1",
    "::1",
    "host.docker.internal",
    "api.nectr.test",
    "app.nectr.test",
    "app.nectr-web.test",
    "foreign.test",
];

/// A certificate authority that exists for one run only.
pub struct LocalCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

/// A server's certificate chain and private key, in PEM.
#[derive(Clone)]
pub struct ServerIdentity {
    pub chain_pem: String,
    pub key_pem: String,
}

/// How a server certificate can be wrong, for tests that must see it refused.
#[derive(Clone, Copy, Debug)]
pub enum BadCertificate {
    /// Issued by a CA nobody trusts.
    Untrusted,
    /// Signed by its own key: what `bolt+ssc` accepts and `bolt+s` refuses.
    SelfSigned,
    /// Issued by the trusted CA, but its validity ended yesterday.
    Expired,
    /// Issued by the trusted CA for another host.
    WrongName,
}

impl LocalCa {
    pub fn generate(name: &str) -> Self {
        let mut params = CertificateParams::default();
        params.distinguished_name = distinguished_name(name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let (not_before, not_after) = valid_around_now(Duration::from_secs(7 * 86_400));
        params.not_before = not_before;
        params.not_after = not_after;
        let key = KeyPair::generate().expect("a CA key");
        Self {
            issuer: CertifiedIssuer::self_signed(params, key).expect("a self-signed CA"),
        }
    }

    /// The CA certificate: what `SSL_CERT_FILE` must hold to trust the world.
    pub fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// A certificate for the local names, valid for a day.
    pub fn server(&self) -> ServerIdentity {
        self.issue(&LOCAL_NAMES, valid_around_now(Duration::from_secs(86_400)))
    }

    /// A server certificate that a client trusting this CA must refuse.
    pub fn bad_server(&self, bad: BadCertificate) -> ServerIdentity {
        let day = Duration::from_secs(86_400);
        match bad {
            BadCertificate::Untrusted => LocalCa::generate("an untrusted CA").server(),
            BadCertificate::SelfSigned => {
                let key = KeyPair::generate().expect("a server key");
                let cert = server_params(&LOCAL_NAMES, valid_around_now(day))
                    .self_signed(&key)
                    .expect("a self-signed certificate");
                ServerIdentity {
                    chain_pem: cert.pem(),
                    key_pem: key.serialize_pem(),
                }
            }
            BadCertificate::Expired => {
                let now = OffsetDateTime::now_utc();
                self.issue(&LOCAL_NAMES, (now - 2 * day, now - day))
            }
            BadCertificate::WrongName => {
                self.issue(&["elsewhere.example.com"], valid_around_now(day))
            }
        }
    }

    fn issue(&self, names: &[&str], validity: (OffsetDateTime, OffsetDateTime)) -> ServerIdentity {
        let key = KeyPair::generate().expect("a server key");
        let cert = server_params(names, validity)
            .signed_by(&key, &self.issuer)
            .expect("a server certificate");
        ServerIdentity {
            chain_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }
}

fn distinguished_name(common_name: &str) -> DistinguishedName {
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, common_name);
    name.push(DnType::OrganizationName, "nectr-disconnect local world");
    name
}

fn server_params(names: &[&str], validity: (OffsetDateTime, OffsetDateTime)) -> CertificateParams {
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let mut params = CertificateParams::new(names.clone()).expect("valid names");
    params.distinguished_name = distinguished_name(&names[0]);
    params.is_ca = IsCa::NoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    (params.not_before, params.not_after) = validity;
    params
}

/// From an hour ago (clocks drift) to `length` from now.
fn valid_around_now(length: Duration) -> (OffsetDateTime, OffsetDateTime) {
    let now = OffsetDateTime::now_utc();
    (now - Duration::from_secs(3_600), now + length)
}

impl ServerIdentity {
    /// A rustls acceptor serving this identity. The provider is named, so
    /// the test process needs no process-wide default of its own.
    pub fn acceptor(&self) -> TlsAcceptor {
        let chain: Vec<CertificateDer<'static>> =
            CertificateDer::pem_slice_iter(self.chain_pem.as_bytes())
                .collect::<Result<_, _>>()
                .expect("a PEM certificate chain");
        let key = PrivateKeyDer::from_pem_slice(self.key_pem.as_bytes()).expect("a PEM key");
        let config = ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("TLS 1.2 and 1.3")
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .expect("the key matches the certificate");
        TlsAcceptor::from(Arc::new(config))
    }
}

/// TLS in front of a plain-text TCP server: each connection is decrypted
/// and relayed byte for byte to `upstream`. Stops when dropped.
pub struct TlsTerminator {
    pub addr: SocketAddr,
    handshakes: Arc<AtomicUsize>,
    accepting: JoinHandle<()>,
}

impl TlsTerminator {
    pub async fn start(identity: &ServerIdentity, upstream: SocketAddr) -> io::Result<Self> {
        Self::listen("127.0.0.1:0".parse().unwrap(), identity, upstream).await
    }

    pub async fn listen(
        listen: SocketAddr,
        identity: &ServerIdentity,
        upstream: SocketAddr,
    ) -> io::Result<Self> {
        let listener = TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        let acceptor = identity.acceptor();
        let handshakes = Arc::new(AtomicUsize::new(0));
        let completed = handshakes.clone();
        let accepting = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(relay(acceptor.clone(), client, upstream, completed.clone()));
            }
        });
        Ok(Self {
            addr,
            handshakes,
            accepting,
        })
    }

    /// How many clients completed a TLS handshake: zero after a client that
    /// must refuse the certificate tried.
    pub fn handshakes(&self) -> usize {
        self.handshakes.load(Ordering::SeqCst)
    }
}

impl Drop for TlsTerminator {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}

async fn relay(
    acceptor: TlsAcceptor,
    client: TcpStream,
    upstream: SocketAddr,
    handshakes: Arc<AtomicUsize>,
) {
    let _ = client.set_nodelay(true);
    let Ok(mut client) = acceptor.accept(client).await else {
        return;
    };
    handshakes.fetch_add(1, Ordering::SeqCst);
    let Ok(mut server) = TcpStream::connect(upstream).await else {
        return;
    };
    let _ = server.set_nodelay(true);
    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
}
