//! `krepis run`: load a scenario into etcd, run its controllers until they
//! converge or time runs out, then replay the run through the model.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use krepis_model::api::Operation;
use krepis_model::controllers::{step_picking, Controller, Local, View};
use krepis_model::revision::Revision;
use krepis_model::store::Store;
use krepis_model::Scenario;
use rand::{Rng, SeedableRng};
use tokio::sync::watch;

use crate::etcd_store::{EtcdStore, RuntimeError, Written, MAX_BACKOFF};
use crate::record::{Actor, Log, Step};
use crate::validate::{replay, Replay, RunModel};

/// How a run goes.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// The etcd client URL.
    pub endpoint: String,
    /// The longest the controllers run (they stop earlier once converged).
    pub duration: Duration,
    /// Print each action as it happens (to stdout).
    pub echo: bool,
    /// Times (from the start) at which the client performs the first write
    /// the scenario's perturbations offer on the newest state, as the
    /// checker's client would (at most the scenario's client-write budget).
    pub client_writes_at: Vec<Duration>,
    /// Restarts at given times (from the start), at most the scenario's
    /// restart budget.
    pub restarts_at: Vec<(Duration, Restart)>,
    /// Seed of the random choices steps make where the model offers several
    /// (the scheduler between equally loaded nodes, under scheduler ties
    /// `any`, as kube-scheduler picks one at random): each instance draws
    /// from a stream of its own, so the same seed gives each instance the
    /// same sequence of picks (which steps they fall on depends on timing).
    pub seed: u64,
}

/// A restart the environment performs, as the checker's restart actions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Restart {
    /// Every instance of the controller kind named so (`replicaset-controller`,
    /// `scheduler`, ...; see `Controller::kind_name`) loses its local state.
    Controller(String),
    /// The node's kubelet loses its state and the node object is deleted;
    /// the kubelet registers it again.
    Node(String),
}

impl Restart {
    /// The controller instances it restarts, or an error naming what the
    /// scenario has.
    fn targets(&self, controllers: &[Controller]) -> Result<Vec<usize>, RuntimeError> {
        let hit: Vec<usize> = controllers
            .iter()
            .enumerate()
            .filter(|(_, c)| match (self, c) {
                (Restart::Node(n), Controller::Kubelet { node }) => **node == **n,
                (Restart::Controller(k), c) => !matches!(c, Controller::Kubelet { .. }) && c.kind_name() == k,
                _ => false,
            })
            .map(|(i, _)| i)
            .collect();
        if hit.is_empty() {
            let mut has: Vec<String> = controllers
                .iter()
                .map(|c| match c {
                    Controller::Kubelet { node } => format!("node {node}"),
                    c => c.kind_name().to_string(),
                })
                .collect();
            has.dedup();
            return Err(RuntimeError::BadInput(format!(
                "the scenario has no {} (it has: {})",
                match self {
                    Restart::Controller(k) => format!("controller kind '{k}'"),
                    Restart::Node(n) => format!("node '{n}'"),
                },
                has.join(", ")
            )));
        }
        Ok(hit)
    }
}

/// What a run did.
#[derive(Clone, Debug)]
pub struct RunResult {
    /// etcd's revision before loading (model write `k` is revision `base + k`).
    pub base: i64,
    /// The recorded steps, in the order they finished.
    pub steps: Vec<Step>,
    /// The revision at which every controller had nothing left to do, if
    /// they got there before the time ran out.
    pub converged: Option<i64>,
    /// The objects at the end.
    pub last: Store,
    /// What etcd held at each revision from the loaded state to the end.
    pub etcd_at: BTreeMap<i64, Store>,
    /// The replay through the model.
    pub replay: Replay,
    /// How long the controllers ran.
    pub elapsed: Duration,
}

/// Where each controller stands, for convergence.
#[derive(Default)]
struct Board {
    /// `Some(r)`: the controller read revision `r` and had nothing to do.
    idle: Vec<Option<i64>>,
    /// A controller gave up (etcd unreachable past the end of the run).
    failed: Option<RuntimeError>,
    /// Restarts due, per controller instance.
    restart: Vec<bool>,
    /// The run is over.
    stopping: bool,
}

/// Runs `scenario`'s controllers against the etcd at `opts.endpoint`.
/// Errors: etcd unreachable when starting, or holding data krepis did not
/// write; everything after the start is reported in the result.
pub fn run(scenario: Scenario, opts: &RunOptions) -> Result<RunResult, RuntimeError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| RuntimeError::Corrupt(format!("cannot start the async runtime: {e}")))?;
    rt.block_on(run_async(scenario, opts))
}

