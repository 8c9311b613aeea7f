//! Discovery and the allocator. Each stage builds arrays of tens of
//! megabytes and drops them before the next; with glibc's defaults many of
//! them land in the heap (its mapping threshold rises to the size of the
//! largest block freed, up to 32 MiB), where freed space stays with the
//! process, so its footprint grows by what earlier stages used rather than
//! by what it holds. These helpers keep large blocks mapped (handed back
//! whole when freed) and return freed heap pages between stages. Elsewhere
//! they do nothing.

/// Blocks from this size on are mapped on their own.
const MAP_FROM: usize = 256 << 10;

/// Free space at the top of a heap beyond this is handed back at once
/// (glibc's default; a caller may have raised it to keep freed memory).
const TRIM_FROM: usize = 128 << 10;

/// Has glibc map every block of [`MAP_FROM`] or more on its own and hand
/// back free heap tops beyond [`TRIM_FROM`], for the rest of the process
/// (fixed thresholds instead of the rising ones or a caller's).
pub fn map_large_blocks() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[allow(unsafe_code)]
    // SAFETY: mallopt takes no pointers and only sets allocator
    // parameters; glibc serialises it against allocation.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MAP_FROM as libc::c_int);
        libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_FROM as libc::c_int);
    }
}

/// Hands memory freed by the stage just finished back to the system.
pub fn release_freed() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[allow(unsafe_code)]
    // SAFETY: malloc_trim takes no pointers and only returns free pages of
    // the allocator's own heaps to the kernel; it is thread-safe.
    unsafe {
        libc::malloc_trim(0);
    }
}
