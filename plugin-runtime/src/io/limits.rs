//! Per-request CPU limits and per-isolate memory limits.
//!
//! CPU: each isolate thread publishes, while it runs JS, the budget left to
//! the request it runs for. One watchdog thread polls the CPU clock of every
//! thread that is in JS (Linux's per-thread `schedstat`, nanoseconds) and
//! terminates the isolate's execution once the budget is spent. What each
//! request used is measured on its own thread with the thread CPU clock.
//!
//! Wall clock: the same watchdog ends a slice of JS that has run for longer
//! than [`wall_limit`] of real time, whatever its CPU use, so a slice that
//! blocks without using CPU cannot stall the other isolates of its thread.
//!
//! Memory: one budget per isolate ([`MemoryBudget`], `memory_mb`) covers the
//! V8 heap (as measured after each garbage collection) plus everything held
//! outside it on the script's behalf: ArrayBuffer contents (allocated by
//! V8 through the isolate's allocator, or created in Rust by an op), and
//! native state (codecs, HTML rewriters, body chunks written by the script).
//! Past it the isolate's JS is terminated and the isolate discarded. V8's own
//! heap limit, with a near-heap-limit callback that terminates execution
//! (and gives V8 head-room to unwind), keeps V8 from aborting the process.

use std::alloc::{GlobalAlloc, System};
use std::ffi::c_void;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

/// How often the watchdog looks at threads running JS.
const POLL: Duration = Duration::from_millis(2);

/// A thread's CPU time in nanoseconds, read from procfs (works for any
/// thread of this process, which is what the watchdog needs).
fn schedstat_ns(path: &PathBuf) -> Option<u64> {
    let text = std::fs::read_to_string(path).ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// The current thread's CPU clock file.
fn own_schedstat() -> Option<PathBuf> {
    let link = std::fs::read_link("/proc/thread-self").ok()?; // "<pid>/task/<tid>"
    let tid = link.file_name()?.to_string_lossy().to_string();
    Some(PathBuf::from(format!("/proc/self/task/{tid}/schedstat")))
}

/// The wall-clock time a slice of JS may take when `budget` of CPU is left
/// to its request: ten times that, and at least one second, so a thread
/// that merely waits for a core is not cut off, but one that blocks (waits
/// without using CPU) frees its thread within a bounded time.
pub(crate) fn wall_limit(budget: Duration) -> Duration {
    budget.saturating_mul(WALL_FACTOR).max(WALL_FLOOR)
}
const WALL_FACTOR: u32 = 10;
const WALL_FLOOR: Duration = Duration::from_secs(1);

struct Active {
    generation: u64,
    budget_ns: u64,
    started: Instant,
    wall: Duration,
    handle: v8::IsolateHandle,
    fired: Arc<AtomicBool>,
}

/// One isolate thread's link to the watchdog.
pub(crate) struct CpuWatch {
    stat: Option<PathBuf>,
    active: Mutex<Option<Active>>,
    generation: AtomicU64,
    /// Set when the watchdog ended a slice for its wall time (not its CPU).
    stalled: AtomicBool,
}

impl CpuWatch {
    /// Registers the calling thread with the watchdog.
    pub(crate) fn for_this_thread() -> Arc<CpuWatch> {
        let watch = Arc::new(CpuWatch {
            stat: own_schedstat(),
            active: Mutex::new(None),
            generation: AtomicU64::new(0),
            stalled: AtomicBool::new(false),
        });
        let dog = watchdog();
        dog.lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Arc::downgrade(&watch));
        watch
    }

    /// JS is about to run with `budget` of CPU left; `fired` is set if the
    /// watchdog terminates it.
    pub(crate) fn start(&self, budget: Duration, handle: v8::IsolateHandle, fired: Arc<AtomicBool>) {
        let generation = self.generation.fetch_add(1, Ordering::Relaxed) + 1;
        let budget_ns = budget.as_nanos().min(u64::MAX as u128) as u64;
        self.stalled.store(false, Ordering::Relaxed);
        let before = self.active.lock().unwrap_or_else(|p| p.into_inner()).replace(Active {
            generation,
            budget_ns,
            started: Instant::now(),
            wall: wall_limit(budget),
            handle,
            fired,
        });
        if before.is_none() {
            Dog::slice_started();
        }
    }

    /// Whether the last slice was ended for its wall time (it blocked).
    pub(crate) fn stalled(&self) -> bool {
        self.stalled.load(Ordering::Relaxed)
    }

    /// JS has returned.
    pub(crate) fn stop(&self) {
        if self.active.lock().unwrap_or_else(|p| p.into_inner()).take().is_some() {
            Dog::slice_ended();
        }
    }
}

