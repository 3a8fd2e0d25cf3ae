//! The backend address of `ocppu`: `ws://` or `wss://`, Basic-auth
//! credentials in the userinfo (OCPP security profiles 1 and 2), and the
//! `{serial}` placeholder that gives every charger of a fleet its own
//! identity.

use std::fmt;

/// A parsed `ocppu`.
#[derive(Clone, PartialEq, Eq)]
pub struct BackendUrl {
    /// `wss://` (TLS) or `ws://`.
    pub tls: bool,
    /// Host name or IP (without brackets for IPv6).
    pub host: String,
    /// TCP port (80 / 443 by default).
    pub port: u16,
    /// Path and query as sent in the request line (`/ocpp/012345`).
    pub path: String,
    /// Basic-auth user and password from the userinfo, if any.
    pub credentials: Option<(String, String)>,
}

impl fmt::Debug for BackendUrl {
    // the password never reaches a log
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BackendUrl")
            .field("tls", &self.tls)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("path", &self.path)
            .field("user", &self.credentials.as_ref().map(|(u, _)| u))
            .finish()
    }
}

impl BackendUrl {
    /// The URL as it may be shown (`ocpple`, logs): without the password.
    pub fn shown(&self) -> String {
        let scheme = if self.tls { "wss" } else { "ws" };
        let user = match &self.credentials {
            Some((u, _)) => format!("{u}:********@"),
            None => String::new(),
        };
        format!("{scheme}://{user}{}:{}{}", self.host, self.port, self.path)
    }

    /// The `Host` header value.
    pub fn host_header(&self) -> String {
        let default = if self.tls { 443 } else { 80 };
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == default {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }
}

/// Why an `ocppu` cannot be used (shown in `ocpple`; never contains the
/// password).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    /// Not `ws://` or `wss://`.
    #[error("ocpp url must start with ws:// or wss://")]
    Scheme,
    /// No host.
    #[error("ocpp url has no host")]
    NoHost,
    /// The port is not a number 1–65535.
    #[error("bad port in ocpp url")]
    Port,
}

/// Parses `ocppu`, replacing `{serial}` by `serial` first.
pub fn parse(url: &str, serial: &str) -> Result<BackendUrl, UrlError> {
    let url = url.trim().replace("{serial}", serial);
    let (tls, rest) = if let Some(r) = url.strip_prefix("ws://") {
        (false, r)
    } else if let Some(r) = url.strip_prefix("wss://") {
        (true, r)
    } else {
        return Err(UrlError::Scheme);
    };
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let path = if path.starts_with('?') {
        format!("/{path}")
    } else {
        path.to_owned()
    };
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
        let (host, after) = v6.split_once(']').ok_or(UrlError::NoHost)?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p),
            None if after.is_empty() => None,
            None => return Err(UrlError::Port),
        };
        (host, port)
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        }
    };
    if host.is_empty() {
        return Err(UrlError::NoHost);
    }
    let port = match port {
        // (the port text is not echoed: it could be a password typed without `@`)
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or(UrlError::Port)?,
        None if tls => 443,
        None => 80,
    };
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    };
    let credentials = userinfo.map(|u| match u.split_once(':') {
        Some((user, pass)) => (decode(user), decode(pass)),
        None => (decode(u), String::new()),
    });
    Ok(BackendUrl {
        tls,
        host: host.to_owned(),
        port,
        path,
        credentials,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_installers_type() {
        let u = parse("ws://ocpp.server:1234/chargers/201564", "1").unwrap();
        assert_eq!(
            (u.tls, u.host.as_str(), u.port, u.path.as_str()),
            (false, "ocpp.server", 1234, "/chargers/201564")
        );
        assert_eq!(u.credentials, None);
        let u = parse("wss://cp:s%40cret@csms.example/ocpp/{serial}", "012345").unwrap();
        assert!(u.tls);
        assert_eq!(u.port, 443);
        assert_eq!(u.path, "/ocpp/012345");
        assert_eq!(u.credentials, Some(("cp".into(), "s@cret".into())));
        assert_eq!(u.shown(), "wss://cp:********@csms.example:443/ocpp/012345");
        assert!(!format!("{u:?}").contains("cret"));
        let u = parse("ws://[::1]:9000", "1").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("::1", 9000, "/")
        );
        assert_eq!(u.host_header(), "[::1]:9000");
    }

    #[test]
    fn refuses_what_cannot_be_dialled_without_echoing_it() {
        assert_eq!(parse("http://x/", "1"), Err(UrlError::Scheme));
        assert_eq!(parse("ws:///path", "1"), Err(UrlError::NoHost));
        assert_eq!(parse("ws://user:secret", "1"), Err(UrlError::Port));
        assert_eq!(parse("ws://h:0/", "1"), Err(UrlError::Port));
        assert!(!UrlError::Port.to_string().contains("secret"));
    }
}
