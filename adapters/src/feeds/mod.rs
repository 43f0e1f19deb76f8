//! Signal sources.

pub mod workload;

pub use workload::{SplitMix64, Workload, WorkloadGenerator, WorkloadKind};