/// Whether the watchdog has anything to watch, so that it sleeps while no
/// JS runs anywhere: polling every [`POLL`] cost an idle process about 500
/// wake-ups and 1% of a core a second.
///
/// The watchdog parks once it has found no slice running at
/// [`Dog::IDLE_POLLS`] polls in a row (so a busy proxy, whose slices come
/// and go between polls, does not park and unpark on every slice); the
/// first slice to start while it is parked unparks it.
struct Dog;

/// Slices of JS running now, on every thread.
static RUNNING: AtomicUsize = AtomicUsize::new(0);
/// The watchdog is parked (or about to): a starting slice wakes it.
static PARKED: AtomicBool = AtomicBool::new(false);
static DOG_THREAD: OnceLock<std::thread::Thread> = OnceLock::new();

impl Dog {
    const IDLE_POLLS: u32 = 50;

    fn slice_started() {
        // SeqCst here and in `park`: either this start sees the flag the
        // watchdog set before its last look at RUNNING, or that look sees
        // this slice. A wake-up that comes before the park is kept by the
        // thread's park token.
        RUNNING.fetch_add(1, Ordering::SeqCst);
        if PARKED.load(Ordering::SeqCst)
            && PARKED.swap(false, Ordering::SeqCst)
            && let Some(t) = DOG_THREAD.get()
        {
            t.unpark();
        }
    }

    fn slice_ended() {
        RUNNING.fetch_sub(1, Ordering::SeqCst);
    }

    fn idle() -> bool {
        RUNNING.load(Ordering::SeqCst) == 0
    }

    /// Called by the watchdog when it has seen no slice for a while:
    /// sleeps until one starts.
    fn park() {
        PARKED.store(true, Ordering::SeqCst);
        while PARKED.load(Ordering::SeqCst) {
            if !Dog::idle() {
                PARKED.store(false, Ordering::SeqCst);
                break;
            }
            std::thread::park();
        }
    }
}

type Watches = Arc<Mutex<Vec<Weak<CpuWatch>>>>;

fn watchdog() -> &'static Watches {
    static DOG: OnceLock<Watches> = OnceLock::new();
    DOG.get_or_init(|| {
        let watches: Watches = Arc::default();
        let list = watches.clone();
        let spawned = std::thread::Builder::new().name("cpu-watchdog".into()).spawn(move || {
            // thread -> (generation seen, CPU time once the slice was seen
            // twice). A slice is first only noted: most end before the next
            // poll, and reading a thread's CPU clock from procfs costs three
            // system calls (up to one more poll of CPU goes uncounted).
            let mut seen: Vec<(usize, u64, Option<u64>)> = Vec::new();
            let _ = DOG_THREAD.set(std::thread::current());
            let mut idle_polls = 0;
            loop {
                if Dog::idle() {
                    idle_polls += 1;
                    if idle_polls >= Dog::IDLE_POLLS {
                        Dog::park();
                        idle_polls = 0;
                    }
                } else {
                    idle_polls = 0;
                }
                std::thread::sleep(POLL);
                let live: Vec<Arc<CpuWatch>> = {
                    let mut l = list.lock().unwrap_or_else(|p| p.into_inner());
                    l.retain(|w| w.strong_count() > 0);
                    l.iter().filter_map(Weak::upgrade).collect()
                };
                for w in &live {
                    let key = Arc::as_ptr(w) as usize;
                    let active = w.active.lock().unwrap_or_else(|p| p.into_inner());
                    let Some(a) = active.as_ref() else { continue };
                    if a.started.elapsed() > a.wall && !a.fired.swap(true, Ordering::Relaxed) {
                        w.stalled.store(true, Ordering::Relaxed);
                        a.handle.terminate_execution();
                        continue;
                    }
                    let Some(stat) = &w.stat else { continue };
                    match seen.iter_mut().find(|s| s.0 == key) {
                        Some(s) if s.1 == a.generation => {
                            let Some(now) = schedstat_ns(stat) else { continue };
                            match s.2 {
                                None => s.2 = Some(now),
                                Some(base) => {
                                    if now.saturating_sub(base) > a.budget_ns && !a.fired.swap(true, Ordering::Relaxed)
                                    {
                                        a.handle.terminate_execution();
                                    }
                                }
                            }
                        }
                        Some(s) => *s = (key, a.generation, None),
                        None => seen.push((key, a.generation, None)),
                    }
                }
                seen.retain(|s| live.iter().any(|w| Arc::as_ptr(w) as usize == s.0));
            }
        });
        if let Err(e) = spawned {
            log::error!("cannot start the CPU watchdog: {e}; CPU limits are not enforced");
        }
        watches
    })
}

