//! A thread's isolates and their event loop. [`Host`] is what any thread
//! that runs JS owns: its isolates, the completions of their pending ops,
//! cancellations, the sweep of retired and poisoned isolates. An isolate
//! thread drives one from its own loop ([`run`]: commands from the proxy,
//! then completions); a proxy thread drives one from a task on its Pingora
//! runtime (`proxy_thread.rs`). Either way each completion is one call into
//! JS followed by a microtask checkpoint — no re-entrant calls into JS.

use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

use tokio::sync::{mpsc, oneshot};

use crate::error::DispatchError;
use crate::io::body::Body;
use crate::io::context::Completion;
use crate::io::http::{Fetcher, Outcome, RequestHead};
use crate::script::isolate::{Blank, ThreadLink, WorkerIsolate};
use crate::script::worker::WorkerCode;

/// Why an isolate came or went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum IsolateEvent {
    /// A new isolate for a worker.
    Created,
    /// Discarded: a request exceeded its CPU time limit.
    CpuLimit,
    /// Discarded: the isolate exceeded its memory limit.
    MemoryLimit,
    /// Dropped: its worker version was replaced and has drained.
    Retired,
    /// Dropped from a proxy thread once idle: its version turned heavy, so
    /// its requests run on the isolate threads from then on.
    Heavy,
    /// Dropped from a proxy thread: no request for
    /// `runtime.idle_isolate_timeout_s` (the next one there makes a new one).
    Idle,
    /// Discarded: a Rust panic (a runtime bug) was caught while it ran.
    InternalError,
}

impl IsolateEvent {
    /// A short name for labels and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            IsolateEvent::Created => "created",
            IsolateEvent::CpuLimit => "cpu_limit",
            IsolateEvent::MemoryLimit => "memory_limit",
            IsolateEvent::Retired => "retired",
            IsolateEvent::Heavy => "heavy",
            IsolateEvent::Idle => "idle",
            IsolateEvent::InternalError => "internal_error",
        }
    }
}

/// A callback `(worker name, event)`.
pub type IsolateEvents = Arc<dyn Fn(&str, IsolateEvent) + Send + Sync>;

/// Work sent to an isolate thread.
pub(crate) enum Command {
    /// Run `worker`'s fetch handler for a request.
    Dispatch {
        worker: Arc<WorkerCode>,
        head: Box<RequestHead>,
        body: Body,
        fetcher: Arc<dyn Fetcher>,
        /// Whether the proxy accepts a pass (`Runtime::dispatch_or_pass`).
        passes: bool,
        reply: oneshot::Sender<Result<Outcome, DispatchError>>,
        /// Closes without a value if the proxy stops waiting for the
        /// answer (the client went away or timed out): the request is
        /// then cancelled.
        cancel: oneshot::Receiver<()>,
    },
    /// Run `worker`'s scheduled handler for one cron firing.
    Scheduled {
        worker: Arc<WorkerCode>,
        cron: String,
        scheduled_time_ms: f64,
        fetcher: Arc<dyn Fetcher>,
        reply: oneshot::Sender<Result<(), DispatchError>>,
    },
    /// Create `worker`'s isolate now, off the request path (at start-up
    /// and when a reload stores a new version), then say so on `done`.
    Warm {
        worker: Arc<WorkerCode>,
        done: std::sync::mpsc::Sender<()>,
    },
}

impl Command {
    /// Whether the command counts against the thread's queue bound (a
    /// warm-up is the runtime's own work, not a client's).
    pub(crate) fn queued(&self) -> bool {
        !matches!(self, Command::Warm { .. })
    }
}

/// The proxy's handle on one isolate thread.
pub(crate) struct ThreadHandle {
    pub tx: mpsc::UnboundedSender<Command>,
    /// Requests dispatched here and not yet answered (load balancing).
    pub inflight: Arc<AtomicUsize>,
    /// Commands sent here that the thread has not taken yet: the queue
    /// that `Runtime::send` bounds.
    pub queued: Arc<AtomicUsize>,
    pub join: Option<std::thread::JoinHandle<()>>,
}

