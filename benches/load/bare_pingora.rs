//! The bare Pingora baseline: the benchmark binary re-run as
//! `load --bare-pingora LISTEN ORIGIN` becomes a Pingora proxy on one
//! thread, with Pingora's own HTTP/1 loop and upstream pool, in front of
//! ORIGIN. For Host `rewrite.*` it makes the two header edits a worker or an
//! njs hook would: one upstream request header set (request phase) and
//! `x-served-by: isoproxy` on the response (response-header phase). Other
//! hosts are proxied untouched.

use std::net::SocketAddr;

use async_trait::async_trait;
use pingora::prelude::{HttpPeer, ProxyHttp, Result, Session};
use pingora::server::Server;
use pingora::server::configuration::{Opt, ServerConf};
use pingora_http::{RequestHeader, ResponseHeader};

struct Bare {
    origin: SocketAddr,
}

#[async_trait]
impl ProxyHttp for Bare {
    /// Whether this request gets the header edits.
    type CTX = bool;

    fn new_ctx(&self) -> bool {
        false
    }

    async fn upstream_peer(&self, session: &mut Session, edit: &mut bool) -> Result<Box<HttpPeer>> {
        *edit = session
            .req_header()
            .headers
            .get("host")
            .is_some_and(|h| h.as_bytes().starts_with(b"rewrite."));
        Ok(Box::new(HttpPeer::new(self.origin, false, String::new())))
    }

    async fn upstream_request_filter(
        &self,
        _session: &mut Session,
        request: &mut RequestHeader,
        edit: &mut bool,
    ) -> Result<()> {
        if *edit {
            request.insert_header("x-bench-edit", "1")?;
        }
        Ok(())
    }

    async fn response_filter(
        &self,
        _session: &mut Session,
        response: &mut ResponseHeader,
        edit: &mut bool,
    ) -> Result<()> {
        if *edit {
            response.insert_header("x-served-by", "isoproxy")?;
        }
        Ok(())
    }
}

/// Runs the proxy until killed.
pub fn run(listen: &str, origin: &str) -> ! {
    let origin: SocketAddr = origin
        .parse()
        .expect("--bare-pingora LISTEN ORIGIN: ORIGIN is not an address");
    let conf = ServerConf {
        threads: 1,
        grace_period_seconds: Some(0),
        graceful_shutdown_timeout_seconds: Some(1),
        ..ServerConf::default()
    };
    let opt = Opt {
        conf: None,
        ..Opt::default()
    };
    let mut server = Server::new_with_opt_and_conf(Some(opt), conf);
    server.bootstrap();
    let mut proxy = pingora::proxy::http_proxy_service(&server.configuration, Bare { origin });
    proxy.add_tcp(listen);
    server.add_service(proxy);
    server.run_forever()
}
