//! JavaScript on the proxy thread that serves the connection.
//!
//! A light worker's request runs on the thread of the task that asked for
//! it: [`dispatch`] enters the isolate synchronously, inside that task's
//! poll, and returns once the first slice of JS has run. The embedder's
//! runtime must be a current-thread one (Pingora without work stealing:
//! each proxy thread is its own tokio runtime and a connection's task never
//! changes thread), so everything that task awaits afterwards, and every
//! completion of the script's pending ops, is on the same thread.
//!
//! Each such thread keeps a [`Host`] (its isolates, one per worker version
//! it has served, made on first use) and the `LocalSet` its ops' futures
//! run on, in a thread-local. A [`Driver`] task, spawned on the thread's
//! runtime when the host is made, polls them: the local tasks, then the
//! completions and cancellations (each one call into JS), then the sweep of
//! retired isolates and of those whose version turned heavy (its requests
//! now run on the isolate threads). The driver holds nothing itself (it is `Send`, as the
//! runtime requires); it borrows the thread-local for one poll at a time,
//! and JS never reaches the thread-local, so no borrow is ever taken twice.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use tokio::runtime::RuntimeFlavor;
use tokio::sync::oneshot;

use crate::error::DispatchError;
use crate::io::body::Body;
use crate::io::http::{Fetcher, Outcome, RequestHead};
use crate::io::thread::{Host, IsolateEvents, SWEEP_EVERY, contain};
use crate::script::worker::WorkerCode;

/// What a proxy thread keeps to run JS.
struct ProxyHost {
    /// Declared first: its isolates go before the tasks their ops spawned.
    host: Host,
    local: tokio::task::LocalSet,
    sweep: tokio::time::Interval,
}

thread_local! {
    static HOST: RefCell<Option<ProxyHost>> = const { RefCell::new(None) };
}

/// Whether a request may run its JS on the calling thread: the caller is a
/// task of a current-thread tokio runtime (so it, the driver and the ops'
/// futures all stay on this thread), not already inside this thread's host.
pub(crate) fn available() -> bool {
    let current_thread =
        tokio::runtime::Handle::try_current().is_ok_and(|h| h.runtime_flavor() == RuntimeFlavor::CurrentThread);
    current_thread && HOST.with(|h| h.try_borrow_mut().is_ok())
}

/// Runs `work` with this thread's host and its `LocalSet` entered, making
/// them (and spawning the driver) on first use. `None` only while this
/// thread is already inside its host (see [`available`]).
fn with_host<R>(events: &Option<IsolateEvents>, work: impl FnOnce(&mut Host) -> R) -> Option<R> {
    HOST.with(|cell| {
        let mut slot = cell.try_borrow_mut().ok()?;
        let ProxyHost { host, local, .. } = slot.get_or_insert_with(|| {
            tokio::spawn(Driver);
            let mut sweep = tokio::time::interval(SWEEP_EVERY);
            sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ProxyHost {
                host: Host::new(
                    Arc::new(AtomicUsize::new(0)),
                    Arc::new(AtomicUsize::new(0)),
                    events.clone(),
                ),
                local: tokio::task::LocalSet::new(),
                sweep,
            }
        });
        Some(in_host(host, local, work))
    })
}

/// Runs `work` with `host`'s `LocalSet` entered, then discards the isolates
/// a limit broke and those whose version turned heavy.
fn in_host<R>(host: &mut Host, local: &tokio::task::LocalSet, work: impl FnOnce(&mut Host) -> R) -> R {
    let _entered = local.enter();
    let result = work(host);
    host.discard_poisoned();
    drop_turned_heavy(host);
    schedule_chores(host);
    result
}

/// Runs the request phase's first slice of `worker`'s JS on this thread
/// (making the thread's host, and its isolate for `worker`, on first use);
/// the outcome arrives through `reply`. Call only when [`available`].
#[allow(clippy::too_many_arguments)]
pub(crate) fn dispatch(
    events: &Option<IsolateEvents>,
    worker: &Arc<WorkerCode>,
    head: RequestHead,
    body: Body,
    fetcher: Arc<dyn Fetcher>,
    passes: bool,
    reply: oneshot::Sender<Result<Outcome, DispatchError>>,
    cancel: oneshot::Receiver<()>,
) {
    let mut request = Some((head, body, fetcher, reply, cancel));
    with_host(events, |host| {
        let Some((head, body, fetcher, reply, cancel)) = request.take() else {
            return;
        };
        host.inflight().fetch_add(1, Ordering::Relaxed);
        contain("a request", || {
            host.dispatch(worker, head, body, fetcher, passes, reply, cancel)
        });
    });
    if let Some((.., reply, _)) = request {
        // (`available` said otherwise: not reached)
        let _ = reply.send(Err(DispatchError::Unavailable));
    }
}