/// Starts isolate thread number `index`.
pub(crate) fn spawn(index: usize, events: Option<IsolateEvents>) -> std::io::Result<ThreadHandle> {
    let (tx, rx) = mpsc::unbounded_channel();
    let inflight = Arc::new(AtomicUsize::new(0));
    let queued = Arc::new(AtomicUsize::new(0));
    let counters = (inflight.clone(), queued.clone());
    let join = std::thread::Builder::new()
        .name(format!("isolate-{index}"))
        .stack_size(8 << 20)
        .spawn(move || run(rx, counters, events))?;
    Ok(ThreadHandle {
        tx,
        inflight,
        queued,
        join: Some(join),
    })
}

/// The JS side of one thread: its isolates and what their pending work
/// reports back. Lives on the thread that made it (V8 isolates never move).
pub(crate) struct Host {
    /// Isolates in creation order; dropped in reverse (a V8 rule).
    isolates: Vec<WorkerIsolate>,
    completions_tx: mpsc::UnboundedSender<Completion>,
    completions: mpsc::UnboundedReceiver<Completion>,
    pub(crate) inflight: Arc<AtomicUsize>,
    queued: Arc<AtomicUsize>,
    next_key: u64,
    watch: Arc<crate::io::limits::CpuWatch>,
    events: Option<IsolateEvents>,
    /// Requests to cancel: (isolate key, request id).
    pub(crate) cancels_tx: mpsc::UnboundedSender<(u64, u32)>,
    cancels: mpsc::UnboundedReceiver<(u64, u32)>,
    /// Start-up on a proxy thread: the heap limits (MiB) of the light
    /// workers still expected to load here, one taken off as each gets
    /// its isolate ([`Host::expect`]), and the blank isolate made ahead
    /// for the next of them ([`Host::refill_blank`]).
    expected: Vec<usize>,
    blank: Option<Blank>,
    /// After start-up on a proxy thread: the heap limit (MiB) of the blank
    /// isolate kept standing for the next isolate made on demand (after an
    /// idle eviction or a broken limit, for a new version), which then
    /// needs only its worker's part ([`Host::expect_nothing`]).
    standing: Option<usize>,
    /// The thread's chores are scheduled ([`Host::wants_chores`]).
    pub(crate) refill_pending: bool,
    /// Until then the thread does no chores ([`Host::wants_chores`]): set
    /// as start-up or a reload's warm-up ends ([`Host::expect_nothing`]),
    /// when the listeners are about to accept (or the new deployment to
    /// serve) and a standing blank made at once would hold the first
    /// requests for an isolate's start (about 2 ms at start-up).
    quiet_until: Option<std::time::Instant>,
}

impl Drop for Host {
    fn drop(&mut self) {
        while self.isolates.pop().is_some() {}
    }
}

/// Completions delivered per [`Host::poll_work`] before it yields (so a
/// stream of completions cannot starve the rest of the thread's tasks).
const COMPLETIONS_PER_POLL: usize = 64;

impl Host {
    /// A host for the calling thread. `inflight` counts the requests its
    /// isolates serve, `queued` the commands sent to it not yet taken.
    pub(crate) fn new(inflight: Arc<AtomicUsize>, queued: Arc<AtomicUsize>, events: Option<IsolateEvents>) -> Host {
        let (completions_tx, completions) = mpsc::unbounded_channel();
        let (cancels_tx, cancels) = mpsc::unbounded_channel();
        Host {
            isolates: Vec::new(),
            completions_tx,
            completions,
            inflight,
            queued,
            next_key: 0,
            watch: crate::io::limits::CpuWatch::for_this_thread(),
            events,
            cancels_tx,
            cancels,
            expected: Vec::new(),
            blank: None,
            standing: None,
            refill_pending: false,
            quiet_until: None,
        }
    }

    /// The count of requests this thread's isolates serve.
    pub(crate) fn inflight(&self) -> &AtomicUsize {
        &self.inflight
    }

    fn tell(&self, worker: &str, event: IsolateEvent) {
        if let Some(f) = &self.events {
            f(worker, event);
        }
    }

