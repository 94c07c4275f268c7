use krepis_engine::{check, Options};
use krepis_model::consistency::*;
use krepis_model::{KubeModel, Scenario};

fn run<C: Consistency>(inst: usize, depth: u64) {
    let m = KubeModel::<C>::new(Scenario::stale_reads(C::NAME, inst));
    let r = check(
        &m,
        &Options::default().threads(2).max_depth(depth).symmetry(false).time_limit(std::time::Duration::from_secs(40)),
    );
    let rep = &r.report;
    println!(
        "{:<20} inst={inst} depth={depth}: {} states, depth {}, {:.2}s, {:?}, {:?}",
        C::NAME,
        rep.unique_states,
        rep.max_depth_reached,
        rep.elapsed_s,
        rep.stop_reason,
        rep.properties.iter().map(|p| (p.name.clone(), p.status)).collect::<Vec<_>>()
    );
    if let Some(t) = r.traces[0].as_ref() {
        if std::env::var("SHOW").is_ok() {
            println!("{}", rep.to_text());
            let _ = t;
        }
    }
}

fn main() {
    if let Ok(which) = std::env::var("SHOW") {
        match which.as_str() {
            "causal" => show::<Causal>(1, 10),
            "opt" => show::<OptimisticLinear>(1, 10),
            _ => show::<ResettableSession>(1, 12),
        }
        return;
    }
    let depth: u64 = std::env::args().nth(1).and_then(|d| d.parse().ok()).unwrap_or(12);
    for inst in [1, 2] {
        run::<Synchronous>(inst, depth);
        run::<MonotonicSession>(inst, depth);
        run::<ResettableSession>(inst, depth);
        run::<OptimisticLinear>(inst, depth);
        run::<Causal>(inst, depth);
    }
}

#[allow(dead_code)]
fn show<C: Consistency>(inst: usize, depth: u64) {
    let m = KubeModel::<C>::new(Scenario::stale_reads(C::NAME, inst));
    let r = check(&m, &Options::default().threads(2).max_depth(depth).symmetry(false));
    println!("{}", r.report.to_text());
}
