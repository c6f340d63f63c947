//! The address a request comes from: the TCP peer, or — only when that peer is a trusted
//! proxy — the nearest untrusted address in `X-Forwarded-For`. Trusting the header from anyone
//! would let a client pick its own rate-limit key.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use axum::extract::ConnectInfo;
use axum::http::{Extensions, HeaderMap};

/// Networks whose `X-Forwarded-For` we believe (`TRUSTED_PROXIES`).
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<Network>);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Network {
    addr: IpAddr,
    prefix: u8,
}

impl TrustedProxies {
    /// Comma-separated addresses or CIDR networks, e.g. `10.0.0.0/8, 127.0.0.1, fd00::/8`.
    pub fn parse(list: &str) -> Result<Self, String> {
        list.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(Network::parse)
            .collect::<Result<_, _>>()
            .map(Self)
    }

    fn contains(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(ip))
    }

    /// The client's address, or `None` when the request carries no peer address (in-process
    /// tests) — callers key such requests together rather than fail.
    pub fn client_ip(&self, headers: &HeaderMap, extensions: &Extensions) -> Option<IpAddr> {
        let peer = extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip())?;
        if !self.contains(peer) {
            return Some(peer);
        }
        // Walk from the nearest hop outwards; the first address we do not trust is the client.
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect::<Vec<_>>();
        let mut client = peer;
        for hop in forwarded.iter().rev() {
            match IpAddr::from_str(hop) {
                Ok(ip) if self.contains(ip) => client = ip,
                Ok(ip) => return Some(ip),
                Err(_) => break,
            }
        }
        Some(client)
    }
}

impl Network {
    fn parse(text: &str) -> Result<Self, String> {
        let invalid = || format!("{text:?} is not an IP address or CIDR network");
        let (addr, prefix) = match text.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix.parse::<u8>().map_err(|_| invalid())?)),
            None => (text, None),
        };
        let addr = IpAddr::from_str(addr).map_err(|_| invalid())?;
        let bits = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(bits);
        if prefix > bits {
            return Err(invalid());
        }
        Ok(Self { addr, prefix })
    }

    fn contains(&self, ip: IpAddr) -> bool {
        let mask = |bits: u32| -> u128 {
            let keep = u32::from(self.prefix);
            if keep == 0 {
                0
            } else {
                (u128::MAX << (bits - keep)) & (u128::MAX >> (128 - bits))
            }
        };
        match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                (u128::from(u32::from(net)) ^ u128::from(u32::from(ip))) & mask(32) == 0
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                (u128::from(net) ^ u128::from(ip)) & mask(128) == 0
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;
    use axum::http::request::Parts;

    fn parts(peer: &str, forwarded: Option<&str>) -> Parts {
        let mut request = Request::builder();
        if let Some(value) = forwarded {
            request = request.header("x-forwarded-for", value);
        }
        let (mut parts, ()) = request.body(()).expect("request").into_parts();
        let addr: SocketAddr = format!("{peer}:1234").parse().expect("addr");
        parts.extensions.insert(ConnectInfo(addr));
        parts
    }

    fn client_ip(proxies: &TrustedProxies, parts: &Parts) -> Option<IpAddr> {
        proxies.client_ip(&parts.headers, &parts.extensions)
    }

    fn ip(text: &str) -> Option<IpAddr> {
        text.parse().ok()
    }

    #[test]
    fn the_header_is_ignored_unless_the_peer_is_trusted() {
        let none = TrustedProxies::default();
        assert_eq!(
            client_ip(&none, &parts("203.0.113.9", Some("1.2.3.4"))),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn the_nearest_untrusted_hop_is_the_client() {
        let proxies = TrustedProxies::parse("10.0.0.0/8, 127.0.0.1").expect("parse");
        let request = parts("10.1.2.3", Some("6.6.6.6, 198.51.100.7, 10.9.9.9"));
        assert_eq!(client_ip(&proxies, &request), ip("198.51.100.7"));
        assert_eq!(
            client_ip(&proxies, &parts("127.0.0.1", None)),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn networks_match_by_prefix() {
        let proxies = TrustedProxies::parse("192.168.0.0/16,fd00::/8,0.0.0.0/0").expect("parse");
        assert!(proxies.contains("192.168.44.1".parse().expect("ip")));
        assert!(proxies.contains("fd12::1".parse().expect("ip")));
        assert!(proxies.contains("8.8.8.8".parse().expect("ip")));
        let narrow = TrustedProxies::parse("192.168.0.0/16").expect("parse");
        assert!(!narrow.contains("192.169.0.1".parse().expect("ip")));
        assert!(narrow.contains("::ffff:192.168.1.1".parse().expect("ip")));
    }

    #[test]
    fn nonsense_is_refused() {
        for bad in ["10.0.0.0/33", "nope", "::/129", "1.2.3.4/x"] {
            assert!(TrustedProxies::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn requests_without_a_peer_have_no_address() {
        let (parts, ()) = Request::builder().body(()).expect("request").into_parts();
        assert_eq!(client_ip(&TrustedProxies::default(), &parts), None);
    }
}