    pub(crate) fn isolate_for(&mut self, worker: &Arc<WorkerCode>) -> Result<&mut WorkerIsolate, DispatchError> {
        if let Some(i) = self.isolates.iter().position(|w| w.code.id == worker.id) {
            return Ok(&mut self.isolates[i]);
        }
        self.next_key += 1;
        let link = ThreadLink {
            key: self.next_key,
            completions: self.completions_tx.clone(),
            inflight: self.inflight.clone(),
            watch: self.watch.clone(),
        };
        let started = std::time::Instant::now();
        let memory_mb = worker.spec.memory_mb;
        if let Some(i) = self.expected.iter().position(|&m| m == memory_mb) {
            self.expected.swap_remove(i);
        }
        let blank = self.blank.take_if(|b| b.memory_mb() == memory_mb);
        let from_blank = blank.is_some();
        // A panic while creating the isolate (a runtime bug) fails this
        // request like any creation error: answered, its in-flight count
        // released, counted and logged.
        let made = crate::jsg::guard::catch(|| match blank {
            Some(blank) => WorkerIsolate::create_in(blank, worker.clone(), link),
            None => WorkerIsolate::create(worker.clone(), link),
        });
        let mut isolate = match made {
            Ok(created) => created?,
            Err(payload) => {
                crate::jsg::guard::record(worker.name(), "isolate creation", &*payload);
                return Err(DispatchError::Internal("creating the isolate failed".into()));
            }
        };
        let took = started.elapsed();
        if log::log_enabled!(log::Level::Debug) {
            log::debug!(
                "{}: new isolate for worker {} in {took:?}{} ({})",
                std::thread::current().name().unwrap_or("isolate"),
                worker.name(),
                if from_blank { " from a blank made ahead" } else { "" },
                isolate.heap_summary()
            );
        }
        worker.isolates.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.tell(worker.name(), IsolateEvent::Created);
        self.isolates.push(isolate);
        Ok(self.isolates.last_mut().unwrap())
    }

    fn command(&mut self, cmd: Command) {
        if cmd.queued() {
            self.queued.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
        }
        match cmd {
            Command::Dispatch {
                worker,
                head,
                body,
                fetcher,
                passes,
                reply,
                cancel,
            } => self.dispatch(&worker, *head, body, fetcher, passes, reply, cancel),
            Command::Scheduled {
                worker,
                cron,
                scheduled_time_ms,
                fetcher,
                reply,
            } => match self.isolate_for(&worker) {
                Ok(isolate) => isolate.scheduled(&cron, scheduled_time_ms, fetcher, reply),
                Err(e) => {
                    self.inflight.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
                    let _ = reply.send(Err(e));
                }
            },
            Command::Warm { worker, done } => {
                self.inflight.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
                self.warm(&worker);
                let _ = done.send(());
            }
        }
    }

    /// Start-up on a proxy thread: light workers with these heap limits
    /// (MiB) are still to load and get an isolate here. Until each has, a
    /// blank isolate is kept ready for the next ([`Host::refill_blank`]).
    pub(crate) fn expect(&mut self, memory_mbs: Vec<usize>) {
        self.expected = memory_mbs;
    }

    /// Start-up is over: nothing more is expected. From now on a blank
    /// isolate with a heap limit of `standing` MiB (if any) is kept ready
    /// for the next isolate made on demand; a blank of another limit that
    /// no worker took is dropped.
    /// The standing blank is made no sooner than [`QUIET_AFTER_STARTUP`]
    /// later (at a sweep, or after a request).
    pub(crate) fn expect_nothing(&mut self, standing: Option<usize>) {
        self.expected = Vec::new();
        self.standing = standing;
        if self.blank.as_ref().map(Blank::memory_mb) != standing {
            self.blank = None;
        }
        self.quiet_until = Some(std::time::Instant::now() + QUIET_AFTER_STARTUP);
    }

    /// Whether the standing blank ([`Host::expect_nothing`]) was taken and
    /// no refill is scheduled yet.
    pub(crate) fn wants_blank(&self) -> bool {
        self.standing.is_some() && self.blank.is_none() && self.expected.is_empty() && !self.refill_pending
    }

    /// Whether the thread has chores to do between requests and none is
    /// scheduled: its standing blank ([`Host::wants_blank`]) or a
    /// version's fuller code caches (`CACHE_DUE`, [`Host::produce_due_caches`]).
    pub(crate) fn wants_chores(&mut self) -> bool {
        let wanted = self.wants_blank() || (crate::script::isolate::CACHE_DUE.get() && !self.refill_pending);
        if wanted && let Some(until) = self.quiet_until {
            if std::time::Instant::now() < until {
                return false;
            }
            self.quiet_until = None;
        }
        wanted
    }

