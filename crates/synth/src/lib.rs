//! Synthetic elections for the demo, the tests and the benchmarks: election
//! content from a seed ([`generate`]), the key ceremony run in memory the way
//! its people run it ([`ceremony`]), simulated voters at a real station
//! ([`simulate`]), and the dishonest authority that lies the way a real one
//! would ([`dishonest`]), and elections with known stuffing, inflation and
//! bursts for the forensic screens ([`forensic`]).
//!
//! No production role depends on this crate: it is linked only by the demo
//! and the tests, so nothing any verifier trusts carries a seeded generator
//! or a way to lie.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod ceremony;
pub mod direct;
pub mod dishonest;
pub mod forensic;
pub mod generate;
pub mod rng;
pub mod simulate;
pub mod testdb;

pub use ceremony::Ceremony;
