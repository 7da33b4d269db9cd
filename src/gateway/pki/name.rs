//! X.509 names for path validation: distinguished names compared by the
//! RFC 5280 §7.1 rules, general names, and name-constraint matching
//! (RFC 5280 §4.2.1.10, §6.1.3 (b)–(c), §6.1.4 (g)).
//!
//! The rule this file keeps: two names are equal only when every RDN holds
//! the same attribute types with values equal after normalisation (string
//! types case-folded, surrounding white space removed and inner runs
//! collapsed; other types compared byte for byte), and a name of a form we
//! cannot match against a constraint of that form is a violation, never a
//! pass. Nothing here logs or prints a name.

use x509_parser::der_parser::asn1_rs::Tag;
use x509_parser::extensions::GeneralName;
use x509_parser::x509::{RelativeDistinguishedName, X509Name};

/// emailAddress (1.2.840.113549.1.9.1), DER OID content octets: PKCS #9
/// e-mail addresses in a subject DN are held to rfc822Name constraints.
const EMAIL_ADDRESS_OID: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01];

/// One attribute value after normalisation.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum AttrValue {
    /// A character string, case-folded with white space normalised.
    Text(String),
    /// Any other encoding: tag number and content octets, compared exactly.
    Raw(u32, Vec<u8>),
}

/// A distinguished name in comparable form: the RDN sequence in order, the
/// attributes inside each RDN sorted (an RDN is a SET).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Name {
    rdns: Vec<Vec<(Vec<u8>, AttrValue)>>,
}

impl Name {
    /// Normalises a parsed name.
    pub(crate) fn from_x509(name: &X509Name<'_>) -> Name {
        let rdns = name
            .iter()
            .map(|rdn| {
                let mut attrs: Vec<_> = rdn
                    .iter()
                    .map(|atv| {
                        let value = atv.attr_value();
                        (
                            atv.attr_type().as_bytes().to_vec(),
                            normalise(value.tag(), value.data),
                        )
                    })
                    .collect();
                attrs.sort();
                attrs
            })
            .collect();
        Name { rdns }
    }

    /// A name of one RDN (a distribution point's nameRelativeToCRLIssuer).
    pub(crate) fn from_rdn(rdn: &RelativeDistinguishedName<'_>) -> Name {
        let mut attrs: Vec<_> = rdn
            .iter()
            .map(|atv| {
                let value = atv.attr_value();
                (
                    atv.attr_type().as_bytes().to_vec(),
                    normalise(value.tag(), value.data),
                )
            })
            .collect();
        attrs.sort();
        Name { rdns: vec![attrs] }
    }

    /// `self` followed by the RDNs of `suffix` (RFC 5280 §4.2.1.13: a
    /// relative distribution point name is appended to the CRL issuer).
    pub(crate) fn join(&self, suffix: &Name) -> Name {
        let mut rdns = self.rdns.clone();
        rdns.extend(suffix.rdns.iter().cloned());
        Name { rdns }
    }

    /// An empty sequence of RDNs (allowed for subjects with a subjectAltName).
    pub fn is_empty(&self) -> bool {
        self.rdns.is_empty()
    }

    /// RFC 5280 §4.2.1.10: `self` is within the subtree rooted at `base`
    /// when `base`'s RDNs are a prefix of ours.
    fn within(&self, base: &Name) -> bool {
        base.rdns.len() <= self.rdns.len() && self.rdns.iter().zip(&base.rdns).all(|(a, b)| a == b)
    }

    /// Values of emailAddress attributes (legacy e-mail in the subject DN).
    fn email_addresses(&self) -> impl Iterator<Item = &str> {
        self.rdns
            .iter()
            .flatten()
            .filter(|(oid, _)| oid == EMAIL_ADDRESS_OID)
            .filter_map(|(_, v)| match v {
                AttrValue::Text(s) => Some(s.as_str()),
                AttrValue::Raw(..) => None,
            })
    }
}

