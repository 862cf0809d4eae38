//! The global allocator of sipwasm's wasm build: power-of-two size classes, a free
//! list per class, new blocks cut from memory grown 64 KiB pages at a time.
//!
//! Why not std's dlmalloc: it is 8 KB of wasm code; this is a few hundred bytes and
//! faster on the SDK's pattern (many short-lived small strings). The cost is memory:
//! a block is rounded up to a power of two, and freed blocks are kept for their own
//! class (no coalescing; wasm memory never shrinks anyway). A phone page holds a few
//! hundred KB of live data, so the waste stays small.
//!
//! [`Heap`] is the allocator over any source of memory ([`Grow`]), tested natively;
//! [`WasmHeap`] is it over the module's own memory, for `#[global_allocator]`.
#![no_std]

use core::ptr;
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
use core::{
    alloc::{GlobalAlloc, Layout},
    cell::UnsafeCell,
};

/// The smallest block, 16 bytes: every block holds a free-list link and is aligned
/// to 16 (block sizes are powers of two of at least 16 and regions start aligned).
const MIN_SHIFT: u32 = 4;
const MIN_ALIGN: usize = 1 << MIN_SHIFT;
/// Classes 0..32 cover every block size a 32-bit address space can hold.
const CLASSES: usize = 32;

/// A source of fresh memory.
pub trait Grow {
    /// At least `bytes` new bytes: the region's start and end, the start aligned to
    /// 16; `None` when memory is exhausted.
    fn grow(&mut self, bytes: usize) -> Option<(usize, usize)>;
}

/// The size class of a request: the power of two that holds `size` bytes aligned to
/// `align`; `None` when no class is that large.
fn class(size: usize, align: usize) -> Option<usize> {
    let n = size.max(align).max(MIN_ALIGN).checked_next_power_of_two()?;
    let c = n.trailing_zeros() as usize;
    (c < CLASSES).then_some(c)
}

/// The allocator state. Addresses are kept as `usize`; 0 ends a free list (no block
/// starts at address 0: the first region starts after the module's data and stack).
pub struct Heap<G> {
    /// Head of each class's free list; a free block's first word links to the next.
    free: [usize; CLASSES],
    /// The bump pointer into the current region, and the region's end.
    next: usize,
    end: usize,
    grow: G,
}

impl<G: Grow> Heap<G> {
    /// An empty heap that takes its memory from `grow`.
    pub const fn new(grow: G) -> Self {
        Heap {
            free: [0; CLASSES],
            next: 0,
            end: 0,
            grow,
        }
    }

    /// A block for `size` bytes aligned to `align` (a power of two), or null.
    ///
    /// # Safety
    /// The free lists must hold only blocks given back by [`Heap::dealloc`].
    pub unsafe fn alloc(&mut self, size: usize, align: usize) -> *mut u8 {
        let Some(c) = class(size, align) else {
            return ptr::null_mut();
        };
        let Some(head) = self.free.get_mut(c) else {
            return ptr::null_mut();
        };
        // A recycled block is only known to be aligned to 16.
        if *head != 0 && align <= MIN_ALIGN {
            let block = *head;
            // SAFETY: `block` is a free block of this class; its first word is the link.
            *head = unsafe { (block as *const usize).read() };
            return block as *mut u8;
        }
        let bytes = 1usize << c;
        let fits = |next: usize, end: usize| {
            let start = next.checked_add(align - 1)? & !(align - 1);
            (start.checked_add(bytes)? <= end).then_some(start)
        };
        let start = match fits(self.next, self.end) {
            Some(start) => start,
            None => {
                let Some((start, end)) = bytes.checked_add(align).and_then(|n| self.grow.grow(n))
                else {
                    return ptr::null_mut();
                };
                // Contiguous growth extends the region; otherwise the old tail is left.
                if start != self.end {
                    self.next = start;
                }
                self.end = end;
                match fits(self.next, self.end) {
                    Some(start) => start,
                    None => return ptr::null_mut(),
                }
            }
        };
        self.next = start + bytes;
        start as *mut u8
    }