/// Delivers `completion` now, in the caller's poll, if this thread's host
/// is the one `to` feeds (the caller is a task on the proxy thread that
/// runs the isolate) and is not busy; otherwise gives it back (`Some`),
/// for the host's queue. A pass's response phase starts this way: the origin's
/// head reaches the script's `fetch()` in the task that read it.
pub(crate) fn complete_here(
    to: &tokio::sync::mpsc::UnboundedSender<crate::io::context::Completion>,
    completion: crate::io::context::Completion,
) -> Option<crate::io::context::Completion> {
    let mut completion = Some(completion);
    let _ = HOST.try_with(|cell| {
        let Ok(mut slot) = cell.try_borrow_mut() else {
            return;
        };
        if let Some(ProxyHost { host, local, .. }) = slot.as_mut()
            && host.feeds(to)
            && let Some(c) = completion.take()
        {
            in_host(host, local, |host| contain("a completion", || host.complete(c)));
        }
    });
    completion
}

/// Creates an isolate for each of `workers` on this proxy thread (the
/// thread of the task that awaits this; a current-thread runtime), one
/// per poll: the thread's other tasks (its connections) run between two
/// isolates, so a warm-up holds the thread for one isolate's start at a
/// time. Says so on `done` after each.
pub(crate) async fn warm(
    events: Option<IsolateEvents>,
    workers: Vec<Arc<WorkerCode>>,
    done: std::sync::mpsc::Sender<()>,
) {
    for worker in workers {
        while with_host(&events, |host| contain("a warm-up", || host.warm(&worker))).is_none() {
            // (only while this thread is inside its host: not reached)
            tokio::task::yield_now().await;
        }
        let _ = done.send(());
        tokio::task::yield_now().await;
    }
    let _ = make_expected_blank(&events);
}

/// Start-up: light workers with these heap limits (MiB) are still to load
/// and get an isolate on this proxy thread (see [`Host::expect`]); a blank
/// isolate for the next of them is made now, while the thread waits, and
/// again after each warm-up ([`warm`]) until none is expected.
pub(crate) async fn expect(events: Option<IsolateEvents>, memory_mbs: Vec<usize>) {
    let _ = with_host(&events, |host| host.expect(memory_mbs));
    let _ = make_expected_blank(&events);
}

/// Start-up is over on this proxy thread (see [`Host::expect_nothing`]):
/// from now on a blank isolate of `standing` MiB is kept ready. It is
/// made later, not now: the listeners are about to accept, and the first
/// requests would wait for it. No sooner than [`QUIET_AFTER_STARTUP`]
/// from now, once the thread has no request in flight (after a request,
/// or at a sweep).
///
/// [`QUIET_AFTER_STARTUP`]: crate::io::thread::QUIET_AFTER_STARTUP
pub(crate) async fn expect_nothing(events: Option<IsolateEvents>, standing: Option<usize>) {
    let _ = with_host(&events, |host| host.expect_nothing(standing));
}

/// The thread has chores ([`Host::wants_chores`]: its standing blank to
/// make, first or again after an isolate made on demand took it, or a
/// version's fuller code caches): once no request of the thread is in
/// flight, they are done after the thread's other ready tasks (the
/// response of the last request goes out first), each in a poll of its
/// own, by a task of the thread's runtime (the `LocalSet`'s tasks run
/// inside the driver's borrow of the host).
fn schedule_chores(host: &mut Host) {
    // Not while a request of this thread is in flight (a pass waits for its
    // origin): it would wait for them too.
    if !host.wants_chores() || host.inflight().load(Ordering::Relaxed) > 0 {
        return;
    }
    host.refill_pending = true;
    tokio::spawn(chores_later(host.events()));
}

