//! The [`Runtime`]: V8 initialised once, a fixed set of isolate threads, and
//! the placement of each worker's requests: on the proxy thread that asked
//! (light workers, when the embedder allows it: `proxy_thread.rs`) or on an
//! isolate thread.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::oneshot;

use crate::error::{DispatchError, ScriptError};
use crate::io::body::Body;
use crate::io::http::{Fetcher, Outcome, RequestHead, WorkerResponse};
use crate::io::thread::{self, Command, IsolateEvents, ThreadHandle};
use crate::script::compat::CompatFlags;
use crate::script::isolate::{ThreadLink, WorkerIsolate, read_module_graph};
use crate::script::worker::{ModuleRoot, WorkerCode, WorkerSpec, normalize, redact_script_error};

/// Requests in flight on a worker's least-busy warm thread before another
/// thread gets an isolate for that worker too.
const SPREAD_AT_INFLIGHT: usize = 4;

/// A slice of a client request's JavaScript that uses more CPU than this
/// (or one that hits the request's CPU limit) makes its worker version
/// heavy: its requests go to the heavy lane from then on (see
/// [`Runtime::place`]).
pub(crate) const HEAVY_SLICE: Duration = Duration::from_millis(10);

/// A client request whose longest slice of JS used this much CPU held its
/// thread (and every other request waiting on it) that long. A worker
/// most of whose recent requests do so turns heavy too ([`Strain`]).
pub(crate) const SUSTAINED_SLICE: Duration = Duration::from_millis(3);

/// How often an isolate's recent client requests held its thread for
/// [`SUSTAINED_SLICE`] or more: a running share, each finished request
/// weighing 1/8. Slices under [`HEAVY_SLICE`] never make a worker heavy
/// one at a time, but a worker whose every request runs 3-9 ms of JS
/// holds each request of other workers on its thread up to that long, as
/// often as its own requests come. Once half of its recent requests did
/// (and it has finished [`Strain::AFTER`] of them) its version turns heavy
/// like one over `HEAVY_SLICE`. A worker with the odd long request (a
/// cache refill now and then) stays light.
#[derive(Debug, Default)]
pub(crate) struct Strain {
    /// The share, in units of 1/65536.
    share: u32,
    requests: u32,
}

impl Strain {
    /// Requests an isolate finishes before the share can make its worker
    /// heavy: the first ones compile what they touch.
    const AFTER: u32 = 16;
    const ONE: u32 = 1 << 16;

    /// Notes a finished client request whose longest slice used `longest`.
    pub(crate) fn note(&mut self, longest: Duration) {
        let long = if longest >= SUSTAINED_SLICE { Self::ONE } else { 0 };
        self.share = self.share - self.share / 8 + long / 8;
        self.requests = self.requests.saturating_add(1);
    }

    /// Whether the worker's requests keep holding their thread.
    pub(crate) fn strained(&self) -> bool {
        self.requests >= Self::AFTER && self.share >= Self::ONE / 2
    }

    /// The share, in percent (for the log).
    pub(crate) fn percent(&self) -> u32 {
        self.share * 100 / Self::ONE
    }
}

/// The default bound of each isolate thread's queue: requests and
/// scheduled runs sent to the thread that it has not taken yet.
pub const DEFAULT_QUEUE_LIMIT: usize = 256;

/// The largest per-request CPU limit (`cpu_ms`) of a worker whose requests
/// may run on the proxy thread serving the client: one slice of its JS holds
/// that thread (and every connection on it) at most this long. Workers
/// allowed more start on the isolate threads. The default `cpu_ms`.
pub const PROXY_THREAD_CPU_MS: u64 = 50;

/// Runtime settings.
#[derive(Clone)]
pub struct RuntimeOptions {
    /// Isolate threads to start.
    pub isolate_threads: usize,
    /// Told about every isolate created or dropped (for metrics).
    pub events: Option<IsolateEvents>,
}

/// The V8 side of the proxy. Cheap to share (`Arc`); dropping the last
/// handle stops the isolate threads.
pub struct Runtime {
    threads: Vec<ThreadHandle>,
    placement: Mutex<Placement>,
    /// Commands a thread may have waiting before the next is refused.
    queue_limit: AtomicUsize,
    /// `scheduled()` runs sent and not finished (they reserve the lane).
    scheduled_running: AtomicUsize,
    /// Whether light workers' requests run on the proxy thread that
    /// dispatches them ([`Runtime::set_js_on_proxy_threads`]).
    on_proxy_threads: std::sync::atomic::AtomicBool,
    /// Told about isolates made on proxy threads too.
    events: Option<IsolateEvents>,
    /// The proxy threads the embedder made known
    /// ([`Runtime::adopt_proxy_thread`]): [`Runtime::warm`] warms light
    /// workers on each.
    proxy_threads: Mutex<Vec<(std::thread::ThreadId, tokio::runtime::Handle)>>,
}

