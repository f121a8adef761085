//! Who may talk to the dashboard: requests from this machine's browser that carry the
//! dashboard's token, addressed to it by its loopback name.
//!
//! The server listens on 127.0.0.1 only, but a web page from anywhere, open in the user's
//! browser, can still send requests there. Three checks stop it:
//!
//! - **Host**: the `Host` header must name the dashboard (`127.0.0.1:<port>` or
//!   `localhost:<port>`). A page on `evil.example` that rebinds its name to 127.0.0.1 (DNS
//!   rebinding) sends `Host: evil.example` and is refused.
//! - **Origin**: a request that says where it comes from must come from the dashboard itself.
//!   Browsers send `Origin` on cross-site requests and on every `POST`; a page elsewhere is
//!   refused even if it knew the token.
//! - **Token**: every request carries the random token printed with the URL, in the query
//!   (`?token=…`) or in the cookie the dashboard sets when its page is first loaded with it
//!   (`HttpOnly`, `SameSite=Strict`, named after the port so two dashboards do not overwrite
//!   each other's).

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The `Host` header is missing or names another host.
    ForeignHost,
    /// The `Origin` header names another site.
    ForeignOrigin,
    /// The token is missing or wrong.
    BadToken,
}

impl Refusal {
    /// Returns the stable error code.
    pub fn code(self) -> &'static str {
        match self {
            Refusal::ForeignHost => "FOREIGN_HOST",
            Refusal::ForeignOrigin => "FOREIGN_ORIGIN",
            Refusal::BadToken => "TOKEN_REQUIRED",
        }
    }

    /// Returns the message.
    pub fn message(self) -> &'static str {
        match self {
            Refusal::ForeignHost => "The request is not addressed to this dashboard",
            Refusal::ForeignOrigin => "The request comes from another site",
            Refusal::BadToken => "The request does not carry this dashboard's token",
        }
    }

    /// Returns a hint.
    pub fn hint(self) -> &'static str {
        match self {
            Refusal::ForeignHost | Refusal::ForeignOrigin => {
                "Open the address `missionctl dashboard` printed, as printed"
            }
            Refusal::BadToken => {
                "Open the address `missionctl dashboard` printed, with its `?token=`; \
                 `missionctl dashboard` prints it again"
            }
        }
    }
}

/// What the checks need of a request.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestFacts<'a> {
    /// The `Host` header.
    pub host: Option<&'a str>,
    /// The `Origin` header.
    pub origin: Option<&'a str>,
    /// The query string, without `?`.
    pub query: Option<&'a str>,
    /// The `Cookie` header.
    pub cookie: Option<&'a str>,
}

/// Returns the name of the cookie holding the token of the dashboard on `port`.
pub fn cookie_name(port: u16) -> String {
    format!("missionctl_dashboard_{port}")
}

/// Returns the hosts the dashboard on `port` answers to.
fn own_hosts(port: u16) -> [String; 2] {
    [format!("127.0.0.1:{port}"), format!("localhost:{port}")]
}

/// Checks a request; `Ok` when it may be served.
pub fn check(facts: &RequestFacts<'_>, port: u16, token: &str) -> Result<(), Refusal> {
    let hosts = own_hosts(port);
    let host = facts.host.map(str::trim).ok_or(Refusal::ForeignHost)?;
    if !hosts.iter().any(|own| own.eq_ignore_ascii_case(host)) {
        return Err(Refusal::ForeignHost);
    }
    if let Some(origin) = facts.origin {
        let origin = origin.trim();
        let allowed = hosts
            .iter()
            .any(|own| origin.eq_ignore_ascii_case(&format!("http://{own}")));
        if !allowed {
            return Err(Refusal::ForeignOrigin);
        }
    }
    let from_query = facts.query.and_then(|query| query_value(query, "token"));
    let name = cookie_name(port);
    let from_cookie = facts.cookie.and_then(|cookie| cookie_value(cookie, &name));
    let presented = [from_query, from_cookie];
    if presented
        .iter()
        .flatten()
        .any(|candidate| same_secret(candidate, token))
    {
        Ok(())
    } else {
        Err(Refusal::BadToken)
    }
}

