//! A ready command line for any [`Model`]: the flags of DESIGN.md section 3
//! that concern the engine, progress on stderr, the report as text or JSON,
//! Ctrl-C handling and exit statuses.
//!
//! Exit statuses: 0 every property holds within the bounds checked (or is
//! still unknown because a limit stopped the run), 1 a property failed
//! (violated, or a `sometimes` goal not found), 2 bad input, 3 the run stopped
//! on a resource error (the visited set filled `--memory`).

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Parser, ValueEnum};

use crate::checkpoint::{Checkpoint, CheckpointTo};
use crate::report::{group, human_bytes};
use crate::{check, Model, Options, Progress, Report, Strategy};

/// Search strategy, as given on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum StrategyArg {
    /// Parallel breadth-first search: exhaustive, shortest counterexamples.
    Bfs,
    /// Depth-first search with a depth bound, one thread.
    Dfs,
    /// Random walks (reproducible with --seed).
    Simulation,
}

/// Report format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Human-readable text on stdout.
    Text,
    /// One JSON object on stdout.
    Json,
}

/// The engine's flags, shared by `krepis check` and the example programs.
#[derive(Args, Clone, Debug)]
pub struct CheckArgs {
    /// Search strategy.
    #[arg(long, value_enum, default_value = "bfs")]
    pub strategy: StrategyArg,
    /// Worker threads [default: all cores].
    #[arg(long, value_name = "N", value_parser = parse_threads)]
    pub threads: Option<usize>,
    /// Deepest depth explored; initial states are at depth 0 (0 = no bound).
    #[arg(long, value_name = "D", default_value = "0", value_parser = parse_count, allow_negative_numbers = true)]
    pub max_depth: u64,
    /// Stop after this long: seconds (fractions allowed: 1.5) or a duration with units (90s, 5m,
    /// 1h 30m); with --resume, counted from the end of loading the checkpoint. The report says the
    /// run is incomplete.
    #[arg(long, value_name = "DURATION", value_parser = parse_secs, allow_negative_numbers = true)]
    pub time_limit: Option<Duration>,
    /// Stop after about this many unique states (0 = no bound).
    #[arg(long, value_name = "N", default_value = "0", value_parser = parse_count, allow_negative_numbers = true)]
    pub max_states: u64,
    /// Memory for the visited set, e.g. 512MiB, 4GB, 1.5GiB [default: half of RAM]:
    /// 8 bytes a slot, 11-16 bytes a state (BFS's parent links, 16 bytes a state,
    /// go to a temporary file in TMPDIR). A run that fills it stops with a clear
    /// message (exit status 3).
    #[arg(long, value_name = "SIZE", value_parser = parse_memory)]
    pub memory: Option<u64>,
    /// Reduce states by symmetry (the default): states that differ only by a
    /// permutation of interchangeable instances count once, in the search and
    /// in the `eventually` pass (for Kubernetes models it follows each
    /// instance's fairness through the permutations); traces printed are
    /// real executions.
    #[arg(long, overrides_with = "no_symmetry")]
    pub symmetry: bool,
    /// Explore every state, without symmetry reduction.
    #[arg(long, overrides_with = "symmetry")]
    pub no_symmetry: bool,
    /// Seed of the random walks (simulation): the same seed gives the same walks.
    #[arg(long, value_name = "S", default_value = "0", value_parser = parse_count, allow_negative_numbers = true)]
    pub seed: u64,
    /// Number of random walks (simulation; 0 = until --time-limit or --max-states, or Ctrl-C without either).
    #[arg(long, value_name = "N", default_value = "1000", value_parser = parse_count, allow_negative_numbers = true)]
    pub walks: u64,
    /// Keep exploring after a violation, to decide every property in one run.
    #[arg(long)]
    pub keep_going: bool,
    /// BFS and DFS do not record, for the `eventually` pass, the successors
    /// of the states in which an `eventually` property's predicate fails:
    /// the pass generates them again (slower; the same verdicts and traces).
    /// Records take about 12 bytes per such transition until the pass ends
    /// (DFS under --max-depth also keeps the states it met only at the
    /// bound in which such a predicate fails).
    #[arg(long)]
    pub no_pass_records: bool,
    /// Process memory past which BFS and DFS drop their records for the
    /// eventually pass and record no more, so that records never stop a run
    /// that fits without them (the pass then generates successors itself;
    /// the report says so), e.g. 4GiB; 0 = never [default: 42.5% of RAM,
    /// half the 85% at which a run stops for memory].
    #[arg(long, value_name = "SIZE", value_parser = parse_any_size)]
    pub pass_records_memory: Option<u64>,
    /// Check only this property (repeat the flag, or separate names by
    /// commas; the report lists the model's properties). Without an
    /// `eventually` property among them there is no eventually pass, which
    /// under --max-depth expands the bound's last level and can take many
    /// times as long as the search.
    #[arg(long, value_name = "NAME", value_delimiter = ',')]
    pub property: Vec<String>,
    /// Report format (json: one object on stdout; progress stays on stderr).
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Write the counterexample and example traces to FILE as JSON.
    #[arg(long, value_name = "FILE")]
    pub trace_out: Option<PathBuf>,
    /// Write the counterexamples (and examples) as a replayable file:
    /// `krepis replay FILE` rebuilds the model and replays them step by step.
    #[arg(long, value_name = "FILE")]
    pub save_trace: Option<PathBuf>,
    /// Instead of checking, replay the traces of FILE (written by
    /// --save-trace) on this model, printing every step.
    #[arg(long, value_name = "FILE")]
    pub replay: Option<PathBuf>,
    /// Save a checkpoint to FILE whenever the run stops early (--time-limit,
    /// --max-states, --max-depth, --memory, Ctrl-C), to continue it later
    /// with --resume FILE (BFS). Without this flag a run that fills
    /// --memory still saves one, to krepis.checkpoint.
    #[arg(long, value_name = "FILE")]
    pub checkpoint: Option<PathBuf>,
    /// Also save the --checkpoint this often while the run goes on (seconds,
    /// or with units: 10m), so a crash or a kill loses at most that much work
    /// (each save replaces the last; a save writes the whole visited set, 16
    /// bytes a state).
    #[arg(long, value_name = "DURATION", value_parser = parse_secs, requires = "checkpoint")]
    pub checkpoint_every: Option<Duration>,
    /// Continue the BFS run saved in FILE (by --checkpoint, or by a run that
    /// filled --memory). Give the same model arguments and symmetry flag as
    /// the run that wrote it; limits and threads may differ. The run ends
    /// with the same states and verdicts as one never interrupted.
    #[arg(long, value_name = "FILE")]
    pub resume: Option<PathBuf>,
    /// No progress output on stderr.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Where a run that fills --memory saves its checkpoint when --checkpoint is not given.
pub const DEFAULT_CHECKPOINT: &str = "krepis.checkpoint";

fn parse_threads(s: &str) -> Result<usize, String> {
    let n: i64 = s.trim().parse().map_err(|_| format!("'{s}' is not a whole number"))?;
    if n < 1 {
        return Err(format!("needs at least 1 thread, got {n}"));
    }
    usize::try_from(n).map_err(|_| format!("{n} is too large"))
}

fn parse_count(s: &str) -> Result<u64, String> {
    let n: i128 = s.trim().parse().map_err(|_| format!("'{s}' is not a whole number"))?;
    if n < 0 {
        return Err(format!("must be 0 or more, got {n}"));
    }
    u64::try_from(n).map_err(|_| format!("{n} is too large"))
}

fn parse_secs(s: &str) -> Result<Duration, String> {
    let d = parse_duration(s)?;
    if d.is_zero() {
        return Err(format!("must be a positive duration, got {s}"));
    }
    Ok(d)
}

/// A duration on the command line: a number of seconds (fractions allowed:
/// `1.5`) or a number with units (`90s`, `5m`, `1h 30m`, `250ms`; humantime's
/// format). Zero is allowed here; negative, infinite or unparsable values are
/// refused with a one-line message that says what is accepted.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    if let Ok(secs) = t.parse::<f64>() {
        if !secs.is_finite() || secs < 0.0 {
            return Err(format!("must be a number of seconds, 0 or more, got {s}"));
        }
        return Duration::try_from_secs_f64(secs).map_err(|_| format!("{s} seconds is too long"));
    }
    humantime::parse_duration(t)
        .map_err(|e| format!("'{s}' is not a duration such as 90, 1.5, 90s, 5m or 1h 30m ({e})"))
}

