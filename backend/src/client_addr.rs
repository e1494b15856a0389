//! The client's address, for per-address rate limits and payment orders.
//!
//! `X-Forwarded-For` is written by whoever sends the request, so it is
//! believed only as far as the chain of proxies we trust (`TRUSTED_PROXIES`):
//! starting from the connection's peer, each trusted hop hands us the next
//! address to its left, and the first address that is not a trusted proxy is
//! the client. With no trusted proxy the peer is the client, whatever the
//! header says (a client rotating the header gets no fresh limits).

use ipnet::IpNet;
use std::net::IpAddr;

/// Parses `TRUSTED_PROXIES`: addresses or CIDR ranges, separated by commas
/// or spaces (`127.0.0.1, 10.0.0.0/8, ::1`).
pub fn parse_trusted(list: &str) -> Result<Vec<IpNet>, String> {
    list.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("{s:?} is neither an address nor a CIDR range"))
        })
        .collect()
}

/// The client's address: `peer` is the TCP peer, `forwarded_for` the values
/// of every `X-Forwarded-For` header in order (each a comma list).
pub fn client_ip(peer: Option<IpAddr>, forwarded_for: &[&str], trusted: &[IpNet]) -> Option<IpAddr> {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(&canonical(*ip)));
    let mut current = canonical(peer?);
    if !is_trusted(&current) {
        return Some(current);
    }
    let hops: Vec<&str> = forwarded_for.iter().flat_map(|h| h.split(',')).map(str::trim).collect();
    for hop in hops.into_iter().rev() {
        match parse_hop(hop) {
            // an unreadable hop: only a trusted proxy's word got us here, so stop at that proxy
            None => return Some(current),
            Some(ip) => {
                current = ip;
                if !is_trusted(&current) {
                    return Some(current);
                }
            }
        }
    }
    Some(current)
}

/// A hop as proxies write it: `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1` or `[2001:db8::1]:5678`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    hop.parse::<std::net::SocketAddr>().ok().map(|a| canonical(a.ip()))
}

/// IPv4-mapped IPv6 (`::ffff:1.2.3.4`) as the IPv4 address it is.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn without_trusted_proxies_the_header_is_ignored() {
        let got = client_ip(Some(ip("203.0.113.9")), &["1.1.1.1, 2.2.2.2"], &[]);
        assert_eq!(got, Some(ip("203.0.113.9")));
        // a loopback peer is not trusted by default either
        assert_eq!(client_ip(Some(ip("127.0.0.1")), &["9.9.9.9"], &[]), Some(ip("127.0.0.1")));
    }

    #[test]
    fn the_right_most_untrusted_hop_is_the_client() {
        let trusted = parse_trusted("127.0.0.1, 10.0.0.0/8").unwrap();
        // nginx appended the real client (198.51.100.7) to what the client wrote (1.1.1.1)
        let got = client_ip(Some(ip("127.0.0.1")), &["1.1.1.1, 198.51.100.7"], &trusted);
        assert_eq!(got, Some(ip("198.51.100.7")));
        // two proxies: a CDN edge in 10/8 and nginx on loopback
        let got = client_ip(Some(ip("127.0.0.1")), &["6.6.6.6", "198.51.100.7, 10.1.2.3"], &trusted);
        assert_eq!(got, Some(ip("198.51.100.7")));
        // a rotating forged prefix changes nothing
        for forged in ["1.2.3.4", "5.6.7.8, 9.9.9.9", "garbage"] {
            let h = format!("{forged}, 198.51.100.7");
            assert_eq!(client_ip(Some(ip("127.0.0.1")), &[&h], &trusted), Some(ip("198.51.100.7")));
        }
    }

    #[test]
    fn odd_hops() {
        let trusted = parse_trusted("::1 127.0.0.0/8").unwrap();
        assert_eq!(client_ip(Some(ip("::1")), &["[2001:db8::5]:4431"], &trusted), Some(ip("2001:db8::5")));
        assert_eq!(client_ip(Some(ip("::ffff:127.0.0.1")), &["198.51.100.7:1234"], &trusted), Some(ip("198.51.100.7")));
        // the proxy sent no header, or only trusted hops: the nearest proxy
        assert_eq!(client_ip(Some(ip("127.0.0.1")), &[], &trusted), Some(ip("127.0.0.1")));
        assert_eq!(client_ip(Some(ip("127.0.0.1")), &["127.0.0.2"], &trusted), Some(ip("127.0.0.2")));
        // an unreadable hop right of any real address: stop at the proxy that passed it on
        assert_eq!(client_ip(Some(ip("127.0.0.1")), &["198.51.100.7, nonsense"], &trusted), Some(ip("127.0.0.1")));
        assert!(parse_trusted("10.0.0.0/33").is_err());
        assert!(parse_trusted("nginx").is_err());
        assert_eq!(client_ip(None, &["1.1.1.1"], &trusted), None);
    }
}