/// RFC 5280 §7.1 / RFC 4518, as far as reasonable without full stringprep:
/// string types are decoded, case-folded, trimmed and inner white-space runs
/// collapsed, so PrintableString "Good  CA" equals UTF8String "good ca".
fn normalise(tag: Tag, data: &[u8]) -> AttrValue {
    let text = match tag {
        Tag::PrintableString | Tag::Utf8String | Tag::Ia5String | Tag::NumericString => {
            std::str::from_utf8(data).ok().map(str::to_string)
        }
        Tag::TeletexString => Some(data.iter().map(|&b| char::from(b)).collect()),
        Tag::BmpString => {
            if data.len() % 2 != 0 {
                None
            } else {
                let units = data
                    .chunks_exact(2)
                    .map(|c| u16::from_be_bytes([c[0], c[1]]));
                char::decode_utf16(units)
                    .collect::<Result<String, _>>()
                    .ok()
            }
        }
        Tag::UniversalString => {
            if data.len() % 4 != 0 {
                None
            } else {
                data.chunks_exact(4)
                    .map(|c| char::from_u32(u32::from_be_bytes([c[0], c[1], c[2], c[3]])))
                    .collect::<Option<String>>()
            }
        }
        _ => None,
    };
    match text {
        Some(s) => {
            let folded: String = s.chars().flat_map(char::to_lowercase).collect();
            AttrValue::Text(folded.split_whitespace().collect::<Vec<_>>().join(" "))
        }
        None => AttrValue::Raw(tag.0, data.to_vec()),
    }
}

/// A general name in owned form. Forms we do not match against constraints
/// keep only their tag number, so a constraint on that form refuses them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GName {
    /// rfc822Name.
    Email(String),
    /// dNSName.
    Dns(String),
    /// directoryName.
    Dir(Name),
    /// uniformResourceIdentifier.
    Uri(String),
    /// iPAddress: 4 or 16 bytes in a SAN, address + mask (8 or 32) in a constraint.
    Ip(Vec<u8>),
    /// otherName, x400Address, ediPartyName, registeredID, or a malformed
    /// entry of any form: the GeneralName tag number.
    Other(u32),
}

impl GName {
    pub(crate) fn from_x509(name: &GeneralName<'_>) -> GName {
        match name {
            GeneralName::RFC822Name(s) => GName::Email((*s).to_string()),
            GeneralName::DNSName(s) => GName::Dns((*s).to_string()),
            GeneralName::DirectoryName(n) => GName::Dir(Name::from_x509(n)),
            GeneralName::URI(s) => GName::Uri((*s).to_string()),
            GeneralName::IPAddress(b) => GName::Ip(b.to_vec()),
            GeneralName::OtherName(..) => GName::Other(0),
            GeneralName::X400Address(_) => GName::Other(3),
            GeneralName::EDIPartyName(_) => GName::Other(5),
            GeneralName::RegisteredID(_) => GName::Other(8),
            GeneralName::Invalid(tag, _) => GName::Other(tag.0),
        }
    }

    /// The GeneralName CHOICE tag number: constraints apply per form.
    fn form(&self) -> u32 {
        match self {
            GName::Email(_) => 1,
            GName::Dns(_) => 2,
            GName::Dir(_) => 4,
            GName::Uri(_) => 6,
            GName::Ip(_) => 7,
            GName::Other(t) => *t,
        }
    }

    /// Whether `self` (a name in a certificate) lies in subtree `base`
    /// (from a constraint) of the same form. `None`: cannot be decided (an
    /// unsupported form, or a malformed name), which callers treat as a
    /// violation.
    fn within(&self, base: &GName) -> Option<bool> {
        match (self, base) {
            (GName::Dns(n), GName::Dns(c)) => Some(dns_within(n, c)),
            (GName::Email(n), GName::Email(c)) => email_within(n, c),
            (GName::Dir(n), GName::Dir(c)) => Some(n.within(c)),
            (GName::Uri(n), GName::Uri(c)) => uri_host(n).map(|h| host_within_uri(h, c)),
            (GName::Ip(n), GName::Ip(c)) => Some(ip_within(n, c)),
            _ => None,
        }
    }
}

fn dns_within(name: &str, base: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    let base = base.trim_end_matches('.').to_ascii_lowercase();
    if base.is_empty() {
        return true;
    }
    if base.starts_with('.') {
        return name.ends_with(&base);
    }
    name == base || name.ends_with(&format!(".{base}"))
}

/// RFC 5280 §4.2.1.10: a mailbox, a host (all mailboxes there), or a domain
/// with a leading period (all hosts below it).
fn email_within(name: &str, base: &str) -> Option<bool> {
    let (local, host) = name.rsplit_once('@')?;
    if local.is_empty() || host.is_empty() {
        return None;
    }
    Some(
        if let Some((base_local, base_host)) = base.rsplit_once('@') {
            local == base_local && host.eq_ignore_ascii_case(base_host)
        } else if base.starts_with('.') {
            host.to_ascii_lowercase()
                .ends_with(&base.to_ascii_lowercase())
        } else {
            host.eq_ignore_ascii_case(base)
        },
    )
}