/// Where worker versions have isolates, and which are heavy.
#[derive(Default)]
struct Placement {
    /// Worker version id -> threads holding a warm isolate for it.
    warm: HashMap<u64, Vec<usize>>,
    /// Live versions known to be heavy (they reserve the lane).
    heavy: HashSet<u64>,
}

/// What a command placed on a thread is for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Work {
    /// A client's request (or the warm-up for one).
    Request,
    /// A `scheduled()` run.
    Scheduled,
}

/// Isolates being created by [`Runtime::warm`].
pub struct Warming {
    sent: usize,
    ready: std::sync::mpsc::Receiver<()>,
}

impl Warming {
    /// Waits until every isolate is ready or `timeout` has passed (the
    /// rest keep being created in the background); returns how many are
    /// ready (one whose script fails at start counts as ready: its
    /// requests fail the same way).
    pub fn wait(self, timeout: Duration) -> usize {
        let deadline = std::time::Instant::now() + timeout;
        let mut count = 0;
        while count < self.sent {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if self.ready.recv_timeout(left).is_err() {
                break;
            }
            count += 1;
        }
        count
    }

    /// How many isolates were asked for.
    pub fn len(&self) -> usize {
        self.sent
    }

    /// Whether none were.
    pub fn is_empty(&self) -> bool {
        self.sent == 0
    }
}

/// Releases a `scheduled()` run's hold on the lane when its future ends
/// (finished or dropped).
struct ScheduledRun<'a>(&'a AtomicUsize);