fn echo(opts: &RunOptions, line: String) {
    if opts.echo {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
    }
}

async fn run_async(scenario: Scenario, opts: &RunOptions) -> Result<RunResult, RuntimeError> {
    let model = RunModel::new(scenario.clone());
    let mut restarts_at = Vec::new();
    for (t, r) in &opts.restarts_at {
        restarts_at.push((*t, r.targets(model.controllers())?));
    }
    if restarts_at.len() > usize::from(scenario.restarts) {
        return Err(RuntimeError::BadInput(format!(
            "scenario '{}' allows {} restarts, the run asks for {}",
            scenario.name,
            scenario.restarts,
            restarts_at.len()
        )));
    }
    if opts.client_writes_at.len() > usize::from(scenario.client_writes) {
        return Err(RuntimeError::BadInput(format!(
            "scenario '{}' allows {} client writes, the run asks for {}",
            scenario.name,
            scenario.client_writes,
            opts.client_writes_at.len()
        )));
    }
    restarts_at.sort_by_key(|(t, _)| *t);
    let mut loader = EtcdStore::connect(&opts.endpoint, "loader").await?;
    let started = Instant::now();
    let until = started + opts.duration;
    let writes = model.initial_writes();
    let base = loader.load(&writes, until).await?;
    echo(
        opts,
        format!(
            "loaded {} objects of '{}' into etcd revisions {}..={}",
            writes.len(),
            scenario.name,
            base + 1,
            base + writes.len() as i64
        ),
    );
    let controllers = model.controllers().to_vec();
    let log = Arc::new(Log::default());
    let board = Arc::new(Mutex::new(Board {
        idle: vec![None; controllers.len()],
        failed: None,
        restart: vec![false; controllers.len()],
        stopping: false,
    }));
    let (wake_tx, wake_rx) = watch::channel(0u64);
    let mut tasks = Vec::new();
    for (i, c) in controllers.iter().enumerate() {
        let store = loader.handle(&c.to_string());
        let ctx = Ctx {
            index: i,
            controller: c.clone(),
            picks: model.picks(i),
            log: log.clone(),
            board: board.clone(),
            until,
            opts: opts.clone(),
        };
        tasks.push(tokio::spawn(controller_loop(ctx, store, wake_rx.clone())));
    }
    let mut client_at = opts.client_writes_at.clone();
    client_at.sort();
    let mut client = loader.handle("client");
    // Convergence counts only from the newest client write on.
    let mut since = base;
    let converged = loop {
        tokio::time::sleep(Duration::from_millis(20)).await;
        if client_at.first().is_some_and(|t| started + *t <= Instant::now()) {
            client_at.remove(0);
            since = since.max(client_write(&mut client, &scenario, &log, until, opts).await);
        }
        let mut b = board.lock().unwrap_or_else(|p| p.into_inner());
        if restarts_at.first().is_some_and(|(t, _)| started + *t <= Instant::now()) {
            let (_, targets) = restarts_at.remove(0);
            for i in targets {
                b.restart[i] = true;
                b.idle[i] = None;
            }
            wake_tx.send_modify(|w| *w += 1);
        }
        if b.failed.is_some() {
            break None;
        }
        if let Some(Some(r)) = b.idle.first() {
            let due = !client_at.is_empty() || !restarts_at.is_empty() || b.restart.iter().any(|r| *r);
            if !due && *r >= since && b.idle.iter().all(|x| *x == Some(*r)) {
                break Some(*r);
            }
        }
        if Instant::now() >= until {
            break None;
        }
    };
    board.lock().unwrap_or_else(|p| p.into_inner()).stopping = true;
    wake_tx.send_modify(|w| *w += 1);
    for t in tasks {
        let _ = t.await;
    }
    let elapsed = started.elapsed();
    let failed = board.lock().unwrap_or_else(|p| p.into_inner()).failed.clone();
    if let Some(e) = failed {
        return Err(e);
    }
    // What etcd held at every revision of the run, for the replay.
    let last = read_retrying(&mut loader, None, Instant::now() + Duration::from_secs(10)).await?;
    let mut etcd_at = BTreeMap::new();
    for r in base + writes.len() as i64..last.revision {
        let s = read_retrying(&mut loader, Some(r), Instant::now() + Duration::from_secs(10)).await?;
        etcd_at.insert(r, s.store);
    }
    etcd_at.insert(last.revision, last.store.clone());
    let steps = log.steps();
    let replay = replay(scenario, base, &steps, &etcd_at);
    Ok(RunResult { base, steps, converged, last: last.store, etcd_at, replay, elapsed })
}

