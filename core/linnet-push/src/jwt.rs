//! Compact JWS signing for the two provider tokens: ES256 (APNs provider token, from the .p8
//! PKCS#8 key) and RS256 (Google's OAuth2 assertion, from a service account's key).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::SystemRandom;
use ring::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, RSA_PKCS1_SHA256, RsaKeyPair,
};
use rustls::pki_types::PrivatePkcs8KeyDer;
use rustls::pki_types::pem::PemObject as _;

use crate::http_client::ProviderSetupError;

fn pkcs8_from_pem(pem: &str) -> Result<PrivatePkcs8KeyDer<'static>, ProviderSetupError> {
    PrivatePkcs8KeyDer::from_pem_slice(pem.as_bytes())
        .map_err(|e| ProviderSetupError::BadKey(format!("expected a PKCS#8 PEM private key: {e}")))
}

fn signing_input(header: &serde_json::Value, claims: &serde_json::Value) -> String {
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    )
}

/// An ES256 signer (P-256, fixed-size r||s signatures as JWS wants).
pub(crate) struct Es256Signer {
    key: EcdsaKeyPair,
    rng: SystemRandom,
}

impl Es256Signer {
    pub(crate) fn from_pem(pem: &str) -> Result<Self, ProviderSetupError> {
        let der = pkcs8_from_pem(pem)?;
        let rng = SystemRandom::new();
        let key = EcdsaKeyPair::from_pkcs8(
            &ECDSA_P256_SHA256_FIXED_SIGNING,
            der.secret_pkcs8_der(),
            &rng,
        )
        .map_err(|e| ProviderSetupError::BadKey(format!("not a P-256 key: {e}")))?;
        Ok(Self { key, rng })
    }

    pub(crate) fn sign(
        &self,
        header: &serde_json::Value,
        claims: &serde_json::Value,
    ) -> Result<String, ProviderSetupError> {
        let input = signing_input(header, claims);
        let signature = self
            .key
            .sign(&self.rng, input.as_bytes())
            .map_err(|_| ProviderSetupError::BadKey("ECDSA signing failed".into()))?;
        Ok(format!(
            "{input}.{}",
            URL_SAFE_NO_PAD.encode(signature.as_ref())
        ))
    }
}

/// An RS256 signer (RSASSA-PKCS1-v1_5 with SHA-256).
pub(crate) struct Rs256Signer {
    key: RsaKeyPair,
    rng: SystemRandom,
}

impl Rs256Signer {
    pub(crate) fn from_pem(pem: &str) -> Result<Self, ProviderSetupError> {
        let der = pkcs8_from_pem(pem)?;
        let key = RsaKeyPair::from_pkcs8(der.secret_pkcs8_der())
            .map_err(|e| ProviderSetupError::BadKey(format!("not an RSA key: {e}")))?;
        Ok(Self {
            key,
            rng: SystemRandom::new(),
        })
    }

    pub(crate) fn sign(
        &self,
        header: &serde_json::Value,
        claims: &serde_json::Value,
    ) -> Result<String, ProviderSetupError> {
        let input = signing_input(header, claims);
        let mut signature = vec![0u8; self.key.public().modulus_len()];
        self.key
            .sign(
                &RSA_PKCS1_SHA256,
                &self.rng,
                input.as_bytes(),
                &mut signature,
            )
            .map_err(|_| ProviderSetupError::BadKey("RSA signing failed".into()))?;
        Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(&signature)))
    }
}