impl Drop for ScheduledRun<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Runtime {
    /// Initialises V8 (once per process) and starts the isolate threads.
    /// Call after any fork (Pingora's daemon mode): threads do not survive it.
    pub fn start(options: RuntimeOptions) -> std::io::Result<Runtime> {
        crate::script::platform::platform();
        let threads = (0..options.isolate_threads.max(1))
            .map(|i| thread::spawn(i, options.events.clone()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Runtime {
            threads,
            placement: Mutex::new(Placement::default()),
            queue_limit: AtomicUsize::new(DEFAULT_QUEUE_LIMIT),
            scheduled_running: AtomicUsize::new(0),
            on_proxy_threads: Default::default(),
            events: options.events,
            proxy_threads: Default::default(),
        })
    }

    /// Lets light workers' requests run their JS on the thread that calls
    /// [`Runtime::dispatch`] / [`Runtime::dispatch_or_pass`], with no hop
    /// to an isolate thread, when that thread is a current-thread tokio
    /// runtime's (Pingora without work stealing). Light: not heavy (see
    /// [`Runtime::place`]) and a `cpu_ms` of at most
    /// [`PROXY_THREAD_CPU_MS`]. Everything else (heavy workers, every
    /// `scheduled()` run, calls from other runtimes) keeps the isolate
    /// threads. Off by default; takes effect for the next request.
    pub fn set_js_on_proxy_threads(&self, on: bool) {
        self.on_proxy_threads.store(on, Ordering::Relaxed);
    }

    /// How long an isolate on a proxy thread may go without a request
    /// before that thread drops it (`None`: never). Every light worker is
    /// warmed on every proxy thread, so without this the idle memory of a
    /// worker grows with the number of proxy threads; with it, a worker
    /// that gets no traffic on a thread costs nothing there, and its next
    /// request on that thread makes a new isolate (from the snapshot and
    /// the code cache). Process-wide; takes effect at the next sweep.
    pub fn set_idle_isolate_timeout(&self, timeout: Option<std::time::Duration>) {
        crate::io::proxy_thread::set_idle_timeout(timeout);
    }

    /// Whether `worker`'s requests run on the proxy threads that serve them.
    fn light(&self, worker: &WorkerCode) -> bool {
        !worker.is_heavy() && self.light_limit(worker.spec.cpu_ms)
    }

    /// Whether a worker allowed `cpu_ms` per request runs on the proxy
    /// threads unless it turns heavy.
    fn light_limit(&self, cpu_ms: u64) -> bool {
        self.on_proxy_threads.load(Ordering::Relaxed) && cpu_ms <= PROXY_THREAD_CPU_MS
    }

    /// Whether `worker`'s next request runs on the calling thread.
    fn on_this_thread(&self, worker: &WorkerCode) -> bool {
        self.light(worker) && crate::io::proxy_thread::available()
    }

    /// Bounds each isolate thread's queue: past `limit` commands waiting
    /// for a thread, [`Runtime::dispatch`] and [`Runtime::scheduled`]
    /// fail at once with [`DispatchError::Overloaded`]. Takes effect for
    /// the next command (a reload may change it).
    pub fn set_queue_limit(&self, limit: usize) {
        self.queue_limit.store(limit.max(1), Ordering::Relaxed);
    }

    /// Makes the calling thread known as a proxy thread, whose light
    /// workers [`Runtime::warm`] warms from now on. Call from a task of a
    /// current-thread tokio runtime (a Pingora proxy thread without work
    /// stealing) when JS runs on proxy threads; returns the thread's id, or
    /// `None` from any other thread (nothing is recorded).
    pub fn adopt_proxy_thread(&self) -> Option<std::thread::ThreadId> {
        let handle = tokio::runtime::Handle::try_current().ok()?;
        if handle.runtime_flavor() != tokio::runtime::RuntimeFlavor::CurrentThread {
            return None;
        }
        let id = std::thread::current().id();
        let mut threads = self.proxy_threads.lock().unwrap_or_else(|p| p.into_inner());
        if !threads.iter().any(|(t, _)| *t == id) {
            threads.push((id, handle));
        }
        Some(id)
    }

    /// Starts creating an isolate for each of `workers` off the request
    /// path (at start-up, before the listeners accept; on reload, before the
    /// new deployment is stored). [`Warming::wait`] waits for them.
    ///
    /// A worker whose requests run on the isolate threads gets one on the
    /// thread its first request will be placed on. A light worker
    /// ([`Runtime::set_js_on_proxy_threads`]) gets one on every proxy thread
    /// made known by [`Runtime::adopt_proxy_thread`] (see
    /// [`Runtime::warm_proxy_threads`]).
    pub fn warm(&self, workers: &[&Arc<WorkerCode>]) -> Warming {
        let (done, ready) = std::sync::mpsc::channel();
        let mut sent = self.warm_isolate_threads_on(workers, &done);
        let threads: Vec<_> = {
            let threads = self.proxy_threads.lock().unwrap_or_else(|p| p.into_inner());
            threads.iter().map(|(_, h)| h.clone()).collect()
        };
        sent += self.warm_on(&threads, workers, &done);
        Warming { sent, ready }
    }

    /// [`Runtime::warm`] for the workers whose requests run on the isolate
    /// threads only; light workers are left to the proxy threads' own
    /// warm-up (start-up: `Runtime::warm_proxy_threads` as each loads).
    pub fn warm_isolate_threads(&self, workers: &[&Arc<WorkerCode>]) -> Warming {
        let (done, ready) = std::sync::mpsc::channel();
        let sent = self.warm_isolate_threads_on(workers, &done);
        Warming { sent, ready }
    }

    fn warm_isolate_threads_on(&self, workers: &[&Arc<WorkerCode>], done: &std::sync::mpsc::Sender<()>) -> usize {
        let mut sent = 0;
        for worker in workers.iter().filter(|w| !self.light(w)) {
            // Counted in flight until created, so the next worker's
            // isolate is placed on a quieter thread.
            let thread = &self.threads[self.place(worker, Work::Request)];
            thread.inflight.fetch_add(1, Ordering::Relaxed);
            let command = Command::Warm {
                worker: Arc::clone(worker),
                done: done.clone(),
            };
            if thread.tx.send(command).is_ok() {
                sent += 1;
            } else {
                thread.inflight.fetch_sub(1, Ordering::Relaxed);
            }
        }
        sent
    }

    /// Starts creating an isolate for each light worker of `workers` on
    /// every proxy thread in `threads` (handles of current-thread runtimes),
    /// each thread one isolate per poll so that its connections are served
    /// between two (see `proxy_thread::warm`).
    pub fn warm_proxy_threads(&self, threads: &[tokio::runtime::Handle], workers: &[&Arc<WorkerCode>]) -> Warming {
        let (done, ready) = std::sync::mpsc::channel();
        let sent = self.warm_on(threads, workers, &done);
        Warming { sent, ready }
    }

    /// Start-up: `workers` (each a worker's `cpu_ms` and `memory_mb`) are
    /// configured but still loading. Each proxy thread in `threads` keeps a
    /// blank isolate ready (the startup snapshot restored, with the heap
    /// limit of the next light one among them) while it waits for them, so
    /// a worker that loads gets its isolate there in the time of its own
    /// part (modules, top level, env) rather than of a whole new isolate.
    /// [`Runtime::expect_nothing_on`] ends it.
    pub fn expect_on_proxy_threads(&self, threads: &[tokio::runtime::Handle], workers: &[(u64, usize)]) {
        let memory_mbs: Vec<usize> = workers
            .iter()
            .filter(|&&(cpu_ms, _)| self.light_limit(cpu_ms))
            .map(|&(_, memory_mb)| memory_mb)
            .collect();
        if memory_mbs.is_empty() {
            return;
        }
        for handle in threads {
            handle.spawn(crate::io::proxy_thread::expect(self.events.clone(), memory_mbs.clone()));
        }
    }

    /// Start-up is over on `threads`: what [`Runtime::expect_on_proxy_threads`]
    /// announced and no worker took (a blank isolate) is dropped, and each
    /// thread keeps one blank isolate standing (the startup snapshot
    /// restored, no worker's part) with the heap limit most of `workers`'
    /// light ones have: an isolate made on demand later (after an idle
    /// eviction or a broken limit) takes it and makes only its worker's
    /// part, about 0.3 ms instead of 1.3 ms, and the thread makes the next
    /// between requests. None without light workers.
    pub fn expect_nothing_on(&self, threads: &[tokio::runtime::Handle], workers: &[&Arc<WorkerCode>]) {
        let mut counts: Vec<(usize, usize)> = Vec::new();
        for w in workers.iter().filter(|w| self.light(w)) {
            match counts.iter_mut().find(|(mb, _)| *mb == w.spec.memory_mb) {
                Some((_, n)) => *n += 1,
                None => counts.push((w.spec.memory_mb, 1)),
            }
        }
        // The most common limit; of those equally common, the first.
        let standing = counts.iter().rev().max_by_key(|(_, n)| *n).map(|&(mb, _)| mb);
        for handle in threads {
            handle.spawn(crate::io::proxy_thread::expect_nothing(self.events.clone(), standing));
        }
    }

    /// After a reload: each proxy thread made known by
    /// [`Runtime::adopt_proxy_thread`] keeps its standing blank at the heap
    /// limit most of the new deployment's light workers have (as
    /// [`Runtime::expect_nothing_on`] chose it at start-up); a blank of
    /// another limit goes, and the thread makes the new one between
    /// requests.
    pub fn stand_blanks(&self, workers: &[&Arc<WorkerCode>]) {
        let threads: Vec<_> = {
            let threads = self.proxy_threads.lock().unwrap_or_else(|p| p.into_inner());
            threads.iter().map(|(_, h)| h.clone()).collect()
        };
        self.expect_nothing_on(&threads, workers);
    }

    fn warm_on(
        &self,
        threads: &[tokio::runtime::Handle],
        workers: &[&Arc<WorkerCode>],
        done: &std::sync::mpsc::Sender<()>,
    ) -> usize {
        let light: Vec<Arc<WorkerCode>> = workers
            .iter()
            .filter(|w| self.light(w))
            .map(|w| Arc::clone(w))
            .collect();
        if light.is_empty() {
            return 0;
        }
        for handle in threads {
            handle.spawn(crate::io::proxy_thread::warm(
                self.events.clone(),
                light.clone(),
                done.clone(),
            ));
        }
        light.len() * threads.len()
    }

    /// Creates `count` isolates for `code` one after another on the calling
    /// thread, dropping each, and returns how long each took to be ready to
    /// serve (bootstrap JavaScript, modules, top level, env). For the
    /// isolate startup benchmark.
    #[doc(hidden)]
    pub fn time_isolate_startup(code: &Arc<WorkerCode>, count: usize) -> Result<Vec<std::time::Duration>, ScriptError> {
        crate::script::platform::platform();
        let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
        let watch = crate::io::limits::CpuWatch::for_this_thread();
        let mut times = Vec::with_capacity(count);
        for key in 0..count {
            let link = ThreadLink {
                key: key as u64,
                completions: tx.clone(),
                inflight: Default::default(),
                watch: watch.clone(),
            };
            let started = std::time::Instant::now();
            let isolate = WorkerIsolate::create(code.clone(), link)?;
            times.push(started.elapsed());
            drop(isolate);
        }
        Ok(times)
    }

    /// Reads and validates a worker: its module graph, compiled and
    /// evaluated in a check isolate, with a default export that has a
    /// `fetch` handler (see [`Runtime::load_workers`]). V8 must be
    /// initialised: [`Runtime::start`] or [`Runtime::init_v8`].
    pub fn load_worker(spec: WorkerSpec) -> Result<Arc<WorkerCode>, ScriptError> {
        Runtime::load_workers(vec![spec]).pop().unwrap_or_else(|| {
            Err(ScriptError::Shape {
                path: "<worker>".into(),
                reason: "validation crashed".into(),
            })
        })
    }

    /// Reads and validates `specs` (each as [`Runtime::load_worker`] says),
    /// on scratch threads (as many as the machine has cores, at most one
    /// per worker) that take the workers in turn; answers in the order of
    /// `specs`. Each worker gets one isolate, which reads its module graph
    /// and then evaluates it (its modules' code caches are what later
    /// isolates use).
    pub fn load_workers(specs: Vec<WorkerSpec>) -> Vec<Result<Arc<WorkerCode>, ScriptError>> {
        Runtime::load_workers_then(specs, &|_| {})
    }

    /// [`Runtime::load_workers`], calling `loaded` on the loading thread as
    /// soon as each worker has loaded (in the order they finish), so that
    /// its isolates can be made while the rest still load (start-up does:
    /// `Runtime::warm_proxy_threads`).
    pub fn load_workers_then(
        specs: Vec<WorkerSpec>,
        loaded: &(dyn Fn(&Arc<WorkerCode>) + Sync),
    ) -> Vec<Result<Arc<WorkerCode>, ScriptError>> {
        Runtime::load_workers_beside(specs, 0, loaded)
    }

    /// [`Runtime::load_workers_then`] leaving `busy` cores to the work
    /// that runs meanwhile: the proxy threads, which make each light
    /// worker's isolates as it loads at start-up (and serve during a
    /// reload). At least half the cores load. On 2 cores with one proxy
    /// thread, one loading thread: two competed with the proxy thread for
    /// the cores, and spawn to the first 200 took 1 ms longer with 3
    /// workers, 100 ms longer with 200.
    pub fn load_workers_beside(
        specs: Vec<WorkerSpec>,
        busy: usize,
        loaded: &(dyn Fn(&Arc<WorkerCode>) + Sync),
    ) -> Vec<Result<Arc<WorkerCode>, ScriptError>> {
        crate::script::platform::platform();
        let count = specs.len();
        let threads = loading_threads(std::thread::available_parallelism().map_or(1, |n| n.get()), busy).min(count);
        let next = AtomicUsize::new(0);
        let specs: Vec<Mutex<Option<WorkerSpec>>> = specs.into_iter().map(|s| Mutex::new(Some(s))).collect();
        let results: Vec<LoadSlot> = (0..count).map(|_| Mutex::new(None)).collect();
        std::thread::scope(|scope| {
            for _ in 0..threads {
                let spawned = std::thread::Builder::new()
                    .name("isolate-check".into())
                    .stack_size(8 << 20)
                    .spawn_scoped(scope, || load_in_turn(&next, &specs, &results, loaded));
                if let Err(e) = spawned {
                    // The other threads take this one's share; with none at all,
                    // every worker gets this error below.
                    log::warn!("cannot start a worker loading thread: {e}");
                }
            }
        });
        results
            .into_iter()
            .zip(specs)
            .map(|(result, spec)| {
                let result = result.into_inner().unwrap_or_else(|p| p.into_inner());
                result.unwrap_or_else(|| {
                    let spec = spec.into_inner().unwrap_or_else(|p| p.into_inner());
                    Err(ScriptError::Read {
                        path: spec.map_or_else(|| "<worker>".into(), |s| s.main.display().to_string()),
                        reason: "no thread to validate it on".into(),
                    })
                })
            })
            .collect()
    }

    /// Initialises V8 without starting threads (for `--test`).
    pub fn init_v8() {
        crate::script::platform::platform();
    }

    /// Runs `worker`'s `fetch` handler for one request and answers with
    /// its response. Subrequests go through `fetcher`.
    ///
    /// Dropping the future before it answers (the client went away, the
    /// request timed out) cancels the request in the runtime: its in-flight
    /// count is released and its timers and subrequests stop.
    pub async fn dispatch(
        &self,
        worker: &Arc<WorkerCode>,
        head: RequestHead,
        body: Body,
        fetcher: Arc<dyn Fetcher>,
    ) -> Result<WorkerResponse, DispatchError> {
        match self.dispatch_phase(worker, head, body, fetcher, false).await? {
            Outcome::Answer(response) => Ok(response),
            Outcome::Pass(_) => Err(DispatchError::Internal("a pass nobody asked for".into())),
        }
    }

    /// Like [`Runtime::dispatch`], but the request phase may end in a
    /// [`Outcome::Pass`]: the script's first `fetch()` to its route's origin
    /// (as [`Fetcher::goes_to_route_origin`] says), made before it answered,
    /// is handed to the caller, which sends it itself and then settles the
    /// script's `fetch()` and waits for the final answer through the
    /// [`crate::Pass`]. Later fetches go through `fetcher`.
    pub async fn dispatch_or_pass(
        &self,
        worker: &Arc<WorkerCode>,
        head: RequestHead,
        body: Body,
        fetcher: Arc<dyn Fetcher>,
    ) -> Result<Outcome, DispatchError> {
        self.dispatch_phase(worker, head, body, fetcher, true).await
    }

    async fn dispatch_phase(
        &self,
        worker: &Arc<WorkerCode>,
        head: RequestHead,
        body: Body,
        fetcher: Arc<dyn Fetcher>,
        passes: bool,
    ) -> Result<Outcome, DispatchError> {
        worker.requests.fetch_add(1, Ordering::Relaxed);
        // Dropped unsent if this future (or the pass it answers with) is
        // dropped before the final answer: the request is then cancelled.
        let (answered, cancel) = oneshot::channel();
        let outcome = if self.on_this_thread(worker) {
            // No queue: the first slice of JS runs now, in this task's poll.
            let (reply, outcome) = oneshot::channel();
            crate::io::proxy_thread::dispatch(&self.events, worker, head, body, fetcher, passes, reply, cancel);
            outcome.await.unwrap_or(Err(DispatchError::Unavailable))
        } else {
            self.send(worker, Work::Request, |reply| Command::Dispatch {
                worker: worker.clone(),
                head: Box::new(head),
                body,
                fetcher,
                passes,
                reply,
                cancel,
            })
            .await
        };
        match outcome {
            Ok(Outcome::Pass(mut pass)) => {
                pass.answer.answered = Some(answered);
                Ok(Outcome::Pass(pass))
            }
            other => {
                let _ = answered.send(());
                other
            }
        }
    }

    /// Runs `worker`'s `scheduled(controller, env, ctx)` handler for one
    /// cron firing and answers once it and its `waitUntil` work settle.
    /// `scheduled_time_ms` is the scheduled instant (ms since the epoch).
    pub async fn scheduled(
        &self,
        worker: &Arc<WorkerCode>,
        cron: &str,
        scheduled_time_ms: f64,
        fetcher: Arc<dyn Fetcher>,
    ) -> Result<(), DispatchError> {
        let cron = cron.to_string();
        self.scheduled_running.fetch_add(1, Ordering::Relaxed);
        let _running = ScheduledRun(&self.scheduled_running);
        self.send(worker, Work::Scheduled, |reply| Command::Scheduled {
            worker: worker.clone(),
            cron,
            scheduled_time_ms,
            fetcher,
            reply,
        })
        .await
    }

    /// Sends a command built around a reply channel to the thread chosen for
    /// `worker` and waits for the reply. Refused at once when that
    /// thread's queue is full.
    async fn send<T>(
        &self,
        worker: &WorkerCode,
        work: Work,
        command: impl FnOnce(oneshot::Sender<Result<T, DispatchError>>) -> Command,
    ) -> Result<T, DispatchError> {
        let thread = &self.threads[self.place(worker, work)];
        let limit = self.queue_limit.load(Ordering::Relaxed);
        let queued = thread.queued.fetch_add(1, Ordering::Relaxed);
        if queued >= limit {
            thread.queued.fetch_sub(1, Ordering::Relaxed);
            return Err(DispatchError::Overloaded { queued });
        }
        thread.inflight.fetch_add(1, Ordering::Relaxed);
        let (reply, answer) = oneshot::channel();
        if thread.tx.send(command(reply)).is_err() {
            thread.queued.fetch_sub(1, Ordering::Relaxed);
            thread.inflight.fetch_sub(1, Ordering::Relaxed);
            return Err(DispatchError::Unavailable);
        }
        answer.await.unwrap_or(Err(DispatchError::Unavailable))
    }

    /// The thread kept for heavy work when there are two or more: the
    /// last one.
    fn lane(&self) -> Option<usize> {
        (self.threads.len() >= 2).then(|| self.threads.len() - 1)
    }

    /// Picks the thread for a command.
    ///
    /// With two or more isolate threads the last one is the lane for work
    /// that would hold up other workers' requests: every `scheduled()` run,
    /// and every request of a heavy worker version (one whose request hit
    /// its CPU limit or ran a slice of JS over [`HEAVY_SLICE`], or whose
    /// requests keep running slices over [`SUSTAINED_SLICE`]). While the
    /// lane has such work (a live heavy version, a scheduled run going),
    /// other requests stay off it.
    ///
    /// Otherwise a request goes to the least busy thread already warm for
    /// its worker, unless all of those are busy and a quieter thread
    /// exists, which then gets an isolate for the worker too.
    fn place(&self, worker: &WorkerCode, work: Work) -> usize {
        let load = |i: usize| self.threads[i].inflight.load(Ordering::Relaxed);
        let mut placement = self.placement.lock().unwrap_or_else(|p| p.into_inner());
        let Placement { warm, heavy } = &mut *placement;
        let lane = self.lane();
        if let Some(lane) = lane {
            if work == Work::Scheduled {
                return lane;
            }
            if worker.is_heavy() {
                heavy.insert(worker.id);
                return lane;
            }
        }
        let reserved = lane.filter(|_| !heavy.is_empty() || self.scheduled_running.load(Ordering::Relaxed) > 0);
        let open = |i: &usize| Some(*i) != reserved;
        let warm = warm.entry(worker.id).or_default();
        let best_warm = warm.iter().copied().filter(open).min_by_key(|&i| load(i));
        let quietest = (0..self.threads.len())
            .filter(|i| !warm.contains(i) && open(i))
            .min_by_key(|&i| load(i));
        match (best_warm, quietest) {
            (Some(w), Some(q)) if load(w) >= SPREAD_AT_INFLIGHT && load(q) < load(w) => {
                warm.push(q);
                q
            }
            (Some(w), _) => w,
            (None, Some(q)) => {
                warm.push(q);
                q
            }
            (None, None) => 0,
        }
    }

    /// Forgets where versions that are no longer deployed had isolates.
    pub fn retain_versions(&self, live: &[&Arc<WorkerCode>]) {
        let ids: HashSet<u64> = live.iter().map(|w| w.id).collect();
        let mut placement = self.placement.lock().unwrap_or_else(|p| p.into_inner());
        placement.warm.retain(|id, _| ids.contains(id));
        placement.heavy.retain(|id| ids.contains(id));
    }

    /// The number of isolate threads.
    pub fn thread_count(&self) -> usize {
        self.threads.len()
    }
}

/// Where a loading thread puts one worker's result.
type LoadSlot = Mutex<Option<Result<Arc<WorkerCode>, ScriptError>>>;

/// How many threads load workers on `cores` cores when `busy` of them are
/// kept for other work: the rest, but at least half of them (and one).
fn loading_threads(cores: usize, busy: usize) -> usize {
    cores.saturating_sub(busy).max(cores.div_ceil(2)).max(1)
}

/// A loading thread of [`Runtime::load_workers`]: takes the next worker
/// until none is left. A panic while one loads (a runtime bug) fails that
/// worker only.
fn load_in_turn(
    next: &AtomicUsize,
    specs: &[Mutex<Option<WorkerSpec>>],
    results: &[LoadSlot],
    on_loaded: &(dyn Fn(&Arc<WorkerCode>) + Sync),
) {
    let watch = crate::io::limits::CpuWatch::for_this_thread();
    // Check isolates not yet torn down (see below), oldest first.
    let mut checked = std::collections::VecDeque::new();
    loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let (Some(spec), Some(slot)) = (specs.get(i), results.get(i)) else {
            break;
        };
        let Some(spec) = spec.lock().unwrap_or_else(|p| p.into_inner()).take() else {
            continue;
        };
        let main = spec.main.display().to_string();
        let loaded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| load_one(&watch, spec)));
        let result = match loaded {
            Ok(Ok((code, isolate))) => {
                checked.push_back(isolate);
                Ok(code)
            }
            Ok(Err(e)) => Err(e),
            Err(_) => Err(ScriptError::Shape {
                path: main,
                reason: "validation crashed".into(),
            }),
        };
        if let Ok(code) = &result {
            on_loaded(code);
        }
        *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(result);
        // A check isolate's teardown (about 0.4 ms, with the TLB shootdowns
        // of its unmapped heap) comes after the worker is announced, so it
        // does not delay the isolates `on_loaded` has the proxy threads
        // make; and up to KEEP_CHECKED of them wait for the next workers'
        // checks, so it does not delay those either (a start-up's few
        // workers are all announced before any goes).
        while checked.len() > KEEP_CHECKED {
            tear_down(checked.pop_front());
        }
    }
    while let Some(oldest) = checked.pop_front() {
        tear_down(Some(oldest));
    }
}