    /// The isolate events' callback (for the tasks the thread schedules).
    pub(crate) fn events(&self) -> Option<IsolateEvents> {
        self.events.clone()
    }

    /// Makes a blank isolate for the next expected worker (at start-up) or
    /// the standing one (after it), unless one is ready: at start-up the
    /// thread does it while it waits for that worker to load, which then
    /// needs only its own part made ([`WorkerIsolate::create_in`]); after
    /// start-up, between requests, once an isolate made on demand took it.
    pub(crate) fn refill_blank(&mut self) {
        self.refill_pending = false;
        if let Some(memory_mb) = self.expected.first().copied().or(self.standing) {
            self.make_blank(memory_mb);
        }
    }

    /// Start-up only: [`Host::refill_blank`] for the next expected worker,
    /// never the standing blank (made later, see [`Host::expect_nothing`]).
    pub(crate) fn make_expected_blank(&mut self) {
        if let Some(&memory_mb) = self.expected.first() {
            self.make_blank(memory_mb);
        }
    }

    fn make_blank(&mut self, memory_mb: usize) {
        if self.blank.is_some() {
            return;
        }
        let started = std::time::Instant::now();
        match crate::jsg::guard::catch(|| Blank::new(memory_mb)) {
            Ok(blank) => {
                log::debug!(
                    "{}: blank isolate ({memory_mb} MiB) made ahead in {:?}",
                    std::thread::current().name().unwrap_or("isolate"),
                    started.elapsed()
                );
                self.blank = Some(blank);
            }
            Err(payload) => {
                // (a runtime bug) The workers' isolates are made whole.
                crate::jsg::guard::record("-", "making a blank isolate", &*payload);
                self.expected = Vec::new();
                self.standing = None;
            }
        }
    }

    /// Makes the code caches this thread's isolates have due (each
    /// version's first isolate whose first client request is over, see
    /// [`WorkerIsolate::produce_served_cache`]), of versions whose modules
    /// are at most `most` bytes of source (`None`: any).
    pub(crate) fn produce_due_caches(&mut self, most: Option<usize>) {
        crate::script::isolate::CACHE_DUE.set(false);
        for iso in &mut self.isolates {
            iso.produce_served_cache(most);
        }
    }

    /// Creates `worker`'s isolate on this thread now, off the request path,
    /// unless it has one.
    pub(crate) fn warm(&mut self, worker: &Arc<WorkerCode>) {
        if let Err(e) = self.isolate_for(worker) {
            // The first request fails the same way and logs it.
            log::debug!("warming worker {}: {e}", worker.name());
        }
    }

    /// Drops isolates of worker versions nothing refers to any more (a
    /// reload replaced them and their last request, including its
    /// `waitUntil` work, has finished).
    pub(crate) fn evict_retired(&mut self) {
        for iso in &mut self.isolates {
            iso.reap_requests();
        }
        let mut i = 0;
        while i < self.isolates.len() {
            let iso = &self.isolates[i];
            // Each isolate of a version (on any thread) holds one reference;
            // any other holder is a deployment or a request still using it.
            let holders = iso.code.isolates.load(std::sync::atomic::Ordering::Relaxed);
            let retired = Arc::strong_count(&iso.code) <= holders && iso.state.borrow().requests.is_empty();
            if retired {
                let iso = self.isolates.remove(i);
                iso.code.isolates.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
                self.tell(iso.code.name(), IsolateEvent::Retired);
                log::debug!(
                    "dropping retired isolate of worker {} version {}",
                    iso.code.name(),
                    iso.code.version
                );
                drop(iso);
            } else {
                i += 1;
            }
        }
    }

