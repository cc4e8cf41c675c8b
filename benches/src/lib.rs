//! Benchmarks only: see `benches/overhead.rs` and `compile_cost.sh`.