/// Drops a check isolate; a panic in its teardown (a runtime bug) stays
/// on this thread.
fn tear_down(isolate: Option<WorkerIsolate>) {
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(isolate)));
}

/// Check isolates a loading thread keeps after their workers are announced,
/// to tear down once it has checked the next ones (each holds its heap,
/// 1.5-2 MiB for a small worker, until then).
const KEEP_CHECKED: usize = 2;

/// Reads `spec`'s module graph and evaluates the worker, both in one
/// isolate on this thread (`WorkerIsolate::create_reading`), which has
/// checked the worker and made its modules' code caches: returned for the
/// caller to drop once it has announced the worker.
fn load_one(
    watch: &Arc<crate::io::limits::CpuWatch>,
    spec: WorkerSpec,
) -> Result<(Arc<WorkerCode>, WorkerIsolate), ScriptError> {
    let main = normalize(&std::path::absolute(&spec.main).unwrap_or_else(|_| spec.main.clone()));
    let compat = CompatFlags::resolve(spec.compatibility_date.as_deref(), &spec.compatibility_flags)
        .map_err(|(_, e)| ScriptError::Compat(e))?;
    let root = ModuleRoot::new(spec.root.as_deref(), &main)?;
    let secrets = spec.secrets.clone();
    // A private event loop: nothing the top level starts is ever run.
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    let link = ThreadLink {
        key: 0,
        completions: tx,
        inflight: Default::default(),
        watch: watch.clone(),
    };
    let isolate = WorkerIsolate::create_reading(spec.memory_mb, link, |scope| {
        let graph = read_module_graph(scope, &main, &root, &compat)?;
        Ok(Arc::new(WorkerCode::new(spec, compat, main, graph)))
    })
    .map_err(|e| redact_script_error(&secrets, e))?;
    Ok((isolate.code.clone(), isolate))
}