/// The largest worker (its modules' sources, bytes) whose fuller code
/// cache a proxy thread makes: about 5 ms of V8's time here, once per
/// version. A bigger one's isolates made later compile what a request
/// touches on their first request, as before.
const SERVED_CACHE_MOST_SOURCE: usize = 512 << 10;

async fn chores_later(events: Option<IsolateEvents>) {
    until(|| refill_blank(&events)).await;
    if crate::script::isolate::CACHE_DUE.get() {
        until(|| {
            with_host(&events, |host| {
                contain("a code cache", || {
                    host.produce_due_caches(Some(SERVED_CACHE_MOST_SOURCE))
                })
            })
            .is_some()
        })
        .await;
    }
}

/// Yields, then runs `done` until it says it is done (false: the host was
/// busy).
async fn until(mut done: impl FnMut() -> bool) {
    loop {
        tokio::task::yield_now().await;
        if done() {
            break;
        }
    }
}

/// [`Host::refill_blank`] on this thread; `false` while the host is busy
/// (try again).
fn refill_blank(events: &Option<IsolateEvents>) -> bool {
    with_host(events, |host| contain("a blank isolate", || host.refill_blank())).is_some()
}

/// [`Host::make_expected_blank`] on this thread (start-up: never the
/// standing blank); `false` while the host is busy.
fn make_expected_blank(events: &Option<IsolateEvents>) -> bool {
    with_host(events, |host| contain("a blank isolate", || host.make_expected_blank())).is_some()
}

/// Once a slice on this thread marked its version heavy, drops this
/// thread's isolates of heavy versions as soon as their requests are done
/// (their later requests run on the isolate threads: kept here, they would
/// only hold their heap, and what it retains, until the next sweep).
fn drop_turned_heavy(host: &mut Host) {
    if crate::script::isolate::TURNED_HEAVY.get() {
        let left = contain_bool(|| host.evict_heavy());
        crate::script::isolate::TURNED_HEAVY.set(left);
    }
}

/// [`contain`] for work that answers whether to try again (`true` after a
/// panic: the next poll does).
fn contain_bool(work: impl FnOnce() -> bool) -> bool {
    let mut again = true;
    contain("dropping heavy isolates", || again = work());
    again
}

/// `runtime.idle_isolate_timeout_s` in milliseconds (0: never), for every
/// proxy thread's sweep.
static IDLE_TIMEOUT_MS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

pub(crate) fn set_idle_timeout(timeout: Option<std::time::Duration>) {
    let ms = timeout.map_or(0, |t| u64::try_from(t.as_millis()).unwrap_or(u64::MAX).max(1));
    IDLE_TIMEOUT_MS.store(ms, std::sync::atomic::Ordering::Relaxed);
}

fn idle_timeout() -> Option<std::time::Duration> {
    match IDLE_TIMEOUT_MS.load(std::sync::atomic::Ordering::Relaxed) {
        0 => None,
        ms => Some(std::time::Duration::from_millis(ms)),
    }
}

/// Drives this thread's [`ProxyHost`]: spawned on the thread's runtime when
/// the host is made, it runs as long as the runtime does.
struct Driver;

impl Future for Driver {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        HOST.with(|cell| {
            let Ok(mut slot) = cell.try_borrow_mut() else {
                // (only while this thread is inside its host: not reached)
                cx.waker().wake_by_ref();
                return Poll::Pending;
            };
            let Some(ProxyHost { host, local, sweep }) = slot.as_mut() else {
                return Poll::Ready(());
            };
            // The ops' futures first: what they finish is delivered below
            // in the same poll. (Ready only while it has no task: the
            // driver keeps running, and `local` wakes it on the next one.)
            let _ = Pin::new(&mut *local).poll(cx);
            let _entered = local.enter();
            if host.poll_work(cx).is_ready() {
                // More may be waiting: come back after the thread's other tasks.
                cx.waker().wake_by_ref();
            }
            drop_turned_heavy(host);
            // Until Pending: that is what registers the next tick's wake-up.
            while sweep.poll_tick(cx).is_ready() {
                contain("the isolate sweep", || {
                    host.evict_retired();
                    host.evict_heavy();
                    if let Some(idle) = idle_timeout() {
                        host.evict_idle(idle);
                    }
                });
                host.discard_poisoned();
                schedule_chores(host);
            }
            Poll::Pending
        })
    }
}