fn parse_memory(s: &str) -> Result<u64, String> {
    let bytes = parse_any_size(s)?;
    if bytes < 4096 {
        return Err(format!("{bytes} bytes is too small for a visited set (at least 4KiB)"));
    }
    Ok(bytes)
}

/// A size such as 4GiB, 0 included.
fn parse_any_size(s: &str) -> Result<u64, String> {
    parse_size::Config::new()
        .with_binary()
        .parse_size(s.trim())
        .map_err(|e| format!("'{s}' is not a size such as 512MiB or 4GB ({e})"))
}

impl CheckArgs {
    /// The engine options these flags describe, with Ctrl-C and progress wired
    /// in when `interactive`.
    pub fn options(&self) -> Options {
        let mut o = Options::default()
            .strategy(match self.strategy {
                StrategyArg::Bfs => Strategy::Bfs,
                StrategyArg::Dfs => Strategy::Dfs,
                StrategyArg::Simulation => Strategy::Simulation,
            })
            .max_depth(self.max_depth)
            .max_states(self.max_states)
            .symmetry(!self.no_symmetry)
            .seed(self.seed)
            .walks(self.walks)
            .keep_going(self.keep_going)
            .record_for_pass(!self.no_pass_records);
        if !self.property.is_empty() {
            o = o.properties(self.property.clone());
        }
        if let Some(t) = self.threads {
            o = o.threads(t);
        }
        if let Some(t) = self.time_limit {
            o = o.time_limit(t);
        }
        if let Some(m) = self.memory {
            o = o.memory(m);
        }
        if let Some(m) = self.pass_records_memory {
            o = o.records_memory(m);
        }
        if self.strategy == StrategyArg::Bfs {
            let (path, any_stop) = match &self.checkpoint {
                Some(p) => (p.clone(), true),
                None => (PathBuf::from(DEFAULT_CHECKPOINT), false),
            };
            o = o.checkpoint(CheckpointTo { path, any_stop, args: std::env::args().skip(1).collect() });
            o.checkpoint_every = self.checkpoint_every;
        }
        o
    }

