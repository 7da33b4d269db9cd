//! The devkit: what the demo, the tests, the fuzz targets and the
//! benchmarks are built from, and `kofu serve` never runs. It generates keys
//! and data that are never production material. It may use the gateway
//! freely; the gateway never uses it.

pub mod crl_gen;
pub mod demo_pki;
pub mod demo_registers;
pub mod fuzzing;
pub mod operator_pki;
pub mod pgembed;
pub mod samples;
pub mod sim;
pub mod test_pki;
