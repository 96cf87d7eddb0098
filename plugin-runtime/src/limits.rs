//! Per-request CPU limits and per-isolate memory limits.
//!
//! CPU: each isolate thread publishes, while it runs JS, the budget left to
//! the request it runs for. One watchdog thread polls the CPU clock of every
//! thread that is in JS (Linux's per-thread `schedstat`, nanoseconds) and
//! terminates the isolate's execution once the budget is spent. What each
//! request used is measured on its own thread with the thread CPU clock.
//!
//! Memory: V8's heap limit, with a near-heap-limit callback that terminates
//! execution (and gives V8 head-room to unwind) instead of letting V8 abort
//! the process.

use std::ffi::c_void;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

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

struct Active {
    generation: u64,
    budget_ns: u64,
    handle: v8::IsolateHandle,
    fired: Arc<AtomicBool>,
}

/// One isolate thread's link to the watchdog.
pub(crate) struct CpuWatch {
    stat: Option<PathBuf>,
    active: Mutex<Option<Active>>,
    generation: AtomicU64,
}

impl CpuWatch {
    /// Registers the calling thread with the watchdog.
    pub(crate) fn for_this_thread() -> Arc<CpuWatch> {
        let watch = Arc::new(CpuWatch {
            stat: own_schedstat(),
            active: Mutex::new(None),
            generation: AtomicU64::new(0),
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
        *self.active.lock().unwrap_or_else(|p| p.into_inner()) = Some(Active {
            generation,
            budget_ns,
            handle,
            fired,
        });
    }

    /// JS has returned.
    pub(crate) fn stop(&self) {
        *self.active.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}

type Watches = Arc<Mutex<Vec<Weak<CpuWatch>>>>;

fn watchdog() -> &'static Watches {
    static DOG: OnceLock<Watches> = OnceLock::new();
    DOG.get_or_init(|| {
        let watches: Watches = Arc::default();
        let list = watches.clone();
        let spawned = std::thread::Builder::new().name("cpu-watchdog".into()).spawn(move || {
            // thread -> (generation seen, CPU time when first seen)
            let mut seen: Vec<(usize, u64, u64)> = Vec::new();
            loop {
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
                    let Some(stat) = &w.stat else { continue };
                    let Some(now) = schedstat_ns(stat) else { continue };
                    match seen.iter_mut().find(|s| s.0 == key) {
                        Some(s) if s.1 == a.generation => {
                            if now.saturating_sub(s.2) > a.budget_ns && !a.fired.swap(true, Ordering::Relaxed) {
                                a.handle.terminate_execution();
                            }
                        }
                        Some(s) => *s = (key, a.generation, now),
                        None => seen.push((key, a.generation, now)),
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

/// ArrayBuffer memory of one isolate, counted against its limit: V8's heap
/// limit does not cover ArrayBuffer contents, which live outside the heap.
pub(crate) struct BufferBudget {
    used: std::sync::atomic::AtomicUsize,
    limit: usize,
    exceeded: Arc<AtomicBool>,
    handle: OnceLock<v8::IsolateHandle>,
}

const BUFFER_ALIGN: usize = 16;

impl BufferBudget {
    fn reserve(&self, len: usize) -> bool {
        let prev = self.used.fetch_add(len, Ordering::Relaxed);
        if prev + len > self.limit {
            self.used.fetch_sub(len, Ordering::Relaxed);
            if !self.exceeded.swap(true, Ordering::Relaxed)
                && let Some(h) = self.handle.get()
            {
                h.terminate_execution();
            }
            return false;
        }
        true
    }
}

unsafe extern "C" fn buffer_allocate(budget: &BufferBudget, len: usize) -> *mut c_void {
    if !budget.reserve(len) {
        return std::ptr::null_mut();
    }
    match std::alloc::Layout::from_size_align(len.max(1), BUFFER_ALIGN) {
        // SAFETY: the layout has a non-zero size.
        Ok(layout) => unsafe { std::alloc::alloc_zeroed(layout) as *mut c_void },
        Err(_) => std::ptr::null_mut(),
    }
}

unsafe extern "C" fn buffer_allocate_uninitialized(budget: &BufferBudget, len: usize) -> *mut c_void {
    if !budget.reserve(len) {
        return std::ptr::null_mut();
    }
    match std::alloc::Layout::from_size_align(len.max(1), BUFFER_ALIGN) {
        // SAFETY: the layout has a non-zero size.
        Ok(layout) => unsafe { std::alloc::alloc(layout) as *mut c_void },
        Err(_) => std::ptr::null_mut(),
    }
}

unsafe extern "C" fn buffer_free(budget: &BufferBudget, data: *mut c_void, len: usize) {
    if data.is_null() {
        return;
    }
    budget.used.fetch_sub(len, Ordering::Relaxed);
    if let Ok(layout) = std::alloc::Layout::from_size_align(len.max(1), BUFFER_ALIGN) {
        // SAFETY: V8 frees with the length it allocated, so `data` came from
        // `buffer_allocate*` with this same layout.
        unsafe { std::alloc::dealloc(data as *mut u8, layout) };
    }
}

unsafe extern "C" fn buffer_drop(budget: *const BufferBudget) {
    // SAFETY: `budget` is the pointer `Arc::into_raw` gave `array_buffer_allocator`;
    // V8 calls this once, when the allocator is destroyed.
    drop(unsafe { Arc::from_raw(budget) });
}

static BUFFER_VTABLE: v8::RustAllocatorVtable<BufferBudget> = v8::RustAllocatorVtable {
    allocate: buffer_allocate,
    allocate_uninitialized: buffer_allocate_uninitialized,
    free: buffer_free,
    drop: buffer_drop,
};

/// An ArrayBuffer allocator that refuses (and terminates the script) past
/// `limit` bytes; `exceeded` is set when that happens. Call
/// [`BufferBudget::watch`] with the isolate's handle once it exists.
pub(crate) fn array_buffer_allocator(
    limit: usize,
    exceeded: Arc<AtomicBool>,
) -> (v8::UniqueRef<v8::Allocator>, Arc<BufferBudget>) {
    let budget = Arc::new(BufferBudget {
        used: Default::default(),
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

impl BufferBudget {
    /// Lets the allocator terminate the isolate's script at the limit.
    pub(crate) fn watch(&self, handle: v8::IsolateHandle) {
        let _ = self.handle.set(handle);
    }
}