    /// Drops isolates of heavy versions that have no request left: on a
    /// proxy thread nothing would use them again (a heavy version's
    /// requests run on the isolate threads), while their heap, and what
    /// its globals retain, would stay until the next reload.
    /// Returns whether one is left (with a request still in flight).
    pub(crate) fn evict_heavy(&mut self) -> bool {
        let mut left = false;
        let mut i = 0;
        while i < self.isolates.len() {
            if !self.isolates[i].code.is_heavy() {
                i += 1;
                continue;
            }
            self.isolates[i].reap_requests();
            let iso = &self.isolates[i];
            if iso.state.borrow().requests.is_empty() {
                let iso = self.isolates.remove(i);
                iso.code.isolates.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
                self.tell(iso.code.name(), IsolateEvent::Heavy);
                log::debug!(
                    "dropping the proxy-thread isolate of heavy worker {} version {}",
                    iso.code.name(),
                    iso.code.version
                );
                drop(iso);
            } else {
                left = true;
                i += 1;
            }
        }
        left
    }

    /// Drops isolates that had no request for `idle` and have none in
    /// flight (nor `waitUntil` work): on a proxy thread the next request
    /// for their worker makes a new one.
    pub(crate) fn evict_idle(&mut self, idle: std::time::Duration) {
        let mut i = 0;
        while i < self.isolates.len() {
            if self.isolates[i].last_used.elapsed() < idle {
                i += 1;
                continue;
            }
            self.isolates[i].reap_requests();
            if !self.isolates[i].state.borrow().requests.is_empty() {
                i += 1;
                continue;
            }
            let iso = self.isolates.remove(i);
            iso.code.isolates.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
            self.tell(iso.code.name(), IsolateEvent::Idle);
            log::debug!(
                "dropping the idle proxy-thread isolate of worker {} version {}",
                iso.code.name(),
                iso.code.version
            );
            drop(iso);
        }
    }

    /// Discards an isolate a limit broke; its other requests fail with
    /// the same error (their JS state went with it). The next request
    /// for the worker gets a fresh isolate.
    pub(crate) fn discard_poisoned(&mut self) {
        while let Some(i) = self.isolates.iter().position(|w| w.poisoned.is_some()) {
            let iso = self.isolates.remove(i);
            let limit = iso.poisoned.expect("poisoned");
            let ids: Vec<u32> = iso.state.borrow().requests.keys().copied().collect();
            for id in ids {
                crate::io::request::finish(&iso.state, id, crate::io::request::Outcome::Failed(limit.error()));
            }
            iso.code.isolates.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
            let (event, why) = match limit {
                crate::io::context::Limit::Cpu => (IsolateEvent::CpuLimit, "exceeded its CPU time limit"),
                crate::io::context::Limit::Memory => (IsolateEvent::MemoryLimit, "exceeded its memory limit"),
                crate::io::context::Limit::Internal => {
                    (IsolateEvent::InternalError, "internal error (isolate discarded)")
                }
            };
            iso.code.set_last_error(why);
            self.tell(iso.code.name(), event);
            drop(iso);
        }
    }

    fn cancel(&mut self, isolate: u64, req: u32) {
        if let Some(iso) = self.isolates.iter_mut().find(|i| i.state.borrow().key == isolate) {
            iso.cancel(req);
        }
    }

    /// Whether `to` is this host's completion queue.
    pub(crate) fn feeds(&self, to: &mpsc::UnboundedSender<Completion>) -> bool {
        self.completions_tx.same_channel(to)
    }

    pub(crate) fn complete(&mut self, c: Completion) {
        if let Some(isolate) = self.isolates.iter_mut().find(|i| i.state.borrow().key == c.isolate) {
            isolate.complete(c.promise, c.result);
        }
    }

    /// Delivers the completions and cancellations that are ready (each
    /// its own call into JS), then discards isolates a limit broke. Ready
    /// once it delivered something; `Pending` (with `cx` woken on new work)
    /// when there was nothing. Must run inside the thread's `LocalSet`.
    pub(crate) fn poll_work(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        use std::task::Poll;
        let mut delivered = 0;
        while delivered < COMPLETIONS_PER_POLL {
            match self.completions.poll_recv(cx) {
                Poll::Ready(Some(c)) => contain("a completion", || self.complete(c)),
                // (never closed: the host holds a sender)
                Poll::Ready(None) | Poll::Pending => break,
            }
            delivered += 1;
        }
        while let Poll::Ready(Some((isolate, req))) = self.cancels.poll_recv(cx) {
            contain("a cancellation", || self.cancel(isolate, req));
            delivered += 1;
        }
        if delivered == 0 {
            return Poll::Pending;
        }
        self.discard_poisoned();
        Poll::Ready(())
    }
}

