//! The address a request comes from: the TCP peer, or — only when that peer is a trusted
//! proxy — the nearest untrusted hop in `X-Forwarded-For`. Trusting the header from anyone
//! would let a client pick its own rate-limit key.
//!
//! A hop is read in the forms proxies write (`1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1`,
//! `[2001:db8::1]:443`, quoted or padded with spaces). A hop that still does not parse is where
//! the walk ends too: that text, not the proxy's address, is the client (see [`Client`]).

use std::fmt;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::str::FromStr;

use axum::extract::ConnectInfo;
use axum::http::{Extensions, HeaderMap};
use ipnet::IpNet;

/// Networks whose `X-Forwarded-For` we believe (`TRUSTED_PROXIES`).
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Comma-separated addresses or CIDR networks, e.g. `10.0.0.0/8, 127.0.0.1, fd00::/8`.
    pub fn parse(list: &str) -> Result<Self, String> {
        list.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(parse_network)
            .collect::<Result<_, _>>()
            .map(Self)
    }

    fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client, or `None` when the request carries no peer address (in-process tests) —
    /// callers key such requests together rather than fail.
    pub fn client_ip(&self, headers: &HeaderMap, extensions: &Extensions) -> Option<Client> {
        let peer = extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip())?;
        if !self.contains(peer) {
            return Some(Client::Ip(peer));
        }
        // Walk from the nearest hop outwards; the first hop we do not trust is the client.
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .collect::<Vec<_>>();
        let mut client = peer;
        for hop in forwarded.iter().rev() {
            match parse_hop(hop) {
                Some(ip) if self.contains(ip) => client = ip,
                Some(ip) => return Some(Client::Ip(ip)),
                None => {
                    let text: String = hop.trim().chars().take(UNPARSED_MAX_CHARS).collect();
                    tracing::warn!(
                        hop = %text,
                        "a trusted proxy forwarded a hop that is not an address; \
                         rate-limited by its text"
                    );
                    return Some(Client::Unparsed(text));
                }
            }
        }
        // Only trusted hops (or none): the request started inside the trusted network.
        Some(Client::Ip(client))
    }
}

/// At most this much of an unparsable hop is kept as a key.
const UNPARSED_MAX_CHARS: usize = 64;

/// Who sent a request, as far as we can tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Client {
    Ip(IpAddr),
    /// The nearest untrusted `X-Forwarded-For` hop was not an address (`unknown`, an
    /// obfuscated identifier, garbage): its text (at most 64 characters) stands in for one,
    /// so that such clients do not all share the proxy's address.
    Unparsed(String),
}

impl fmt::Display for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ip(ip) => write!(f, "{ip}"),
            Self::Unparsed(text) => write!(f, "unparsed:{text}"),
        }
    }
}

/// An address in one of the forms proxies write it: bare, with a port, IPv6 in brackets (with
/// or without a port), in quotes (as in `Forwarded`), padded with spaces.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim().trim_matches('"').trim();
    if let Ok(ip) = IpAddr::from_str(hop) {
        return Some(ip);
    }
    if let Ok(addr) = SocketAddr::from_str(hop) {
        return Some(addr.ip());
    }
    hop.strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .and_then(|inner| Ipv6Addr::from_str(inner).ok())
        .map(IpAddr::V6)
}

/// An address or CIDR network (`10.0.0.0/8`, `127.0.0.1`, `fd00::/8`).
fn parse_network(text: &str) -> Result<IpNet, String> {
    text.parse::<IpNet>()
        .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| format!("{text:?} is not an IP address or CIDR network"))
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

    fn client_ip(proxies: &TrustedProxies, parts: &Parts) -> Option<Client> {
        proxies.client_ip(&parts.headers, &parts.extensions)
    }

    fn ip(text: &str) -> Option<Client> {
        text.parse().ok().map(Client::Ip)
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

    #[test]
    fn hops_are_read_in_the_forms_proxies_write() {
        let proxies = TrustedProxies::parse("10.0.0.0/8").expect("parse");
        for (hop, client) in [
            ("198.51.100.7:5678", "198.51.100.7"),
            ("[2001:db8::1]:443", "2001:db8::1"),
            ("[2001:db8::1]", "2001:db8::1"),
            ("\"198.51.100.7\"", "198.51.100.7"),
            ("  \"[2001:db8::2]:80\" ", "2001:db8::2"),
        ] {
            let request = parts("10.1.2.3", Some(&format!("6.6.6.6, {hop}, 10.9.9.9")));
            assert_eq!(client_ip(&proxies, &request), ip(client), "{hop}");
        }
    }

    /// An unparsable hop from a trusted proxy is the client: its text is a key of its own, and
    /// never the proxy's address (which every client behind it would share).
    #[test]
    fn an_unparsable_hop_is_a_client_of_its_own() {
        let proxies = TrustedProxies::parse("10.0.0.0/8").expect("parse");
        let request = parts("10.1.2.3", Some("6.6.6.6, unknown, 10.9.9.9"));
        assert_eq!(
            client_ip(&proxies, &request),
            Some(Client::Unparsed("unknown".into()))
        );
        let long = "x".repeat(300);
        let request = parts("10.1.2.3", Some(&long));
        let client = client_ip(&proxies, &request).expect("a client");
        assert_eq!(client.to_string(), format!("unparsed:{}", "x".repeat(64)));
        // Different garbage, different keys; neither is the proxy.
        let other = client_ip(&proxies, &parts("10.1.2.3", Some("_hidden")));
        assert_eq!(other, Some(Client::Unparsed("_hidden".into())));
        // Beyond the nearest untrusted hop nothing is read, garbage included.
        let request = parts("10.1.2.3", Some("garbage, 198.51.100.7"));
        assert_eq!(client_ip(&proxies, &request), ip("198.51.100.7"));
    }
}