    /// The properties of `model` these flags check (`--property`); the error
    /// names the properties there are.
    pub fn properties<M: Model>(&self, model: &M) -> Result<Vec<crate::Property<M>>, String> {
        let names = (!self.property.is_empty()).then_some(self.property.as_slice());
        crate::property::select(model.properties(), names)
    }

    /// Checks the checkpoint flags against the strategy and `model`, and
    /// opens the checkpoint to resume. The error is one line for the user.
    pub fn resume_for<M: Model>(&self, model: &M) -> Result<Option<Checkpoint>, String> {
        if self.strategy != StrategyArg::Bfs && (self.resume.is_some() || self.checkpoint.is_some()) {
            return Err("--checkpoint and --resume work with --strategy bfs only".into());
        }
        let Some(path) = &self.resume else {
            return Ok(None);
        };
        let cp = Checkpoint::open(path)?;
        let names: Vec<String> = self.properties(model)?.into_iter().map(|p| p.name).collect();
        cp.check_model(model, !self.no_symmetry, &names)?;
        Ok(Some(cp))
    }
}

/// The command to continue a run of `args` (the process's arguments) from
/// the checkpoint `path`: the same arguments (so it keeps saving where it
/// did), with `--resume path` instead of any earlier `--resume`.
pub fn resume_command(args: &[String], path: &std::path::Path) -> String {
    let mut out = vec!["krepis".to_string()];
    let mut skip = false;
    for a in args {
        if std::mem::take(&mut skip) {
            continue;
        }
        let flag = a.split('=').next().unwrap_or("");
        if flag == "--resume" {
            skip = !a.contains('=');
            continue;
        }
        out.push(if a.contains(' ') { format!("'{a}'") } else { a.clone() });
    }
    out.push("--resume".into());
    out.push(path.display().to_string());
    out.join(" ")
}