/// The client's write: the first one the scenario's perturbations offer on
/// the newest state (none: nothing is written). Returns the revision it
/// decided on or committed as (0 if it gave up).
async fn client_write(store: &mut EtcdStore, scenario: &Scenario, log: &Log, until: Instant, opts: &RunOptions) -> i64 {
    let choose = |s: &Store| krepis_model::kube::client_writes(s, scenario.perturbations).into_iter().next();
    match write_on_newest(store, until, choose).await {
        Ok((read, Some((op, w)))) => {
            let at = w.outcome.unwrap_or(w.decided_at);
            record(log, opts, "client", Actor::Client, read, 0, Some((op, w)));
            at
        }
        Ok((read, None)) => {
            echo(opts, "client: the scenario offers no write".into());
            read
        }
        Err(e) => {
            eprintln!("client: gave up: {e}");
            0
        }
    }
}

/// Reads the newest state, chooses a write on it with `choose`, and commits
/// it on exactly that state, choosing again if etcd has moved on: how the
/// checker's environment (client writes, node restarts) writes. Returns the
/// revision read, and the write with its answer unless `choose` offered none.
async fn write_on_newest(
    store: &mut EtcdStore,
    until: Instant,
    choose: impl Fn(&Store) -> Option<Operation>,
) -> Result<(i64, Option<(Operation, Written)>), RuntimeError> {
    loop {
        let snap = read_retrying(store, None, until).await?;
        let Some(op) = choose(&snap.store) else {
            return Ok((snap.revision, None));
        };
        if let Some(w) = store.write_on(&op, Some(snap.revision), until).await? {
            return Ok((snap.revision, Some((op, w))));
        }
    }
}

/// How the API server's answer to a write is shown.
fn answer(w: &Written) -> String {
    match w.outcome {
        Ok(c) => format!("ok @{c}"),
        Err(r) => format!("rejected ({r}) @{}", w.decided_at),
    }
}

/// Prints (when echoing) and records one step of `who`: what it read, the
/// choice it made, and the write it asked for with etcd's answer, if any.
fn record(
    log: &Log,
    opts: &RunOptions,
    who: &str,
    actor: Actor,
    read: i64,
    pick: u8,
    wrote: Option<(Operation, Written)>,
) {
    match &wrote {
        Some((op, w)) => echo(opts, format!("{who:<26} read @{read:<4} {op} -> {}", answer(w))),
        None if matches!(actor, Actor::Restart(_)) => echo(opts, format!("{who:<26} local state lost")),
        None => {}
    }
    let (wrote, w) = wrote.unzip();
    log.push(Step {
        seq: 0,
        actor,
        read,
        pick,
        wrote,
        decided_at: w.as_ref().map_or(read, |w| w.decided_at),
        outcome: w.map(|w| w.outcome),
    });
}

async fn read_retrying(
    store: &mut EtcdStore,
    at: Option<i64>,
    until: Instant,
) -> Result<crate::etcd_store::Snapshot, RuntimeError> {
    let mut delay = Duration::from_millis(100);
    loop {
        let r = match at {
            Some(a) => store.read_at(a).await,
            None => store.read().await,
        };
        match r {
            Err(e) if e.is_transient() && Instant::now() + delay < until => {
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(MAX_BACKOFF);
            }
            other => return other,
        }
    }
}

struct Ctx {
    index: usize,
    controller: Controller,
    /// How many choices the instance's step has (`KubeModel::picks`).
    picks: u8,
    log: Arc<Log>,
    board: Arc<Mutex<Board>>,
    until: Instant,
    opts: RunOptions,
}

impl Ctx {
    fn idle(&self, at: Option<i64>) {
        self.board.lock().unwrap_or_else(|p| p.into_inner()).idle[self.index] = at;
    }
    fn fail(&self, e: RuntimeError) {
        self.board.lock().unwrap_or_else(|p| p.into_inner()).failed.get_or_insert(e);
    }
    fn stopping(&self) -> bool {
        self.board.lock().unwrap_or_else(|p| p.into_inner()).stopping
    }
    /// Whether a restart is due (and clears it).
    fn take_restart(&self) -> bool {
        std::mem::take(&mut self.board.lock().unwrap_or_else(|p| p.into_inner()).restart[self.index])
    }
    fn record(&self, actor: Actor, read: i64, pick: u8, wrote: Option<(Operation, Written)>) {
        let who = match actor {
            Actor::Restart(_) => format!("{} (restart)", self.controller),
            Actor::NodeRestart(_) => format!("{} (node restart)", self.controller),
            _ if self.picks > 1 => format!("{} (pick {pick})", self.controller),
            _ => self.controller.to_string(),
        };
        record(&self.log, &self.opts, &who, actor, read, pick, wrote);
    }
}

