//! Where a redirect may lead. The administrator's configured URLs may point anywhere
//! (an intranet feed, a loopback test fixture), but a public server must not be able to
//! send storyline to an address only this machine or its network can reach (a cloud
//! metadata service at 169.254.169.254, an admin interface on 127.0.0.1): a redirect from
//! a public address to a loopback, link-local, private or unique-local one is refused.
//!
//! Addresses are checked after DNS resolution. The connection resolves the name again,
//! so a name that changes its answer between the two (DNS rebinding) is not caught here.

use std::net::IpAddr;

use url::{Host, Url};

/// Whether `ip` is reachable only from this machine or its local network.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                // Shared address space (carrier-grade NAT), RFC 6598.
                || (a == 100 && (64..128).contains(&b))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_internal(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                // Unique local fc00::/7 and link-local fe80::/10.
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
        }
    }
}

/// The addresses `url`'s host stands for: itself when it is an address, else what DNS
/// says. Empty when it cannot be resolved (the request then fails on its own).
pub async fn addresses(url: &Url) -> Vec<IpAddr> {
    let port = url.port_or_known_default().unwrap_or(80);
    match url.host() {
        Some(Host::Ipv4(ip)) => vec![IpAddr::V4(ip)],
        Some(Host::Ipv6(ip)) => vec![IpAddr::V6(ip)],
        Some(Host::Domain(name)) => match tokio::net::lookup_host((name, port)).await {
            Ok(found) => found.map(|a| a.ip()).collect(),
            Err(_) => Vec::new(),
        },
        None => Vec::new(),
    }
}

/// Why a redirect from an address in `from` to one in `to` is refused, if it is: the
/// source is public (none of its addresses internal) and the target is not (any of its
/// addresses internal).
pub fn refusal(from: &[IpAddr], to: &[IpAddr]) -> Option<String> {
    let public_source = !from.is_empty() && !from.iter().copied().any(is_internal);
    let internal = to.iter().copied().find(|ip| is_internal(*ip))?;
    public_source.then(|| format!("redirect from a public address to an internal one ({}) refused", kind_of(internal)))
}

fn kind_of(ip: IpAddr) -> &'static str {
    match ip {
        IpAddr::V4(v4) if v4.is_loopback() => "loopback",
        IpAddr::V6(v6) if v6.is_loopback() => "loopback",
        IpAddr::V4(v4) if v4.is_link_local() => "link-local",
        IpAddr::V6(v6) if (v6.segments()[0] & 0xffc0) == 0xfe80 => "link-local",
        IpAddr::V4(v4) if v4.is_private() => "private",
        IpAddr::V6(v6) if (v6.segments()[0] & 0xfe00) == 0xfc00 => "unique-local",
        _ => "local network",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn internal_addresses_are_recognised() {
        for s in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
        ] {
            assert!(is_internal(ip(s)), "{s}");
        }
        for s in ["93.184.216.34", "8.8.8.8", "172.32.0.1", "100.128.0.1", "2606:4700::1111", "::ffff:1.1.1.1"] {
            assert!(!is_internal(ip(s)), "{s}");
        }
    }

    #[test]
    fn only_a_public_source_is_kept_from_internal_targets() {
        let public = [ip("93.184.216.34")];
        let refused = refusal(&public, &[ip("169.254.169.254")]).unwrap();
        assert!(refused.contains("link-local") && !refused.contains("169.254"), "{refused}");
        assert!(refusal(&public, &[ip("1.1.1.1"), ip("10.0.0.1")]).unwrap().contains("private"));
        assert!(refusal(&public, &[ip("::1")]).unwrap().contains("loopback"));
        assert!(refusal(&public, &[ip("fd12::1")]).unwrap().contains("unique-local"));
        assert_eq!(refusal(&public, &[ip("1.1.1.1")]), None, "public to public");
        assert_eq!(refusal(&[ip("127.0.0.1")], &[ip("127.0.0.1")]), None, "a configured local feed may move locally");
        assert_eq!(refusal(&[ip("10.0.0.5")], &[ip("192.168.0.9")]), None, "an intranet feed may move within it");
        assert_eq!(refusal(&[], &[ip("127.0.0.1")]), None, "an unresolved source fails on its own");
    }

    #[tokio::test]
    async fn addresses_of_literals_and_names() {
        assert_eq!(addresses(&Url::parse("http://127.0.0.1:9/x").unwrap()).await, [ip("127.0.0.1")]);
        assert_eq!(addresses(&Url::parse("http://[::1]/x").unwrap()).await, [ip("::1")]);
        let local = addresses(&Url::parse("http://localhost:9/").unwrap()).await;
        assert!(!local.is_empty() && local.iter().all(|a| a.is_loopback()), "{local:?}");
    }
}