/// Parses the command line into `P`. Help and version print and exit 0; any
/// error prints one line naming the problem and exits with status 2.
pub fn parse_or_exit<P: Parser>() -> P {
    parse_from_or_exit(std::env::args_os())
}

/// Like [`parse_or_exit`] with explicit arguments (the first is the program).
pub fn parse_from_or_exit<P: Parser, I, T>(args: I) -> P
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    match P::try_parse_from(args) {
        Ok(p) => p,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                let _ = e.print();
                std::process::exit(0);
            }
            if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                let _ = e.print();
                std::process::exit(2);
            }
            eprintln!("{}", first_line(&e.render().to_string()));
            std::process::exit(2);
        }
    }
}

/// The first non-empty line of a clap error, which names the problem, with
/// the list of possible values when clap gives one.
fn first_line(msg: &str) -> String {
    let mut line = msg.lines().find(|l| !l.trim().is_empty()).unwrap_or("error: bad arguments").trim().to_string();
    if let Some(values) = msg.lines().map(str::trim).find(|l| l.starts_with("[possible values:")) {
        line = format!("{line} {values}");
    }
    line
}

/// Installs a Ctrl-C handler that sets `cancel`; a second Ctrl-C exits at once.
pub fn stop_on_ctrl_c(cancel: Arc<std::sync::atomic::AtomicBool>) {
    let _ = ctrlc::set_handler(move || {
        if cancel.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
        eprintln!("\ninterrupted: finishing the report (Ctrl-C again to quit at once)");
    });
}

/// Prints progress on stderr: a live line on a terminal, a line per report otherwise.
pub fn progress_printer() -> crate::ProgressFn {
    let tty = std::io::stderr().is_terminal();
    Arc::new(move |p: &Progress| {
        let line = progress_line(p);
        let mut err = std::io::stderr().lock();
        if tty {
            let _ = write!(err, "\r\x1b[2K{line}");
        } else {
            let _ = writeln!(err, "{line}");
        }
        let _ = err.flush();
    })
}

/// One progress report as a line: states and their rate, then the BFS
/// level and its queue, DFS's stack depth and its queue, or the walks a
/// simulation has done (it has no queue), and memory.
fn progress_line(p: &Progress) -> String {
    let rate = p.unique_states as f64 / p.elapsed.as_secs_f64().max(1e-9);
    let mut line = if let Some((depth, explored)) = p.eventually_pass {
        format!(
            "[{:>6.1}s] eventually pass: depth {depth}, {} states (the search found {})  mem {}",
            p.elapsed.as_secs_f64(),
            group(explored),
            group(p.unique_states),
            human_bytes(p.rss_bytes)
        )
    } else {
        // A simulation's `depth` counts its walks, and it keeps no queue.
        let where_ = match p.strategy {
            crate::Strategy::Simulation => format!("walks {}", group(p.depth)),
            _ => format!("depth {}  queue {}", p.depth, group(p.queue)),
        };
        format!(
            "[{:>6.1}s] {} states ({}/s)  {where_}  mem {}",
            p.elapsed.as_secs_f64(),
            group(p.unique_states),
            group(rate as u64),
            human_bytes(p.rss_bytes)
        )
    };
    if p.pass_records_dropped && p.eventually_pass.is_none() {
        line.push_str("  (pass records dropped)");
    }
    if p.max_states > 0 && p.eventually_pass.is_none() {
        let frac = (p.unique_states as f64 / p.max_states as f64).min(1.0);
        let filled = (frac * 20.0) as usize;
        line = format!("{line}  [{}{}] {:.0}%", "#".repeat(filled), ".".repeat(20 - filled), frac * 100.0);
    }
    line
}