/// The calling thread's CPU time so far.
pub(crate) fn thread_cpu() -> Duration {
    cpu_time::ThreadTime::try_now()
        .map(|t| t.as_duration())
        .unwrap_or_default()
}

/// What the near-heap-limit callback needs; boxed so its address is stable
/// for as long as the isolate lives.
pub(crate) struct HeapGuard {
    pub handle: v8::IsolateHandle,
    pub exceeded: Arc<AtomicBool>,
}

/// V8 calls this when the heap nears its limit: terminate the script (the
/// isolate will be discarded) and raise the limit so V8 can unwind instead
/// of aborting the process.
pub(crate) extern "C" fn near_heap_limit(data: *mut c_void, current: usize, _initial: usize) -> usize {
    // SAFETY: `data` is the `HeapGuard` box registered with this callback; the
    // isolate owns it and frees it only after the isolate is disposed.
    let guard = unsafe { &*(data as *const HeapGuard) };
    if !guard.exceeded.swap(true, Ordering::Relaxed) {
        guard.handle.terminate_execution();
    }
    current + current / 2 + (32 << 20)
}

/// The memory one isolate may make the process hold (`memory_mb`): the V8
/// heap as of the last garbage collection plus everything charged here
/// (ArrayBuffer contents and native state held for the script). Shared by
/// the isolate's ArrayBuffer allocator, its ops and the deleters of buffers
/// created in Rust, which may run on other threads: all atomics.
pub(crate) struct MemoryBudget {
    /// Bytes charged outside the V8 heap.
    used: AtomicUsize,
    /// The V8 heap's used size after the last garbage collection.
    heap: AtomicUsize,
    /// An ArrayBuffer allocation V8 was refused and will retry after a
    /// garbage collection: if the collection does not make room for it,
    /// the isolate is over its limit.
    refused: AtomicUsize,
    limit: usize,
    exceeded: Arc<AtomicBool>,
    handle: OnceLock<v8::IsolateHandle>,
}

const BUFFER_ALIGN: usize = 16;

impl MemoryBudget {
    /// Counts `len` more bytes if they fit.
    fn try_reserve(&self, len: usize) -> bool {
        if len == 0 {
            return true;
        }
        let prev = self.used.fetch_add(len, Ordering::Relaxed);
        let total = prev
            .saturating_add(len)
            .saturating_add(self.heap.load(Ordering::Relaxed));
        if total > self.limit {
            self.used.fetch_sub(len, Ordering::Relaxed);
            return false;
        }
        true
    }

    /// Counts `len` more bytes, or refuses them (and terminates the
    /// script: the isolate is over its limit) when they do not fit.
    fn reserve(&self, len: usize) -> bool {
        self.try_reserve(len) || {
            self.exceed();
            false
        }
    }

    /// For V8's allocator: a refused allocation is retried by V8 after a
    /// garbage collection (which may free dead buffers), and the GC
    /// epilogue decides whether the isolate is really over its limit.
    fn reserve_for_v8(&self, len: usize) -> bool {
        if self.try_reserve(len) {
            self.refused.store(0, Ordering::Relaxed);
            true
        } else {
            // Refused twice in a row: V8's retry after collecting garbage.
            if self.refused.swap(len, Ordering::Relaxed) == len {
                self.exceed();
            }
            false
        }
    }

    fn release(&self, len: usize) {
        self.used.fetch_sub(len, Ordering::Relaxed);
    }