impl Drop for Runtime {
    fn drop(&mut self) {
        let joins: Vec<_> = self.threads.iter_mut().filter_map(|t| t.join.take()).collect();
        self.threads.clear(); // closes the command channels; threads drain and exit
        for j in joins {
            let _ = j.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{SUSTAINED_SLICE, Strain, loading_threads};
    use std::time::Duration;

    #[test]
    fn a_worker_turns_heavy_when_most_of_its_requests_hold_the_thread() {
        let long = SUSTAINED_SLICE;
        let short = Duration::from_micros(200);
        // Every request long: not before the sixteenth.
        let mut s = Strain::default();
        let note = |s: &mut Strain, d| {
            s.note(d);
            s.strained()
        };
        let turned: Vec<bool> = (0..16).map(|_| note(&mut s, long)).collect();
        assert_eq!(turned.iter().position(|t| *t), Some(15));
        // Short requests never.
        let mut s = Strain::default();
        assert!((0..10_000).all(|_| !note(&mut s, short)));
        // A long request in ten, for ever: never.
        let mut s = Strain::default();
        assert!((0..10_000).all(|i| !note(&mut s, if i % 10 == 0 { long } else { short })));
        // A light worker that starts to hold its thread turns within a
        // few requests (the share is over half after six long ones).
        let mut s = Strain::default();
        assert!((0..100).all(|_| !note(&mut s, short)));
        let turned = (0..10).position(|_| note(&mut s, long));
        assert_eq!(turned, Some(5), "{s:?}");
        assert!(s.percent() >= 50);
    }

    #[test]
    fn loading_leaves_the_busy_cores_but_keeps_half() {
        assert_eq!(loading_threads(2, 0), 2);
        assert_eq!(loading_threads(2, 1), 1);
        assert_eq!(loading_threads(1, 1), 1);
        assert_eq!(loading_threads(8, 2), 6);
        assert_eq!(loading_threads(8, 8), 4);
        assert_eq!(loading_threads(16, 64), 8);
        assert_eq!(loading_threads(3, 3), 2);
    }
}