/// Runs `model` as the flags say, prints the report, and returns the exit
/// status. `extra` fields are added to the JSON report's top level (e.g. the
/// resolved scenario).
pub fn run<M: Model>(model: &M, args: &CheckArgs, extra: serde_json::Map<String, serde_json::Value>) -> ExitCode
where
    M::State: 'static,
{
    if let Some(path) = &args.replay {
        return replay(model, path);
    }
    if let Err(e) = args.properties(model) {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    let mut opts = args.options();
    match args.resume_for(model) {
        Ok(cp) => opts.resume = cp.map(Arc::new),
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    }
    stop_on_ctrl_c(opts.cancel.clone());
    let tty = std::io::stderr().is_terminal();
    if !args.quiet {
        opts.progress = Some(progress_printer());
    }
    let mut result = check(model, &opts);
    // The process ends soon: the states a stopped search left are freed on a
    // thread of their own, which the exit cuts short, instead of delaying it
    // by seconds on large runs.
    let leftovers = result.leftovers();
    std::thread::spawn(move || drop(leftovers));
    if !args.quiet && tty {
        eprint!("\r\x1b[2K");
    }
    let report = &result.report;
    if let Some(path) = &report.checkpoint {
        let args: Vec<String> = std::env::args().skip(1).collect();
        eprintln!("checkpoint saved; to continue: {}", resume_command(&args, std::path::Path::new(path)));
    }
    if let Some(path) = &args.trace_out {
        if let Err(e) = write_traces(path, report) {
            eprintln!("error: cannot write traces to {}: {e}", path.display());
            return ExitCode::from(2);
        }
    }
    if let Some(path) = &args.save_trace {
        if let Err(e) = save_traces(model, path, report, &result.traces) {
            eprintln!("error: cannot write traces to {}: {e}", path.display());
            return ExitCode::from(2);
        }
    }
    match args.format {
        Format::Text => print!("{}", report.to_text()),
        Format::Json => {
            let mut v = serde_json::to_value(report).unwrap_or(serde_json::Value::Null);
            if let Some(obj) = v.as_object_mut() {
                obj.extend(extra);
            }
            println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        }
    }
    exit_status(report)
}

/// The exit status for a report (see the module docs).
pub fn exit_status(report: &Report) -> ExitCode {
    if report.has_failure() {
        ExitCode::from(1)
    } else if report.error.is_some() {
        if let Some(e) = &report.error {
            eprintln!("error: {e}");
        }
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    }
}

fn save_traces<M: Model>(
    model: &M,
    path: &std::path::Path,
    report: &Report,
    traces: &[Option<crate::Trace<M>>],
) -> std::io::Result<()> {
    let saved = report
        .properties
        .iter()
        .zip(traces)
        .filter_map(|(p, t)| t.as_ref().and_then(|t| t.save(model, &p.name)))
        .collect();
    // The arguments that built the model; replay strips the output flags.
    let args = std::env::args().skip(1).collect();
    crate::trace_file::TraceFile { model: model.name(), args, traces: saved }.save(path)
}

/// Replays the traces saved in `path` on `model`, printing each step; exit
/// status 0 when every trace replays, 2 when the file is bad or the model
/// no longer does what the file recorded (the message names the step).
pub fn replay<M: Model>(model: &M, path: &std::path::Path) -> ExitCode {
    let file = match crate::trace_file::TraceFile::load(path) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    if file.model != model.name() {
        eprintln!("error: {}: saved from model '{}', replaying on '{}'", path.display(), file.model, model.name());
        return ExitCode::from(2);
    }
    let props = model.properties();
    let mut out = format!("{}: {} trace(s) of {}\n", path.display(), file.traces.len(), file.model);
    for saved in &file.traces {
        let trace = match crate::Trace::from_saved(model, saved) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("error: {}: trace for '{}': {e}", path.display(), saved.property);
                return ExitCode::from(2);
            }
        };
        out.push_str(&format!("\n'{}' ({} steps):\n", saved.property, trace.len()));
        for (i, step) in trace.to_steps(model).iter().enumerate() {
            match &step.action {
                None => out.push_str(&format!("  {i:>3}. (initial) {}\n", step.state)),
                Some(a) => out.push_str(&format!("  {i:>3}. {a}\n       -> {}\n", step.state)),
            }
        }
        if let Some(l) = trace.loop_start {
            out.push_str(&format!("  and back to step {l}, for ever\n"));
        }
        if let (Some(p), Some(last)) = (props.iter().find(|p| p.name == saved.property), trace.last_state()) {
            let at_last = (p.check)(model, last);
            let verdict = match (p.kind, at_last) {
                (crate::Kind::Always, false) => "violated in the last state",
                (crate::Kind::Sometimes, true) => "satisfied in the last state",
                (crate::Kind::Eventually, false) => "never satisfied along the trace",
                _ => "not decided by the last state",
            };
            out.push_str(&format!("  replayed: '{}' is {verdict}\n", p.name));
        }
    }
    print!("{out}");
    ExitCode::SUCCESS
}