    /// An op found that what the script asked for does not fit in what is
    /// left (e.g. a chunk that inflates past it): the isolate is over its
    /// limit, exactly as if the allocation had been refused.
    pub(crate) fn refuse(&self) {
        self.exceed();
    }

    fn exceed(&self) {
        if !self.exceeded.swap(true, Ordering::Relaxed)
            && let Some(h) = self.handle.get()
        {
            h.terminate_execution();
        }
    }

    /// Charges `len` bytes held in Rust for the script until the returned
    /// [`Charge`] drops; `None` (and the isolate's script terminated) when
    /// they do not fit.
    pub(crate) fn charge(self: &Arc<Self>, len: usize) -> Option<Charge> {
        self.reserve(len).then(|| Charge {
            budget: self.clone(),
            len,
        })
    }

    /// [`MemoryBudget::charge`] from inside the isolate: when the bytes do
    /// not fit, first collects garbage (dead buffers release their
    /// charges) and tries again.
    pub(crate) fn charge_in(self: &Arc<Self>, isolate: &mut v8::Isolate, len: usize) -> Option<Charge> {
        if self.try_reserve(len) {
            return Some(Charge {
                budget: self.clone(),
                len,
            });
        }
        isolate.low_memory_notification();
        self.charge(len)
    }

    /// Bytes still free under the limit.
    pub(crate) fn remaining(&self) -> usize {
        self.limit
            .saturating_sub(self.used.load(Ordering::Relaxed))
            .saturating_sub(self.heap.load(Ordering::Relaxed))
    }

    /// Records the heap's size after a garbage collection; terminates the
    /// script if heap and external memory together are over the limit.
    fn heap_measured(&self, heap_used: usize) {
        self.heap.store(heap_used, Ordering::Relaxed);
        let wanted = self.refused.load(Ordering::Relaxed);
        let total = heap_used
            .saturating_add(self.used.load(Ordering::Relaxed))
            .saturating_add(wanted);
        if total > self.limit {
            self.exceed();
        }
    }

    /// Lets the budget terminate the isolate's script at the limit.
    pub(crate) fn watch(&self, handle: v8::IsolateHandle) {
        let _ = self.handle.set(handle);
    }
}

/// Bytes charged to an isolate's [`MemoryBudget`], released on drop (on
/// whatever thread drops it).
pub(crate) struct Charge {
    budget: Arc<MemoryBudget>,
    len: usize,
}

impl Drop for Charge {
    fn drop(&mut self) {
        self.budget.release(self.len);
    }
}

impl std::fmt::Debug for Charge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Charge({} bytes)", self.len)
    }
}

/// V8 calls this after every garbage collection (`data` is the isolate's
/// `MemoryBudget`): the heap's new size is measured against the budget.
pub(crate) unsafe extern "C" fn gc_epilogue(
    isolate: v8::UnsafeRawIsolatePtr,
    _type: v8::GCType,
    _flags: v8::GCCallbackFlags,
    data: *mut c_void,
) {
    // SAFETY: `data` is the pointer `Arc::as_ptr` gave for the isolate's
    // budget, which the isolate's `WorkerIsolate` keeps alive (the callback
    // is registered for that isolate only, and it is disposed first).
    let budget = unsafe { &*(data as *const MemoryBudget) };
    // SAFETY: V8 passes the isolate that collected, on its own thread; the
    // `Isolate` value is a borrowed view (not owned, never dropped as one).
    let mut isolate = std::mem::ManuallyDrop::new(unsafe { v8::Isolate::from_raw_isolate_ptr(isolate) });
    let stats = isolate.get_heap_statistics();
    budget.heap_measured(stats.used_heap_size());
}

