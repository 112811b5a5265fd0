//! TEMP stub
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mechanism {
    ScramSha256Plus,
    ScramSha1Plus,
    ScramSha256,
    ScramSha1,
    Plain,
}
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScramHash {
    Sha1,
    Sha256,
}
impl Mechanism {
    pub fn name(&self) -> &'static str {
        ""
    }
    pub fn scram_hash(&self) -> Option<ScramHash> {
        None
    }
}
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsVersion {
    Tls12,
    Tls13,
}
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelBindingType {
    TlsExporter,
    TlsServerEndPoint,
    TlsUnique,
}
pub struct SelectionInput<'a> {
    pub offered: &'a [String],
    pub tls_version: TlsVersion,
    pub server_cb_types: Option<&'a [String]>,
    pub available_cb: &'a [ChannelBindingType],
    pub scram_seen: bool,
    pub allow_plain: bool,
}
pub struct Selection {
    pub mechanism: Mechanism,
    pub channel_binding: Option<ChannelBindingType>,
}
#[derive(Debug, Clone, thiserror::Error)]
pub enum SaslError {
    #[error("x")]
    NoAcceptableMechanism { offered: Vec<String> },
    #[error("x")]
    Malformed(&'static str),
}
pub fn select(_i: &SelectionInput<'_>) -> Result<Selection, SaslError> {
    Err(SaslError::Malformed(""))
}
pub struct ScramClient;
impl ScramClient {
    pub fn new(
        _h: ScramHash,
        _u: &str,
        _p: &str,
        _cb: Option<(ChannelBindingType, Vec<u8>)>,
        _o: bool,
    ) -> Self {
        ScramClient
    }
    pub fn client_first(&mut self) -> Vec<u8> {
        vec![]
    }
    pub fn handle_server_first(&mut self, _d: &[u8]) -> Result<Vec<u8>, SaslError> {
        Ok(vec![])
    }
    pub fn verify_server_final(&self, _d: &[u8]) -> Result<(), SaslError> {
        Ok(())
    }
}
pub fn plain_initial(_a: Option<&str>, _u: &str, _p: &str) -> Vec<u8> {
    vec![]
}