/// The host of a URI with an authority (`scheme://[userinfo@]host[:port]/...`).
/// `None` when there is none: such a URI cannot satisfy a URI constraint.
fn uri_host(uri: &str) -> Option<&str> {
    let (_, rest) = uri.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if host_port.starts_with('[') {
        host_port.split_once(']').map(|(h, _)| &h[1..])?
    } else {
        host_port.split(':').next()?
    };
    (!host.is_empty()).then_some(host)
}

fn host_within_uri(host: &str, base: &str) -> bool {
    if base.starts_with('.') {
        host.to_ascii_lowercase()
            .ends_with(&base.to_ascii_lowercase())
    } else {
        host.eq_ignore_ascii_case(base)
    }
}

fn ip_within(addr: &[u8], base: &[u8]) -> bool {
    let half = base.len() / 2;
    if !(base.len() == 8 || base.len() == 32) || addr.len() != half {
        return false;
    }
    let (net, mask) = base.split_at(half);
    addr.iter()
        .zip(net)
        .zip(mask)
        .all(|((a, n), m)| a & m == n & m)
}

/// Whether a subjectAltName entry keeps its form's syntax (RFC 5280
/// §4.2.1.6): a dNSName in the preferred name syntax (a leftmost `*` label
/// allowed), an rfc822Name that is a mailbox, a URI with a scheme and a
/// scheme-specific part (and a host when it has an authority), an
/// iPAddress of 4 or 16 octets. Forms kofu does not read are taken as they
/// are; an entry x509-parser could not read is refused.
pub(crate) fn alt_name_well_formed(name: &GeneralName<'_>) -> bool {
    match name {
        GeneralName::DNSName(s) => {
            let host = s.strip_prefix("*.").unwrap_or(s);
            host_well_formed(host)
        }
        GeneralName::RFC822Name(s) => mailbox_well_formed(s),
        GeneralName::URI(s) => uri_well_formed(s),
        GeneralName::IPAddress(b) => b.len() == 4 || b.len() == 16,
        GeneralName::Invalid(..) => false,
        GeneralName::OtherName(..)
        | GeneralName::X400Address(_)
        | GeneralName::DirectoryName(_)
        | GeneralName::EDIPartyName(_)
        | GeneralName::RegisteredID(_) => true,
    }
}

/// Whether a name-constraint base keeps its form's syntax (RFC 5280
/// §4.2.1.10): a dNSName or URI host that is a host name or a domain with
/// a leading period (or, for dNSName, empty: every name), an rfc822Name
/// that is a mailbox, a host or a `.domain`, an iPAddress of 8 or 32
/// octets (address and mask).
pub(crate) fn constraint_base_well_formed(name: &GeneralName<'_>) -> bool {
    let domain = |s: &str| host_well_formed(s.strip_prefix('.').unwrap_or(s));
    match name {
        GeneralName::DNSName(s) => s.is_empty() || domain(s),
        GeneralName::RFC822Name(s) => {
            if s.contains('@') {
                mailbox_well_formed(s)
            } else {
                domain(s)
            }
        }
        GeneralName::URI(s) => domain(s),
        GeneralName::IPAddress(b) => b.len() == 8 || b.len() == 32,
        GeneralName::Invalid(..) => false,
        GeneralName::OtherName(..)
        | GeneralName::X400Address(_)
        | GeneralName::DirectoryName(_)
        | GeneralName::EDIPartyName(_)
        | GeneralName::RegisteredID(_) => true,
    }
}

/// RFC 1034 §3.5 preferred name syntax, as RFC 1123 §2.1 relaxed it
/// (labels may start with a digit): dot-separated labels of 1–63 letters,
/// digits and inner hyphens, 253 octets at most, no trailing dot.
fn host_well_formed(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            let b = label.as_bytes();
            matches!((b.first(), b.last()), (Some(f), Some(l)) if *f != b'-' && *l != b'-')
                && b.len() <= 63
                && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
        })
}

/// `local-part@domain` (RFC 5321 §4.1.2): a non-empty local part of
/// visible ASCII, a well-formed host.
fn mailbox_well_formed(mailbox: &str) -> bool {
    let Some((local, domain)) = mailbox.rsplit_once('@') else {
        return false;
    };
    !local.is_empty() && local.bytes().all(|c| c.is_ascii_graphic()) && host_well_formed(domain)
}