/// A `Uint8Array` owning `data`, its bytes charged to `budget` until V8
/// frees the buffer. `None` when they do not fit (the script is being
/// terminated for its memory limit).
pub(crate) fn charged_uint8array<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    budget: &Arc<MemoryBudget>,
    data: Vec<u8>,
) -> Option<v8::Local<'s, v8::Uint8Array>> {
    let charge = budget.charge_in(scope, data.capacity())?;
    let len = data.len();
    let mut owned = Box::new((data, charge));
    let ptr = owned.0.as_mut_ptr() as *mut c_void;
    unsafe extern "C" fn free(_data: *mut c_void, _len: usize, owner: *mut c_void) {
        // SAFETY: `owner` is the box leaked below; V8 calls the deleter once.
        drop(unsafe { Box::from_raw(owner as *mut (Vec<u8>, Charge)) });
    }
    let owner = Box::into_raw(owned) as *mut c_void;
    // SAFETY: `ptr` points at `len` bytes owned by the leaked box, which
    // stays put (the Vec is never touched again) until V8 calls `free`.
    let store = unsafe { v8::ArrayBuffer::new_backing_store_from_ptr(ptr, len, free, owner) }.make_shared();
    let ab = v8::ArrayBuffer::with_backing_store(scope, &store);
    v8::Uint8Array::new(scope, ab, 0, len)
}

// V8 calls the allocator functions below from C++: a panic must not unwind
// into it (that aborts the process), so each runs behind the guard; a
// caught panic is a refused allocation (a RangeError in JS) or a leak.
unsafe extern "C" fn buffer_allocate(budget: &MemoryBudget, len: usize) -> *mut c_void {
    crate::jsg::guard::catch(|| allocate(budget, len, true)).unwrap_or(std::ptr::null_mut())
}

unsafe extern "C" fn buffer_allocate_uninitialized(budget: &MemoryBudget, len: usize) -> *mut c_void {
    crate::jsg::guard::catch(|| allocate(budget, len, false)).unwrap_or(std::ptr::null_mut())
}

fn allocate(budget: &MemoryBudget, len: usize, zeroed: bool) -> *mut c_void {
    if !budget.reserve_for_v8(len) {
        return std::ptr::null_mut();
    }
    // The system allocator, whatever the process's global one is: a
    // script's ArrayBuffers can be large and short-lived, and glibc maps
    // big blocks on their own and unmaps them when freed, so the memory a
    // discarded isolate's buffers held leaves the process at once (an
    // allocator that caches freed segments, as mimalloc does, keeps it).
    match std::alloc::Layout::from_size_align(len.max(1), BUFFER_ALIGN) {
        // SAFETY: the layout has a non-zero size.
        Ok(layout) if zeroed => unsafe { System.alloc_zeroed(layout) as *mut c_void },
        // SAFETY: as above.
        Ok(layout) => unsafe { System.alloc(layout) as *mut c_void },
        Err(_) => std::ptr::null_mut(),
    }
}

unsafe extern "C" fn buffer_free(budget: &MemoryBudget, data: *mut c_void, len: usize) {
    let _ = crate::jsg::guard::catch(|| {
        if data.is_null() {
            return;
        }
        budget.release(len);
        if let Ok(layout) = std::alloc::Layout::from_size_align(len.max(1), BUFFER_ALIGN) {
            // SAFETY: V8 frees with the length it allocated, so `data` came from
            // `buffer_allocate*` (the system allocator) with this same layout.
            unsafe { System.dealloc(data as *mut u8, layout) };
        }
    });
}

unsafe extern "C" fn buffer_drop(budget: *const MemoryBudget) {
    // SAFETY: `budget` is the pointer `Arc::into_raw` gave `array_buffer_allocator`;
    // V8 calls this once, when the allocator is destroyed.
    drop(unsafe { Arc::from_raw(budget) });
}

static BUFFER_VTABLE: v8::RustAllocatorVtable<MemoryBudget> = v8::RustAllocatorVtable {
    allocate: buffer_allocate,
    allocate_uninitialized: buffer_allocate_uninitialized,
    free: buffer_free,
    drop: buffer_drop,
};

/// An isolate's memory budget of `limit` bytes and the ArrayBuffer
/// allocator that charges it; `exceeded` is set when the isolate goes over.
/// Call [`MemoryBudget::watch`] with the isolate's handle once it exists.
pub(crate) fn array_buffer_allocator(
    limit: usize,
    exceeded: Arc<AtomicBool>,
) -> (v8::UniqueRef<v8::Allocator>, Arc<MemoryBudget>) {
    let budget = Arc::new(MemoryBudget {
        used: AtomicUsize::new(0),
        heap: AtomicUsize::new(0),
        refused: AtomicUsize::new(0),
        limit,
        exceeded,
        handle: OnceLock::new(),
    });
    let raw = Arc::into_raw(budget.clone());
    // SAFETY: `raw` stays valid until V8 calls `buffer_drop`, which releases
    // exactly the reference `into_raw` took; the vtable is 'static.
    let allocator = unsafe { v8::new_rust_allocator(raw, &BUFFER_VTABLE) };
    (allocator, budget)
}

