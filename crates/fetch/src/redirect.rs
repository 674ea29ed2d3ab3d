//! Which redirects a download follows. ureq follows none itself (`max_redirects(0)`), so
//! every hop is checked here first.

use ureq::http::Uri;

/// Where a download may be redirected. Plain `http` after `https` is always refused.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Redirects {
    /// Only to the host of the URL asked for.
    #[default]
    SameHost,
    /// To that host, or to these domains and their subdomains (a CDN the origin uses).
    Domains(Vec<String>),
    /// To any host: the user named this server (a mirror) and trusts where it points.
    AnyHost,
}

/// The most hops one request follows.
pub(crate) const MAX_HOPS: usize = 10;

impl Redirects {
    /// Why `origin` → … → `from` may not go on to `to`, if it may not.
    pub(crate) fn refusal(&self, origin: &str, from: &str, to: &str) -> Option<String> {
        let (Some(from_uri), Some(to_uri)) = (parse(from), parse(to)) else {
            return Some("that is not an http(s) address".into());
        };
        if from_uri.scheme_str() == Some("https") && to_uri.scheme_str() != Some("https") {
            return Some("it goes from https to plain http".into());
        }
        let to_host = to_uri.host().unwrap_or_default().to_ascii_lowercase();
        let origin_host = parse(origin)
            .and_then(|u| u.host().map(str::to_ascii_lowercase))
            .unwrap_or_default();
        let allowed = match self {
            Redirects::AnyHost => true,
            Redirects::SameHost => to_host == origin_host,
            Redirects::Domains(domains) => {
                to_host == origin_host || domains.iter().any(|d| within(&to_host, d))
            }
        };
        (!allowed).then(|| format!("it leaves {origin_host} for {to_host}"))
    }
}

fn parse(url: &str) -> Option<Uri> {
    let uri: Uri = url.parse().ok()?;
    matches!(uri.scheme_str(), Some("http" | "https"))
        .then_some(uri)
        .filter(|u| u.host().is_some())
}

/// `host` is `domain` or one of its subdomains.
fn within(host: &str, domain: &str) -> bool {
    let domain = domain.to_ascii_lowercase();
    host == domain || host.ends_with(&format!(".{domain}"))
}

/// The absolute address a `Location` header names, relative to `base`.
pub(crate) fn resolve(base: &str, location: &str) -> String {
    let location = location.trim();
    if location.starts_with("http://") || location.starts_with("https://") {
        return location.into();
    }
    let Some(uri) = parse(base) else {
        return location.into();
    };
    let scheme = uri.scheme_str().unwrap_or("https");
    let authority = uri.authority().map_or("", |a| a.as_str());
    if location.starts_with("//") {
        format!("{scheme}:{location}")
    } else if location.starts_with('/') {
        format!("{scheme}://{authority}{location}")
    } else {
        let path = uri.path();
        let dir = &path[..path.rfind('/').map_or(0, |i| i + 1)];
        let dir = if dir.is_empty() { "/" } else { dir };
        format!("{scheme}://{authority}{dir}{location}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_to_http_is_refused_whatever_the_policy() {
        for policy in [
            Redirects::SameHost,
            Redirects::Domains(vec!["hf.co".into()]),
            Redirects::AnyHost,
        ] {
            let why = policy.refusal("https://hf.co/a", "https://hf.co/a", "http://hf.co/b");
            assert_eq!(why.as_deref(), Some("it goes from https to plain http"));
        }
        // A plain http mirror stays plain http: nothing is downgraded.
        assert!(
            Redirects::AnyHost
                .refusal("http://m/a", "http://m/a", "http://n/b")
                .is_none()
        );
    }

    #[test]
    fn other_hosts_only_when_allowed() {
        let same = Redirects::SameHost;
        assert!(
            same.refusal("https://a.org/x", "https://a.org/x", "https://A.org/y")
                .is_none()
        );
        let why = same.refusal("https://a.org/x", "https://a.org/x", "https://b.org/y");
        assert_eq!(why.as_deref(), Some("it leaves a.org for b.org"));
        let hf = Redirects::Domains(vec!["huggingface.co".into(), "hf.co".into()]);
        for cdn in [
            "https://cdn-lfs.huggingface.co/r/x",
            "https://cas-bridge.xethub.hf.co/x",
            "https://hf.co/x",
        ] {
            assert!(
                hf.refusal("https://huggingface.co/r", "https://huggingface.co/r", cdn)
                    .is_none(),
                "{cdn}"
            );
        }
        for evil in [
            "https://evilhf.co/x",
            "https://hf.co.evil.org/x",
            "ftp://hf.co/x",
        ] {
            assert!(
                hf.refusal("https://huggingface.co/r", "https://huggingface.co/r", evil)
                    .is_some(),
                "{evil}"
            );
        }
    }

    #[test]
    fn locations_resolve_against_the_current_address() {
        let base = "https://h.org:8443/a/b/c.bin?x=1";
        assert_eq!(resolve(base, "/d"), "https://h.org:8443/d");
        assert_eq!(resolve(base, "d.bin"), "https://h.org:8443/a/b/d.bin");
        assert_eq!(resolve(base, "//cdn.org/e"), "https://cdn.org/e");
        assert_eq!(resolve(base, "http://o.org/f"), "http://o.org/f");
    }
}