/// Returns the value of `key` in a query string (no percent-decoding: the token is hex).
pub fn query_value<'a>(query: &'a str, key: &str) -> Option<&'a str> {
    query.split('&').find_map(|pair| {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        (name == key).then_some(value)
    })
}

/// Returns the value of the cookie `name` in a `Cookie` header.
fn cookie_value<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').find_map(|pair| {
        let (key, value) = pair.trim().split_once('=')?;
        (key == name).then_some(value)
    })
}

/// Compares two secrets in time that does not depend on where they differ.
fn same_secret(candidate: &str, token: &str) -> bool {
    let (a, b) = (candidate.as_bytes(), token.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Returns a new token: 32 random bytes from the operating system, as hex.
pub fn new_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(bytes.iter().map(|byte| format!("{byte:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "00ff";

    fn facts<'a>(
        host: &'a str,
        origin: Option<&'a str>,
        query: Option<&'a str>,
    ) -> RequestFacts<'a> {
        RequestFacts {
            host: Some(host),
            origin,
            query,
            cookie: None,
        }
    }

    #[test]
    fn only_own_hosts_origins_and_the_token_pass() {
        let ok = facts("127.0.0.1:8123", None, Some("token=00ff"));
        assert_eq!(check(&ok, 8123, TOKEN), Ok(()));
        let ok = facts(
            "localhost:8123",
            Some("http://localhost:8123"),
            Some("a=b&token=00ff"),
        );
        assert_eq!(check(&ok, 8123, TOKEN), Ok(()));
        for (host, origin, query, refusal) in [
            (
                "evil.example:8123",
                None,
                Some("token=00ff"),
                Refusal::ForeignHost,
            ),
            (
                "127.0.0.1:9999",
                None,
                Some("token=00ff"),
                Refusal::ForeignHost,
            ),
            (
                "127.0.0.1:8123",
                Some("http://evil.example"),
                Some("token=00ff"),
                Refusal::ForeignOrigin,
            ),
            (
                "127.0.0.1:8123",
                Some("https://127.0.0.1:8123"),
                Some("token=00ff"),
                Refusal::ForeignOrigin,
            ),
            ("127.0.0.1:8123", None, None, Refusal::BadToken),
            (
                "127.0.0.1:8123",
                None,
                Some("token=00fe"),
                Refusal::BadToken,
            ),
            (
                "127.0.0.1:8123",
                None,
                Some("token=00ff0"),
                Refusal::BadToken,
            ),
            (
                "127.0.0.1:8123",
                None,
                Some("xtoken=00ff"),
                Refusal::BadToken,
            ),
        ] {
            assert_eq!(
                check(&facts(host, origin, query), 8123, TOKEN),
                Err(refusal),
                "{host} {origin:?} {query:?}"
            );
        }
        let no_host = RequestFacts {
            query: Some("token=00ff"),
            ..RequestFacts::default()
        };
        assert_eq!(check(&no_host, 8123, TOKEN), Err(Refusal::ForeignHost));
    }

    #[test]
    fn the_cookie_of_this_port_carries_the_token() {
        let mut request = facts("127.0.0.1:8123", None, None);
        request.cookie = Some("other=1; missionctl_dashboard_8123=00ff");
        assert_eq!(check(&request, 8123, TOKEN), Ok(()));
        request.cookie = Some("missionctl_dashboard_9000=00ff");
        assert_eq!(check(&request, 8123, TOKEN), Err(Refusal::BadToken));
    }

    #[test]
    fn tokens_are_long_and_fresh() -> Result<(), getrandom::Error> {
        let (a, b) = (new_token()?, new_token()?);
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert!(a.bytes().all(|byte| byte.is_ascii_hexdigit()));
        Ok(())
    }
}
