//! TEMPORARY STUB (replaced by the pki module).
use time::OffsetDateTime;
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ChallengeAlgorithm { RsaPkcs1Sha256, EcdsaP256Sha256 }
impl ChallengeAlgorithm { pub fn as_str(&self) -> &'static str { "x" } pub fn parse(_s: &str) -> Option<Self> { None } }
pub struct CardVerifier;
impl CardVerifier {
    pub fn new(_a: &[Vec<u8>]) -> Result<Self, CardError> { Ok(CardVerifier) }
    pub fn verify(&self, _c: &[u8], _ch: &[u8], _s: &[u8], _a: ChallengeAlgorithm, _n: OffsetDateTime) -> Result<VerifiedCard, CardError> { Err(CardError::Malformed) }
}
#[derive(Debug, Clone)] pub struct VerifiedCard { s: CardSerial }
impl VerifiedCard { pub fn serial(&self) -> &CardSerial { &self.s } pub fn algorithm(&self) -> ChallengeAlgorithm { ChallengeAlgorithm::RsaPkcs1Sha256 } }
#[derive(Debug, Clone, PartialEq, Eq, Hash)] pub struct CardSerial(Vec<u8>);
impl CardSerial { pub fn from_bytes(b: &[u8]) -> Result<Self, CardError> { Ok(CardSerial(b.to_vec())) } pub fn as_bytes(&self) -> &[u8] { &self.0 } pub fn fingerprint(&self) -> String { String::new() } }
#[derive(Debug, thiserror::Error)] pub enum CardError { #[error("m")] Malformed }
impl CardError { pub fn code(&self) -> &'static str { "card_certificate_invalid" } }
pub struct DemoCard { pub label: String, pub cert_der: Vec<u8>, pub key_pkcs8_der: Vec<u8>, pub algorithm: ChallengeAlgorithm }
impl DemoCard { pub fn sign(&self, _m: &[u8]) -> Vec<u8> { vec![] } }
pub struct Leaf { pub cert_der: Vec<u8>, pub key_pkcs8_der: Vec<u8> }
pub struct DemoPki { pub copiers: Vec<(String, Leaf)>, pub cards: Vec<DemoCard> }
impl DemoPki { pub fn load_or_generate(_d: &std::path::Path) -> Result<DemoPki, CardError> { Err(CardError::Malformed) } }
