//! TEMP stub for compile check
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_stanza_bytes: usize,
    pub max_depth: usize,
    pub max_header_bytes: usize,
}
impl Default for Limits {
    fn default() -> Self {
        Self {
            max_stanza_bytes: 262144,
            max_depth: 32,
            max_header_bytes: 4096,
        }
    }
}
pub enum StreamEvent {
    Header(StreamHeader),
    Stanza(minidom::Element),
    End,
}
pub struct StreamHeader {
    pub from: Option<String>,
}
#[derive(Debug, Clone, thiserror::Error)]
pub enum XmlError {
    #[error("x")]
    UnexpectedHeader,
}
pub struct StreamReader;
impl StreamReader {
    pub fn new(_l: Limits) -> Self {
        StreamReader
    }
    pub fn feed(&mut self, _b: &[u8]) -> Result<Vec<StreamEvent>, XmlError> {
        Ok(vec![])
    }
    pub fn restart(&mut self) {}
}
pub fn stream_header(_to: &str, _from: Option<&str>, _lang: &str) -> String {
    String::new()
}
pub const STREAM_CLOSE: &str = "</stream:stream>";
pub fn element_to_string(_e: &minidom::Element) -> Result<String, XmlError> {
    Ok(String::new())
}
