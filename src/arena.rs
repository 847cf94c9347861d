//! The binary's allocator: the system's, except while rules are loaded,
//! when a thread's allocations are cut one after another from one block.
//!
//! Why: a start loads thousands of rules, nearly all of whose ~9,500
//! allocations (ids, patterns, keys, digests) live until the process ends.
//! Through glibc's malloc each took ~170 instructions, most of it
//! `_int_malloc` carving fresh chunks. Cut from a block each takes a few:
//! a one-line paste went 19.98 → 18.70 M instructions (callgrind, LTO).
//! What is freed there is not reused, which costs nothing for data kept to
//! the end; the load's small temporaries are few (the block held 593 KB
//! after the built-in pack's load, about what left the heap's peak).
//!
//! The block is reserved address space (`MAP_NORESERVE`): only the pages
//! written are resident, as with the heap. Once it is full, allocations go
//! to the system allocator again, so a pack of any size still loads.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Address space reserved for the block: the built-in pack's load takes
/// 593 KB of it. A load that fills it goes on with the system allocator.
const RESERVED: usize = 64 << 20;

/// The largest allocation cut from the block. Larger ones are few, and
/// they are the vectors and tables that grow by moving: each move would
/// leave the old copy resident in the block.
const LARGEST: usize = 1024;

/// The system allocator, bumping from the block on threads inside
/// [`Bumping`].
pub struct Allocator;

/// Where the block starts, `None` if it could not be mapped. Mapped at
/// the first allocation cut from it, so that a build of the command line
/// without this allocator (the Python package's, which runs it many
/// times in one process and must free each run's rules) maps nothing.
static BASE: OnceLock<Option<usize>> = OnceLock::new();
/// Bytes of the block handed out (or skipped for alignment).
static USED: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    // Const and without a destructor: read from the allocator, even while
    // the thread ends, it neither allocates nor fails.
    static BUMPING: Cell<bool> = const { Cell::new(false) };
}

/// While held, this thread's allocations come from the block (see the
/// module's comment), where [`Allocator`] is the global allocator (the
/// binary). Made for the load of rules that live to the end.
pub struct Bumping {
    was: bool,
}

impl Bumping {
    pub fn start() -> Bumping {
        Bumping {
            was: BUMPING.replace(true),
        }
    }
}

impl Drop for Bumping {
    fn drop(&mut self) {
        BUMPING.set(self.was);
    }
}

/// Maps the block; its start, `None` if it could not be mapped. It
/// allocates nothing (nor does `OnceLock`): it is called from the
/// allocator.
fn map_block() -> Option<usize> {
    // SAFETY: a fresh private anonymous mapping; nothing else is at the
    // address the kernel picks.
    let base = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            RESERVED,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    if base == libc::MAP_FAILED {
        return None;
    }
    // Small pages, as the heap would take: with huge pages one write
    // would make 2 MiB resident.
    // SAFETY: advice on the mapping just made.
    unsafe { libc::madvise(base, RESERVED, libc::MADV_NOHUGEPAGE) };
    Some(base as usize)
}

/// Whether `ptr` was cut from the block.
fn in_block(ptr: *mut u8) -> bool {
    BASE.get()
        .copied()
        .flatten()
        .is_some_and(|base| (ptr as usize).wrapping_sub(base) < RESERVED)
}

/// `layout`'s bytes from the block, `None` when it has no room left (or
/// is not mapped). Thread-safe: threads may bump at once.
fn bump(layout: Layout) -> Option<*mut u8> {
    if layout.size() > LARGEST {
        return None;
    }
    let base = (*BASE.get_or_init(map_block))?;
    let mut used = USED.load(Ordering::Relaxed);
    loop {
        // Align the address, not the offset: the block is page-aligned,
        // but alignments past a page are possible.
        let start = (base + used).checked_next_multiple_of(layout.align())? - base;
        let end = start.checked_add(layout.size())?;
        if end > RESERVED {
            return None;
        }
        match USED.compare_exchange_weak(used, end, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return Some((base + start) as *mut u8),
            Err(now) => used = now,
        }
    }
}

/// [`bump`], on a thread inside [`Bumping`].
fn bumped(layout: Layout) -> Option<*mut u8> {
    BUMPING.with(Cell::get).then(|| bump(layout)).flatten()
}