    /// Gives back a block of [`Heap::alloc`] with the same `size` and `align`.
    ///
    /// # Safety
    /// `block` must come from `alloc(size, align)` on this heap and not be in use.
    pub unsafe fn dealloc(&mut self, block: *mut u8, size: usize, align: usize) {
        if let Some(head) = class(size, align).and_then(|c| self.free.get_mut(c)) {
            // SAFETY: the block is at least 16 bytes, aligned to 16 and ours again.
            unsafe { (block as *mut usize).write(*head) };
            *head = block as usize;
        }
    }

    /// Resizes a block: the same block while the class stays, else a new one with the
    /// contents copied (null, and the old block kept, when there is no memory).
    ///
    /// # Safety
    /// As [`Heap::dealloc`], with `size` and `align` those of the block's allocation.
    pub unsafe fn realloc(
        &mut self,
        block: *mut u8,
        size: usize,
        align: usize,
        new_size: usize,
    ) -> *mut u8 {
        if class(size, align) == class(new_size, align) {
            return block;
        }
        // SAFETY: the caller's guarantees, passed on.
        unsafe {
            let new = self.alloc(new_size, align);
            if !new.is_null() {
                ptr::copy_nonoverlapping(block, new, size.min(new_size));
                self.dealloc(block, size, align);
            }
            new
        }
    }
}

/// The module's linear memory, grown with `memory.grow`.
#[cfg(target_arch = "wasm32")]
pub struct WasmMemory;

#[cfg(target_arch = "wasm32")]
impl Grow for WasmMemory {
    fn grow(&mut self, bytes: usize) -> Option<(usize, usize)> {
        const PAGE: usize = 65536;
        let pages = bytes.checked_add(PAGE - 1)? / PAGE;
        let old = core::arch::wasm32::memory_grow(0, pages);
        (old != usize::MAX).then(|| (old * PAGE, (old + pages) * PAGE))
    }
}

/// [`Heap`] over the module's memory, for `#[global_allocator]`. Only for wasm
/// without threads: there is no lock.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
pub struct WasmHeap(UnsafeCell<Heap<WasmMemory>>);

#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
impl WasmHeap {
    /// The allocator, empty until the first allocation.
    pub const fn new() -> Self {
        WasmHeap(UnsafeCell::new(Heap::new(WasmMemory)))
    }
}

#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
impl Default for WasmHeap {
    fn default() -> Self {
        Self::new()
    }
}

// SAFETY: wasm32 without the atomics feature has one thread, and an allocator call
// never re-enters another (nothing in `Heap` allocates).
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
unsafe impl Sync for WasmHeap {}