fn write_traces(path: &std::path::Path, report: &Report) -> std::io::Result<()> {
    let traces: Vec<_> = report.properties.iter().filter(|p| p.trace.is_some()).collect();
    let v = serde_json::json!({ "model": report.model, "properties": traces });
    std::fs::write(path, serde_json::to_string_pretty(&v).unwrap_or_default() + "\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Parser, Debug)]
    struct T {
        #[command(flatten)]
        check: CheckArgs,
    }

    fn parse(args: &[&str]) -> Result<T, String> {
        T::try_parse_from(std::iter::once("t").chain(args.iter().copied()))
            .map_err(|e| first_line(&e.render().to_string()))
    }

    /// The progress line names what each strategy's `depth` counts: a
    /// simulation's is its walks (it has no queue), a search's its depth.
    #[test]
    fn progress_lines_say_walks_for_a_simulation_and_depth_for_a_search() {
        let p = |strategy| Progress {
            elapsed: Duration::from_secs(2),
            unique_states: 4566,
            transitions: 9000,
            depth: 10_433_709,
            strategy,
            queue: 12,
            rss_bytes: 14 << 20,
            pass_records_dropped: false,
            max_states: 0,
            eventually_pass: None,
        };
        let sim = progress_line(&p(Strategy::Simulation));
        assert!(sim.contains("walks 10,433,709") && !sim.contains("depth") && !sim.contains("queue"), "{sim}");
        for s in [Strategy::Bfs, Strategy::Dfs] {
            let line = progress_line(&p(s));
            assert!(line.contains("depth 10433709  queue 12") && !line.contains("walks"), "{line}");
        }
        let pass = progress_line(&Progress { eventually_pass: Some((3, 77)), ..p(Strategy::Simulation) });
        assert!(pass.contains("eventually pass: depth 3, 77 states (the search found 4,566)"), "{pass}");
    }

    #[test]
    fn good_flags_parse() {
        let t =
            parse(&["--threads", "3", "--max-depth", "7", "--memory", "64MiB", "--no-symmetry", "--time-limit", "1.5"])
                .expect("valid flags");
        let o = t.check.options();
        assert_eq!((o.threads, o.max_depth, o.memory, o.symmetry), (3, 7, 64 << 20, false));
        assert_eq!(o.time_limit, Some(Duration::from_millis(1500)));
    }

    #[test]
    fn time_limits_take_seconds_or_units() {
        for (arg, want) in [
            ("20", Duration::from_secs(20)),
            ("0.25", Duration::from_millis(250)),
            ("20s", Duration::from_secs(20)),
            ("5m", Duration::from_secs(300)),
            ("1h 30m", Duration::from_secs(5400)),
            ("250ms", Duration::from_millis(250)),
        ] {
            let t = parse(&["--time-limit", arg]).unwrap_or_else(|e| panic!("{arg}: {e}"));
            assert_eq!(t.check.options().time_limit, Some(want), "{arg}");
        }
        for (arg, needle) in
            [("0s", "positive"), ("-3", "0 or more"), ("5 parsecs", "not a duration"), ("inf", "0 or more")]
        {
            let e = parse(&["--time-limit", arg]).expect_err(arg);
            assert!(e.contains(needle), "{arg}: {e}");
        }
    }

    #[test]
    fn bad_flags_give_one_line_naming_the_problem() {
        for (args, needle) in [
            (&["--threads", "0"][..], "--threads"),
            (&["--max-depth", "-1"][..], "must be 0 or more"),
            (&["--memory", "lots"][..], "--memory"),
            (&["--strategy", "astar"][..], "astar"),
            (&["--time-limit", "0"][..], "positive"),
            (&["--frobnicate"][..], "--frobnicate"),
        ] {
            let e = parse(args).expect_err("must be rejected");
            assert!(e.starts_with("error:"), "{e}");
            assert!(e.contains(needle), "{args:?}: {e}");
            assert!(!e.contains('\n'));
        }
    }
}