/// A node restart: the node object is deleted on the newest state (as the
/// checker's environment does it), if it is there and Ready.
async fn node_restart(ctx: &Ctx, store: &mut EtcdStore, node: &krepis_model::meta::Name) {
    let choose = |s: &Store| {
        let n = s.nodes.get(node).filter(|n| n.ready)?;
        Some(Operation::DeleteNode { name: *node, uid: n.meta.uid })
    };
    match write_on_newest(store, ctx.until, choose).await {
        Ok((read, Some((op, w)))) => ctx.record(Actor::NodeRestart(ctx.index), read, 0, Some((op, w))),
        Ok((_, None)) => echo(&ctx.opts, format!("{}: node restart skipped (no Ready node object)", ctx.controller)),
        Err(e) => eprintln!("{}: node restart abandoned: {e}", ctx.controller),
    }
}

/// One controller instance: read everything, step, write, wait for a change.
async fn controller_loop(ctx: Ctx, mut store: EtcdStore, mut wake: watch::Receiver<u64>) {
    let mut local = Local::default();
    let mut last_read = None;
    let mut delay = Duration::from_millis(100);
    let who = ctx.controller.to_string();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(ctx.opts.seed);
    rng.set_stream(ctx.index as u64);
    while !ctx.stopping() && Instant::now() < ctx.until {
        if let Controller::Kubelet { node } = &ctx.controller {
            if ctx.take_restart() {
                local = Local::default();
                last_read = None;
                node_restart(&ctx, &mut store, node).await;
                continue;
            }
        }
        let snap = match store.read().await {
            Ok(s) => s,
            Err(e) if e.is_transient() => {
                ctx.idle(None);
                if delay == Duration::from_millis(100) {
                    eprintln!("{who}: lost etcd: {e}; retrying with backoff");
                }
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = wake.changed() => {}
                }
                delay = (delay * 2).min(MAX_BACKOFF);
                continue;
            }
            Err(e) => return ctx.fail(e),
        };
        if delay > Duration::from_millis(100) {
            eprintln!("{who}: etcd is back (revision {})", snap.revision);
            delay = Duration::from_millis(100);
        }
        let Ok(stamp) = snap.stamp() else {
            return ctx.fail(RuntimeError::Corrupt(format!("revision {} out of range", snap.revision)));
        };
        if !matches!(ctx.controller, Controller::Kubelet { .. }) && ctx.take_restart() {
            if local == Local::default() {
                // Nothing to lose: the checker offers no such restart either.
                echo(&ctx.opts, format!("{who}: restart skipped (no local state yet)"));
            } else {
                local = Local::default();
                last_read = None;
                ctx.record(Actor::Restart(ctx.index), snap.revision, 0, None);
            }
        }
        let before = local.clone();
        // A step with several choices makes one at random, as kube-scheduler
        // does between equally loaded nodes; the checker offers every one.
        let pick = if ctx.picks > 1 { rng.gen_range(0..ctx.picks) } else { 0 };
        // The one entry point the checker also calls.
        let view = View { revision: &Revision::at(stamp), store: &snap.store };
        let wrote = step_picking(&ctx.controller, &mut local, &view, pick.into());
        let Some(op) = wrote else {
            let stutter = last_read == Some(snap.revision) && local.running == before.running;
            if !stutter {
                ctx.log.push(Step {
                    seq: 0,
                    actor: Actor::Controller(ctx.index),
                    read: snap.revision,
                    pick,
                    wrote: None,
                    decided_at: snap.revision,
                    outcome: None,
                });
            }
            last_read = Some(snap.revision);
            ctx.idle(Some(snap.revision));
            // A failed watch: the next read finds out whether etcd is gone.
            let _ = store.wait_change(snap.revision, &mut wake, ctx.until).await;
            continue;
        };
        last_read = Some(snap.revision);
        ctx.idle(None);
        let written = match store.write(&op, ctx.until).await {
            Ok(w) => w,
            Err(e) if e.is_transient() => {
                // The run ended while etcd was away: the write's fate is not known.
                eprintln!("{who}: gave up on '{op}': {e}");
                return;
            }
            Err(e) => return ctx.fail(e),
        };
        ctx.record(Actor::Controller(ctx.index), snap.revision, pick, Some((op, written)));
    }
}