/// Memory V8 reserves outside the isolate's allocator for the script:
/// resizable ArrayBuffers (their `maxByteLength`) and `WebAssembly.Memory`
/// pages. `js/05_memory.js` charges it through these ops before V8
/// reserves it and releases it when the owning object is collected.
///
/// `memoryCharge(bytes)`: charges `bytes` (a non-negative safe integer);
/// past the budget the script is terminated (memory limit) and a
/// `RangeError` is thrown.
pub(crate) fn op_memory_charge(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, _rv: v8::ReturnValue) {
    let Some(bytes) = js_bytes(scope, args.get(0)) else {
        return crate::jsg::ops::throw_type_error(scope, "memoryCharge(bytes)");
    };
    let budget = crate::jsg::ops::state(scope).borrow().memory.clone();
    match budget.charge_in(scope, bytes) {
        // Held until `memoryRelease` hands the same amount back.
        Some(charge) => std::mem::forget(charge),
        None => {
            let msg = v8::String::new(scope, "Array buffer allocation failed").unwrap();
            let exc = v8::Exception::range_error(scope, msg);
            scope.throw_exception(exc);
        }
    }
}

/// `memoryRelease(bytes)`: gives back what `memoryCharge` took.
pub(crate) fn op_memory_release(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, _rv: v8::ReturnValue) {
    let Some(bytes) = js_bytes(scope, args.get(0)) else {
        return crate::jsg::ops::throw_type_error(scope, "memoryRelease(bytes)");
    };
    let budget = crate::jsg::ops::state(scope).borrow().memory.clone();
    let used = budget.used.load(Ordering::Relaxed);
    budget.release(bytes.min(used));
}

/// A byte count from JS: a non-negative integer no larger than 2^53.
fn js_bytes(scope: &mut v8::PinScope, v: v8::Local<v8::Value>) -> Option<usize> {
    if !v.is_number() {
        return None;
    }
    let n = v.number_value(scope)?;
    (n.is_finite() && n >= 0.0 && n.fract() == 0.0 && n <= 9_007_199_254_740_992.0).then_some(n as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A slice that blocks without using CPU (here `Atomics.wait`, allowed
    /// in this bare isolate only; worker isolates refuse it) is ended by
    /// the wall-clock bound, not left to stall its thread.
    #[test]
    fn the_watchdog_ends_a_slice_that_blocks_without_using_cpu() {
        crate::script::platform::platform();
        let (mut isolate, _) = crate::script::snapshot::new_isolate(Default::default());
        isolate.set_allow_atomics_wait(true);
        let watch = CpuWatch::for_this_thread();
        let fired = Arc::new(AtomicBool::new(false));
        let budget = Duration::from_millis(10);
        watch.start(budget, isolate.thread_safe_handle(), fired.clone());
        let started = Instant::now();
        {
            v8::scope!(let scope, &mut isolate);
            let context = v8::Context::new(scope, Default::default());
            let scope = &mut v8::ContextScope::new(scope, context);
            let src = v8::String::new(scope, "Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0)").unwrap();
            let script = v8::Script::compile(scope, src, None).unwrap();
            assert!(script.run(scope).is_none(), "terminated, not returned");
        }
        watch.stop();
        let took = started.elapsed();
        assert!(fired.load(Ordering::Relaxed));
        assert!(watch.stalled());
        assert!(
            took >= wall_limit(budget) && took < wall_limit(budget) + Duration::from_secs(2),
            "ended after {took:?}"
        );
        isolate.cancel_terminate_execution();
    }

    #[test]
    fn wall_limit_is_ten_times_the_cpu_budget_and_at_least_a_second() {
        assert_eq!(wall_limit(Duration::from_millis(50)), Duration::from_secs(1));
        assert_eq!(wall_limit(Duration::from_millis(500)), Duration::from_secs(5));
        assert_eq!(wall_limit(Duration::from_secs(30)), Duration::from_secs(300));
    }
}