/// Runs one turn's work so that a panic (a runtime bug) cannot end the
/// thread and every isolate on it. Panics inside an isolate are already
/// contained there (the isolate is discarded); this is the net for the rest
/// (e.g. creating an isolate: that request's reply is dropped, a 503).
pub(crate) fn contain(what: &str, work: impl FnOnce()) {
    if let Err(payload) = crate::jsg::guard::catch(work) {
        let place = format!("{} ({what})", std::thread::current().name().unwrap_or("a thread"));
        crate::jsg::guard::record("-", &place, &*payload);
    }
}

fn run(
    mut commands: mpsc::UnboundedReceiver<Command>,
    (inflight, queued): (Arc<AtomicUsize>, Arc<AtomicUsize>),
    events: Option<IsolateEvents>,
) {
    crate::script::platform::platform();
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            log::error!("isolate thread cannot start its event loop: {e}");
            return;
        }
    };
    let mut host = Host::new(inflight, queued, events);
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, async move {
        let mut sweep = tokio::time::interval(SWEEP_EVERY);
        sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                biased;
                _ = std::future::poll_fn(|cx| host.poll_work(cx)) => {}
                cmd = commands.recv() => match cmd {
                    Some(cmd) => contain("a command", || host.command(cmd)),
                    None => break,
                },
                _ = sweep.tick() => contain("the isolate sweep", || host.evict_retired()),
            }
            host.discard_poisoned();
            // Once nothing waits: a version's fuller code caches.
            if crate::script::isolate::CACHE_DUE.get() && commands.is_empty() {
                contain("a code cache", || host.produce_due_caches(None));
            }
        }
        drop(host);
    });
}

/// How often a thread drops the isolates of retired versions.
pub(crate) const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_millis(500);