// SAFETY: every block handed out is either the system allocator's (and
// given back to it) or a range of the mapping no other allocation
// overlaps (`bump` hands each byte out once), aligned as asked and never
// unmapped. Freeing a block range does nothing.
unsafe impl GlobalAlloc for Allocator {
    #[inline(never)]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's layout, as `GlobalAlloc::alloc` requires.
        bumped(layout).unwrap_or_else(|| unsafe { System.alloc(layout) })
    }

    #[inline(never)]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // The block's bytes are never handed out twice, so they are still
        // the zeros the mapping started with. SAFETY: as in `alloc`;
        // calloc keeps a large block's zero pages unwritten.
        bumped(layout).unwrap_or_else(|| unsafe { System.alloc_zeroed(layout) })
    }

    #[inline(never)]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if !in_block(ptr) {
            // SAFETY: `ptr` came from `System` with this layout.
            unsafe { System.dealloc(ptr, layout) }
        }
    }

    #[inline(never)]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if !in_block(ptr) {
            // SAFETY: `ptr` came from `System` with this layout; growing it
            // there, in place if it can, whatever this thread is doing.
            return unsafe { System.realloc(ptr, layout, new_size) };
        }
        // SAFETY: the caller guarantees `new_size`, with the old alignment,
        // is a valid layout.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        // SAFETY: as in `alloc`.
        let new = unsafe { self.alloc(new_layout) };
        if !new.is_null() {
            // SAFETY: both are valid for the shorter length and do not
            // overlap (the new block is fresh).
            unsafe { std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size)) };
        }
        new
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(size: usize, align: usize) -> Layout {
        Layout::from_size_align(size, align).unwrap()
    }

    #[test]
    fn bumped_blocks_are_aligned_apart_and_freed_as_nothing() {
        let _bumping = Bumping::start();
        let a = Allocator;
        let mut blocks = Vec::new();
        for (i, align) in [1, 8, 16, 4096, 2, 64]
            .into_iter()
            .cycle()
            .take(60)
            .enumerate()
        {
            let l = layout(1 + i * 7, align);
            // SAFETY: non-zero sizes.
            let p = unsafe { a.alloc(l) };
            assert!(in_block(p), "bumped while the thread is bumping");
            assert_eq!(p as usize % align, 0);
            // SAFETY: `p` is valid for `l.size()` bytes.
            unsafe { std::ptr::write_bytes(p, i as u8, l.size()) };
            blocks.push((p, l, i as u8));
        }
        // No block overwrote another.
        for &(p, l, fill) in &blocks {
            // SAFETY: as written above.
            let bytes = unsafe { std::slice::from_raw_parts(p, l.size()) };
            assert!(bytes.iter().all(|&b| b == fill));
        }
        for (p, l, _) in blocks {
            // SAFETY: each from `a.alloc` with `l`.
            unsafe { a.dealloc(p, l) };
        }
    }

    #[test]
    fn a_bumped_block_grows_with_its_bytes_and_moves_out_after_the_load() {
        let a = Allocator;
        let l = layout(24, 8);
        let p = {
            let _bumping = Bumping::start();
            // SAFETY: non-zero size.
            let p = unsafe { a.alloc(l) };
            // SAFETY: valid for 24 bytes.
            unsafe { std::ptr::copy_nonoverlapping(b"twenty-four bytes, kept.".as_ptr(), p, 24) };
            // SAFETY: `p` from `a` with `l`; 40 is a valid size.
            let grown = unsafe { a.realloc(p, l, 40) };
            assert!(in_block(grown));
            grown
        };
        // Out of the load: grown again, it moves to the system allocator.
        // SAFETY: `p` from `a` with 40 bytes at align 8.
        let moved = unsafe { a.realloc(p, layout(40, 8), 4096) };
        assert!(!in_block(moved));
        // SAFETY: at least 24 bytes valid.
        assert_eq!(
            unsafe { std::slice::from_raw_parts(moved, 24) },
            b"twenty-four bytes, kept."
        );
        // SAFETY: from the system allocator with this layout.
        unsafe { a.dealloc(moved, layout(4096, 8)) };
    }

    #[test]
    fn other_threads_and_zeroed_blocks_keep_the_system_allocator_s_terms() {
        let a = Allocator;
        let _bumping = Bumping::start();
        let elsewhere = std::thread::spawn(|| {
            // SAFETY: non-zero size.
            let p = unsafe { Allocator.alloc(layout(32, 8)) };
            let inside = in_block(p);
            // SAFETY: from `Allocator` with this layout.
            unsafe { Allocator.dealloc(p, layout(32, 8)) };
            inside
        })
        .join()
        .unwrap();
        assert!(!elsewhere, "only the bumping thread bumps");
        // SAFETY: non-zero size.
        let z = unsafe { a.alloc_zeroed(layout(4000, 8)) };
        // SAFETY: valid for 4000 bytes.
        assert!(
            unsafe { std::slice::from_raw_parts(z, 4000) }
                .iter()
                .all(|&b| b == 0)
        );
    }
}
