//! Full BFS of the example models, threads 1 and 2, and the reference checker
//! on the same models, measured side by side.
//!
//! `cargo bench --bench engine`. Each run also prints unique states/s and bytes
//! per visited state from the engine's own report.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use krepis_engine::models::{SlidingPuzzle, TwoPhaseCommit};
use krepis_engine::{check, check_reference, Model, Options};

fn bench_model<M: Model>(c: &mut Criterion, label: &str, model: &M, symmetry: bool) {
    let base = Options::default().symmetry(symmetry).memory(1 << 30);
    let states = check(model, &base.clone().threads(1)).report.unique_states;
    let mut g = c.benchmark_group(label);
    g.throughput(Throughput::Elements(states));
    g.sample_size(20);
    for threads in [1, 2] {
        let opts = base.clone().threads(threads);
        let r = check(model, &opts).report;
        eprintln!(
            "{label} bfs threads={threads}: {} unique states, {:.0} states/s, {:.1} bytes/state",
            r.unique_states, r.states_per_s, r.bytes_per_state
        );
        g.bench_with_input(BenchmarkId::new("bfs", threads), &opts, |b, o| b.iter(|| check(model, o)));
    }
    let r = check_reference(model, &base).report;
    eprintln!(
        "{label} reference: {} unique states, {:.0} states/s, {:.1} bytes/state",
        r.unique_states, r.states_per_s, r.bytes_per_state
    );
    g.bench_function("reference", |b| b.iter(|| check_reference(model, &base)));
    g.finish();
}

fn engine(c: &mut Criterion) {
    bench_model(c, "puzzle8", &SlidingPuzzle::puzzle8(), true);
    bench_model(c, "two_phase_commit_5", &TwoPhaseCommit::new(5), false);
}

criterion_group!(benches, engine);
criterion_main!(benches);