/// An absolute URI (RFC 3986 §3): `scheme ":" hier-part` with a scheme of
/// a letter then letters, digits, `+`, `-`, `.`; a non-empty rest of
/// visible ASCII; a host when there is an authority (RFC 5280 §4.2.1.6).
fn uri_well_formed(uri: &str) -> bool {
    let Some((scheme, rest)) = uri.split_once(':') else {
        return false;
    };
    let mut chars = scheme.bytes();
    let scheme_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == b'+' || c == b'-' || c == b'.');
    scheme_ok
        && !rest.is_empty()
        && uri.bytes().all(|c| c.is_ascii_graphic())
        && (!rest.starts_with("//") || uri_host(uri).is_some())
}

/// The permitted and excluded subtrees accumulated along a path.
///
/// Permitted subtrees are kept as one set per constraining certificate, and
/// a name must fall inside every set that constrains its form: that is the
/// intersection RFC 5280 §6.1.4 (g)(1) asks for, without computing it.
/// Excluded subtrees are a plain union.
#[derive(Debug, Clone, Default)]
pub(crate) struct NameConstraintState {
    permitted: Vec<Vec<GName>>,
    excluded: Vec<GName>,
}

impl NameConstraintState {
    /// §6.1.4 (g): folds in a certificate's nameConstraints.
    pub(crate) fn add(&mut self, permitted: Option<&[GName]>, excluded: Option<&[GName]>) {
        if let Some(p) = permitted {
            self.permitted.push(p.to_vec());
        }
        if let Some(e) = excluded {
            self.excluded.extend_from_slice(e);
        }
    }

    /// Whether nothing constrains any name.
    pub(crate) fn is_empty(&self) -> bool {
        self.permitted.is_empty() && self.excluded.is_empty()
    }

    /// §6.1.3 (b)–(c): the subject DN (when not empty), e-mail addresses in
    /// it, and every subjectAltName must be permitted and not excluded.
    pub(crate) fn check(&self, subject: &Name, alt_names: &[GName]) -> bool {
        if self.is_empty() {
            return true;
        }
        if !subject.is_empty() && !self.allows(&GName::Dir(subject.clone())) {
            return false;
        }
        if !subject
            .email_addresses()
            .all(|e| self.allows(&GName::Email(e.to_string())))
        {
            return false;
        }
        alt_names.iter().all(|n| self.allows(n))
    }

