//! The Kubernetes API going away: while the lab is down its Kubernetes port closes every new
//! connection as it is accepted (what a client sees of an API server that restarts behind no
//! load balancer), and requests on connections already open are answered 503 with
//! `Connection: close`, so no client keeps one.

use axum::serve::Listener;
use tokio::net::{TcpListener, TcpStream};

use super::server::State;

pub struct Gated {
    inner: TcpListener,
    state: State,
}

impl Gated {
    pub fn new(inner: TcpListener, state: State) -> Gated {
        Gated { inner, state }
    }
}

impl Listener for Gated {
    type Io = TcpStream;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (TcpStream, std::net::SocketAddr) {
        loop {
            let (stream, addr) = Listener::accept(&mut self.inner).await;
            if !self.state.is_down() {
                return (stream, addr);
            }
            drop(stream);
        }
    }

    fn local_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.inner.local_addr()
    }
}
