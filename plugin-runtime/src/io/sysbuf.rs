//! Large byte buffers that are filled on one thread and freed on another,
//! taken from the system allocator instead of the process's global one.
//!
//! mimalloc (the global allocator) gives a block freed by a thread other
//! than its owner back to the owner only when the owner next collects its
//! heap, so a megabyte buffer that the isolate thread fills and a store's
//! thread frees (a KV stream put's pieces) can stay out of reach while the
//! isolate thread allocates the next one. glibc keeps such blocks in the
//! owner's arena (or maps them on their own), where a free from any thread
//! makes them reusable at once. The effect is modest and noisy: on a
//! one-thread proxy, a 25 MiB stream put after a 3 MiB one left a peak RSS
//! of 86-92 MiB (four runs), against 87-103 MiB (three runs) with the
//! pieces in mimalloc. V8's ArrayBuffer contents use the system allocator
//! for the same kind of reason (see `limits.rs`).

use std::alloc::{GlobalAlloc, Layout, System};
use std::ptr::NonNull;

use bytes::Bytes;

/// A byte buffer of fixed capacity from the system allocator, filled with
/// [`SystemBuf::fill`] and handed on as [`Bytes`] without a copy.
pub(crate) struct SystemBuf {
    ptr: NonNull<u8>,
    cap: usize,
    len: usize,
}

// SAFETY: the buffer owns its allocation outright (no aliasing pointer is
// kept anywhere), like a `Vec<u8>`, so it may move to and be read from any
// thread.
unsafe impl Send for SystemBuf {}
// SAFETY: shared access only reads the initialised bytes, as for `Vec<u8>`.
unsafe impl Sync for SystemBuf {}

impl SystemBuf {
    /// An empty buffer that holds up to `cap` bytes. A zero capacity
    /// allocates nothing.
    pub(crate) fn with_capacity(cap: usize) -> SystemBuf {
        let Some(layout) = Self::layout(cap) else {
            return SystemBuf {
                ptr: NonNull::dangling(),
                cap: 0,
                len: 0,
            };
        };
        // SAFETY: the layout has a non-zero size.
        let raw = unsafe { System.alloc(layout) };
        let Some(ptr) = NonNull::new(raw) else {
            std::alloc::handle_alloc_error(layout)
        };
        SystemBuf { ptr, cap, len: 0 }
    }

    fn layout(cap: usize) -> Option<Layout> {
        if cap == 0 {
            return None;
        }
        Layout::array::<u8>(cap).ok()
    }

    /// Copies as much of `bytes` as fits; returns how many bytes it took.
    pub(crate) fn fill(&mut self, bytes: &[u8]) -> usize {
        let n = bytes.len().min(self.cap - self.len);
        if n > 0 {
            // SAFETY: `len + n <= cap`, so the destination lies inside the
            // allocation, and `bytes` (a shared borrow) cannot overlap memory
            // this buffer owns exclusively.
            unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), self.ptr.as_ptr().add(self.len), n) };
            self.len += n;
        }
        n
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub(crate) fn is_full(&self) -> bool {
        self.len == self.cap
    }

    /// The filled bytes as [`Bytes`]; the allocation is freed (to the
    /// system allocator) when the last clone goes.
    pub(crate) fn into_bytes(self) -> Bytes {
        if self.is_empty() {
            return Bytes::new();
        }
        Bytes::from_owner(self)
    }
}

impl AsRef<[u8]> for SystemBuf {
    fn as_ref(&self) -> &[u8] {
        // SAFETY: the first `len` bytes of the allocation were written by
        // `fill` (a zero-capacity buffer has `len` 0 and a dangling, aligned
        // pointer, valid for an empty slice).
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

impl Drop for SystemBuf {
    fn drop(&mut self) {
        if let Some(layout) = Self::layout(self.cap) {
            // SAFETY: `ptr` came from `System.alloc` with this same layout
            // (`with_capacity`), and is freed only here.
            unsafe { System.dealloc(self.ptr.as_ptr(), layout) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::SystemBuf;

    #[test]
    fn fills_up_to_its_capacity_and_hands_on_its_bytes() {
        let mut b = SystemBuf::with_capacity(5);
        assert!(b.is_empty());
        assert_eq!(b.fill(b"abc"), 3);
        assert_eq!(b.fill(b"defg"), 2);
        assert!(b.is_full());
        assert_eq!(b.fill(b"h"), 0);
        assert_eq!(b.as_ref().len(), 5);
        let bytes = b.into_bytes();
        let other = bytes.clone();
        drop(bytes);
        assert_eq!(&other[..], b"abcde");
        assert_eq!(other.slice(1..3), &b"bc"[..]);
    }

    #[test]
    fn a_zero_capacity_buffer_holds_nothing() {
        let mut b = SystemBuf::with_capacity(0);
        assert_eq!(b.fill(b"x"), 0);
        assert!(b.is_full() && b.is_empty());
        assert!(b.into_bytes().is_empty());
        let partly = SystemBuf::with_capacity(8);
        assert!(partly.into_bytes().is_empty());
    }
}
