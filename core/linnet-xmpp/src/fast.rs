//! XEP-0484 Fast Authentication Streamlining Tokens (FAST), client side, with the
//! HT-SHA-256-NONE mechanism of draft-schmaus-kitten-sasl-ht (section 3.1):
//!
//! * initiator message: `authcid NUL HMAC-SHA-256(token, "Initiator" || cb-data)`;
//! * the server's final message (SASL2 `<additional-data>`): `HMAC-SHA-256(token, "Responder" ||
//!   cb-data)`, checked here (mutual authentication);
//!
//! where the HMAC key is the whole token string as the server issued it (UTF-8, including any
//! `secret-token:` prefix), authcid is the account's localpart and cb-data is empty for -NONE.
//!
//! Tokens are secrets: they travel as [`Secret`] and are never logged. FAST is only used inside
//! SASL2 (`crate::sasl2`), which carries the `<fast/>` marker and the token request.

use hmac::{Hmac, Mac};
use minidom::Element;
use sha2::Sha256;

use crate::sasl::{SaslError, Secret};

pub const NS: &str = "urn:xmpp:fast:0";

/// The only FAST mechanism Linnet uses (no channel binding; 0.12-era servers offer no -PLUS).
pub const HT_SHA_256_NONE: &str = "HT-SHA-256-NONE";

/// A token the server issued (`<token xmlns='urn:xmpp:fast:0' token='…' expiry='…'/>`).
#[derive(Debug, Clone)]
pub struct FastToken {
    pub token: Secret,
    /// As the server sent it (XEP-0082 date-time); informational.
    pub expiry: Option<String>,
}

/// The FAST mechanisms listed in a SASL2 `<inline>` element, if FAST is offered.
pub fn offered_mechanisms(inline: &Element) -> Vec<String> {
    inline
        .get_child("fast", NS)
        .map(|f| {
            f.children()
                .filter(|c| c.is("mechanism", NS))
                .map(|c| c.text().trim().to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn hmac(token: &Secret, label: &[u8]) -> Result<Hmac<Sha256>, SaslError> {
    let mut mac =
        <Hmac<Sha256> as hmac::digest::KeyInit>::new_from_slice(token.expose().as_bytes())
            .map_err(|_| SaslError::Malformed("HMAC key"))?;
    mac.update(label);
    Ok(mac)
}

/// The HT-SHA-256-NONE initial response: `username NUL HMAC-SHA-256(token, "Initiator")`.
pub fn initial_response(username: &str, token: &Secret) -> Result<Secret<Vec<u8>>, SaslError> {
    if username.contains('\0') {
        return Err(SaslError::InvalidCredentials("NUL character"));
    }
    let tag = hmac(token, b"Initiator")?.finalize().into_bytes();
    let mut out = Vec::with_capacity(username.len() + 1 + tag.len());
    out.extend_from_slice(username.as_bytes());
    out.push(0);
    out.extend_from_slice(&tag);
    Ok(Secret::new(out))
}

/// Checks the server's final message, `HMAC-SHA-256(token, "Responder")` (constant time).
pub fn verify_responder(token: &Secret, server_final: &[u8]) -> Result<(), SaslError> {
    hmac(token, b"Responder")?
        .verify_slice(server_final)
        .map_err(|_| SaslError::BadServerSignature)
}

/// `<fast xmlns='urn:xmpp:fast:0'/>`: marks an `<authenticate>` that uses a token.
pub fn fast_element() -> Element {
    Element::builder("fast", NS).build()
}

/// `<request-token xmlns='urn:xmpp:fast:0' mechanism='…'/>`.
pub fn request_token_element(mechanism: &str) -> Element {
    Element::builder("request-token", NS)
        .attr(rxml::xml_ncname!("mechanism").into(), mechanism)
        .build()
}

/// The `<token/>` in a SASL2 `<success>`, if any (with a non-empty token).
pub fn parse_token(success: &Element) -> Option<FastToken> {
    let t = success.get_child("token", NS)?;
    let token = t.attr("token").filter(|s| !s.is_empty())?;
    Some(FastToken {
        token: Secret::from(token),
        expiry: t.attr("expiry").map(str::to_string),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD as B64;

    // A token Prosody issued in the probe (docs: /tmp/sasl2-report.md, section 5.3); the
    // expected values were computed independently with Python's hmac module and match what
    // the server accepted and answered.
    const TOKEN: &str = "secret-token:fast-LBVZd7zKVAuoJXoOY2xa0yeQz0HGRi24GBbZ";

    #[test]
    fn initial_response_matches_an_independent_computation() {
        let r = initial_response("alice", &Secret::from(TOKEN)).unwrap();
        assert_eq!(
            B64.encode(r.expose()),
            "YWxpY2UAn6j9IJCfcZNz23dFh/b5Qm6Uo+zbqzESvhfD+KkCm64="
        );
    }

    #[test]
    fn responder_is_checked() {
        let good = B64
            .decode("DpHViV6vyVMX6Ht/xSg1O7F8xsQqc6ahE5is5nVBuZ8=")
            .unwrap();
        verify_responder(&Secret::from(TOKEN), &good).unwrap();
        let mut bad = good.clone();
        if let Some(b) = bad.first_mut() {
            *b ^= 1;
        }
        assert_eq!(
            verify_responder(&Secret::from(TOKEN), &bad),
            Err(SaslError::BadServerSignature)
        );
        assert!(verify_responder(&Secret::from(TOKEN), &[]).is_err());
        assert!(verify_responder(&Secret::from("other"), &good).is_err());
    }

    #[test]
    fn nul_in_username_is_refused() {
        assert!(initial_response("a\0b", &Secret::from(TOKEN)).is_err());
    }

    #[test]
    fn tokens_and_offers_are_parsed() {
        let success: Element = "<success xmlns='urn:xmpp:sasl:2'><token xmlns='urn:xmpp:fast:0' \
             token='secret-token:fast-x' expiry='2026-12-17T00:59:21Z'/></success>"
            .parse()
            .unwrap();
        let t = parse_token(&success).unwrap();
        assert_eq!(t.token.expose(), "secret-token:fast-x");
        assert_eq!(t.expiry.as_deref(), Some("2026-12-17T00:59:21Z"));
        assert!(!format!("{t:?}").contains("fast-x"));
        let empty: Element = "<success xmlns='urn:xmpp:sasl:2'><token xmlns='urn:xmpp:fast:0' \
             token=''/></success>"
            .parse()
            .unwrap();
        assert!(parse_token(&empty).is_none());
        let inline: Element = "<inline xmlns='urn:xmpp:sasl:2'><fast xmlns='urn:xmpp:fast:0'>\
             <mechanism>HT-SHA-256-EXPR</mechanism><mechanism>HT-SHA-256-NONE</mechanism>\
             </fast></inline>"
            .parse()
            .unwrap();
        assert_eq!(
            offered_mechanisms(&inline),
            vec!["HT-SHA-256-EXPR", "HT-SHA-256-NONE"]
        );
    }
}