    fn allows(&self, name: &GName) -> bool {
        let form = name.form();
        for set in &self.permitted {
            let mut same_form = set.iter().filter(|b| b.form() == form).peekable();
            if same_form.peek().is_none() {
                continue;
            }
            let mut inside = false;
            for base in same_form {
                match name.within(base) {
                    Some(true) => inside = true,
                    Some(false) => {}
                    None => return false,
                }
            }
            if !inside {
                return false;
            }
        }
        for base in self.excluded.iter().filter(|b| b.form() == form) {
            match name.within(base) {
                Some(false) => {}
                Some(true) | None => return false,
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_constraint_covers_the_domain_and_its_subdomains_only() {
        assert!(dns_within("example.com", "example.com"));
        assert!(dns_within("a.Example.COM", "example.com"));
        assert!(!dns_within("badexample.com", "example.com"));
        assert!(dns_within("a.example.com", ".example.com"));
        assert!(!dns_within("example.com", ".example.com"));
        assert!(dns_within("anything", ""));
    }

    #[test]
    fn email_constraint_forms_mailbox_host_and_domain() {
        assert_eq!(email_within("a@x.org", "a@X.org"), Some(true));
        assert_eq!(email_within("b@x.org", "a@x.org"), Some(false));
        assert_eq!(email_within("b@x.org", "x.org"), Some(true));
        assert_eq!(email_within("b@m.x.org", "x.org"), Some(false));
        assert_eq!(email_within("b@m.x.org", ".x.org"), Some(true));
        assert_eq!(email_within("no-at-sign", "x.org"), None);
    }

    #[test]
    fn uri_constraint_reads_the_host() {
        assert_eq!(uri_host("http://u@Host.example:80/p"), Some("Host.example"));
        assert_eq!(uri_host("https://[::1]/"), Some("::1"));
        assert_eq!(uri_host("urn:isbn:123"), None);
        assert!(host_within_uri("host.example", "HOST.example"));
        assert!(host_within_uri("a.host.example", ".host.example"));
        assert!(!host_within_uri("host.example", ".host.example"));
    }

    #[test]
    fn ip_constraint_is_address_and_mask() {
        let net = [192, 168, 0, 0, 255, 255, 0, 0];
        assert!(ip_within(&[192, 168, 4, 5], &net));
        assert!(!ip_within(&[192, 169, 4, 5], &net));
        assert!(!ip_within(&[0; 16], &net));
    }

    #[test]
    fn unsupported_form_under_a_constraint_of_that_form_is_refused() {
        let mut state = NameConstraintState::default();
        state.add(Some(&[GName::Other(0)]), None);
        assert!(!state.check(&Name::default(), &[GName::Other(0)]));
        assert!(state.check(&Name::default(), &[GName::Dns("a".into())]));
    }

    #[test]
    fn alt_names_are_held_to_the_syntax_of_their_form() {
        let ok = |n: GeneralName<'_>| alt_name_well_formed(&n);
        assert!(ok(GeneralName::DNSName("www.example.jp")));
        assert!(ok(GeneralName::DNSName("*.example.jp")));
        assert!(ok(GeneralName::DNSName("3com.example")));
        assert!(!ok(GeneralName::DNSName(" ")));
        assert!(!ok(GeneralName::DNSName("")));
        assert!(!ok(GeneralName::DNSName("a..example")));
        assert!(!ok(GeneralName::DNSName("-a.example")));
        assert!(!ok(GeneralName::DNSName("a_b.example")));
        assert!(!ok(GeneralName::DNSName("example.jp.")));
        assert!(!ok(GeneralName::DNSName("a.*.example")));
        assert!(ok(GeneralName::RFC822Name("a@example.jp")));
        assert!(!ok(GeneralName::RFC822Name("example.jp")));
        assert!(!ok(GeneralName::RFC822Name("@example.jp")));
        assert!(!ok(GeneralName::RFC822Name("a b@example.jp")));
        assert!(ok(GeneralName::URI("https://host.example/p?q")));
        assert!(ok(GeneralName::URI("urn:kofu:role:jlis")));
        assert!(!ok(GeneralName::URI("/relative/path")));
        assert!(!ok(GeneralName::URI("https:")));
        assert!(!ok(GeneralName::URI("https:///no-host")));
        assert!(!ok(GeneralName::URI("1http://host.example/")));
        assert!(ok(GeneralName::IPAddress(&[192, 0, 2, 1])));
        assert!(ok(GeneralName::IPAddress(&[0; 16])));
        assert!(!ok(GeneralName::IPAddress(&[192, 0, 2])));
        assert!(!ok(GeneralName::IPAddress(&[0; 8])));
    }

    #[test]
    fn constraint_bases_are_held_to_the_syntax_of_their_form() {
        let ok = |n: GeneralName<'_>| constraint_base_well_formed(&n);
        assert!(ok(GeneralName::DNSName("example.jp")));
        assert!(ok(GeneralName::DNSName(".example.jp")));
        assert!(ok(GeneralName::DNSName("")));
        assert!(!ok(GeneralName::DNSName("*.example.jp")));
        assert!(ok(GeneralName::RFC822Name("a@example.jp")));
        assert!(ok(GeneralName::RFC822Name(".example.jp")));
        assert!(!ok(GeneralName::RFC822Name("a@")));
        assert!(ok(GeneralName::URI(".example.jp")));
        assert!(!ok(GeneralName::URI("https://example.jp/")));
        assert!(ok(GeneralName::IPAddress(&[
            192, 168, 0, 0, 255, 255, 0, 0
        ])));
        assert!(!ok(GeneralName::IPAddress(&[192, 168, 0, 0])));
    }

    #[test]
    fn permitted_sets_intersect_and_exclusions_win() {
        let mut state = NameConstraintState::default();
        state.add(Some(&[GName::Dns("example.com".into())]), None);
        state.add(
            Some(&[GName::Dns("a.example.com".into())]),
            Some(&[GName::Dns("x.a.example.com".into())]),
        );
        let ok = |n: &str| state.check(&Name::default(), &[GName::Dns(n.into())]);
        assert!(ok("a.example.com"));
        assert!(!ok("b.example.com"));
        assert!(!ok("x.a.example.com"));
    }
}
