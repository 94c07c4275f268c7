use krepis_engine::Model;
use krepis_model::consistency::*;
use krepis_model::{KubeModel, Scenario};

fn main() {
    let m = KubeModel::<ResettableSession>::new(Scenario::stale_reads("resettable-session", 1));
    let mut init = Vec::new();
    m.init_states(&mut init);
    let mut s = init.remove(0);
    let want: Vec<String> = std::env::args().skip(1).collect();
    for w in &want {
        let mut out = Vec::new();
        m.successors(&s, &mut out);
        let options: Vec<String> = out.iter().map(|(a, _)| m.format_action(a)).collect();
        let Some(i) = options.iter().position(|o| w.split('&').all(|p| o.contains(p))) else {
            println!("no '{w}' among:\n  {}", options.join("\n  "));
            return;
        };
        println!("{}", options[i]);
        s = out.swap_remove(i).1;
        println!("   -> {}", m.format_state(&s));
    }
}
