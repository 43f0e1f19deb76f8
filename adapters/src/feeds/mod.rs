//! Signal sources and the files they come from: the deterministic W1/W2
//! workload generator, capture files (fixed-size records, checksummed
//! blocks, memory-mapped replay), and importers from CSV / JSON lines.

pub mod bars;
pub mod capture;
pub mod fuzzing;
pub mod import;
pub mod time;
pub mod workload;

pub use capture::{CaptureError, CaptureFile, CaptureWriter, Dictionary, InputKind, RecordType, RecordedInput};
pub use workload::{SplitMix64, Workload, WorkloadGenerator, WorkloadKind};