// SAFETY: `Heap` returns blocks of at least the layout's size and alignment, never
// overlapping a live block; see its tests.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
unsafe impl GlobalAlloc for WasmHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        unsafe { (*self.0.get()).alloc(layout.size(), layout.align()) }
    }

    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        unsafe { (*self.0.get()).dealloc(block, layout.size(), layout.align()) }
    }

    unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        unsafe { (*self.0.get()).realloc(block, layout.size(), layout.align(), new_size) }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::boxed::Box;
    use std::vec::Vec;

    /// Memory from a buffer of `chunks` regions of `chunk` bytes; `gap` leaves a hole
    /// between regions (growth that is not contiguous).
    struct Arena {
        buf: Box<[u128]>,
        used: usize,
        gap: usize,
    }

    impl Arena {
        fn new(bytes: usize, gap: usize) -> Self {
            Arena {
                buf: std::vec![0u128; bytes / 16].into_boxed_slice(),
                used: 0,
                gap,
            }
        }
    }

    impl Grow for Arena {
        fn grow(&mut self, bytes: usize) -> Option<(usize, usize)> {
            let n = bytes.div_ceil(4096) * 4096;
            let base = self.buf.as_ptr() as usize;
            let start = self.used + self.gap;
            if start + n > self.buf.len() * 16 {
                return None;
            }
            self.used = start + n;
            Some((base + start, base + start + n))
        }
    }

    /// A small deterministic generator (xorshift).
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: u64) -> usize {
            (self.next() % n) as usize
        }
    }

    struct Live {
        ptr: *mut u8,
        size: usize,
        align: usize,
        tag: u8,
    }

    fn fill(b: &Live) {
        unsafe { ptr::write_bytes(b.ptr, b.tag, b.size) }
    }

    fn check(b: &Live, len: usize) {
        let s = unsafe { core::slice::from_raw_parts(b.ptr, len) };
        assert!(s.iter().all(|&x| x == b.tag), "block contents changed");
    }

    /// Random allocations, frees and resizes: blocks are aligned, never overlap, and
    /// keep their contents.
    fn run(gap: usize, seed: u64) {
        let mut heap = Heap::new(Arena::new(64 << 20, gap));
        let mut rng = Rng(seed);
        let mut live: Vec<Live> = Vec::new();
        for step in 0..40_000u32 {
            match rng.below(10) {
                0..=4 => {
                    let size = match rng.below(20) {
                        0 => 1 + rng.below(70_000),
                        1..=4 => 1 + rng.below(2000),
                        _ => 1 + rng.below(100),
                    };
                    let align = if rng.below(50) == 0 {
                        1 << (5 + rng.below(8))
                    } else {
                        1 << rng.below(5)
                    };
                    let ptr = unsafe { heap.alloc(size, align) };
                    assert!(!ptr.is_null());
                    assert_eq!(ptr as usize % align, 0, "misaligned");
                    let b = Live {
                        ptr,
                        size,
                        align,
                        tag: step as u8,
                    };
                    fill(&b);
                    live.push(b);
                }
                5..=7 if !live.is_empty() => {
                    let b = live.swap_remove(rng.below(live.len() as u64));
                    check(&b, b.size);
                    unsafe { heap.dealloc(b.ptr, b.size, b.align) };
                }
                _ if !live.is_empty() => {
                    let i = rng.below(live.len() as u64);
                    let new_size = 1 + rng.below(3000);
                    let b = &mut live[i];
                    let ptr = unsafe { heap.realloc(b.ptr, b.size, b.align, new_size) };
                    assert!(!ptr.is_null());
                    assert_eq!(ptr as usize % b.align, 0, "misaligned");
                    b.ptr = ptr;
                    check(b, b.size.min(new_size));
                    b.size = new_size;
                    fill(b);
                }
                _ => {}
            }
            if step % 1000 == 0 {
                let mut spans: Vec<(usize, usize)> = live
                    .iter()
                    .map(|b| (b.ptr as usize, b.ptr as usize + b.size))
                    .collect();
                spans.sort_unstable();
                for w in spans.windows(2) {
                    assert!(w[0].1 <= w[1].0, "blocks overlap");
                }
                for b in &live {
                    check(b, b.size);
                }
            }
        }
    }

    #[test]
    fn random_use_keeps_blocks_apart_and_intact() {
        run(0, 0x9E37_79B9_7F4A_7C15);
        run(0, 7);
    }

    #[test]
    fn growth_that_is_not_contiguous() {
        run(4096, 12345);
    }

    #[test]
    fn freed_blocks_are_reused_by_their_class() {
        let mut heap = Heap::new(Arena::new(1 << 20, 0));
        unsafe {
            let a = heap.alloc(24, 8);
            let b = heap.alloc(30, 8);
            assert_ne!(a, b);
            heap.dealloc(a, 24, 8);
            assert_eq!(heap.alloc(17, 4), a, "same class (32 bytes)");
            assert_ne!(heap.alloc(8, 8), a, "another class");
            // A block only known to be 16-aligned is not handed out for 64.
            heap.dealloc(b, 30, 8);
            assert_eq!(heap.alloc(32, 64) as usize % 64, 0);
        }
    }

    #[test]
    fn realloc_within_a_class_keeps_the_block() {
        let mut heap = Heap::new(Arena::new(1 << 20, 0));
        unsafe {
            let a = heap.alloc(40, 1);
            assert_eq!(heap.realloc(a, 40, 1, 64), a);
            assert_ne!(heap.realloc(a, 64, 1, 65), a);
        }
    }

    #[test]
    fn exhaustion_and_huge_requests_give_null() {
        let mut heap = Heap::new(Arena::new(1 << 16, 0));
        unsafe {
            assert!(heap.alloc(usize::MAX - 8, 1).is_null());
            assert!(heap.alloc(1 << 17, 1).is_null());
            let a = heap.alloc(1 << 15, 16);
            assert!(!a.is_null());
            // The arena is spent: null, and the heap still serves what it has.
            assert!(heap.alloc(1 << 15, 16).is_null());
            heap.dealloc(a, 1 << 15, 16);
            assert_eq!(heap.alloc(1 << 15, 16), a);
        }
    }
}
