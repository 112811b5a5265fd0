//! Phone gateways (the JMP / Cheogram model): an XMPP service with the disco identity
//! `gateway/pstn` turns a phone number into a JID, `<number>@<gateway>`, that can be messaged
//! and called like any other.

use jid::{BareJid, Jid};

use crate::disco::{self, DiscoInfo};
use crate::session::{IqError, SessionHandle};

/// How many candidate services are asked, at most (a server lists few items).
const MAX_PROBED: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GatewayError {
    #[error("not a phone number: {0:?} (expected digits, optionally after a '+')")]
    NotANumber(String),
    #[error("the phone number does not make a valid address at {gateway}")]
    InvalidAddress { gateway: String },
}

/// Whether a service says it is a phone gateway.
pub fn is_phone_gateway(info: &DiscoInfo) -> bool {
    info.identities
        .iter()
        .any(|(category, kind, _)| category == "gateway" && kind == "pstn")
}

/// Whether the user typed a phone number rather than an address: an optional '+' and digits,
/// with the usual separators (spaces, '-', '.', parentheses).
pub fn looks_like_phone_number(input: &str) -> bool {
    normalise_number(input).is_ok()
}

/// "+1 (555) 123-4567" -> "+15551234567".
pub fn normalise_number(input: &str) -> Result<String, GatewayError> {
    let trimmed = input.trim();
    let (plus, rest) = match trimmed.strip_prefix('+') {
        Some(rest) => ("+", rest),
        None => ("", trimmed),
    };
    let mut digits = String::with_capacity(rest.len() + 1);
    digits.push_str(plus);
    for c in rest.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' | '.' | '(' | ')' => {}
            _ => return Err(GatewayError::NotANumber(input.to_string())),
        }
    }
    let count = digits.len() - plus.len();
    if !(3..=20).contains(&count) {
        return Err(GatewayError::NotANumber(input.to_string()));
    }
    Ok(digits)
}

/// The JID of a phone number at a gateway.
pub fn number_jid(gateway: &BareJid, number: &str) -> Result<BareJid, GatewayError> {
    let number = normalise_number(number)?;
    BareJid::new(&format!("{number}@{}", gateway.domain())).map_err(|_| {
        GatewayError::InvalidAddress {
            gateway: gateway.to_string(),
        }
    })
}

/// Finds a phone gateway: among the services the server lists, then among `also` (the
/// roster's service addresses: JMP users have `cheogram.com` as a contact). The first that
/// answers with the `gateway/pstn` identity wins. `Ok(None)`: none found.
pub async fn discover(
    handle: &SessionHandle,
    domain: Jid,
    also: &[BareJid],
) -> Result<Option<BareJid>, IqError> {
    let mut candidates = match handle
        .iq(disco::items_request(handle.new_id(), Some(domain.clone())))
        .await
    {
        Ok(payload) => disco::parse_items(payload.as_ref()),
        Err(IqError::Error(_)) => Vec::new(),
        Err(e) => return Err(e),
    };
    candidates.retain(|j| *j != domain);
    candidates.extend(also.iter().cloned().map(Jid::from));
    candidates.truncate(MAX_PROBED);
    for item in candidates {
        match handle
            .iq(disco::info_request(handle.new_id(), Some(item.clone())))
            .await
        {
            Ok(payload) if is_phone_gateway(&disco::parse_info(payload.as_ref())) => {
                return Ok(Some(item.to_bare()));
            }
            Ok(_) | Err(IqError::Error(_)) | Err(IqError::Timeout(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(None)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_normalised_and_bad_ones_refused() {
        assert_eq!(
            normalise_number("+1 (555) 123-4567").unwrap(),
            "+15551234567"
        );
        assert_eq!(normalise_number("5551234").unwrap(), "5551234");
        for bad in [
            "",
            "+",
            "12",
            "+1555x",
            "alice@example.org",
            "+1555,123",
            "++1555",
        ] {
            assert!(normalise_number(bad).is_err(), "{bad:?}");
        }
        assert!(looks_like_phone_number("+15551234567"));
        assert!(!looks_like_phone_number("bob@example.org"));
    }

    #[test]
    fn a_number_becomes_a_jid_at_the_gateway() {
        let gateway = BareJid::new("gateway.example.org").unwrap();
        assert_eq!(
            number_jid(&gateway, "+1 555 123 4567").unwrap().to_string(),
            "+15551234567@gateway.example.org"
        );
    }

    #[test]
    fn only_the_pstn_identity_makes_a_gateway() {
        let mut info = DiscoInfo::default();
        info.identities.push(("gateway".into(), "sms".into(), None));
        assert!(!is_phone_gateway(&info));
        info.identities
            .push(("gateway".into(), "pstn".into(), None));
        assert!(is_phone_gateway(&info));
    }
}