/// How long a proxy thread waits after start-up or a reload's warm-up
/// before its chores (its standing blank, fuller code caches).
pub(crate) const QUIET_AFTER_STARTUP: std::time::Duration = SWEEP_EVERY;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::runtime::Runtime;
    use crate::script::worker::WorkerSpec;

    /// A worker whose top level and env must have run in its isolate.
    fn worker(name: &str, memory_mb: usize) -> Arc<WorkerCode> {
        let dir = std::env::temp_dir().join(format!("isoproxy-blank-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let main = dir.join("w.js");
        std::fs::write(
            &main,
            "const started = 'top level ran';\nexport default { fetch(request, env) { return new Response(started + env.X); } };\n",
        )
        .unwrap();
        let mut env = serde_json::Map::new();
        env.insert("X".into(), "!".into());
        let code = Runtime::load_worker(WorkerSpec {
            name: name.into(),
            main,
            env,
            secrets: Default::default(),
            root: None,
            compatibility_date: None,
            compatibility_flags: vec![],
            memory_mb,
            cpu_ms: 50,
            scheduled_cpu_ms: 1_000,
            request_timeout_s: 10,
            subrequests: 5,
            kv_namespaces: Vec::new(),
        })
        .unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        code
    }

    /// V8's heap limit of `isolate`, in MiB.
    fn heap_limit_mb(isolate: &mut WorkerIsolate) -> usize {
        isolate.enter();
        let limit = isolate.isolate.get_heap_statistics().heap_size_limit();
        isolate.exit();
        limit >> 20
    }

    /// The blank made ahead goes to the next expected worker of its heap
    /// limit and to no other: a worker of another limit gets a whole new
    /// isolate of its own limit, and the blank waits for its worker.
    #[test]
    fn a_blank_isolate_serves_only_a_worker_of_its_heap_limit() {
        crate::script::platform::platform();
        let small = worker("small", 16);
        let big = worker("big", 64);
        let mut host = Host::new(Default::default(), Default::default(), None);
        host.expect(vec![64, 16]);
        host.refill_blank();
        assert_eq!(host.blank.as_ref().map(Blank::memory_mb), Some(64));

        host.isolate_for(&small).unwrap();
        assert_eq!(
            host.blank.as_ref().map(Blank::memory_mb),
            Some(64),
            "kept for its worker"
        );
        assert_eq!(host.expected, vec![64]);
        // A blank is ready: no second one.
        host.refill_blank();
        host.isolate_for(&big).unwrap();
        assert!(host.blank.is_none(), "the big worker took the blank");
        assert!(host.expected.is_empty());
        host.refill_blank();
        assert!(host.blank.is_none(), "nothing more expected");

        let limits: Vec<usize> = host.isolates.iter_mut().map(heap_limit_mb).collect();
        assert!(limits[0] < 40, "the small worker's heap limit: {limits:?}");
        assert!(
            (60..100).contains(&limits[1]),
            "the big worker's heap limit: {limits:?}"
        );
        for isolate in &host.isolates {
            assert!(isolate.handler.is_some() && isolate.env.is_some());
            assert!(isolate.state.borrow().serving);
        }

        // Expected again, then start-up ends before the worker comes.
        host.expect(vec![128]);
        host.refill_blank();
        assert!(host.blank.is_some());
        host.expect_nothing(None);
        assert!(host.blank.is_none() && host.expected.is_empty());
        assert!(!host.wants_blank(), "no standing blank asked for");
    }

    /// After start-up a blank of the standing limit is kept: a blank of
    /// that limit made ahead stays, one of another limit goes. An isolate
    /// made on demand for a worker of that limit takes it (and a refill
    /// is wanted); a worker of another limit gets an isolate of its own
    /// limit, and the blank stays.
    #[test]
    fn the_standing_blank_serves_the_next_isolate_made_on_demand() {
        crate::script::platform::platform();
        let small = worker("standing-small", 16);
        let big = worker("standing-big", 64);
        let mut host = Host::new(Default::default(), Default::default(), None);
        host.expect(vec![64]);
        host.refill_blank();
        host.expect_nothing(Some(64));
        assert_eq!(host.blank.as_ref().map(Blank::memory_mb), Some(64), "kept standing");
        assert!(!host.wants_blank());

        host.isolate_for(&small).unwrap();
        assert_eq!(host.blank.as_ref().map(Blank::memory_mb), Some(64));
        host.isolate_for(&big).unwrap();
        assert!(host.blank.is_none(), "the big worker took it");
        assert!(host.wants_blank());
        host.refill_pending = true;
        assert!(!host.wants_blank(), "one refill at a time");
        host.refill_blank();
        assert_eq!(host.blank.as_ref().map(Blank::memory_mb), Some(64));
        assert!(!host.wants_blank() && !host.refill_pending);

        let limits: Vec<usize> = host.isolates.iter_mut().map(heap_limit_mb).collect();
        assert!(limits[0] < 40, "the small worker's heap limit: {limits:?}");
        assert!(
            (60..100).contains(&limits[1]),
            "the big worker's heap limit: {limits:?}"
        );

        // Start-up's blank of another limit is not kept.
        let mut host = Host::new(Default::default(), Default::default(), None);
        host.expect(vec![16]);
        host.refill_blank();
        host.expect_nothing(Some(64));
        assert!(host.blank.is_none() && host.wants_blank());
    }

    /// As start-up ends the listeners are about to accept: the standing
    /// blank is wanted, but no chore runs until the quiet time is over, and
    /// start-up's own refills make only blanks for expected workers.
    #[test]
    fn the_standing_blank_waits_until_start_up_has_been_over_a_while() {
        crate::script::platform::platform();
        let mut host = Host::new(Default::default(), Default::default(), None);
        host.expect(vec![64]);
        host.expect_nothing(Some(64));
        assert!(host.wants_blank());
        assert!(!host.wants_chores(), "quiet right after start-up");
        host.make_expected_blank();
        assert!(host.blank.is_none(), "start-up's refill makes no standing blank");

        std::thread::sleep(QUIET_AFTER_STARTUP + std::time::Duration::from_millis(20));
        assert!(host.wants_chores(), "due once the quiet time is over");
        host.refill_blank();
        assert_eq!(host.blank.as_ref().map(Blank::memory_mb), Some(64));
        assert!(!host.wants_chores());

        // A blank for an expected worker is still made at once.
        let mut host = Host::new(Default::default(), Default::default(), None);
        host.expect(vec![16]);
        host.make_expected_blank();
        assert_eq!(host.blank.as_ref().map(Blank::memory_mb), Some(16));
    }
}
